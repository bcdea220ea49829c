import type { CliCommand } from '../command';
import { serveCommand } from './serve';
import { importCommand } from './import';
import { brainMaskCommand } from './brain-mask';
import { preprocessCommand } from './preprocess';
import { infoCommand } from './info';
import { analyzeCommand } from './analyze';
import { thresholdCommand } from './threshold';
import { inpaintCommand } from './inpaint';
import { reportCommand } from './report';
import { exportCommand } from './export';
import { synthCommand } from './synth';
import { compareCommand } from './compare';
import { listCommand } from './list';

/**
 * Every subcommand, in help order. Each lives in its own file and is thin over services/core.
 * Add a command by importing it here and appending it to the list.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CliCommand<any>[] = [serveCommand, importCommand, listCommand, brainMaskCommand, preprocessCommand, infoCommand, analyzeCommand, thresholdCommand, inpaintCommand, reportCommand, exportCommand, compareCommand, synthCommand];
