import type { JobHandlerRegistry } from './types';
import { runImportJob } from './import-job';
import { runAnalysisJob } from './analysis-job';
import { runSynthJob } from './synth-job';
import { runFillJob } from './fill-job';

/** Every job kind the workers can run. Handlers use core code and files only, never the database. */
export const jobHandlers: JobHandlerRegistry = {
  import: runImportJob as JobHandlerRegistry[string],
  analysis: runAnalysisJob as JobHandlerRegistry[string],
  synth: runSynthJob as JobHandlerRegistry[string],
  fill: runFillJob as JobHandlerRegistry[string],
};
