import { AppError } from '../../../shared/errors';
import { throwIfAborted, type TaskOptions } from '../progress';
import { voxelVolumeMl, type Vec3, type Volume } from '../volume';
import { borderPixels, dilateInPlace, erodeInPlace, fillHolesInPlace, floodFill, keepLargestComponent3D, SliceScratch } from './morphology';

/**
 * Classical brain extraction of head CT: no model, HU thresholds and morphology, 3D per study.
 *
 * The idea: the brain is the soft tissue that the skull separates from the air around the head.
 * Per slice, the outside is flooded from the air at the image border through everything that is
 * not (slightly thickened) bone; what the flood cannot reach, is not bone and is tissue-dense is
 * intracranial. Thickening the bone closes foramina, sutures and partial-volume gaps narrower
 * than twice the closing radius; the flood is then grown back over the scalp strip that the
 * thickening hid. The orbits, the nose and the ear canals open to the outside through gaps far
 * wider than that, so orbit fat and globes are flooded as outside; sinus and mastoid air is
 * below the tissue threshold. Slices are then tied together in 3D (largest connected components
 * after a small opening, so thin bridges into the skull base do not join the brain), holes are
 * filled per slice (a dark infarct or a calcification inside the brain is brain), a slice whose
 * mask leaks far beyond both neighbours is cut back to them, and a slice that lost the brain its
 * neighbours share (an open skull) is redone with a wider closing. Last, voxels at the inner
 * table that are more tissue than bone (partial volume of a 5 mm slice, up to ~800 HU) join the
 * mask, in-plane next to it or seeded from the neighbouring slices (the vertex).
 *
 * Hemorrhage (50-90 HU, up to ~100 HU when clotted) stays below the bone threshold, so a subdural
 * or epidural collection against the inner table is part of the cavity; hypodense lesions
 * (infarct, edema, 10-25 HU) are above the tissue floor.
 *
 * Cropped field of view: the flood starts only from air, never from tissue on the border, so a
 * brain cut by the image edge is not mistaken for outside; with no air and no bone at all in a
 * slice, all tissue-dense pixels are intracranial.
 */

/** At or above: bone (cortical and diploic bone, dense calcification). Blood stays below. */
export const BONE_HU = 170;
/** Below: air or fat. CSF (0-15 HU) with noise stays above. */
export const TISSUE_FLOOR_HU = -25;
/** 3D components at least this fraction of the largest are kept as brain too. */
const SPLIT_BRAIN_FRACTION = 0.1;
/** Below: air that seeds the outside flood (with fat, everything under the tissue floor at the border). */
const AIR_HU = -400;

export interface ClassicalBrainMaskOptions extends TaskOptions {
  /** Gaps in the skull narrower than twice this are closed (default 2.5 mm). */
  closingRadiusMm?: number;
  /** Bridges narrower than twice this do not connect regions in 3D (default 1.5 mm). */
  openingRadiusMm?: number;
  /** Take in inner-table voxels that are more brain than bone (default true). */
  partialVolume?: boolean;
}

export interface BrainMaskStats {
  method: string;
  volumeMl: number;
  slicesWithBrain: number;
  /** Slices where no bone was found, handled as a field of view cropped inside the skull. */
  slicesWithoutSkull: number;
  /** Slices made consistent with their neighbours: cut back (a leak into the scalp) or redone with a wider closing (an open skull). */
  slicesCorrected: number;
  elapsedMs: number;
}

export interface BrainMaskResult {
  /** 1 = brain, on the input grid (x-fastest). */
  mask: Uint8Array;
  stats: BrainMaskStats;
}

const MODALITY_NAMES: Record<string, string> = {
  MR: 'an MR',
  PT: 'a PET',
  NM: 'a nuclear medicine',
  US: 'an ultrasound',
  CR: 'a radiograph',
  DX: 'a radiograph',
  MG: 'a mammography',
  XA: 'an angiography',
  OT: '',
};

/**
 * Throws NOT_CT unless the volume is plausibly CT in Hounsfield units (then its values may be
 * used as HU even when the reader could not label them so). Decides from the modality
 * tag when there is one, and always from the intensities: CT of a head has air near -1000 HU and
 * soft tissue between -100 and 100 HU; a field of view cropped inside the skull has no air, but
 * then nearly everything is tissue with its peak between 10 and 60 HU. MR intensities have no
 * negative air values and no tissue peak there (and CT stored without its rescale is caught the
 * same way).
 */
export function assertCtLike(volume: Pick<Volume, 'data' | 'intensityUnit' | 'meta'>): void {
  const modality = volume.meta.modality?.trim().toUpperCase();
  if (modality && modality !== 'CT' && modality !== 'OT') {
    const name = MODALITY_NAMES[modality] ?? `a ${modality}`;
    throw new AppError('NOT_CT', `This series is ${name} scan (modality ${modality}); the analysis needs CT.`, { modality });
  }
  if (volume.meta.source === 'png') {
    throw new AppError(
      'NOT_CT',
      'This series was made from display-windowed PNG images: air, bone and blood were clipped to the window, so the brain cannot be extracted from it. Use the original DICOM or NIfTI, or give a brain mask made elsewhere.',
      { source: 'png' },
    );
  }
  // 'raw' (a NIfTI without recorded units) goes on to the intensity test: a CT cropped inside the
  // skull has no air, so the reader could not call it HU, yet it is CT.
  if (volume.intensityUnit === 'windowed') {
    throw new AppError('NOT_CT', 'The image holds display-windowed grey values (for example a PNG stack), not Hounsfield units; brain extraction and windowing need CT values in HU.', { intensityUnit: volume.intensityUnit });
  }
  const data = volume.data;
  const stride = Math.max(1, Math.floor(data.length / 400_000));
  let total = 0;
  let air = 0;
  let object = 0;
  let soft = 0;
  let tissueBand = 0;
  // 5 HU bins over [-50, 120) for the tissue peak.
  const hist = new Float64Array(34);
  for (let p = 0; p < data.length; p += stride) {
    const v = data[p];
    if (!(v === v)) continue;
    total++;
    if (v <= -500) {
      air++;
      continue;
    }
    object++;
    if (v >= -200 && v <= 150) soft++;
    if (v >= -50 && v < 120) {
      tissueBand++;
      hist[Math.floor((v + 50) / 5)]++;
    }
  }
  let peak = 0;
  for (let b = 1; b < hist.length; b++) if (hist[b] > hist[peak]) peak = b;
  const peakHu = -50 + peak * 5 + 2.5;
  const hasAir = air >= 0.005 * total;
  const ctLike = total > 0 && (hasAir ? soft >= 0.4 * object : tissueBand >= 0.6 * total && peakHu >= 10 && peakHu <= 60);
  if (!ctLike) {
    throw new AppError(
      'NOT_CT',
      modality === 'CT'
        ? 'The voxel values do not look like Hounsfield units (no air near -1000 HU and no soft-tissue peak); the CT may have been stored without its rescale values.'
        : 'The voxel values do not look like CT in Hounsfield units (no air near -1000 HU and no soft-tissue peak); this may be an MR scan. The analysis needs CT.',
      { airFraction: total ? air / total : 0, tissuePeakHu: peakHu },
    );
  }
}

/**
 * Classical brain mask of a head CT volume in HU. Throws NOT_CT for non-CT input and NO_BRAIN
 * when nothing intracranial is found.
 */
export function classicalBrainMask(volume: Volume, options: ClassicalBrainMaskOptions = {}): BrainMaskResult {
  const started = performance.now();
  assertCtLike(volume);
  // Work inside the box around the head (plus a rim of air for the outside flood): the air
  // around a head is a third or more of a CT slice and carries no information.
  const box = headBox(volume.data, volume.dims);
  const inner = box ? cropVolume(volume, box) : volume;
  const result = extractCavity(inner, options);
  const mask = box ? pasteMask(result.mask, box, volume.dims) : result.mask;
  const { voxels, slicesWithBrain } = countMask(mask, volume.dims);
  const volumeMl = voxels * voxelVolumeMl(volume.spacing);
  assertBrainFound(volume, mask, result.componentVoxels === 0 ? 0 : volumeMl);
  options.onProgress?.({ stage: 'brain-mask', done: volume.dims[2] + 2, total: volume.dims[2] + 2 });
  return { mask, stats: { method: 'classical', volumeMl, slicesWithBrain, slicesWithoutSkull: result.slicesWithoutSkull, slicesCorrected: result.slicesCorrected, elapsedMs: performance.now() - started } };
}

interface Box {
  i0: number;
  j0: number;
  nx: number;
  ny: number;
}

/** In-plane box (over all slices) of the non-air voxels, with a 2-pixel rim; null when cropping would save little. */
function headBox(data: ArrayLike<number>, dims: Vec3): Box | null {
  const [nx, ny, nz] = dims;
  let minI = nx;
  let maxI = -1;
  let minJ = ny;
  let maxJ = -1;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) {
      const row = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++) {
        if (data[row + i] > AIR_HU) {
          if (i < minI) minI = i;
          if (i > maxI) maxI = i;
          if (j < minJ) minJ = j;
          if (j > maxJ) maxJ = j;
        }
      }
    }
  if (maxI < 0) return null;
  const i0 = Math.max(0, minI - 2);
  const j0 = Math.max(0, minJ - 2);
  const box = { i0, j0, nx: Math.min(nx - 1, maxI + 2) - i0 + 1, ny: Math.min(ny - 1, maxJ + 2) - j0 + 1 };
  return box.nx * box.ny < 0.9 * nx * ny ? box : null;
}

function cropVolume(volume: Volume, box: Box): Volume {
  const [nx, ny, nz] = volume.dims;
  const data = new Float32Array(box.nx * box.ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < box.ny; j++) {
      const src = (k * ny + j + box.j0) * nx + box.i0;
      const dst = (k * box.ny + j) * box.nx;
      for (let i = 0; i < box.nx; i++) data[dst + i] = volume.data[src + i];
    }
  return { ...volume, data, dims: [box.nx, box.ny, nz] };
}

function pasteMask(mask: Uint8Array, box: Box, dims: Vec3): Uint8Array {
  const [nx, ny, nz] = dims;
  const out = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < box.ny; j++) out.set(mask.subarray((k * box.ny + j) * box.nx, (k * box.ny + j + 1) * box.nx), (k * ny + j + box.j0) * nx + box.i0);
  return out;
}

/** The extraction proper, on a volume already cropped to the head. */
function extractCavity(volume: Volume, options: ClassicalBrainMaskOptions): { mask: Uint8Array; componentVoxels: number; slicesWithoutSkull: number; slicesCorrected: number } {
  const [nx, ny, nz] = volume.dims;
  const n = nx * ny;
  const data = volume.data;
  const pixelMm = Math.sqrt(volume.spacing[0] * volume.spacing[1]);
  const closeSteps = Math.max(1, Math.round((options.closingRadiusMm ?? 2.5) / pixelMm));
  const openSteps = Math.max(1, Math.round((options.openingRadiusMm ?? 1.5) / pixelMm));
  const tools = sliceTools(nx, ny);
  const { scratch, border } = tools;
  const work = new Uint8Array(n);
  const candidate = new Uint8Array(n * nz);
  let slicesWithoutSkull = 0;

  for (let k = 0; k < nz; k++) {
    throwIfAborted(options.signal);
    if (!sliceCavity(data, k * n, closeSteps, tools, candidate, k * n)) slicesWithoutSkull++;
    options.onProgress?.({ stage: 'brain-mask', done: k + 1, total: nz + 2 });
  }

  // Opening before the 3D component search: thin tissue bridges through skull-base foramina must
  // not join nasal or orbital soft tissue to the brain.
  const core = candidate.slice();
  for (let k = 0; k < nz; k++) erodeInPlace(core, k * n, nx, ny, openSteps, scratch, work);
  // Not only the largest: one slice flooded through an open skull splits the brain in two, and
  // both halves are brain. Junk enclosed at the skull base is far smaller than either.
  const { size } = keepLargestComponent3D(core, nx, ny, nz, SPLIT_BRAIN_FRACTION);
  throwIfAborted(options.signal);
  const mask = core;
  const holesOutside = new Uint8Array(n);
  for (let k = 0; k < nz; k++) {
    const base = k * n;
    dilateInPlace(mask, base, nx, ny, openSteps + 1, scratch);
    for (let p = 0; p < n; p++) mask[base + p] &= candidate[base + p];
    fillHolesInPlace(mask, base, nx, ny, scratch, holesOutside, border);
    dropAirRidden(mask, data, base, nx, ny, scratch.a, holesOutside);
  }
  options.onProgress?.({ stage: 'brain-mask', done: nz + 1, total: nz + 2 });
  const slicesCorrected = cutLeaksToNeighbours(mask, nx, ny, nz, pixelMm, scratch) + rescueOpenSlices(mask, data, nz, closeSteps, pixelMm, tools);
  if (options.partialVolume !== false) {
    growIntoPartialVolume(mask, data, nx, ny, nz, pixelMm, scratch);
    for (let k = 0; k < nz; k++) {
      fillHolesInPlace(mask, k * n, nx, ny, scratch, holesOutside, border);
      dropAirRidden(mask, data, k * n, nx, ny, scratch.a, holesOutside);
    }
  }

  return { mask, componentVoxels: size, slicesWithoutSkull, slicesCorrected };
}

/** Air (HU below this) inside a filled region marks sinus air cells, not brain. */
const AIR_CELL_HU = -200;
/** Share of air above which an in-plane region is an air-cell labyrinth (ethmoid, mastoid). */
const AIR_RIDDEN_FRACTION = 0.15;

/**
 * Removes in-plane regions of the slice's mask that are riddled with air once their holes are
 * filled: the ethmoid and mastoid air cells are enclosed by bone and their mucosa is tissue-dense,
 * and under the frontal or temporal lobe they touch the brain of the next slice. Brain holds no
 * air (a few bubbles of pneumocephalus in a large region stay far below the share).
 */
function dropAirRidden(mask: Uint8Array, data: ArrayLike<number>, base: number, nx: number, ny: number, queue: Int32Array, seen: Uint8Array): void {
  const n = nx * ny;
  let airInside = 0;
  for (let p = 0; p < n; p++) if (mask[base + p] && data[base + p] < AIR_CELL_HU) airInside++;
  if (airInside === 0) return;
  seen.fill(0, 0, n);
  for (let start = 0; start < n; start++) {
    if (!mask[base + start] || seen[start]) continue;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    seen[start] = 1;
    let air = 0;
    while (head < tail) {
      const p = queue[head++];
      if (data[base + p] < AIR_CELL_HU) air++;
      const i = p % nx;
      for (let t = 0; t < 4; t++) {
        const pp = t === 0 ? (i > 0 ? p - 1 : -1) : t === 1 ? (i < nx - 1 ? p + 1 : -1) : t === 2 ? p - nx : p + nx;
        if (pp < 0 || pp >= n || !mask[base + pp] || seen[pp]) continue;
        seen[pp] = 1;
        queue[tail++] = pp;
      }
    }
    if (air > AIR_RIDDEN_FRACTION * tail) for (let q = 0; q < tail; q++) mask[base + queue[q]] = 0;
  }
}

interface SliceTools {
  nx: number;
  ny: number;
  scratch: SliceScratch;
  border: Int32Array;
  seeds: Int32Array;
  bone: Uint8Array;
  barrier: Uint8Array;
  outside: Uint8Array;
}

function sliceTools(nx: number, ny: number): SliceTools {
  const n = nx * ny;
  const border = borderPixels(nx, ny);
  return { nx, ny, scratch: new SliceScratch(nx, ny), border, seeds: new Int32Array(border.length), bone: new Uint8Array(n), barrier: new Uint8Array(n), outside: new Uint8Array(n) };
}

/**
 * The candidate cavity of the slice at `base` (written to `out` at `outBase`): tissue-dense, not bone, and not
 * reachable from the border air without crossing bone thickened by `closeSteps`. Returns whether
 * the slice has any bone.
 */
function sliceCavity(data: ArrayLike<number>, base: number, closeSteps: number, t: SliceTools, out: Uint8Array, outBase: number): boolean {
  const { nx, ny, bone, barrier, outside, seeds, border, scratch } = t;
  const n = nx * ny;
  let boneCount = 0;
  for (let p = 0; p < n; p++) {
    const b = data[base + p] >= BONE_HU ? 1 : 0;
    bone[p] = b;
    barrier[p] = b;
    boneCount += b;
  }
  dilateInPlace(barrier, 0, nx, ny, closeSteps, scratch);
  let nSeeds = 0;
  for (let q = 0; q < border.length; q++) {
    const p = border[q];
    if (data[base + p] < TISSUE_FLOOR_HU && !barrier[p]) seeds[nSeeds++] = p;
  }
  outside.fill(0);
  floodFill(seeds, nSeeds, barrier, 0, outside, 0, nx, ny, scratch);
  // Give back the scalp strip the thickened bone hid from the flood (through soft tissue only).
  dilateInPlace(outside, 0, nx, ny, closeSteps + 1, scratch, bone);
  for (let p = 0; p < n; p++) out[outBase + p] = !bone[p] && !outside[p] && data[base + p] >= TISSUE_FLOOR_HU ? 1 : 0;
  return boneCount > 0;
}

/** Share of the neighbours' common brain a slice must miss before it is redone, and must regain to be accepted. */
const RESCUE_MISSING_RATIO = 0.5;
const RESCUE_ACCEPT_RATIO = 0.6;
/** Closings tried on such a slice, as multiples of the normal radius. */
const RESCUE_CLOSING_FACTORS = [2, 4];

/**
 * Slice-to-slice consistency the other way round: a gap in the skull wider than the closing
 * (a burr hole, a fracture, bone too thin to reach the threshold) lets the outside flood the
 * cavity, and that slice loses the brain its neighbours both have. Such a slice (missing most of
 * the neighbours' common brain although that area holds tissue, not bone) is redone with a wider
 * closing, kept to the neighbours' common brain plus 2 mm, and accepted when that brings most of
 * it back. Vertex and skull-base slices, where the brain legitimately shrinks or the missing area
 * is bone, do not qualify. Returns the number of slices rescued.
 */
function rescueOpenSlices(mask: Uint8Array, data: ArrayLike<number>, nz: number, closeSteps: number, pixelMm: number, t: SliceTools): number {
  if (nz < 2) return 0;
  const { nx, ny, scratch, border } = t;
  const n = nx * ny;
  const envelope = new Uint8Array(n);
  const trial = new Uint8Array(n);
  const holes = new Uint8Array(n);
  const marginSteps = Math.max(1, Math.round(2 / pixelMm));
  const minPixels = (10 * 100) / (pixelMm * pixelMm); // 10 cm²
  let rescued = 0;
  for (let k = 0; k < nz; k++) {
    const base = k * n;
    const below = k > 0 ? base - n : -1;
    const above = k < nz - 1 ? base + n : -1;
    let common = 0;
    let kept = 0;
    let tissue = 0;
    for (let p = 0; p < n; p++) {
      const e = (below < 0 || mask[below + p]) && (above < 0 || mask[above + p]) ? 1 : 0;
      envelope[p] = e;
      if (!e) continue;
      common++;
      kept += mask[base + p];
      const v = data[base + p];
      if (v >= TISSUE_FLOOR_HU && v < BONE_HU) tissue++;
    }
    if (common < minPixels || kept >= (1 - RESCUE_MISSING_RATIO) * common || tissue < RESCUE_MISSING_RATIO * common) continue;
    dilateInPlace(envelope, 0, nx, ny, marginSteps, scratch);
    for (const factor of RESCUE_CLOSING_FACTORS) {
      sliceCavity(data, base, closeSteps * factor, t, trial, 0);
      let regained = 0;
      for (let p = 0; p < n; p++) {
        trial[p] &= envelope[p] | mask[base + p];
        regained += trial[p];
      }
      if (regained < RESCUE_ACCEPT_RATIO * common) continue;
      fillHolesInPlace(trial, 0, nx, ny, scratch, holes, border);
      for (let p = 0; p < n; p++) mask[base + p] |= trial[p];
      rescued++;
      break;
    }
  }
  return rescued;
}

/** Voxels set, slices with any voxel set, and the largest slice's voxel count. */
export function countMask(mask: Uint8Array, dims: readonly number[]): { voxels: number; slicesWithBrain: number; largestSlice: number } {
  const n = dims[0] * dims[1];
  let voxels = 0;
  let slicesWithBrain = 0;
  let largestSlice = 0;
  for (let k = 0; k < dims[2]; k++) {
    let c = 0;
    for (let p = k * n; p < (k + 1) * n; p++) c += mask[p];
    voxels += c;
    if (c) slicesWithBrain++;
    if (c > largestSlice) largestSlice = c;
  }
  return { voxels, slicesWithBrain, largestSlice };
}

/**
 * Smallest brain worth analysing: a brain cross-section is 100-200 cm² at mid level; below 6 cm²
 * in every slice (or 3 ml in all) the enclosed tissue is a marrow cavity, a canal or noise.
 */
const MIN_BRAIN_ML = 3;
const MIN_LARGEST_SLICE_CM2 = 6;

/** Throws NO_BRAIN when the mask is empty, tiny, or does not have brain density. */
export function assertBrainFound(volume: Pick<Volume, 'data' | 'dims' | 'spacing'>, mask: Uint8Array, volumeMl: number): void {
  const largest = countMask(mask, volume.dims).largestSlice;
  const largestCm2 = (largest * volume.spacing[0] * volume.spacing[1]) / 100;
  if (volumeMl < MIN_BRAIN_ML || largestCm2 < MIN_LARGEST_SLICE_CM2) {
    throw new AppError('NO_BRAIN', 'No brain was found in this image: there is no tissue enclosed by the skull. Check that the series is a head CT.', { volumeMl, largestSliceCm2: largestCm2 });
  }
  // Median HU inside the mask: brain with CSF and lesions sits between roughly 15 and 60 HU.
  const hist = new Float64Array(400);
  let total = 0;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    const b = Math.floor(volume.data[p] + 100);
    hist[b < 0 ? 0 : b > 399 ? 399 : b]++;
    total++;
  }
  let acc = 0;
  let medianHu = 0;
  for (let b = 0; b < 400; b++) {
    acc += hist[b];
    if (acc >= total / 2) {
      medianHu = b - 100;
      break;
    }
  }
  if (medianHu < 8 || medianHu > 70) {
    throw new AppError('NO_BRAIN', `No brain was found in this image: the region inside the skull has a density of ${medianHu} HU, not that of brain tissue. Check that the series is a head CT.`, { volumeMl, medianHu });
  }
}

/**
 * Slice-to-slice consistency: anatomy changes little over one slice, so tissue far outside both
 * neighbours' masks is a leak (an open skull ring letting scalp in), not brain. Such pixels are
 * removed when the slice grew much larger than its neighbours. Returns the number of slices cut.
 */
function cutLeaksToNeighbours(mask: Uint8Array, nx: number, ny: number, nz: number, pixelMm: number, scratch: SliceScratch): number {
  if (nz < 3) return 0;
  const n = nx * ny;
  const areas = new Float64Array(nz);
  for (let k = 0; k < nz; k++) {
    let c = 0;
    for (let p = k * n; p < (k + 1) * n; p++) c += mask[p];
    areas[k] = c;
  }
  const envelope = new Uint8Array(n);
  const marginSteps = Math.max(2, Math.round(8 / pixelMm));
  let corrected = 0;
  for (let k = 1; k < nz - 1; k++) {
    const neighbourMax = Math.max(areas[k - 1], areas[k + 1]);
    if (areas[k] <= 1.3 * neighbourMax + 50) continue;
    for (let p = 0; p < n; p++) envelope[p] = mask[(k - 1) * n + p] | mask[(k + 1) * n + p];
    dilateInPlace(envelope, 0, nx, ny, marginSteps, scratch);
    let removed = 0;
    for (let p = 0; p < n; p++) {
      if (mask[k * n + p] && !envelope[p]) {
        mask[k * n + p] = 0;
        removed++;
      }
    }
    if (removed) {
      corrected++;
      areas[k] -= removed;
    }
  }
  return corrected;
}

/** Typical HU of brain tissue, used where no tissue is near; a voxel half tissue, half bone lies midway to the bone. */
const BRAIN_REFERENCE_HU = 30;
/** Upper end of the tissue (brain, CSF, blood) averaged as the local tissue value. */
const TISSUE_CEILING_HU = 120;
/** How far into the partial-volume band at the inner table the mask may grow (mm). */
const PARTIAL_VOLUME_REACH_MM = 2;
/** Block size (mm) of the coarse maps that estimate the neighbouring bone and tissue. */
const BONE_BLOCK_MM = 3.6;
/** Coarse blocks either side over which the local bone maximum is taken. */
const BONE_REACH_BLOCKS = 2;

/**
 * A 5 mm slice through the inner table obliquely (skull base, vertex) mixes brain and bone in
 * one voxel: such a voxel reads 200-800 HU yet is mostly cavity. A voxel is taken when it lies
 * nearer to brain than to the neighbouring bone, HU < (brain + local bone) / 2, and touches the
 * mask within a short reach; the local bone value is the maximum over a few millimetres, so thin
 * bone (itself partial volume) lowers the bar rather than raising it.
 */
function growIntoPartialVolume(mask: Uint8Array, data: ArrayLike<number>, nx: number, ny: number, nz: number, pixelMm: number, scratch: SliceScratch): void {
  const n = nx * ny;
  const allowed = new Uint8Array(n * nz);
  const blocked = new Uint8Array(n);
  const steps = Math.max(1, Math.round(PARTIAL_VOLUME_REACH_MM / pixelMm));
  const denseBone = denseBoneHu(data);
  const block = Math.max(1, Math.round(BONE_BLOCK_MM / pixelMm));
  for (let k = 0; k < nz; k++) partialVolumeCandidates(data, k * n, nx, ny, allowed, denseBone, block);
  for (let k = 0; k < nz; k++) {
    const base = k * n;
    // Judged against dense bone only over brain (brain in the slice below: convexity, vertex,
    // the walls of the temporal fossae); on a floor (skull base) the bone next to the brain is
    // cancellous and the local bone decides.
    const below = k > 0 ? base - n : -1;
    for (let p = 0; p < n; p++) {
      const a = allowed[base + p];
      blocked[p] = a & SEEDABLE || (a & DENSE_OK && below >= 0 && mask[below + p]) ? 0 : 1;
    }
    dilateInPlace(mask, base, nx, ny, steps, scratch, blocked, 0);
  }
  if (nz < 2) return;
  // Through-plane: where a slice is almost all partial volume (the vertex, a fossa floor), the
  // brain of the neighbouring slice, kept well inside its own edge, seeds the slice. Only voxels
  // the main pass had to call bone are seeded: plain tissue under a neighbour's brain (a globe
  // under the frontal lobe) is not brain for that reason.
  const insetSteps = Math.max(1, Math.round(SEED_INSET_MM / pixelMm));
  // Neighbour masks shrunk by the inset, made only for slices next to a possible seed.
  const inset = new Uint8Array(n * nz);
  const insetReady = new Uint8Array(nz);
  const ensureInset = (k: number) => {
    if (k < 0 || k >= nz || insetReady[k]) return;
    inset.set(mask.subarray(k * n, (k + 1) * n), k * n);
    erodeInPlace(inset, k * n, nx, ny, insetSteps, scratch, blocked);
    insetReady[k] = 1;
  };
  const seeds = new Uint8Array(n);
  for (let k = 0; k < nz; k++) {
    const base = k * n;
    const below = k > 0 ? base - n : -1;
    const above = k < nz - 1 ? base + n : -1;
    let possible = false;
    for (let p = 0; p < n && !possible; p++) possible = data[base + p] >= BONE_HU && allowed[base + p] !== 0 && !mask[base + p] && ((below >= 0 && mask[below + p] === 1) || (above >= 0 && mask[above + p] === 1));
    if (!possible) continue;
    ensureInset(k - 1);
    ensureInset(k + 1);
    let any = 0;
    for (let p = 0; p < n; p++) {
      const a = allowed[base + p];
      const s = data[base + p] >= BONE_HU && !mask[base + p] && ((a & DENSE_OK && below >= 0 && inset[below + p]) || (a & SEEDABLE && above >= 0 && inset[above + p])) ? 1 : 0;
      seeds[p] = s;
      any |= s;
    }
    if (!any) continue;
    for (let p = 0; p < n; p++) blocked[p] = allowed[base + p] ? 0 : 1;
    dilateInPlace(seeds, 0, nx, ny, steps, scratch, blocked);
    for (let p = 0; p < n; p++) mask[base + p] |= seeds[p];
  }
}

/**
 * The subject's dense (cortical) bone: a high percentile of the bone voxels. Where the skull runs
 * oblique to the slice (convexity, vertex) every voxel nearby is itself partial volume, so the
 * local maximum underrates the bone a half-tissue voxel is mixed with.
 */
function denseBoneHu(data: ArrayLike<number>): number {
  const stride = Math.max(1, Math.floor(data.length / 300_000));
  const bone: number[] = [];
  for (let p = 0; p < data.length; p += stride) if (data[p] >= 300) bone.push(data[p]);
  if (bone.length < 50) return 0;
  bone.sort((a, b) => a - b);
  return bone[Math.floor(DENSE_BONE_PERCENTILE * (bone.length - 1))];
}
const DENSE_BONE_PERCENTILE = 0.95;

/**
 * Flags of the partial-volume candidates. SEEDABLE: more tissue than the local bone (the maximum
 * nearby). DENSE_OK: more tissue than the subject's dense bone. Where the skull is a roof over
 * the brain (brain in the slice below: convexity, vertex) it runs oblique to the slice and no
 * voxel near it is pure bone, so the dense bone is the right reference. On a floor (skull base)
 * the bone under the brain is cancellous (300-700 HU, below half of dense cortical bone) and
 * would pass the dense test, so there only the local bone counts.
 */
const DENSE_OK = 1;
const SEEDABLE = 2;

/** How far inside a neighbouring slice's brain edge a through-plane seed must lie (mm). */
const SEED_INSET_MM = 4;

/**
 * Marks (in `allowed`, slice at `base`) the voxels that are tissue or tissue-dominated partial
 * volume: at or above the tissue floor and below (local tissue + local bone) / 2, the local bone
 * being the maximum over about 1.5 cm but at least the subject's dense bone, and the local tissue
 * the mean of -25..120 HU voxels over the same area, so a hematoma against the inner table is
 * judged against blood, not brain.
 */
function partialVolumeCandidates(data: ArrayLike<number>, base: number, nx: number, ny: number, allowed: Uint8Array, denseBone: number, block: number): void {
  const cnx = Math.ceil(nx / block);
  const cny = Math.ceil(ny / block);
  const blocks = cnx * cny;
  const boneMax = new Float32Array(blocks).fill(-Infinity);
  const tissueSum = new Float32Array(blocks);
  const tissueCount = new Float32Array(blocks);
  const limit = new Float32Array(blocks);
  const localLimit = new Float32Array(blocks);
  const airCount = new Uint16Array(blocks);
  // Block index per column, so the per-pixel loops do no division.
  const columnBlock = new Int32Array(nx);
  for (let i = 0; i < nx; i++) columnBlock[i] = (i / block) | 0;
  for (let j = 0; j < ny; j++) {
    const crow = ((j / block) | 0) * cnx;
    for (let i = 0; i < nx; i++) {
      const v = data[base + j * nx + i];
      const c = crow + columnBlock[i];
      if (v > boneMax[c]) boneMax[c] = v;
      if (v < AIR_CELL_HU) airCount[c]++;
      if (v >= TISSUE_FLOOR_HU && v < TISSUE_CEILING_HU) {
        tissueSum[c] += v;
        tissueCount[c]++;
      }
    }
  }
  for (let cj = 0; cj < cny; cj++)
    for (let ci = 0; ci < cnx; ci++) {
      let bone = -Infinity;
      let sum = 0;
      let count = 0;
      for (let jj = Math.max(0, cj - BONE_REACH_BLOCKS); jj <= Math.min(cny - 1, cj + BONE_REACH_BLOCKS); jj++)
        for (let ii = Math.max(0, ci - BONE_REACH_BLOCKS); ii <= Math.min(cnx - 1, ci + BONE_REACH_BLOCKS); ii++) {
          const c = jj * cnx + ii;
          if (boneMax[c] > bone) bone = boneMax[c];
          sum += tissueSum[c];
          count += tissueCount[c];
        }
      // Midway between the tissue here (brain ~30 HU, a hematoma ~75 HU) and the bone here.
      const tissue = count > 0 ? sum / count : BRAIN_REFERENCE_HU;
      limit[cj * cnx + ci] = (tissue + Math.max(bone, denseBone)) / 2;
      localLimit[cj * cnx + ci] = (tissue + bone) / 2;
    }
  for (let j = 0; j < ny; j++) {
    const crow = ((j / block) | 0) * cnx;
    for (let i = 0; i < nx; i++) {
      const p = base + j * nx + i;
      const v = data[p];
      const c = crow + columnBlock[i];
      // Bone-dense voxels next to air are air cells (ethmoid, mastoid, sinus walls), where a mix
      // of air and bone can read like anything; brain never borders air.
      allowed[p] = v < TISSUE_FLOOR_HU || (v >= BONE_HU && airCount[c] > 0) ? 0 : (v < limit[c] ? DENSE_OK : 0) | (v < localLimit[c] ? SEEDABLE : 0);
    }
  }
}
