import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanInputs } from '../../../src/main/core/io/index';
import { writeDicomCtSeries } from '../../../src/main/core/io/dicom-write';
import { runAnalysisToDir } from '../../../src/main/core/pipeline/run-analysis';
import { readingSettingsSchema } from '../../../src/shared/analysis';
import type { Volume } from '../../../src/main/core/volume';
import { simpleHead } from '../preprocess/simple-head';

export interface HeadRun {
  /** The temporary folder holding everything below; the test removes it when done. */
  root: string;
  /** The analysis folder. */
  dir: string;
  /** The DICOM series the analysis read. */
  dicomDir: string;
  /** The series as read back from DICOM (meta with patient, UIDs and SOP Instance UIDs). */
  volume: Volume;
}

/**
 * A real analysis of a small synthetic head with a subdural crescent and a hypodense infarct:
 * written as a DICOM series with dcmjs, read back by the importer, analysed end to end with a
 * classical inpainter (no model needed), saved as a run folder.
 */
export async function analysedDicomHead(): Promise<HeadRun> {
  const root = await mkdtemp(join(tmpdir(), 'inpaint-ct-report-'));
  const head = simpleHead([96, 96, 5], [2.4, 2.4, 5], 3, { subdural: true, infarct: true });
  head.volume.origin = [-114, -120, -10];
  head.volume.meta = {
    modality: 'CT',
    patientName: 'Müller^Anna',
    patientId: 'PAT-0042',
    patientBirthDate: '19610305',
    patientSex: 'F',
    studyDate: '20240611',
    studyDescription: 'CT HEAD WITHOUT CONTRAST',
    accessionNumber: 'ACC778899',
    seriesDescription: 'Axial 5 mm brain',
    seriesNumber: 2,
  };
  const dicomDir = join(root, 'dicom');
  await writeDicomCtSeries(head.volume, dicomDir);
  const scan = await scanInputs([dicomDir]);
  const volume = scan.series[0].volume;
  const dir = join(root, 'run');
  const reading = readingSettingsSchema.parse({ strategy: { kind: 'absolute', value: 0.22 }, minSizeMl: 0.4 });
  await runAnalysisToDir(volume, dir, reading, { inpainter: { kind: 'classical', method: 'linear' }, modelsDir: join(root, 'no-models') });
  return { root, dir, dicomDir, volume };
}
