/**
 * The PDF report of one analysis: patient/study header (or de-identified), a research-use
 * disclaimer on every page, the findings table with the reader's decisions, key slices of each
 * lesion (axial slice through its peak at the brain window with its outline, a zoom, and the score
 * overlay), the reader's edit history, and the analysis parameters and provenance.
 *
 * pdfkit with DejaVu Sans and Sans Mono embedded as subsets (shipped in resources/fonts, so names
 * in any Latin, Greek or Cyrillic script print as written; nothing is read from the system),
 * images rendered in TypeScript (slice-render.ts). Runs without Electron.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import PDFDocument from 'pdfkit';
import { describeDenseExclusion } from '../../../shared/analysis';
import { AppError } from '../../../shared/errors';
import { projectRoot } from '../../paths';
import { throwIfAborted, type TaskOptions } from '../progress';
import type { CaseReport, ReportLesion } from './case';
import { statusLabel } from './case';
import { describeLesionType } from './review';
import {
  describeInpainter,
  extentText,
  formatDateTime,
  formatDicomDate,
  formatHu,
  formatLps,
  formatPersonName,
  formatScore,
  formatSlices,
  formatVolumeMl,
  provenanceRows,
  signLabel,
  smoothingText,
} from './format';
import { axialView, headRegion, heatColour, renderSlicePng, squareAround, type AxialView, type Region, type Rgb } from './slice-render';

export interface ReportPdfOptions extends TaskOptions {
  /** Key slices for at most this many lesions (largest first; the table lists all). Default 24. */
  maxKeySlices?: number;
  /** Folder holding the report fonts (FONT_FILES). Default: resources/fonts of the installation. */
  fontsDir?: string;
}

export interface ReportPdfResult {
  bytes: Buffer;
  pages: number;
  /** Lesions shown with key slices. */
  keySlices: number;
}

const PAGE = { width: 595.28, height: 841.89 };
const MARGIN_X = 40;
const CONTENT_TOP = 70;
const CONTENT_BOTTOM = PAGE.height - 45;
const CONTENT_WIDTH = PAGE.width - 2 * MARGIN_X;

const C = {
  ink: '#1b2430',
  muted: '#5d6877',
  faint: '#8a94a3',
  hairline: '#d3d9e1',
  panel: '#f2f4f7',
  header: '#26364a',
  accent: '#1f5fa8',
  zebra: '#f7f9fb',
  warnBg: '#fdecea',
  warnLine: '#c62828',
  warnInk: '#8e1b1b',
  status: { automatic: '#5d6877', accepted: '#2e7d32', edited: '#d35400', added: '#6a1b9a', rejected: '#c62828' } as Record<ReportLesion['status'], string>,
};

const BRAIN_WINDOW = { centerHu: 40, widthHu: 80 };
const TARGET_OUTLINE: Rgb = [255, 214, 10];
const OTHER_OUTLINE: Rgb = [90, 200, 250];

type Doc = PDFKit.PDFDocument;

/** The fonts the report uses, by the name pdfkit knows them under. */
const FONT_FILES = {
  Sans: 'DejaVuSans.ttf',
  'Sans-Bold': 'DejaVuSans-Bold.ttf',
  'Sans-Oblique': 'DejaVuSans-Oblique.ttf',
  Mono: 'DejaVuSansMono.ttf',
} as const;
type FontName = keyof typeof FONT_FILES;

export function defaultFontsDir(): string {
  return join(projectRoot(), 'resources', 'fonts');
}

function registerFonts(doc: Doc, fontsDir: string): void {
  for (const [name, file] of Object.entries(FONT_FILES)) {
    const path = join(fontsDir, file);
    if (!existsSync(path)) throw new AppError('INTERNAL', `The report font ${file} is missing from ${fontsDir}; the installation is incomplete, so no PDF report can be made.`, { path });
    doc.registerFont(name, path);
  }
}

/**
 * Text (NFC, CR LF as LF) with every character the font lacks replaced: by its letter without the
 * accent when the font has that, else by "?". pdfkit would otherwise draw an empty box that copies
 * as nothing, so the reader would not see that a character is missing (CJK names, for one).
 */
export function toDrawableText(text: string, hasGlyph: (codePoint: number) => boolean): string {
  let out = '';
  for (const ch of text.replace(/\r\n?/g, '\n').normalize('NFC')) {
    const code = ch.codePointAt(0)!;
    if (code === 9 || code === 10 || hasGlyph(code)) out += ch;
    else {
      const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
      out += base && [...base].every((b) => hasGlyph(b.codePointAt(0)!)) ? base : '?';
    }
  }
  return out;
}

interface TextStyle {
  font?: FontName;
  size?: number;
  colour?: string;
  align?: 'left' | 'right' | 'center';
  width?: number;
  lineGap?: number;
}

class Layout {
  y = CONTENT_TOP;
  constructor(readonly doc: Doc) {}

  style(s: TextStyle): void {
    this.doc.font(s.font ?? 'Sans').fontSize(s.size ?? 9).fillColor(s.colour ?? C.ink);
  }

  /** The text as the current font can draw it (see toDrawableText). */
  drawable(text: string): string {
    // pdfkit keeps the fontkit font of an embedded font here; it has no public accessor.
    const font = (this.doc as unknown as { _font?: { font?: { hasGlyphForCodePoint(codePoint: number): boolean } } })._font?.font;
    if (!font) throw new Error('pdfkit no longer exposes the fontkit font of the current font');
    return toDrawableText(text, (code) => font.hasGlyphForCodePoint(code));
  }

  /** Width of the text on one line. */
  width(text: string, s: TextStyle): number {
    this.style(s);
    return this.doc.widthOfString(this.drawable(text));
  }

  height(text: string, s: TextStyle): number {
    this.style(s);
    return this.doc.heightOfString(this.drawable(text), { width: s.width ?? CONTENT_WIDTH, lineGap: s.lineGap ?? 1 });
  }

  /** Draws text at (x, y) without moving the flow cursor; returns its height. */
  text(text: string, x: number, y: number, s: TextStyle): number {
    this.style(s);
    const t = this.drawable(text);
    const opts = { width: s.width ?? CONTENT_WIDTH, align: s.align ?? 'left', lineGap: s.lineGap ?? 1 };
    const h = this.doc.heightOfString(t, opts);
    this.doc.text(t, x, y, opts);
    return h;
  }

  /** One line, cut with an ellipsis to fit the width. */
  line(text: string, x: number, y: number, s: TextStyle): void {
    this.style(s);
    const width = s.width ?? CONTENT_WIDTH;
    let t = this.drawable(text);
    if (this.doc.widthOfString(t) > width) {
      const chars = [...t];
      while (chars.length > 1 && this.doc.widthOfString(`${chars.join('')}…`) > width) chars.pop();
      t = `${chars.join('').trimEnd()}…`;
    }
    this.doc.text(t, x, y, { width, align: s.align ?? 'left', lineBreak: false });
  }

  /** Starts a new page when fewer than `h` points are left. */
  ensure(h: number): void {
    if (this.y + h > CONTENT_BOTTOM) this.newPage();
  }

  newPage(): void {
    this.doc.addPage();
    this.y = CONTENT_TOP;
  }

  sectionTitle(title: string, subtitle?: string): void {
    this.ensure(60);
    this.y += 6;
    this.text(title, MARGIN_X, this.y, { font: 'Sans-Bold', size: 12, colour: C.header });
    this.y += 16;
    this.doc.moveTo(MARGIN_X, this.y).lineTo(MARGIN_X + CONTENT_WIDTH, this.y).lineWidth(0.8).strokeColor(C.header).stroke();
    this.y += 5;
    if (subtitle) this.y += this.text(subtitle, MARGIN_X, this.y, { size: 7.5, colour: C.muted }) + 4;
  }
}

function caseIdentifier(r: CaseReport): string {
  if (r.deidentified) return `De-identified${r.meta.patientId ? ` (${r.meta.patientId})` : ''}`;
  return r.meta.patientId ? `Patient ID ${r.meta.patientId}` : r.metaKnown ? 'Patient ID not recorded' : `Run ${r.runId}`;
}

/** Disclaimer band and footer on every page (drawn last, when the page count is known). */
function decoratePages(L: Layout, r: CaseReport): void {
  const doc = L.doc;
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const margins = doc.page.margins;
    // Text outside the margins must not spill onto a new page.
    doc.page.margins = { top: 0, bottom: 0, left: 0, right: 0 };
    const bandY = 20;
    const bandH = 34;
    doc.roundedRect(MARGIN_X, bandY, CONTENT_WIDTH, bandH, 3).fillAndStroke(C.warnBg, C.warnLine);
    doc.rect(MARGIN_X, bandY, 5, bandH).fill(C.warnLine);
    L.line('RESEARCH USE ONLY  —  NOT A MEDICAL DEVICE', MARGIN_X + 14, bandY + 6, { font: 'Sans-Bold', size: 9.5, colour: C.warnInk, width: CONTENT_WIDTH - 20 });
    L.line('Not for diagnosis or treatment decisions. Findings come from an experimental algorithm and must be verified by a qualified reader.', MARGIN_X + 14, bandY + 19, {
      size: 7.5,
      colour: C.warnInk,
      width: CONTENT_WIDTH - 20,
    });
    const footY = PAGE.height - 36;
    doc.moveTo(MARGIN_X, footY - 6).lineTo(MARGIN_X + CONTENT_WIDTH, footY - 6).lineWidth(0.5).strokeColor(C.hairline).stroke();
    L.line(`Inpaint CT ${r.appVersion}  ·  Brain CT anomaly report  ·  ${caseIdentifier(r)}  ·  generated ${formatDateTime(r.generatedAt)}`, MARGIN_X, footY, { size: 7, colour: C.faint, width: CONTENT_WIDTH - 70 });
    doc.text(`Page ${i - range.start + 1} of ${range.count}`, MARGIN_X, footY, { width: CONTENT_WIDTH, align: 'right', lineBreak: false });
    doc.page.margins = margins;
  }
}

function drawTitle(L: Layout, r: CaseReport): void {
  L.text('Brain CT Anomaly Report', MARGIN_X, L.y, { font: 'Sans-Bold', size: 18, colour: C.ink });
  L.text(`Generated ${formatDateTime(r.generatedAt)}`, MARGIN_X, L.y + 2, { size: 7.5, colour: C.muted, align: 'right' });
  L.text(`Analysis ${r.runId}`, MARGIN_X, L.y + 12, { size: 7.5, colour: C.muted, align: 'right' });
  L.y += 24;
  L.text(`Anomaly detection by inpainting: ${describeInpainter(r.run.provenance)}`, MARGIN_X, L.y, { size: 8.5, colour: C.muted, width: CONTENT_WIDTH - 150 });
  L.y += 18;
}

function drawCaseBox(L: Layout, r: CaseReport): void {
  const m = r.meta;
  const dash = '—';
  const patientName = formatPersonName(m.patientName) || dash;
  const sexBirth = [formatDicomDate(m.patientBirthDate), m.patientSex].filter(Boolean).join(' · ') || dash;
  const seriesLine = [m.seriesNumber !== undefined ? `#${m.seriesNumber}` : '', m.seriesDescription ?? ''].filter(Boolean).join(' ') || dash;
  const g = r.grid;
  const columns: [string, string][][] = [
    [
      ['Patient', r.deidentified ? `${patientName} (pseudonym)` : patientName],
      ['Patient ID', m.patientId || dash],
      ['Birth date · sex', r.deidentified ? 'removed' : sexBirth],
    ],
    [
      ['Study date', r.deidentified ? 'removed' : formatDicomDate(m.studyDate) || dash],
      ['Study', m.studyDescription || dash],
      ['Accession', r.deidentified ? 'removed' : m.accessionNumber || dash],
    ],
    [
      ['Series', seriesLine],
      ['Modality · source', [m.modality || 'CT', m.source ? `from ${m.source.toUpperCase()}` : ''].filter(Boolean).join(' · ')],
      // Unspaced, unit in the label: a 512 × 512 × 120 series with 1.25 mm slices still fits the column.
      ['Matrix · voxel (mm)', `${g.dims.join('×')} · ${g.spacing.map((s) => +s.toFixed(2)).join('×')}`],
    ],
  ];
  const boxH = r.metaKnown ? 84 : 96;
  L.ensure(boxH + 10);
  const top = L.y;
  L.doc.roundedRect(MARGIN_X, top, CONTENT_WIDTH, boxH, 4).fill(C.panel);
  const colW = (CONTENT_WIDTH - 24) / 3;
  columns.forEach((col, c) => {
    let y = top + 10;
    for (const [label, value] of col) {
      L.text(label.toUpperCase(), MARGIN_X + 12 + c * colW, y, { font: 'Sans-Bold', size: 6.5, colour: C.faint, width: colW - 10 });
      L.line(value, MARGIN_X + 12 + c * colW, y + 8.5, { size: 9, width: colW - 12 });
      y += 24;
    }
  });
  if (r.deidentified) {
    const label = 'DE-IDENTIFIED';
    L.style({ font: 'Sans-Bold', size: 7 });
    const w = L.doc.widthOfString(label) + 12;
    // High in the corner: a long series description runs under it.
    L.doc.roundedRect(MARGIN_X + CONTENT_WIDTH - w - 8, top + 4, w, 12, 6).fill(C.accent);
    L.text(label, MARGIN_X + CONTENT_WIDTH - w - 8, top + 6.6, { font: 'Sans-Bold', size: 7, colour: '#ffffff', width: w, align: 'center' });
  }
  if (!r.metaKnown) {
    L.text('The analysis folder does not record the patient and study; run the report from the library or give the source series to show them.', MARGIN_X + 12, top + boxH - 16, { font: 'Sans-Oblique', size: 7, colour: C.muted, width: CONTENT_WIDTH - 24 });
  }
  L.y = top + boxH + 12;
}

function drawSummary(L: Layout, r: CaseReport): void {
  const t = r.totals;
  const cards: { label: string; value: string; detail: string; colour?: string }[] = [
    { label: 'Findings', value: String(t.included), detail: t.rejected ? `${t.rejected} rejected by the reader` : t.included ? 'above the threshold' : 'none above the threshold' },
    { label: 'Total lesion volume', value: `${formatVolumeMl(t.includedVolumeMl)} mL`, detail: t.brainVolumeMl ? `of ${t.brainVolumeMl.toFixed(0)} mL brain analysed` : '' },
    r.review
      ? { label: 'Review', value: 'Reviewed', detail: `by ${r.review.reviewers.join(', ')}${r.review.lastEditAt ? `, ${formatDateTime(r.review.lastEditAt)}` : ''}`, colour: C.status.accepted }
      : { label: 'Review', value: 'Not reviewed', detail: 'automatic result only', colour: C.status.edited },
  ];
  const h = 54;
  L.ensure(h + 30);
  const w = (CONTENT_WIDTH - 16) / 3;
  cards.forEach((card, i) => {
    const x = MARGIN_X + i * (w + 8);
    L.doc.roundedRect(x, L.y, w, h, 4).lineWidth(0.7).strokeColor(C.hairline).stroke();
    L.text(card.label.toUpperCase(), x + 10, L.y + 8, { font: 'Sans-Bold', size: 6.5, colour: C.faint, width: w - 20 });
    L.text(card.value, x + 10, L.y + 18, { font: 'Sans-Bold', size: 15, colour: card.colour ?? C.ink, width: w - 20 });
    L.line(card.detail, x + 10, L.y + 38, { size: 7, colour: C.muted, width: w - 20 });
  });
  L.y += h + 8;
  const reading = r.run.reading;
  L.y +=
    L.text(
      `Threshold: ${r.run.threshold.description}  ·  lesions from ${reading.minSizeMl} mL  ·  ${reading.metric} residual, ${reading.fusion} fusion  ·  brain border eroded ${reading.borderErosionMm} mm  ·  ${describeDenseExclusion(reading.denseExclusionHu)}${reading.smoothingMm && reading.smoothingMm > 0 ? `  ·  ${smoothingText(reading.smoothingMm)}` : ''}  ·  ${extentText(reading.extent)}`,
      MARGIN_X,
      L.y,
      { size: 7.5, colour: C.muted },
    ) + 8;
}

interface Column {
  title: string;
  width: number;
  align?: 'left' | 'right' | 'center';
  value: (l: ReportLesion) => string;
}

// Widths fit the longest fixed texts at TABLE_TEXT_SIZE: "Added by reader", "Subarachnoid (SAH)",
// "mixed/unknown", "-100.5, -120.3, -55.0".
const TABLE_COLUMNS: Column[] = [
  { title: '#', width: 22, align: 'right', value: (l) => String(l.label) },
  { title: 'Status', width: 77, value: (l) => statusLabel(l) },
  { title: 'Type', width: 82, value: (l) => describeLesionType(l.type)?.short ?? '—' },
  { title: 'Volume mL', width: 40, align: 'right', value: (l) => formatVolumeMl(l.stats.volumeMl) },
  { title: 'Slices', width: 32, align: 'right', value: (l) => formatSlices(l.stats.sliceRange) },
  { title: 'Density', width: 66, value: (l) => signLabel(l.stats.sign) },
  { title: 'Max score', width: 34, align: 'right', value: (l) => formatScore(l.stats.maxScore) },
  { title: 'Mean score', width: 34, align: 'right', value: (l) => formatScore(l.stats.meanScore) },
  { title: 'Mean HU', width: 30, align: 'right', value: (l) => formatHu(l.stats.meanHu) },
  { title: 'Centroid L, P, S mm', width: CONTENT_WIDTH - 417, align: 'right', value: (l) => formatLps(l.stats.centroidLps) },
];
const TABLE_TEXT_SIZE = 7.5;
/** Notes under a row start under the Type column. */
const NOTE_X = MARGIN_X + TABLE_COLUMNS[0].width + TABLE_COLUMNS[1].width + 3;
const NOTE_WIDTH = MARGIN_X + CONTENT_WIDTH - 6 - NOTE_X;

function drawTableHeader(L: Layout): void {
  const h = 22;
  L.doc.rect(MARGIN_X, L.y, CONTENT_WIDTH, h).fill(C.header);
  let x = MARGIN_X;
  for (const c of TABLE_COLUMNS) {
    const style: TextStyle = { font: 'Sans-Bold', size: 6.8, colour: '#ffffff', width: c.width - 6, align: c.align, lineGap: 0 };
    L.text(c.title, x + 3, L.y + (h - L.height(c.title, style)) / 2 + 0.5, style);
    x += c.width;
  }
  L.y += h;
}

function drawLesionTable(L: Layout, r: CaseReport): void {
  L.sectionTitle('Findings', 'Lesions are numbered as in the viewer and the exported masks. Slices are counted from the most inferior (1). Scores are in brain-window units (0.25 = 20 HU difference from the healthy reconstruction).');
  if (r.lesions.length === 0) {
    L.ensure(44);
    L.doc.roundedRect(MARGIN_X, L.y, CONTENT_WIDTH, 36, 4).fill(C.panel);
    L.text(`No anomaly above the threshold (${r.run.threshold.description}).`, MARGIN_X + 12, L.y + 8, { font: 'Sans-Bold', size: 10, colour: C.ink });
    L.text('A negative result of this research algorithm does not exclude disease.', MARGIN_X + 12, L.y + 22, { size: 7.5, colour: C.muted });
    L.y += 46;
    return;
  }
  L.ensure(60);
  drawTableHeader(L);
  r.lesions.forEach((l, row) => {
    const noteText = l.note ? `Note (${l.reviewedBy ?? 'reader'}): ${l.note}` : '';
    const noteH = noteText ? L.height(noteText, { font: 'Sans-Oblique', size: 7, width: NOTE_WIDTH }) + 3 : 0;
    const h = 15 + noteH;
    if (L.y + h > CONTENT_BOTTOM) {
      L.newPage();
      drawTableHeader(L);
    }
    if (row % 2 === 1) L.doc.rect(MARGIN_X, L.y, CONTENT_WIDTH, h).fill(C.zebra);
    let x = MARGIN_X;
    for (const c of TABLE_COLUMNS) {
      const colour = c.title === 'Status' ? C.status[l.status] : l.included ? C.ink : C.faint;
      const font = c.title === '#' || c.title === 'Status' ? 'Sans-Bold' : 'Sans';
      L.line(c.value(l), x + 3, L.y + 4.5, { font, size: TABLE_TEXT_SIZE, colour, width: c.width - 6, align: c.align });
      x += c.width;
    }
    if (noteText) L.text(noteText, NOTE_X, L.y + 14, { font: 'Sans-Oblique', size: 7, colour: C.muted, width: NOTE_WIDTH });
    L.y += h;
    L.doc.moveTo(MARGIN_X, L.y).lineTo(MARGIN_X + CONTENT_WIDTH, L.y).lineWidth(0.3).strokeColor(C.hairline).stroke();
  });
  L.y += 10;
}

interface HeatScale {
  lo: number;
  hi: number;
}

function heatScale(r: CaseReport): HeatScale {
  const t = r.run.threshold.value;
  const peak = Math.max(0, ...r.lesions.filter((l) => l.included).map((l) => l.stats.maxScore));
  const lo = Math.max(0, 0.5 * t);
  return { lo, hi: Math.max(lo + 1e-3, 1.5 * t, 0.9 * peak) };
}

function hexColour(rgb: Rgb | readonly number[]): string {
  return `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
}

function drawHeatLegend(L: Layout, scale: HeatScale): void {
  const x = MARGIN_X;
  const y = L.y;
  const w = 90;
  const steps = 30;
  for (let s = 0; s < steps; s++) {
    const c = heatColour(s / (steps - 1));
    L.doc.rect(x + (s * w) / steps, y, w / steps + 0.3, 7).fill(hexColour(c));
  }
  const style: TextStyle = { size: 7, colour: C.muted };
  L.line(`Score overlay from ${formatScore(scale.lo)} (transparent) to ${formatScore(scale.hi)}`, x + w + 6, y - 0.5, { ...style, width: 220 });
  // The outline swatches, laid out from the right edge by their measured labels.
  let right = MARGIN_X + CONTENT_WIDTH;
  for (const [label, rgb] of [['Other lesions on the slice', OTHER_OUTLINE], ['Outline of the lesion', TARGET_OUTLINE]] as const) {
    const tw = L.width(label, style);
    L.line(label, right - tw, y - 0.5, { ...style, width: tw + 1 });
    L.doc.rect(right - tw - 18, y, 14, 7).fill(hexColour(rgb));
    right -= tw + 30;
  }
  L.y += 14;
}

/** Draws the image at (x, y) fitted into a box, keeping the region's physical aspect; returns where it went. */
function placeImage(doc: Doc, png: Uint8Array, region: Region, view: AxialView, x: number, y: number, box: number): { x: number; y: number; w: number; h: number } {
  const wMm = region.width * view.spacingX;
  const hMm = region.height * view.spacingY;
  const s = box / Math.max(wMm, hMm);
  const w = wMm * s;
  const h = hMm * s;
  const ix = x + (box - w) / 2;
  const iy = y + (box - h) / 2;
  doc.rect(x, y, box, box).fill('#000000');
  doc.image(Buffer.from(png.buffer, png.byteOffset, png.byteLength), ix, iy, { width: w, height: h });
  return { x: ix, y: iy, w, h };
}

function drawKeySlices(L: Layout, r: CaseReport, lesions: ReportLesion[], scale: HeatScale, opts: ReportPdfOptions): void {
  const shown = lesions.length;
  const total = r.lesions.filter((l) => l.included).length;
  const gap = 8;
  const box = (CONTENT_WIDTH - 2 * gap) / 3;
  const blockH = 18 + box + 16;
  // The title, legend and first lesion stay together.
  L.ensure(70 + blockH + 6);
  L.sectionTitle(
    'Key slices',
    `Axial slice through each lesion's highest-scoring voxel at the brain window (W 80 / L 40 HU), radiological orientation (patient's right on the left). Left: overview; middle: zoom without overlay; right: zoom with the anomaly score.${shown < total ? ` Shown for the ${shown} largest of ${total} lesions.` : ''}`,
  );
  drawHeatLegend(L, scale);
  const view = axialView(r.grid);
  const hu = r.images.hu;
  lesions.forEach((l, index) => {
    throwIfAborted(opts.signal);
    opts.onProgress?.({ stage: 'Rendering key slices', done: index, total: shown });
    L.ensure(blockH + 6);
    const k = l.stats.peakVoxel[2];
    const headline = `Lesion #${l.label}${l.type ? ` · ${l.type}` : ''}`;
    L.doc.outline.addItem(headline);
    // Measures on the right, the status left of them, the headline cut to what is left.
    const measures = `${formatVolumeMl(l.stats.volumeMl)} mL · ${signLabel(l.stats.sign)} · slices ${formatSlices(l.stats.sliceRange)} · max score ${formatScore(l.stats.maxScore)}`;
    const measuresStyle: TextStyle = { size: 7, colour: C.muted };
    const statusStyle: TextStyle = { font: 'Sans-Bold', size: 7.5, colour: C.status[l.status] };
    const measuresW = L.width(measures, measuresStyle);
    const statusW = L.width(statusLabel(l), statusStyle);
    const statusX = MARGIN_X + CONTENT_WIDTH - measuresW - 12 - statusW;
    L.line(headline, MARGIN_X, L.y, { font: 'Sans-Bold', size: 9.5, colour: C.ink, width: statusX - MARGIN_X - 8 });
    L.line(statusLabel(l), statusX, L.y + 1.5, { ...statusStyle, width: statusW + 1 });
    L.line(measures, MARGIN_X, L.y + 2, { ...measuresStyle, align: 'right' });
    const top = L.y + 16;

    // Lesion extent on this slice, in display coordinates.
    const [ax, ay] = view.toDisplay(l.stats.bbox.min[0], l.stats.bbox.min[1]);
    const [bx, by] = view.toDisplay(l.stats.bbox.max[0], l.stats.bbox.max[1]);
    const lesionRegion: Region = { x: Math.min(ax, bx), y: Math.min(ay, by), width: Math.abs(bx - ax) + 1, height: Math.abs(by - ay) + 1 };
    const head = headRegion(hu, r.grid.dims, view, k) ?? { x: 0, y: 0, width: view.width, height: view.height };
    const overview = squareAround(head, view, { marginMm: 4, minSideMm: 60 });
    const zoom = squareAround(lesionRegion, view, { marginMm: 12, minSideMm: 36 });
    const common = { hu, dims: r.grid.dims, view, k, window: BRAIN_WINDOW, labels: r.finalLabels };
    const overviewPx = 340;
    const zoomPx = 280;

    const a = placeImage(
      L.doc,
      renderSlicePng({ ...common, region: overview, outWidth: overviewPx, outHeight: Math.round((overviewPx * overview.height * view.spacingY) / (overview.width * view.spacingX)), outline: { label: l.label, rgb: TARGET_OUTLINE, thicknessPx: 2, othersRgb: OTHER_OUTLINE } }),
      overview,
      view,
      MARGIN_X,
      top,
      box,
    );
    // Where the zoom is, on the overview.
    const sx = a.w / overview.width;
    const sy = a.h / overview.height;
    const zx = Math.max(a.x, a.x + (zoom.x - overview.x) * sx);
    const zy = Math.max(a.y, a.y + (zoom.y - overview.y) * sy);
    const zw = Math.min(a.x + a.w, a.x + (zoom.x + zoom.width - overview.x) * sx) - zx;
    const zh = Math.min(a.y + a.h, a.y + (zoom.y + zoom.height - overview.y) * sy) - zy;
    if (zw > 0 && zh > 0) L.doc.rect(zx, zy, zw, zh).lineWidth(0.8).strokeColor('#ffd60a').stroke();
    const letter = (t: string, cx: number, cy: number) => {
      L.doc.save().roundedRect(cx - 5.5, cy - 5.5, 11, 11, 2).fillOpacity(0.55).fill('#000000').restore();
      L.text(t, cx - 5.5, cy - 3.4, { font: 'Sans-Bold', size: 7, colour: '#ffffff', width: 11, align: 'center' });
    };
    letter(view.letters.left, a.x + 8, a.y + a.h / 2);
    letter(view.letters.right, a.x + a.w - 8, a.y + a.h / 2);
    letter(view.letters.top, a.x + a.w / 2, a.y + 8);
    letter(view.letters.bottom, a.x + a.w / 2, a.y + a.h - 8);

    const zoomOut = { outWidth: zoomPx, outHeight: Math.round((zoomPx * zoom.height * view.spacingY) / (zoom.width * view.spacingX)) };
    const b = placeImage(L.doc, renderSlicePng({ ...common, region: zoom, ...zoomOut, labels: null }), zoom, view, MARGIN_X + box + gap, top, box);
    // 10 mm scale bar on the zoom.
    const mm = b.w / (zoom.width * view.spacingX);
    L.doc.save().roundedRect(b.x + 4, b.y + b.h - 22, Math.max(10 * mm, 24) + 8, 18, 2).fillOpacity(0.55).fill('#000000').restore();
    L.doc.moveTo(b.x + 8, b.y + b.h - 8).lineTo(b.x + 8 + 10 * mm, b.y + b.h - 8).lineWidth(1.4).strokeColor('#ffffff').stroke();
    L.text('10 mm', b.x + 8, b.y + b.h - 19, { size: 6.5, colour: '#ffffff', width: 40 });

    const heat = r.images.score ? { score: r.images.score, lo: scale.lo, hi: scale.hi, maxAlpha: 0.75 } : null;
    placeImage(
      L.doc,
      renderSlicePng({ ...common, region: zoom, ...zoomOut, heat, outline: { label: l.label, rgb: TARGET_OUTLINE, thicknessPx: 2 } }),
      zoom,
      view,
      MARGIN_X + 2 * (box + gap),
      top,
      box,
    );
    const captionY = top + box + 4;
    const zoomFactor = (overview.width * view.spacingX) / (zoom.width * view.spacingX);
    const captions = [`Axial slice ${k + 1} of ${r.grid.dims[2]} (lesion peak)`, `Zoom ×${zoomFactor.toFixed(1)}, ${(zoom.width * view.spacingX).toFixed(0)} mm field`, heat ? 'Anomaly score and outline' : 'Outline (no score map in the run)'];
    captions.forEach((c, i) => L.text(c, MARGIN_X + i * (box + gap), captionY, { size: 7, colour: C.muted, width: box, align: 'center' }));
    L.y = top + box + 20;
  });
  opts.onProgress?.({ stage: 'Rendering key slices', done: shown, total: shown });
}

function keyValueRows(L: Layout, rows: [string, string, TextStyle?][]): void {
  const labelW = 128;
  rows.forEach(([k, v, style], i) => {
    const s: TextStyle = { size: 8, colour: C.ink, ...style, width: CONTENT_WIDTH - labelW - 8 };
    const h = Math.max(L.height(v, s), 10) + 5;
    L.ensure(h);
    if (i % 2 === 0) L.doc.rect(MARGIN_X, L.y - 1.5, CONTENT_WIDTH, h).fill(C.zebra);
    L.text(k, MARGIN_X + 4, L.y + 1, { font: 'Sans-Bold', size: 7.5, colour: C.muted, width: labelW - 4 });
    L.text(v, MARGIN_X + labelW, L.y + 1, s);
    L.y += h;
  });
  L.y += 8;
}

interface ReviewColumn {
  title: string;
  width: number;
  /** The one column that wraps. */
  wraps?: boolean;
}

/** A table whose last wrapping column sets each row's height; the header repeats on a new page. */
function drawWrappedTable(L: Layout, columns: ReviewColumn[], rows: { values: string[]; colours?: (string | undefined)[]; faded?: boolean }[]): void {
  const header = () => {
    L.doc.rect(MARGIN_X, L.y, CONTENT_WIDTH, 16).fill(C.header);
    let x = MARGIN_X;
    for (const c of columns) {
      L.text(c.title, x + 3, L.y + 4.5, { font: 'Sans-Bold', size: 6.8, colour: '#ffffff', width: c.width - 6 });
      x += c.width;
    }
    L.y += 16;
  };
  L.ensure(40);
  header();
  rows.forEach((row, i) => {
    const h = Math.max(13, ...columns.map((c, ci) => (c.wraps ? L.height(row.values[ci], { size: 7.5, width: c.width - 6 }) + 5 : 0)));
    if (L.y + h > CONTENT_BOTTOM) {
      L.newPage();
      header();
    }
    if (i % 2 === 1) L.doc.rect(MARGIN_X, L.y, CONTENT_WIDTH, h).fill(C.zebra);
    let x = MARGIN_X;
    columns.forEach((c, ci) => {
      const colour = row.colours?.[ci] ?? (row.faded ? C.faint : C.ink);
      if (c.wraps) L.text(row.values[ci], x + 3, L.y + 3, { size: 7.5, colour, width: c.width - 6 });
      else L.line(row.values[ci], x + 3, L.y + 3, { font: row.colours?.[ci] ? 'Sans-Bold' : 'Sans', size: 7.5, colour, width: c.width - 6 });
      x += c.width;
    });
    L.y += h;
  });
  L.y += 10;
}

function drawReview(L: Layout, r: CaseReport): void {
  const review = r.review;
  if (!review) {
    L.sectionTitle('Reader review');
    L.ensure(20);
    L.y += L.text('No reader has reviewed this analysis: every finding above is the automatic result.', MARGIN_X, L.y, { size: 8.5, colour: C.muted }) + 10;
    return;
  }
  if (review.history) {
    L.sectionTitle('Reader review', 'Every action of the review, oldest first (undone actions greyed). The findings table shows the resulting decision per lesion.');
    drawWrappedTable(
      L,
      [
        { title: 'Time', width: 100 },
        { title: 'Reader', width: 90 },
        { title: 'Action', width: CONTENT_WIDTH - 250, wraps: true },
        { title: '', width: 60 },
      ],
      review.history.map((h) => ({ values: [formatDateTime(h.at), h.author, h.summary, h.undone ? 'undone' : ''], faded: !!h.undone })),
    );
    return;
  }
  L.sectionTitle('Reader review', 'Every decision recorded for this analysis, oldest first. The findings table shows the latest decision per lesion.');
  drawWrappedTable(
    L,
    [
      { title: 'Time', width: 92 },
      { title: 'Reader', width: 74 },
      { title: 'Lesion', width: 32 },
      { title: 'Decision', width: 50 },
      { title: 'Type', width: 124 },
      { title: 'Note', width: CONTENT_WIDTH - 372, wraps: true },
    ],
    review.edits.map((e) => ({
      values: [formatDateTime(e.at), e.author, `#${e.lesionLabel}`, e.status[0].toUpperCase() + e.status.slice(1), describeLesionType(e.type)?.label ?? '', e.note ?? ''],
      colours: [undefined, undefined, undefined, C.status[e.status as ReportLesion['status']] ?? C.muted],
    })),
  );
}

function drawProvenance(L: Layout, r: CaseReport): void {
  L.sectionTitle('Analysis parameters and provenance');
  const mono: TextStyle = { font: 'Mono', size: 7.5 };
  const rows = provenanceRows(r, { formatDate: formatDateTime }).map((row): [string, string, TextStyle?] => [row.label, row.value, row.identifier ? mono : undefined]);
  keyValueRows(L, rows);
  const warnings = [...r.run.warnings, ...r.warnings];
  if (warnings.length) {
    L.ensure(30);
    L.y += L.text('Warnings', MARGIN_X, L.y, { font: 'Sans-Bold', size: 8.5, colour: C.warnInk }) + 3;
    for (const w of warnings) {
      const h = L.height(`•  ${w}`, { size: 7.8, width: CONTENT_WIDTH - 8 });
      L.ensure(h + 2);
      L.y += L.text(`•  ${w}`, MARGIN_X + 4, L.y, { size: 7.8, colour: C.ink, width: CONTENT_WIDTH - 8 }) + 2;
    }
  }
}

/** Renders the report; writes it to `outPath` too when given. */
export async function renderReportPdf(report: CaseReport, options: ReportPdfOptions & { outPath?: string } = {}): Promise<ReportPdfResult> {
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: CONTENT_TOP, bottom: PAGE.height - CONTENT_BOTTOM, left: MARGIN_X, right: MARGIN_X },
    bufferPages: true,
    info: {
      Title: 'Brain CT anomaly report (research use only)',
      Author: `Inpaint CT ${report.appVersion}`,
      Subject: report.deidentified ? 'De-identified analysis report' : 'Analysis report',
      Keywords: 'research use only; brain CT; anomaly detection; inpainting',
      CreationDate: new Date(report.generatedAt),
    },
    compress: true,
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const finished = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });

  registerFonts(doc, options.fontsDir ?? defaultFontsDir());
  const L = new Layout(doc);
  drawTitle(L, report);
  drawCaseBox(L, report);
  drawSummary(L, report);
  drawLesionTable(L, report);
  const keyLesions = report.lesions.filter((l) => l.included).slice(0, options.maxKeySlices ?? 24);
  if (keyLesions.length) drawKeySlices(L, report, keyLesions, heatScale(report), options);
  if (report.review || report.lesions.length) drawReview(L, report);
  drawProvenance(L, report);
  decoratePages(L, report);
  const pages = doc.bufferedPageRange().count;
  doc.end();
  await finished;
  const bytes = Buffer.concat(chunks);
  if (options.outPath) await writeFile(options.outPath, bytes);
  return { bytes, pages, keySlices: keyLesions.length };
}
