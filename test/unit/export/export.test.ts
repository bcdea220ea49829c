import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCaseReport, loadExportSource, type CaseReport, type ExportSource } from '../../../src/main/core/report/case';
import { algorithmIdentification, encodeDicomSeg, readDicomSegMask, rgbToDicomLab, SEGMENTATION_STORAGE, writeDicomSeg } from '../../../src/main/core/export/dicom-seg';
import { encodeMaskNifti, lesionTableCsv, lesionTableJson, LESION_COLUMNS } from '../../../src/main/core/export/tables';
import { defaultExportFileName, readReviewFile, writeExport } from '../../../src/main/core/export/index';
import { readNifti, writeNifti } from '../../../src/main/core/io/nifti';
import { pseudonymousUid } from '../../../src/main/core/deidentify';
import { describeReadingSettings, describeThreshold } from '../../../src/main/core/report/format';
import { stampHealthyReferences } from '../../../src/main/core/pipeline/pinned-reference';
import { parseHealthyReferenceSet } from '../../../src/main/core/scoring/threshold';
import { projectRoot } from '../../../src/main/paths';
import { sameGrid, type Vec3 } from '../../../src/main/core/volume';
import { analysedDicomHead, type HeadRun } from '../report/fixture';
import { hasTool, sampleReview } from '../report/helpers';

const { DicomMessage, DicomMetaDictionary } = dcmjs.data;
const dciodvfy = hasTool('dciodvfy', '-version');
const out = mkdtempSync(join(tmpdir(), 'inpaint-ct-export-'));
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  if (head) rmSync(head.root, { recursive: true, force: true });
});

let head: HeadRun;
let source: ExportSource;
let reviewed: CaseReport;
let review: ReturnType<typeof sampleReview>;
beforeAll(async () => {
  head = await analysedDicomHead();
  source = await loadExportSource(head.dir, { meta: head.volume.meta, runId: 'run-0001' });
  review = sampleReview(source);
  reviewed = buildCaseReport(source, { review: review.review });
}, 120_000);

/** dciodvfy's complaints: errors fail, warnings are listed for the record. */
function validate(path: string): { errors: string[]; warnings: string[] } {
  const r = spawnSync('dciodvfy', [path], { encoding: 'utf8' });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim());
  return { errors: lines.filter((l) => /^Error/.test(l)), warnings: lines.filter((l) => /^Warning/.test(l)) };
}

function naturalized(bytes: Uint8Array) {
  return DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(bytes.slice().buffer as ArrayBuffer).dict);
}

/**
 * The lines of a segment's Algorithm Parameters. The file holds UTF-8 (Specific Character Set
 * ISO_IR 192; pydicom reads it so), but dcmjs decodes text inside sequence items as Latin-1, so
 * the bytes are decoded again here.
 */
function algorithmParameters(algorithm: { AlgorithmParameters: string }): string[] {
  return Buffer.from(String(algorithm.AlgorithmParameters), 'latin1').toString('utf8').split('\r\n');
}

const binary = (labels: ArrayLike<number>) => Uint8Array.from(labels as ArrayLike<number>, (l) => (l > 0 ? 1 : 0));

describe('DICOM SEG', () => {
  it.skipIf(!dciodvfy)('per-lesion SEG of a reviewed run passes dciodvfy and reads back to the same mask', async () => {
    const path = join(out, 'reviewed.dcm');
    const r = await writeDicomSeg(reviewed, path);
    const { errors } = validate(path);
    expect(errors).toEqual([]);

    const back = readDicomSegMask(readFileSync(path), reviewed.grid);
    expect(back.mask).toEqual(binary(reviewed.finalLabels));
    // Every voxel carries the segment of its lesion.
    const segmentOfLesion = new Map(r.segments.map((s) => [s.lesionLabel, s.number]));
    for (let p = 0; p < reviewed.finalLabels.length; p++) {
      const l = reviewed.finalLabels[p];
      if (l > 0 && back.segmentNumbers[p] !== segmentOfLesion.get(l)) throw new Error(`voxel ${p}: segment ${back.segmentNumbers[p]} for lesion ${l}`);
    }
    const included = reviewed.lesions.filter((l) => l.included);
    expect(back.segments.map((s) => s.label.split(' ')[1])).toEqual(included.map((l) => String(l.label)));
    expect(back.segments.map((s) => s.voxelCount)).toEqual(included.map((l) => l.stats.voxelCount));
    expect(r.segments.some((s) => s.lesionLabel === review.rejected)).toBe(false);

    // In the source study, referencing the source images slice by slice.
    const meta = head.volume.meta;
    expect(back.studyInstanceUid).toBe(meta.studyInstanceUid);
    expect(back.frameOfReferenceUid).toBe(meta.frameOfReferenceUid);
    expect(back.referencedSeriesInstanceUid).toBe(meta.seriesInstanceUid);
    expect(back.seriesInstanceUid).not.toBe(meta.seriesInstanceUid);
    expect(r.referencesSource).toBe(true);
    const ds = naturalized(readFileSync(path));
    expect(ds.SOPClassUID).toBe(SEGMENTATION_STORAGE);
    expect(ds.Modality).toBe('SEG');
    expect(ds.SegmentationType).toBe('BINARY');
    expect(ds.PatientName.Alphabetic ?? ds.PatientName).toBe('Müller^Anna');
    const perFrame = ds.PerFrameFunctionalGroupsSequence;
    expect(perFrame.length).toBe(r.frames);
    perFrame.forEach((f: { PlanePositionSequence: { ImagePositionPatient: number[] }[] }, i: number) => {
      const k = Math.round((Number(f.PlanePositionSequence[0].ImagePositionPatient[2]) - reviewed.grid.origin[2]) / reviewed.grid.spacing[2]);
      expect(back.frameSources[i]).toBe(meta.sopInstanceUids![k]);
    });
    const refs = ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence.map((x: Record<string, string>) => x.ReferencedSOPInstanceUID);
    expect(refs).toEqual(meta.sopInstanceUids);
    // Algorithm types follow the review; types are coded.
    const seg = (lesion: number) => ds.SegmentSequence.find((s: Record<string, unknown>) => String(s.SegmentLabel).startsWith(`Lesion ${lesion} `) || s.SegmentLabel === `Lesion ${lesion}`);
    expect(seg(review.accepted).SegmentAlgorithmType).toBe('AUTOMATIC');
    expect(seg(review.accepted).SegmentedPropertyTypeCodeSequence[0].CodeValue).toBe('50960005');
    expect(seg(review.edited).SegmentAlgorithmType).toBe('SEMIAUTOMATIC');
    expect(seg(review.added).SegmentAlgorithmType).toBe('MANUAL');
    expect(seg(review.added).SegmentAlgorithmName).toBeUndefined();
    // The algorithm is named in whole words within the 64 characters a DICOM LO holds.
    expect(seg(review.accepted).SegmentAlgorithmName).toMatch(/^Inpaint CT \S+ linear inpainting$/);
    expect(ds.ContentCreatorName.Alphabetic ?? ds.ContentCreatorName).toBe('dr.ng');
    // What produced each computed segment travels with the SEG: the reader's drawn one has none.
    expect(seg(review.added).SegmentationAlgorithmIdentificationSequence).toBeUndefined();
    for (const lesion of [review.accepted, review.edited]) {
      const [algorithm] = seg(lesion).SegmentationAlgorithmIdentificationSequence;
      expect(algorithm.AlgorithmFamilyCodeSequence[0].CodeMeaning).toBe('Neighborhood Analysis');
      expect(algorithm.AlgorithmName).toBe('Inpaint CT linear inpainting');
      expect(algorithm.AlgorithmVersion).toBe(`Inpaint CT ${reviewed.run.provenance.appVersion}`);
      const parameters = algorithmParameters(algorithm);
      expect(parameters[0]).toMatch(/research use only/i);
      expect(parameters).toContain(`Threshold: ${describeThreshold(reviewed.run)}`);
      expect(parameters).toContain(`Reading settings: ${describeReadingSettings(reviewed.run.reading)}`);
      expect(parameters).toContain('Healthy reference: none (the inpainter has no healthy calibration; only absolute and percentile cuts)');
    }
  });

  it.skipIf(!dciodvfy)('names the healthy reference a kept run read, with its whole SHA-256, in a valid SEG', async () => {
    const references = parseHealthyReferenceSet(JSON.parse(readFileSync(join(projectRoot(), 'models', 'classical', 'linear.reference.json'), 'utf8')));
    const stamp = stampHealthyReferences(references)!;
    const kept = buildCaseReport({ ...source, healthyReference: { references, stamp, pinnedAt: '2027-02-01T09:30:00.000Z', adopted: false } }, { review: review.review });
    const path = join(out, 'reference.dcm');
    await writeDicomSeg(kept, path);
    expect(validate(path).errors).toEqual([]);
    const ds = naturalized(readFileSync(path));
    const computed = ds.SegmentSequence.filter((s: Record<string, unknown>) => s.SegmentAlgorithmType !== 'MANUAL');
    expect(computed.length).toBeGreaterThan(0);
    for (const segment of computed) {
      const line = algorithmParameters(segment.SegmentationAlgorithmIdentificationSequence[0]).find((l) => l.startsWith('Healthy reference: '));
      expect(line).toMatch(new RegExp(`^Healthy reference: 8 healthy scans, calibrated [^·]+· kept with the run since the analysis · SHA-256 ${stamp.sha256} · not used by this cut$`));
    }
  });

  it('identifies a diffusion model as artificial intelligence, by id, preset and version, with its whole SHA-256', () => {
    const p = reviewed.run.provenance;
    const sha256 = 'c729bd51f79b218a877a98b167fa9bb79778d2146981adf45b1c662f5277d0f4';
    const diffusion: CaseReport = {
      ...reviewed,
      run: { ...reviewed.run, provenance: { ...p, inpainter: { kind: 'diffusion', modelId: 'healthy-brain-ddpm', preset: 'fast', device: 'cpu' }, model: { id: 'healthy-brain-ddpm', version: '1.3.0', sha256, kind: 'inpainting' } } },
    };
    const algorithm = algorithmIdentification(diffusion) as { AlgorithmFamilyCodeSequence: { CodeValue: string }[]; AlgorithmName: string; AlgorithmVersion: string; AlgorithmParameters: string };
    expect(algorithm.AlgorithmFamilyCodeSequence[0].CodeValue).toBe('123110');
    expect(algorithm.AlgorithmName).toBe('Inpaint CT healthy-brain-ddpm fast preset');
    expect(algorithm.AlgorithmVersion).toBe(`Inpaint CT ${p.appVersion}, model 1.3.0`);
    expect(algorithm.AlgorithmParameters.split('\r\n')).toContain(`Model SHA-256: ${sha256}`);
  });

  it.skipIf(!dciodvfy)('a single "Anomaly" segment is valid too and holds the same mask', async () => {
    const path = join(out, 'single.dcm');
    const r = await writeDicomSeg(reviewed, path, { segments: 'single' });
    expect(validate(path).errors).toEqual([]);
    expect(r.segments).toHaveLength(1);
    expect(r.segments[0].algorithmType).toBe('SEMIAUTOMATIC');
    const back = readDicomSegMask(readFileSync(path), reviewed.grid);
    expect(back.mask).toEqual(binary(reviewed.finalLabels));
    expect(back.segments[0]).toMatchObject({ label: 'Anomaly', number: 1 });
  });

  it.skipIf(!dciodvfy)('a run without DICOM identifiers gets synthetic UIDs, no references, and says so', async () => {
    const bare = buildCaseReport(await loadExportSource(head.dir));
    const path = join(out, 'bare.dcm');
    const r = await writeDicomSeg(bare, path);
    expect(validate(path).errors).toEqual([]);
    expect(r.referencesSource).toBe(false);
    expect(r.warnings.join(' ')).toMatch(/synthetic study and frame-of-reference UIDs/);
    const again = encodeDicomSeg(bare);
    expect(again.studyInstanceUid).toBe(r.studyInstanceUid); // stable per run
    const back = readDicomSegMask(readFileSync(path), bare.grid);
    expect(back.mask).toEqual(binary(bare.finalLabels));
    expect(back.frameSources.every((s) => s === null)).toBe(true);
    expect(back.referencedSeriesInstanceUid).toBeNull();
  });

  it.skipIf(!dciodvfy)('de-identified: pseudonyms, pseudonymised UIDs and references, identity removed', async () => {
    const deid = buildCaseReport(source, { deidentify: true });
    const path = join(out, 'deid.dcm');
    await writeDicomSeg(deid, path);
    expect(validate(path).errors).toEqual([]);
    const ds = naturalized(readFileSync(path));
    const name = String(ds.PatientName?.Alphabetic ?? ds.PatientName);
    expect(name).toMatch(/^ANON-/);
    expect(ds.PatientID).toBe(name);
    expect(ds.PatientIdentityRemoved).toBe('YES');
    expect(ds.PatientBirthDate ?? '').toBe('');
    expect(ds.StudyDate ?? '').toBe('');
    const meta = head.volume.meta;
    expect(ds.StudyInstanceUID).toBe(pseudonymousUid(meta.studyInstanceUid!));
    expect(ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID).toBe(pseudonymousUid(meta.sopInstanceUids![0]));
    expect(readFileSync(path).toString('latin1')).not.toContain('PAT-0042');
  });

  it('places frames by position on rotated and flipped grids, with or without the grid given', () => {
    const angle = (20 * Math.PI) / 180;
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    // In-plane rotation, rows flipped, slices still inferior to superior.
    const direction = [c, s, 0, s, -c, 0, 0, 0, 1];
    const origin: Vec3 = [12.5, -40.25, 101];
    const rotated = buildCaseReport({ ...source, ct: { ...source.ct, direction, origin } }, { review: review.review });
    const seg = encodeDicomSeg(rotated);
    const onGrid = readDicomSegMask(seg.bytes, rotated.grid);
    expect(onGrid.mask).toEqual(binary(rotated.finalLabels));
    const own = readDicomSegMask(seg.bytes);
    // Without the grid: the span of the frames, which here covers every slice.
    expect(sameGrid(own.grid, rotated.grid, 1e-3)).toBe(true);
    expect(own.mask).toEqual(binary(rotated.finalLabels));
    // Another series' grid is refused with a sentence.
    expect(() => readDicomSegMask(seg.bytes, { ...rotated.grid, origin: [origin[0] + 7, origin[1], origin[2]] })).toThrow(/does not lie on a slice/);
    expect(() => readDicomSegMask(seg.bytes, { ...rotated.grid, dims: [64, 64, 5] })).toThrow(/are 96x96/);
  });

  it('refuses an empty mask and a file that is not a SEG', () => {
    const empty = buildCaseReport({ ...source, labels: new Int32Array(source.labels.length), table: { ...source.table, lesions: [] } });
    expect(() => encodeDicomSeg(empty)).toThrow(/nothing to put in a DICOM SEG/);
    const ct = readFileSync(join(head.dicomDir, 'CT0001.dcm'));
    expect(() => readDicomSegMask(ct)).toThrow(/not a Segmentation/);
  });

  it('converts display colours to DICOM CIELab', () => {
    expect(rgbToDicomLab([255, 255, 255])).toEqual([65535, 32896, 32896]);
    expect(rgbToDicomLab([0, 0, 0])).toEqual([0, 32896, 32896]);
    const red = rgbToDicomLab([255, 0, 0]);
    expect(red[0]).toBeCloseTo((53.24 * 65535) / 100, -2);
    expect(red[1]).toBeGreaterThan(50000);
  });
});

/** Minimal RFC 4180 parser for the checks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  return rows;
}

describe('lesion table and mask exports', () => {
  it('CSV: one row per lesion with the table values, notes quoted and formula-safe', () => {
    const csv = lesionTableCsv(reviewed);
    expect(csv.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(csv);
    expect(header).toEqual(['case_id', 'series_instance_uid', 'run_id', ...LESION_COLUMNS]);
    expect(rows).toHaveLength(reviewed.lesions.length);
    const col = (name: string) => header.indexOf(name);
    reviewed.lesions.forEach((l, i) => {
      const r = rows[i];
      expect(r[col('case_id')]).toBe('PAT-0042');
      expect(Number(r[col('lesion')])).toBe(l.label);
      expect(Number(r[col('volume_ml')])).toBeCloseTo(l.stats.volumeMl, 4);
      expect(Number(r[col('voxels')])).toBe(l.stats.voxelCount);
      expect(Number(r[col('slice_first')])).toBe(l.stats.sliceRange[0] + 1);
      expect(Number(r[col('max_score')])).toBeCloseTo(l.stats.maxScore, 5);
      expect(Number(r[col('mean_hu')])).toBeCloseTo(l.stats.meanHu!, 2);
      expect(Number(r[col('centroid_s_mm')])).toBeCloseTo(l.stats.centroidLps[2], 2);
      expect(r[col('status')]).toBe(l.status);
      expect(r[col('included')]).toBe(String(l.included));
    });
    const byLesion = new Map(rows.map((r) => [Number(r[col('lesion')]), r]));
    expect(byLesion.get(review.accepted)![col('note')]).toBe('Crescent along the right convexity, "acute", agree');
    expect(byLesion.get(review.rejected)![col('note')]).toBe("'=beam hardening, not a lesion");
    expect(byLesion.get(review.rejected)![col('type')]).toBe('Artefact');
  });

  it('JSON: the table with case, provenance and review; de-identified without identifiers', () => {
    const json = lesionTableJson(reviewed);
    expect(json).toMatchObject({ format: 'inpaint-ct-lesion-table', formatVersion: 1, case: { patientId: 'PAT-0042', deidentified: false }, analysis: { runId: 'run-0001', inpainter: { kind: 'classical', method: 'linear' } } });
    // The fixture's analysis had no models folder: its run keeps an empty reference.
    expect(json.analysis.healthyReference).toMatchObject({ kept: true, stamp: null, adopted: false });
    expect(json.lesions.map((l) => l.lesion)).toEqual(reviewed.lesions.map((l) => l.label));
    expect(json.summary.lesions).toBe(reviewed.totals.included);
    expect(json.review!.edits).toHaveLength(5);
    const deid = JSON.stringify(lesionTableJson(buildCaseReport(source, { deidentify: true })));
    for (const secret of ['Müller', 'PAT-0042', '19610305', '20240611', head.volume.meta.studyInstanceUid!]) expect(deid).not.toContain(secret);
  });

  it('NIfTI: 0/1 mask and lesion numbers on the scan grid, rejected lesions left out', async () => {
    const maskPath = join(out, 'mask.nii.gz');
    writeFileSync(maskPath, encodeMaskNifti(reviewed, 'mask'));
    const mask = await readNifti(maskPath);
    expect(sameGrid(mask, source.ct, 1e-4)).toBe(true);
    expect(Uint8Array.from(mask.data)).toEqual(binary(reviewed.finalLabels));
    const labelsPath = join(out, 'labels.nii.gz');
    writeFileSync(labelsPath, encodeMaskNifti(reviewed, 'labels'));
    const labels = await readNifti(labelsPath);
    expect(Int32Array.from(labels.data)).toEqual(reviewed.finalLabels);
    expect(Int32Array.from(labels.data).includes(review.rejected)).toBe(false);
  });

  it('writes every format through one entry point, and reads a review file', async () => {
    const editedPath = join(out, 'edited-labels.nii.gz');
    await writeNifti({ ...source.ct, data: Int16Array.from(review.review.labels as Int32Array), intensityUnit: 'raw' }, editedPath, { datatype: 'int16' });
    const reviewPath = join(out, 'review.json');
    writeFileSync(reviewPath, JSON.stringify({ edits: review.review.edits, labels: 'edited-labels.nii.gz' }));
    const fromFile = await readReviewFile(reviewPath, source.ct);
    const report = buildCaseReport(source, { review: fromFile });
    expect(report.finalLabels).toEqual(reviewed.finalLabels);
    // The reviewed report is named apart from the run's unreviewed one.
    expect(defaultExportFileName(report, 'pdf')).toBe(`inpaint-ct-report-${report.runId.slice(0, 8)}-reviewed.pdf`);
    expect(defaultExportFileName(buildCaseReport(source, {}), 'pdf')).toBe(`inpaint-ct-report-${report.runId.slice(0, 8)}.pdf`);
    for (const format of ['csv', 'json', 'nifti', 'seg', 'pdf'] as const) {
      const path = join(out, defaultExportFileName(report, format));
      const r = await writeExport(report, format, path, { maxKeySlices: 1 });
      expect(r.bytes).toBe(readFileSync(path).byteLength);
    }
    writeFileSync(reviewPath, JSON.stringify({ edits: [{ lesionLabel: 1, status: 'maybe', author: 'x', at: 'now' }] }));
    await expect(readReviewFile(reviewPath, source.ct)).rejects.toThrow(/needs lesionLabel/);
  });
});

describe('DICOM text within its length', () => {
  it('drops whole trailing words rather than cutting one', async () => {
    const { fitWords } = await import('../../../src/main/core/export/dicom-seg');
    expect(fitWords(['Inpaint CT', '0.1.0', 'healthy-brain-ddpm-hidden-neighbours', '1.1.0', 'fast'])).toBe('Inpaint CT 0.1.0 healthy-brain-ddpm-hidden-neighbours 1.1.0 fast');
    expect(fitWords(['Inpaint CT', '0.1.0', 'a-model-id-long-enough-to-push-the-name-past-the-limit', '1.1.0', 'fast'])).toBe('Inpaint CT 0.1.0');
    expect(fitWords(['x'.repeat(70)])).toHaveLength(64);
  });
});
