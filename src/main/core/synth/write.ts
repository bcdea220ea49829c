/**
 * Writes a synthetic case to a folder: CT per timepoint as DICOM (one file per slice, one
 * series per timepoint, one study and frame of reference per subject) and/or NIfTI, tissue
 * labels and lesion masks as NIfTI, and metadata.json with every parameter, the lesion volumes
 * and the seed. Layout (docs/synth.md):
 *
 *   metadata.json
 *   brain_mask.nii.gz
 *   t1_day0/ct.nii.gz  t1_day0/dicom/CT0001.dcm ...  t1_day0/labels.nii.gz
 *   t1_day0/lesions.nii.gz  t1_day0/masks/<lesion-id>.nii.gz
 *   t2_day3/...
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { AppError } from '../../../shared/errors';
import { APP_VERSION } from '../../../shared/version';
import { writeDicomCtSeries } from '../io/dicom-write';
import { writeNifti } from '../io/nifti';
import { throwIfAborted, type TaskOptions } from '../progress';
import type { Volume } from '../volume';
import type { CaseTimepoint, SyntheticCase } from './case';
import { TISSUE_NAMES } from './labels';
import { caseMetadata, LESION_MASK_DEFINITION, type CaseMetadata } from './metadata';

export type SynthFormat = 'dicom' | 'nifti' | 'both';

export interface WriteCaseOptions extends TaskOptions {
  /** Default 'both'. */
  format?: SynthFormat;
  /** Allow writing into a folder that already has files (ours are overwritten). Default false. */
  overwrite?: boolean;
}

export interface WrittenLesionMask {
  id: string;
  type: string;
  volumeMl: number;
  requestedVolumeMl: number;
  /** Relative to outDir. */
  mask: string;
}

export interface WrittenTimepoint {
  index: number;
  day: number;
  directory: string;
  ct?: string;
  dicomDirectory?: string;
  dicomFiles: number;
  seriesInstanceUid?: string;
  labels: string;
  lesionLabels: string;
  lesions: WrittenLesionMask[];
  midlineShiftMm: number;
}

export interface WrittenCase {
  outDir: string;
  metadata: string;
  brainMask: string;
  /** Every file written, relative to outDir. */
  files: string[];
  studyInstanceUid: string;
  frameOfReferenceUid: string;
  timepoints: WrittenTimepoint[];
}

/** Deterministic UID (2.25 form) from the case and a role, so re-generating identical options gives identical files. */
export function derivedUid(fingerprint: string, role: string): string {
  const hex = createHash('sha256').update(`inpaint-ct-synth:${fingerprint}:${role}`).digest('hex').slice(0, 32);
  // Clear the top bit so the decimal stays within 39 digits like a UUID.
  const n = BigInt(`0x${hex}`) & ((1n << 127n) - 1n);
  return `2.25.${n.toString(10)}`;
}

function timepointDir(tp: CaseTimepoint): string {
  return `t${tp.index + 1}_day${formatDay(tp.day)}`;
}

function formatDay(d: number): string {
  return Number.isInteger(d) ? String(d) : d.toFixed(2).replace(/\.?0+$/, '').replace('.', 'p');
}

function asInt16(vol: Volume): Volume {
  const src = vol.data;
  const out = new Int16Array(src.length);
  for (let p = 0; p < src.length; p++) {
    const v = Math.round(src[p]);
    out[p] = v < -32768 ? -32768 : v > 32767 ? 32767 : v;
  }
  return { ...vol, data: out };
}

function labelVolume(like: Volume, labels: Uint8Array, description: string): Volume {
  return { ...like, data: Int16Array.from(labels), intensityUnit: 'raw', meta: { ...like.meta, modality: undefined, seriesDescription: description, windowCenter: undefined, windowWidth: undefined } };
}

async function assertWritableFolder(outDir: string, overwrite: boolean): Promise<void> {
  let entries: string[] = [];
  try {
    const s = await stat(outDir);
    if (!s.isDirectory()) throw new AppError('BAD_REQUEST', `"${outDir}" is a file, not a folder; choose a folder for the synthetic case.`);
    entries = await readdir(outDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (entries.length && !overwrite) throw new AppError('BAD_REQUEST', `The folder "${outDir}" is not empty; choose an empty or new folder (files of an earlier case would mix with the new one).`);
}

export async function writeSyntheticCase(c: SyntheticCase, outDir: string, opts: WriteCaseOptions = {}): Promise<WrittenCase> {
  const format = opts.format ?? 'both';
  if (!['dicom', 'nifti', 'both'].includes(format)) throw new AppError('BAD_REQUEST', `Unknown output format "${format}"; use dicom, nifti or both.`);
  await assertWritableFolder(outDir, opts.overwrite ?? false);
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  const rel = (p: string) => relative(outDir, p).split('\\').join('/');
  const meta: CaseMetadata = caseMetadata(c);
  const fingerprint = meta.fingerprint;
  const studyInstanceUid = derivedUid(fingerprint, 'study');
  const frameOfReferenceUid = derivedUid(fingerprint, 'frame-of-reference');
  const total = c.timepoints.length * (format === 'nifti' ? 1 : 2) + 1;
  let done = 0;
  const progress = (message: string) => opts.onProgress?.({ stage: 'Writing synthetic case', done: ++done, total, message });

  const brainMaskPath = join(outDir, 'brain_mask.nii.gz');
  const first = c.timepoints[0].volume;
  await writeNifti(labelVolume(first, c.brainMask, 'Brain mask (cranial cavity)'), brainMaskPath, { datatype: 'uint8' });
  files.push(rel(brainMaskPath));
  progress('brain mask');

  const written: WrittenTimepoint[] = [];
  for (const tp of c.timepoints) {
    throwIfAborted(opts.signal);
    const dir = join(outDir, timepointDir(tp));
    await mkdir(join(dir, 'masks'), { recursive: true });
    const seriesInstanceUid = derivedUid(fingerprint, `series:${tp.index}`);
    const vol: Volume = {
      ...tp.volume,
      meta: {
        ...tp.volume.meta,
        patientName: `SYNTHETIC^SEED${c.seed}`,
        patientId: `SYNTH-${c.seed}`,
        patientSex: c.subject.sex,
        studyInstanceUid,
        seriesInstanceUid,
        frameOfReferenceUid,
        studyDescription: 'Synthetic head CT (inpaint-ct)',
        seriesDescription: tp.volume.meta.seriesDescription,
        seriesNumber: tp.index + 1,
        studyDate: '20000101',
        manufacturer: 'inpaint-ct synthetic',
        windowCenter: 40,
        windowWidth: 80,
      },
    };
    const out: WrittenTimepoint = {
      index: tp.index,
      day: tp.day,
      directory: rel(dir),
      dicomFiles: 0,
      labels: '',
      lesionLabels: '',
      lesions: [],
      midlineShiftMm: tp.midlineShiftMm,
    };
    const int16 = asInt16(vol);
    if (format !== 'dicom') {
      const p = join(dir, 'ct.nii.gz');
      await writeNifti(int16, p, { datatype: 'int16' });
      files.push(rel(p));
      out.ct = rel(p);
    }
    if (format !== 'nifti') {
      progress(`timepoint ${tp.index + 1}: DICOM`);
      const dicomDir = join(dir, 'dicom');
      const res = await writeDicomCtSeries(int16, dicomDir, {
        studyInstanceUid,
        seriesInstanceUid,
        frameOfReferenceUid,
        transform: (ds) => {
          // Instance UIDs derived from the case, so identical options reproduce identical files.
          const k = Number(ds.InstanceNumber) - 1;
          ds.SOPInstanceUID = derivedUid(fingerprint, `sop:${tp.index}:${k}`);
          ds.ImageComments = `Synthetic CT, seed ${c.seed}, day ${tp.day}; not patient data`;
        },
      });
      files.push(...res.files.map(rel));
      out.dicomDirectory = rel(dicomDir);
      out.dicomFiles = res.files.length;
      out.seriesInstanceUid = seriesInstanceUid;
    }
    const labelsPath = join(dir, 'labels.nii.gz');
    await writeNifti(labelVolume(vol, tp.labels, 'Tissue labels'), labelsPath, { datatype: 'uint8' });
    files.push(rel(labelsPath));
    out.labels = rel(labelsPath);
    const lesionPath = join(dir, 'lesions.nii.gz');
    await writeNifti(labelVolume(vol, tp.lesionLabels, 'Lesion labels'), lesionPath, { datatype: 'uint8' });
    files.push(rel(lesionPath));
    out.lesionLabels = rel(lesionPath);
    for (const l of tp.lesions) {
      const mask = new Uint8Array(tp.lesionLabels.length);
      for (const v of l.voxels) mask[v] = 1;
      const p = join(dir, 'masks', `${l.id}.nii.gz`);
      await writeNifti(labelVolume(vol, mask, `Mask of ${l.id}`), p, { datatype: 'uint8' });
      files.push(rel(p));
      out.lesions.push({ id: l.id, type: l.type, volumeMl: l.volumeMl, requestedVolumeMl: l.requestedVolumeMl, mask: rel(p) });
    }
    written.push(out);
    progress(`timepoint ${tp.index + 1}`);
  }

  const metadataPath = join(outDir, 'metadata.json');
  const doc = {
    ...meta,
    generator: { name: 'inpaint-ct synth', version: APP_VERSION },
    format,
    files: {
      brainMask: rel(brainMaskPath),
      tissueLabels: Object.fromEntries(TISSUE_NAMES.map((n, i) => [i, n])),
      lesionMaskDefinition: LESION_MASK_DEFINITION,
    },
    dicom: format === 'nifti' ? undefined : { studyInstanceUid, frameOfReferenceUid },
    timepoints: meta.timepoints.map((t, i) => {
      const w = written[i];
      return {
        ...t,
        files: {
          directory: w.directory,
          ct: w.ct,
          dicomDirectory: w.dicomDirectory,
          dicomFiles: w.dicomFiles,
          seriesInstanceUid: w.seriesInstanceUid,
          labels: w.labels,
          lesionLabels: w.lesionLabels,
          masks: Object.fromEntries(w.lesions.map((l) => [l.id, l.mask])),
        },
      };
    }),
  };
  await writeFile(metadataPath, JSON.stringify(doc, null, 2) + '\n');
  files.push(rel(metadataPath));
  return { outDir, metadata: rel(metadataPath), brainMask: rel(brainMaskPath), files, studyInstanceUid, frameOfReferenceUid, timepoints: written };
}
