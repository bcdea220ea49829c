import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as decodePng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCaseReport, loadExportSource, type ExportSource } from '../../../src/main/core/report/case';
import { renderReportPdf, toDrawableText } from '../../../src/main/core/report/pdf';
import { formatVolumeMl } from '../../../src/main/core/report/format';
import { axialView, renderSliceRgb } from '../../../src/main/core/report/slice-render';
import { describeLesionType, latestEdits, reviewFromLesionStates } from '../../../src/main/core/report/review';
import { measureLesions } from '../../../src/main/core/report/lesion-stats';
import { stampHealthyReferences } from '../../../src/main/core/pipeline/pinned-reference';
import { parseHealthyReferenceSet } from '../../../src/main/core/scoring/threshold';
import { projectRoot } from '../../../src/main/paths';
import { analysedDicomHead, type HeadRun } from './fixture';
import { hasTool, sampleReview } from './helpers';

const poppler = hasTool('pdftoppm') && hasTool('pdftotext');
const out = mkdtempSync(join(tmpdir(), 'inpaint-ct-pdf-'));
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  if (head) rmSync(head.root, { recursive: true, force: true });
});

let head: HeadRun;
let source: ExportSource;
beforeAll(async () => {
  head = await analysedDicomHead();
  source = await loadExportSource(head.dir, { meta: head.volume.meta, runId: 'run-0001' });
}, 120_000);

/** Text of each page (pdftotext separates pages with form feeds). */
function pdfPages(path: string): string[] {
  const r = spawnSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.split('\f').filter((p) => p.trim().length > 0);
}

/** Page 1 rendered by poppler at 40 dpi: fraction of non-white pixels and grey-level spread. */
function renderFirstPage(path: string): { inked: number; std: number; width: number } {
  const prefix = join(out, `page-${Math.random().toString(36).slice(2)}`);
  const r = spawnSync('pdftoppm', ['-r', '40', '-f', '1', '-l', '1', '-png', '-singlefile', path, prefix], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const png = decodePng(readFileSync(`${prefix}.png`));
  const n = png.width * png.height;
  const ch = png.channels;
  let inked = 0;
  let sum = 0;
  let sum2 = 0;
  for (let p = 0; p < n; p++) {
    const g = (png.data[p * ch] + png.data[p * ch + 1] + png.data[p * ch + 2]) / 3;
    if (g < 240) inked++;
    sum += g;
    sum2 += g * g;
  }
  return { inked: inked / n, std: Math.sqrt(sum2 / n - (sum / n) ** 2), width: png.width };
}

describe('PDF report', () => {
  it.skipIf(!poppler)('renders a valid PDF with header, disclaimer on every page, lesion table values, key slices and review', async () => {
    const { review, accepted, rejected, edited, added } = sampleReview(source);
    const report = buildCaseReport(source, { review });
    const path = join(out, 'report.pdf');
    const r = await renderReportPdf(report, { outPath: path });
    expect(readFileSync(path).subarray(0, 5).toString()).toBe('%PDF-');
    expect(r.keySlices).toBe(report.lesions.filter((l) => l.included).length);

    const page1 = renderFirstPage(path);
    expect(page1.inked).toBeGreaterThan(0.05);
    expect(page1.std).toBeGreaterThan(15);

    const pages = pdfPages(path);
    expect(pages.length).toBe(r.pages);
    for (const p of pages) expect(p).toContain('RESEARCH USE ONLY');
    const all = pages.join('\n');
    // Header from the DICOM series.
    expect(all).toContain('Müller, Anna');
    expect(all).toContain('PAT-0042');
    expect(all).toContain('1961-03-05');
    expect(all).toContain('CT HEAD WITHOUT CONTRAST');
    // Every lesion's row: number, volume, slices, max score, mean HU.
    for (const l of report.lesions) {
      const row = all.split('\n').find((line) => new RegExp(`^\\s*${l.label}\\s+(Not reviewed|Accepted|Rejected|Removed|Edited|Added by reader)\\s`).test(line));
      expect(row, `row of lesion ${l.label}`).toBeDefined();
      expect(row).toContain(formatVolumeMl(l.stats.volumeMl));
      expect(row).toContain(l.stats.maxScore.toFixed(3));
      expect(row).toContain(l.stats.meanHu!.toFixed(0));
    }
    expect(all).toContain(`Lesion #${accepted} · Subdural hemorrhage`);
    expect(all).toMatch(new RegExp(`^\\s*${rejected}\\s+Rejected`, 'm'));
    expect(all).toMatch(new RegExp(`^\\s*${edited}\\s+Edited`, 'm'));
    expect(all).toMatch(new RegExp(`^\\s*${added}\\s+Added by reader`, 'm'));
    expect(all).toContain('Crescent along the right convexity, "acute", agree');
    expect(all).toContain('Reader review');
    expect(all).toContain('dr.ng');
    // Provenance.
    expect(all).toContain('Classical linear inpainting');
    expect(all).toContain(report.run.threshold.description);
    // The healthy reference the z cut read: a recalibrated model would otherwise give the same words another cut.
    // The fixture's linear fill was analysed without a models folder, so without a healthy reference.
    expect(all).toMatch(/Healthy reference\s+none \(the inpainter has no healthy calibration/);
    expect(all).toContain('Analysis parameters and provenance');
    expect(all).toContain(head.volume.meta.seriesInstanceUid!);
  });

  it.skipIf(!poppler)('de-identified: pseudonym header, no name, ID, birth date or study date anywhere', async () => {
    const report = buildCaseReport(source, { deidentify: true });
    const path = join(out, 'deid.pdf');
    await renderReportPdf(report, { outPath: path, maxKeySlices: 2 });
    const all = pdfPages(path).join('\n');
    expect(all).toContain('DE-IDENTIFIED');
    expect(all).toContain(report.meta.patientId!);
    expect(report.meta.patientId).toMatch(/^ANON-/);
    // The birth date in every spelling; a bare '1961' can occur inside a pseudonymous UID by chance.
    for (const secret of ['Müller', 'Anna', 'PAT-0042', '1961-03-05', '19610305', '2024-06-11', 'ACC778899', head.volume.meta.seriesInstanceUid!]) expect(all).not.toContain(secret);
    expect(all).toContain('Shown for the 2 largest');
  });

  it.skipIf(!poppler)('names the healthy reference a run keeps, and whether the reader adopted it', async () => {
    const references = parseHealthyReferenceSet(JSON.parse(readFileSync(join(projectRoot(), 'models', 'classical', 'linear.reference.json'), 'utf8')));
    const stamp = stampHealthyReferences(references)!;
    const adopted: ExportSource = { ...source, healthyReference: { references, stamp, pinnedAt: '2027-02-01T09:30:00.000Z', adopted: true } };
    const path = join(out, 'reference.pdf');
    await renderReportPdf(buildCaseReport(adopted), { outPath: path });
    const all = pdfPages(path).join('\n');
    // This fixture cuts at an absolute score, so the row also says the reference played no part.
    expect(all).toMatch(new RegExp(`Healthy reference\\s+8 healthy scans, calibrated [^·]+· adopted by the reader on [^·]+· SHA-256 ${stamp.sha256.slice(0, 16)}… · not used by this cut`));

    // A damaged copy does not stop the report; the row says so.
    const damaged: ExportSource = { ...source, healthyReference: null, healthyReferenceProblem: 'The healthy reference kept with the run is damaged.' };
    await renderReportPdf(buildCaseReport(damaged), { outPath: path });
    expect(pdfPages(path).join('\n')).toMatch(/Healthy reference\s+cannot be read: The healthy reference kept with the run is damaged/);
  });

  it.skipIf(!poppler)('a run without lesions gives a one-page summary', async () => {
    const empty: ExportSource = { ...source, labels: new Int32Array(source.labels.length), table: { ...source.table, lesions: [] } };
    const report = buildCaseReport(empty);
    const path = join(out, 'empty.pdf');
    const r = await renderReportPdf(report, { outPath: path });
    expect(r.pages).toBe(1);
    expect(r.keySlices).toBe(0);
    const [page] = pdfPages(path);
    expect(page).toContain('No anomaly above the threshold');
    expect(page).toContain('Analysis parameters and provenance');
    expect(renderFirstPage(path).inked).toBeGreaterThan(0.03);
  });

  it.skipIf(!poppler)('takes the review service state and lists its action history', async () => {
    const s = sampleReview(source);
    // The review service hands over labels with rejected lesions already cleared.
    const labels = Int32Array.from(s.review.labels as Int32Array, (l) => (l === s.rejected ? 0 : l));
    const at = '2024-06-12T09:00:00Z';
    const state = {
      labels,
      lesions: [
        { label: s.accepted, status: 'accepted', type: 'sdh', note: '', origin: 'detected' as const, updatedBy: 'dr.ng', updatedAt: at },
        { label: s.rejected, status: 'rejected', type: 'artefact', note: '', origin: 'detected' as const, updatedBy: 'dr.ng', updatedAt: at },
        { label: s.edited, status: 'pending', type: 'iph', note: 'check tomorrow', origin: 'detected' as const, updatedBy: 'dr.ng', updatedAt: at },
        { label: s.added, status: 'pending', type: '', note: '', origin: 'drawn' as const, updatedBy: 'dr.ng', updatedAt: at },
        { label: s.erased, status: 'pending', type: '', note: '', origin: 'detected' as const, updatedBy: 'dr.ng', updatedAt: at },
      ],
      history: [
        { summary: `Brush: +14 voxels on lesion ${s.added}`, author: 'dr.ng', at: '2024-06-12T08:59:00Z' },
        { summary: `Rejected lesion ${s.rejected}`, author: 'dr.ng', at: '2024-06-12T09:00:00Z' },
        { summary: 'Eraser: -3 voxels', author: 'dr.ng', at: '2024-06-12T09:01:00Z', undone: true },
      ],
    };
    const report = buildCaseReport(source, { review: reviewFromLesionStates(state) });
    const byLabel = new Map(report.lesions.map((l) => [l.label, l]));
    expect(byLabel.get(s.accepted)).toMatchObject({ status: 'accepted', type: 'Subdural hemorrhage' });
    expect(byLabel.get(s.rejected)).toMatchObject({ status: 'rejected', included: false, erased: false });
    expect(byLabel.get(s.edited)).toMatchObject({ status: 'edited', type: 'Intraparenchymal hemorrhage', note: 'check tomorrow' });
    expect(byLabel.get(s.added)!.status).toBe('added');
    expect(byLabel.get(s.erased)).toMatchObject({ status: 'rejected', erased: true });
    const path = join(out, 'history.pdf');
    await renderReportPdf(report, { outPath: path, maxKeySlices: 0 });
    const all = pdfPages(path).join('\n');
    expect(all).toContain(`Brush: +14 voxels on lesion ${s.added}`);
    expect(all).toMatch(/Eraser: -3 voxels\s+undone/);
    expect(all).toContain('Intraparench. (IPH)');
  });

  it.skipIf(!poppler)('prints Latin, Greek and Cyrillic names as written with embedded fonts; a character the font lacks becomes "?"', async () => {
    const name = 'Łukasz Dvořák Ψ Иван';
    // The name arrives decomposed (ř as r + combining caron), as some systems store it.
    const meta = { ...source.ct.meta, patientName: name.normalize('NFD'), studyDescription: 'TK głowy 李 bez kontrastu' };
    const unicode: ExportSource = { ...source, ct: { ...source.ct, meta } };
    const s = sampleReview(unicode);
    const edits = [...s.review.edits, { lesionLabel: s.accepted, status: 'accepted' as const, type: 'subdural', note: 'Zgadzam się — Ελληνικά, кириллица\r\nsecond line', author: 'Jiří Řezníček', at: '2024-06-12T08:06:00Z' }];
    const report = buildCaseReport(unicode, { review: { ...s.review, edits } });
    const path = join(out, 'unicode.pdf');
    await renderReportPdf(report, { outPath: path, maxKeySlices: 1 });
    const all = pdfPages(path).join('\n');
    expect(all).toContain(name);
    expect(all).toContain('TK głowy ? bez kontrastu');
    expect(all).not.toContain('李');
    expect(all).toContain('Jiří Řezníček');
    expect(all).toContain('Zgadzam się — Ελληνικά, кириллица');
    expect(all).toContain('second line');
    // Every font is embedded: nothing depends on the fonts of the machine that opens the PDF.
    const fonts = spawnSync('pdffonts', [path], { encoding: 'utf8' });
    expect(fonts.status).toBe(0);
    const rows = fonts.stdout.split('\n').slice(2).filter((l) => l.trim());
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row).toMatch(/DejaVuSans/);
      expect(row).toMatch(/\byes\s+yes\s+yes\b/); // embedded, subset, ToUnicode map
    }
  });

  it('fails with a clear message when the report fonts are missing', async () => {
    await expect(renderReportPdf(buildCaseReport(source), { fontsDir: join(out, 'no-fonts') })).rejects.toThrow(/report font DejaVuSans\.ttf is missing/);
  });

  it('returns the bytes without writing, and stops when cancelled', async () => {
    const report = buildCaseReport(source);
    const r = await renderReportPdf(report, { maxKeySlices: 1 });
    expect(r.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const ac = new AbortController();
    ac.abort();
    await expect(renderReportPdf(report, { signal: ac.signal })).rejects.toThrow(/cancelled/);
  });
});

describe('case report model', () => {
  it('applies a review: rejected and erased lesions leave the mask, edited and added ones are measured again', () => {
    const s = sampleReview(source);
    const report = buildCaseReport(source, { review: s.review });
    const byLabel = new Map(report.lesions.map((l) => [l.label, l]));
    expect(byLabel.get(s.accepted)).toMatchObject({ status: 'accepted', type: 'Subdural hemorrhage', included: true, reviewedBy: 'dr.ng' });
    // The later decision wins over the earlier "accepted".
    expect(byLabel.get(s.rejected)).toMatchObject({ status: 'rejected', included: false, type: 'Artefact' });
    expect(byLabel.get(s.erased)).toMatchObject({ status: 'rejected', erased: true, included: false });
    const edited = byLabel.get(s.edited)!;
    expect(edited.status).toBe('edited');
    expect(edited.stats.voxelCount).toBe(s.editedVoxels);
    const mlPerVoxel = (source.ct.spacing[0] * source.ct.spacing[1] * source.ct.spacing[2]) / 1000;
    expect(edited.stats.volumeMl).toBeCloseTo(s.editedVoxels * mlPerVoxel, 9);
    expect(byLabel.get(s.added)).toMatchObject({ status: 'added', type: 'Mass', included: true });
    expect(byLabel.get(s.added)!.stats.voxelCount).toBe(18);
    // Final mask: the edited labels without rejected and erased lesions.
    const present = new Set(report.finalLabels.filter((l) => l > 0));
    expect(present.has(s.rejected)).toBe(false);
    expect(present.has(s.erased)).toBe(false);
    expect(present.has(s.added)).toBe(true);
    expect(report.totals.included).toBe(present.size);
    expect(report.totals.includedVolumeMl).toBeCloseTo([...present].reduce((sum, l) => sum + byLabel.get(l)!.stats.volumeMl, 0), 9);
    // Included lesions come first, largest first.
    const order = report.lesions.map((l) => (l.included ? 0 : 1));
    expect(order).toEqual([...order].sort());
  });

  it('measures lesions as the threshold engine does', () => {
    const measured = measureLesions(source.labels, source.ct, { score: source.score, signed: source.signed, hu: source.ct.data });
    for (const l of source.table.lesions) {
      const m = measured.get(l.label)!;
      expect(m.voxelCount).toBe(l.voxelCount);
      expect(m.volumeMl).toBeCloseTo(l.volumeMl, 9);
      expect(m.sliceRange).toEqual(l.sliceRange);
      expect(m.bbox).toEqual(l.bbox);
      expect(m.maxScore).toBeCloseTo(l.maxScore, 4);
      expect(m.meanScore).toBeCloseTo(l.meanScore, 4);
      expect(m.meanHu!).toBeCloseTo(l.meanHu!, 1);
      for (let t = 0; t < 3; t++) expect(m.centroidLps[t]).toBeCloseTo(l.centroidLps[t], 3);
      expect(m.sign).toBe(l.sign);
    }
  });

  it('rejects an edited label volume of another size', () => {
    expect(() => buildCaseReport(source, { review: { labels: new Int32Array(10), edits: [] } })).toThrow(/another series/);
  });

  it('takes the latest decision per lesion and maps lesion types to names and codes', () => {
    const latest = latestEdits([
      { lesionLabel: 1, status: 'rejected', author: 'a', at: '2024-01-02T00:00:00Z' },
      { lesionLabel: 1, status: 'accepted', author: 'a', at: '2024-01-01T00:00:00Z' },
    ]);
    expect(latest.get(1)!.status).toBe('rejected');
    expect(describeLesionType('subdural')).toMatchObject({ label: 'Subdural hemorrhage', concept: { codeValue: '50960005' } });
    expect(describeLesionType('Intraparenchymal hemorrhage')!.short).toBe('Intraparench. (IPH)');
    expect(describeLesionType('artifact')!.label).toBe('Artefact');
    expect(describeLesionType('chronic haematoma')).toMatchObject({ label: 'chronic haematoma', concept: { codeMeaning: 'Hemorrhage' } });
    expect(describeLesionType('  ')).toBeNull();
  });
});

describe('key slice rendering', () => {
  it('shows slices in radiological orientation whatever the voxel order', () => {
    // A bright voxel on the patient's left (+L) and one anterior (-P), in a volume stored with i pointing right and j pointing posterior.
    const dims: [number, number, number] = [5, 4, 1];
    const hu = new Float32Array(20).fill(0);
    const direction = [-1, 0, 0, 0, 1, 0, 0, 0, 1];
    hu[0 + 2 * 5] = 1000; // i = 0 is the patient's leftmost column here
    hu[2 + 0 * 5] = 500; // j = 0 is anterior
    const view = axialView({ dims, spacing: [1, 1, 1], direction });
    expect(view.letters).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
    expect(view.toDisplay(0, 2)).toEqual([4, 2]);
    const rgb = renderSliceRgb({ hu, dims, view, k: 0, window: { centerHu: 40, widthHu: 80 }, region: { x: 0, y: 0, width: 5, height: 4 }, outWidth: 5, outHeight: 4 });
    const at = (x: number, y: number) => rgb[3 * (x + 5 * y)];
    expect(at(4, 2)).toBe(255); // patient left on the viewer's right
    expect(at(2, 0)).toBe(255); // anterior at the top
    expect(at(0, 2)).toBe(0);

    // Transposed storage: i runs posterior, j runs left.
    const t = axialView({ dims: [4, 5, 1], spacing: [0.5, 2, 1], direction: [0, 1, 0, 1, 0, 0, 0, 0, 1] });
    expect(t.width).toBe(5);
    expect(t.spacingX).toBe(2);
    expect(t.letters).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
    expect(t.toVoxel(...t.toDisplay(3, 1))).toEqual([3, 1]);
  });

  it('outlines the lesion and overlays the score only above the low end', () => {
    const dims: [number, number, number] = [8, 8, 1];
    const hu = new Float32Array(64).fill(40);
    const labels = new Int32Array(64);
    const score = new Float32Array(64);
    for (let j = 2; j < 6; j++) for (let i = 2; i < 6; i++) {
      labels[i + 8 * j] = 3;
      score[i + 8 * j] = 1;
    }
    const view = axialView({ dims, spacing: [1, 1, 1], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] });
    const rgb = renderSliceRgb({ hu, dims, view, k: 0, window: { centerHu: 40, widthHu: 80 }, region: { x: 0, y: 0, width: 8, height: 8 }, outWidth: 32, outHeight: 32, labels, outline: { label: 3, rgb: [255, 0, 255], thicknessPx: 1 }, heat: { score, lo: 0.5, hi: 1, maxAlpha: 0.8 } });
    const px = (u: number, v: number) => [rgb[3 * (u + 32 * v)], rgb[3 * (u + 32 * v) + 1], rgb[3 * (u + 32 * v) + 2]];
    expect(px(8, 16)).toEqual([255, 0, 255]); // the lesion's left edge
    expect(px(16, 16)[0]).toBeGreaterThan(px(16, 16)[2] + 50); // heat inside
    expect(px(6, 6)).toEqual([128, 128, 128]); // plain grey away from the lesion
  });

  it('replaces only the characters a font lacks: by the unaccented letter, else "?"', () => {
    const latin1 = (code: number) => code >= 32 && code < 256;
    expect(toDrawableText('score ≥ 0.25', (code) => code < 128 || code === 0x2265)).toBe('score ≥ 0.25');
    expect(toDrawableText('Łukasz Żółć', latin1)).toBe('?ukasz Zó?c');
    expect(toDrawableText('Dvor\u030Cák', (code) => code < 128 || code === 0xe1 || code === 0x159)).toBe('Dvořák');
    expect(toDrawableText('Dvořák', (code) => code < 128 || code === 0xe1)).toBe('Dvorák');
    expect(toDrawableText('李 𝔸', latin1)).toBe('? ?');
    expect(toDrawableText('one\r\ntwo\tthree', latin1)).toBe('one\ntwo\tthree');
  });
});
