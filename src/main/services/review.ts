import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { AppError } from '../../shared/errors';
import { readingSettingsSchema } from '../../shared/analysis';
import { forEachBrushVoxel } from '../../shared/brush';
import type { ReviewLesion, ReviewLesionType, ReviewState, ReviewStatus, Vec3 } from '../../shared/types';
import { voxelToLps, voxelVolumeMl, type Volume } from '../core/volume';
import { replaceFile } from '../core/io/files';
import type { ReviewLesionRow, ReviewRepository, ReviewEventRow } from '../storage/repositories/review';
import type { AnalysisService } from './analysis';

/** The OS user name, so every edit says who made it without asking. */
export function defaultAuthor(): string {
  if (process.env.INPAINT_CT_AUTHOR) return process.env.INPAINT_CT_AUTHOR;
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

interface Edited {
  labels: Int16Array;
  brain: Uint8Array;
  volume: Volume;
}

type VoxelChange = { target: 'lesion' | 'brain'; indices: string; before: string; after: number; newLabel?: number };
type LesionChange = { label: number; before: ReviewLesionRow | null; after: ReviewLesionRow | null };

const b64 = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
function fromB64<T>(s: string, make: (buf: ArrayBuffer) => T): T {
  const b = Buffer.from(s, 'base64');
  const copy = new ArrayBuffer(b.byteLength);
  new Uint8Array(copy).set(b);
  return make(copy);
}

/**
 * Reviewer edits of a run's lesion mask and brain mask: brush and eraser, accept/reject, type
 * and note per lesion, undo/redo. The edited masks live beside the run's files; every edit is an
 * event in SQLite with its author and time, so a reviewed study reopens exactly as left.
 */
export class ReviewService {
  private readonly open = new Map<string, Edited>();

  constructor(private readonly deps: { repo: ReviewRepository; analysis: AnalysisService; dataDir: string }) {}

  private runDir(runId: string): string {
    return join(this.deps.dataDir, this.deps.analysis.getRun(runId).dir);
  }

  private async edited(runId: string): Promise<Edited> {
    const hit = this.open.get(runId);
    if (hit) return hit;
    const dir = this.runDir(runId);
    const volume = await this.deps.analysis.volumeOf(runId);
    const n = volume.data.length;
    const lab = await readFile(join(dir, 'review-labels.i16'));
    const brain = await readFile(join(dir, 'review-brain.u8'));
    if (lab.byteLength !== n * 2 || brain.byteLength !== n) throw new AppError('INTERNAL', 'The review files of this run are damaged; discard the review to start again.');
    const e: Edited = { labels: new Int16Array(lab.buffer.slice(lab.byteOffset, lab.byteOffset + lab.byteLength)), brain: new Uint8Array(brain), volume };
    this.open.clear(); // one reviewed run in memory at a time is plenty
    this.open.set(runId, e);
    return e;
  }

  /** Write-then-rename, so a crash mid-write never leaves a half-written mask. */
  private async persist(runId: string, e: Edited, which: 'lesion' | 'brain' | 'both'): Promise<void> {
    const dir = this.runDir(runId);
    const write = (name: string, data: ArrayBufferView) => replaceFile(join(dir, name), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (which !== 'brain') await write('review-labels.i16', e.labels);
    if (which !== 'lesion') await write('review-brain.u8', e.brain);
  }

  async state(runId: string): Promise<ReviewState> {
    const review = this.deps.repo.get(runId);
    if (!review) {
      return { runId, started: false, reading: null, threshold: null, lesions: [], labelIndices: '', labelValues: '', brainEdited: false, canUndo: false, canRedo: false, history: [], startedBy: null };
    }
    const e = await this.edited(runId);
    const rows = this.deps.repo.lesions(runId);
    const events = this.deps.repo.events(runId);
    const stats = lesionStats(e.labels, e.volume);
    const lesions: ReviewLesion[] = rows
      .filter((r) => stats.has(r.label) || r.origin === 'detected')
      .map((r) => {
        const s = stats.get(r.label);
        return {
          label: r.label,
          status: r.status,
          type: r.type as ReviewLesionType,
          note: r.note,
          origin: r.origin,
          voxelCount: s?.count ?? 0,
          volumeMl: (s?.count ?? 0) * voxelVolumeMl(e.volume.spacing),
          sliceRange: s ? [s.kMin, s.kMax] : [0, 0],
          centroidLps: s ? voxelToLps(e.volume, s.si / s.count, s.sj / s.count, s.sk / s.count) : [0, 0, 0],
          peakVoxel: s ? s.peak : [0, 0, 0],
          meanHu: s ? s.sumHu / s.count : null,
          updatedBy: r.updatedBy,
          updatedAt: r.updatedAt,
        };
      });
    const indices: number[] = [];
    const values: number[] = [];
    for (let p = 0; p < e.labels.length; p++) {
      if (e.labels[p] > 0) {
        indices.push(p);
        values.push(e.labels[p]);
      }
    }
    return {
      runId,
      started: true,
      reading: readingSettingsSchema.parse(review.reading),
      threshold: review.threshold,
      lesions,
      labelIndices: b64(Uint32Array.from(indices)),
      labelValues: b64(Uint16Array.from(values)),
      brainEdited: events.some((ev) => !ev.undone && (ev.payload as VoxelChange).target === 'brain'),
      canUndo: events.some((ev) => !ev.undone),
      canRedo: events.some((ev) => ev.undone),
      history: events.map((ev) => ({ summary: ev.summary, author: ev.author, at: ev.at, undone: ev.undone })),
      startedBy: review.startedBy,
    };
  }

  /** Freeze the run's lesion labels at this reading and start reviewing them. */
  async start(runId: string, readingInput: unknown, author = defaultAuthor()): Promise<ReviewState> {
    if (this.deps.repo.get(runId)) return this.state(runId);
    const reading = readingSettingsSchema.parse(readingInput ?? {});
    const { labels, lesions, threshold, brainMask } = await this.deps.analysis.labelsFor(runId, reading);
    const dir = this.runDir(runId);
    const l16 = new Int16Array(labels.length);
    for (let p = 0; p < labels.length; p++) l16[p] = Math.min(32767, labels[p]);
    const now = new Date().toISOString();
    const volume = await this.deps.analysis.volumeOf(runId);
    const e: Edited = { labels: l16, brain: Uint8Array.from(brainMask), volume };
    this.open.clear();
    this.open.set(runId, e);
    await this.persist(runId, e, 'both');
    const maxLabel = lesions.reduce((m, l) => Math.max(m, l.label), 0);
    this.deps.repo.create(
      { runId, reading, threshold, nextLabel: maxLabel + 1, startedBy: author, startedAt: now, updatedAt: now },
      lesions.map((l) => ({ label: l.label, status: 'pending', type: '', note: '', origin: 'detected', updatedBy: author, updatedAt: now })),
    );
    if (!existsSync(dir)) throw new AppError('NOT_FOUND', 'The run folder is missing.');
    return this.state(runId);
  }

  /** Paint or erase a disc (in the slice across `sliceAxis`, the view painted in) or a sphere around a voxel. */
  async brush(
    runId: string,
    op: { target: 'lesion' | 'brain'; mode: 'paint' | 'erase'; center: Vec3; radiusMm: number; sphere: boolean; sliceAxis?: 0 | 1 | 2; label?: number },
    author = defaultAuthor(),
  ): Promise<ReviewState> {
    const review = this.deps.repo.get(runId);
    if (!review) throw new AppError('BAD_REQUEST', 'Start the review of this run before editing its mask.');
    const e = await this.edited(runId);
    const [nx, ny, nz] = e.volume.dims;
    const [ci, cj, ck] = op.center.map(Math.round);
    if (ci < 0 || cj < 0 || ck < 0 || ci >= nx || cj >= ny || ck >= nz) throw new AppError('BAD_REQUEST', 'The brush is outside the image.');
    let value = 0;
    let newLabel: number | undefined;
    if (op.mode === 'paint') {
      if (op.target === 'brain') value = 1;
      else if (op.label !== undefined) {
        if (!this.deps.repo.lesions(runId).some((l) => l.label === op.label)) throw new AppError('BAD_REQUEST', `There is no lesion ${op.label} to paint into.`);
        value = op.label;
      } else value = newLabel = review.nextLabel;
    }
    const data = op.target === 'lesion' ? e.labels : e.brain;
    const changed: number[] = [];
    const before: number[] = [];
    const visit = (p: number) => {
      // Painting one lesion never overwrites another: a reviewer extends, not merges.
      if (op.target === 'lesion' && op.mode === 'paint' && data[p] !== 0) return;
      if (data[p] === value) return;
      changed.push(p);
      before.push(data[p]);
      data[p] = value;
    };
    forEachBrushVoxel(e.volume, [ci, cj, ck], op.radiusMm, op.sphere, visit, op.sliceAxis ?? 2);
    if (changed.length === 0) return this.state(runId);
    const payload: VoxelChange = { target: op.target, indices: b64(Uint32Array.from(changed)), before: b64(Int16Array.from(before)), after: value, newLabel };
    const what = op.target === 'brain' ? 'brain mask' : newLabel ? `new lesion ${newLabel}` : op.mode === 'paint' ? `lesion ${value}` : 'lesions';
    // Grid terms, not anatomical ones: a series need not be acquired axially.
    const where = op.sphere || (op.sliceAxis ?? 2) === 2 ? `slice ${ck + 1}` : op.sliceAxis === 0 ? `the plane through image column ${ci + 1}` : `the plane through image row ${cj + 1}`;
    const summary = `${op.mode === 'paint' ? 'Painted' : 'Erased'} ${changed.length} voxels (${what}) on ${where}`;
    this.deps.repo.transaction(() => {
      if (newLabel) {
        this.deps.repo.putLesion(runId, { label: newLabel, status: 'accepted', type: '', note: '', origin: 'drawn', updatedBy: author, updatedAt: new Date().toISOString() }, newLabel);
        this.deps.repo.setNextLabel(runId, newLabel + 1);
      }
      this.deps.repo.addEvent(runId, { kind: 'voxels', summary, payload, author });
    });
    await this.persist(runId, e, op.target);
    return this.state(runId);
  }

  /** Accept or reject a lesion, give it a type or a note. */
  async setLesion(runId: string, label: number, patch: { status?: ReviewStatus; type?: ReviewLesionType; note?: string }, author = defaultAuthor()): Promise<ReviewState> {
    if (!this.deps.repo.get(runId)) throw new AppError('BAD_REQUEST', 'Start the review of this run before editing its lesions.');
    const before = this.deps.repo.lesions(runId).find((l) => l.label === label);
    if (!before) throw new AppError('NOT_FOUND', `There is no lesion ${label} in this review.`);
    const after: ReviewLesionRow = { ...before, ...patch, updatedBy: author, updatedAt: new Date().toISOString() };
    const parts = [patch.status && `${patch.status}`, patch.type !== undefined && `type ${patch.type || 'none'}`, patch.note !== undefined && 'note'].filter(Boolean).join(', ');
    const payload: LesionChange = { label, before, after };
    this.deps.repo.transaction(() => {
      this.deps.repo.putLesion(runId, after, label);
      this.deps.repo.addEvent(runId, { kind: 'lesion', summary: `Lesion ${label}: ${parts}`, payload, author });
    });
    return this.state(runId);
  }

  private async applyEvent(runId: string, ev: ReviewEventRow, direction: 'undo' | 'redo'): Promise<void> {
    if (ev.kind === 'voxels') {
      const p = ev.payload as VoxelChange;
      const e = await this.edited(runId);
      const data = p.target === 'lesion' ? e.labels : e.brain;
      const idx = fromB64(p.indices, (b) => new Uint32Array(b));
      const before = fromB64(p.before, (b) => new Int16Array(b));
      for (let t = 0; t < idx.length; t++) data[idx[t]] = direction === 'undo' ? before[t] : p.after;
      if (p.newLabel) {
        const now = new Date().toISOString();
        this.deps.repo.putLesion(runId, direction === 'undo' ? null : { label: p.newLabel, status: 'accepted', type: '', note: '', origin: 'drawn', updatedBy: ev.author, updatedAt: now }, p.newLabel);
      }
      await this.persist(runId, e, p.target);
    } else {
      const p = ev.payload as LesionChange;
      this.deps.repo.putLesion(runId, direction === 'undo' ? p.before : p.after, p.label);
    }
  }

  async undo(runId: string): Promise<ReviewState> {
    const ev = this.deps.repo.lastDone(runId);
    if (!ev) throw new AppError('BAD_REQUEST', 'There is nothing to undo.');
    await this.applyEvent(runId, ev, 'undo');
    this.deps.repo.setUndone(ev.id, true);
    return this.state(runId);
  }

  async redo(runId: string): Promise<ReviewState> {
    const ev = this.deps.repo.firstUndone(runId);
    if (!ev) throw new AppError('BAD_REQUEST', 'There is nothing to redo.');
    await this.applyEvent(runId, ev, 'redo');
    this.deps.repo.setUndone(ev.id, false);
    return this.state(runId);
  }

  /** Drop the review (and its edits); the run's own results are untouched. */
  async discard(runId: string): Promise<ReviewState> {
    this.deps.repo.delete(runId);
    this.open.delete(runId);
    return this.state(runId);
  }

  /** The edited label volume as is (rejected lesions still labelled). */
  async editedLabels(runId: string): Promise<Int16Array> {
    return (await this.edited(runId)).labels;
  }

  /**
   * The final lesion mask for reports and exports: the reviewed labels without rejected lesions,
   * or null when the run has not been reviewed (exports then use the run's own mask).
   */
  async finalLabels(runId: string): Promise<{ labels: Int16Array; brain: Uint8Array; lesions: ReviewLesion[]; history: ReviewState['history'] } | null> {
    const st = await this.state(runId);
    if (!st.started) return null;
    const e = await this.edited(runId);
    const rejected = new Set(st.lesions.filter((l) => l.status === 'rejected').map((l) => l.label));
    const labels = Int16Array.from(e.labels, (v) => (rejected.has(v) ? 0 : v));
    return { labels, brain: e.brain, lesions: st.lesions, history: st.history };
  }
}

interface Stat {
  count: number;
  kMin: number;
  kMax: number;
  si: number;
  sj: number;
  sk: number;
  sumHu: number;
  peak: Vec3;
}

/** Per-label voxel count, slice range, centroid and mean HU of an edited label volume. */
function lesionStats(labels: Int16Array, volume: Volume): Map<number, Stat> {
  const [nx, ny] = volume.dims;
  const plane = nx * ny;
  const out = new Map<number, Stat>();
  for (let p = 0; p < labels.length; p++) {
    const l = labels[p];
    if (l <= 0) continue;
    const k = Math.floor(p / plane);
    const j = Math.floor((p - k * plane) / nx);
    const i = p - k * plane - j * nx;
    let s = out.get(l);
    if (!s) out.set(l, (s = { count: 0, kMin: k, kMax: k, si: 0, sj: 0, sk: 0, sumHu: 0, peak: [i, j, k] }));
    s.count++;
    s.kMin = Math.min(s.kMin, k);
    s.kMax = Math.max(s.kMax, k);
    s.si += i;
    s.sj += j;
    s.sk += k;
    s.sumHu += volume.data[p];
  }
  // Navigate to the voxel nearest the centroid, which lies inside the lesion unlike the centroid itself.
  for (const [l, s] of out) {
    const c = [s.si / s.count, s.sj / s.count, s.sk / s.count];
    let best = Infinity;
    for (let k = s.kMin; k <= s.kMax; k++)
      for (let p = k * plane; p < (k + 1) * plane; p++) {
        if (labels[p] !== l) continue;
        const j = Math.floor((p - k * plane) / nx);
        const i = p - k * plane - j * nx;
        const d = (i - c[0]) ** 2 + (j - c[1]) ** 2 + (k - c[2]) ** 2;
        if (d < best) {
          best = d;
          s.peak = [i, j, k];
        }
      }
  }
  return out;
}
