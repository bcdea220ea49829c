/**
 * Binary morphology on x-fastest Uint8Array masks (1 = set), written as breadth-first fronts so
 * the cost follows the pixels that change, not the image size times the radius. A study is
 * 512x512x36; the brain extraction runs several of these per slice and must stay well under 2 s.
 *
 * Distances are in pixel steps. Fronts alternate 4- and 8-neighbour steps, which grows an
 * octagon: within 8% of a Euclidean disc, unlike the square or diamond of a single neighbourhood.
 */

/** Reusable queues sized for one slice, so per-slice calls do not allocate. */
export class SliceScratch {
  readonly a: Int32Array;
  readonly b: Int32Array;
  constructor(readonly nx: number, readonly ny: number) {
    this.a = new Int32Array(nx * ny);
    this.b = new Int32Array(nx * ny);
  }
}

const N4_DI = [1, -1, 0, 0];
const N4_DJ = [0, 0, 1, -1];
const N8_DI = [1, -1, 0, 0, 1, 1, -1, -1];
const N8_DJ = [0, 0, 1, -1, 1, -1, 1, -1];

/**
 * Grows `mask` (in place, within one slice starting at `base`) by `steps` pixel steps, only into
 * pixels where `blocked` is 0 (a geodesic dilation when `blocked` is given). Returns nothing;
 * `mask` holds the result.
 */
export function dilateInPlace(mask: Uint8Array, base: number, nx: number, ny: number, steps: number, scratch: SliceScratch, blocked?: Uint8Array, blockedBase = base): void {
  if (steps <= 0) return;
  let front = scratch.a;
  let next = scratch.b;
  let nFront = 0;
  // Only boundary pixels can grow the mask. The first step is a 4-neighbour step, and a pixel
  // whose four neighbours are set cannot reach a diagonal one before they do, so the 4-neighbour
  // boundary is enough.
  for (let j = 0; j < ny; j++) {
    const row = base + j * nx;
    const up = j > 0;
    const down = j < ny - 1;
    for (let i = 0; i < nx; i++) {
      const p = row + i;
      if (!mask[p]) continue;
      if ((i > 0 && !mask[p - 1]) || (i < nx - 1 && !mask[p + 1]) || (up && !mask[p - nx]) || (down && !mask[p + nx])) front[nFront++] = j * nx + i;
    }
  }
  const off = blockedBase - base;
  for (let s = 0; s < steps && nFront > 0; s++) {
    const eight = s % 2 === 1;
    const di = eight ? N8_DI : N4_DI;
    const dj = eight ? N8_DJ : N4_DJ;
    const nn = di.length;
    let nNext = 0;
    for (let q = 0; q < nFront; q++) {
      const p = front[q];
      const i = p % nx;
      const j = (p - i) / nx;
      for (let t = 0; t < nn; t++) {
        const ii = i + di[t];
        const jj = j + dj[t];
        if (ii < 0 || jj < 0 || ii >= nx || jj >= ny) continue;
        const pp = jj * nx + ii;
        if (mask[base + pp] || (blocked && blocked[base + pp + off])) continue;
        mask[base + pp] = 1;
        next[nNext++] = pp;
      }
    }
    const t = front;
    front = next;
    next = t;
    nFront = nNext;
  }
}

/** Shrinks `mask` in place by `steps` pixel steps (dilation of the complement). */
export function erodeInPlace(mask: Uint8Array, base: number, nx: number, ny: number, steps: number, scratch: SliceScratch, inverted: Uint8Array): void {
  const n = nx * ny;
  for (let p = 0; p < n; p++) inverted[p] = mask[base + p] ? 0 : 1;
  dilateInPlace(inverted, 0, nx, ny, steps, scratch);
  for (let p = 0; p < n; p++) if (inverted[p]) mask[base + p] = 0;
}

/**
 * Flood from the seed pixels (4-connected) through pixels where `wall` is 0, marking `reached`
 * (both one slice: `wall` at `wallBase`, `reached` at `base`). Returns the number reached.
 * A wall array rather than a predicate callback: this is the hottest loop of brain extraction.
 */
export function floodFill(seeds: Int32Array, nSeeds: number, wall: Uint8Array, wallBase: number, reached: Uint8Array, base: number, nx: number, ny: number, scratch: SliceScratch): number {
  const queue = scratch.a;
  let head = 0;
  let tail = 0;
  for (let q = 0; q < nSeeds; q++) {
    const p = seeds[q];
    if (reached[base + p] || wall[wallBase + p]) continue;
    reached[base + p] = 1;
    queue[tail++] = p;
  }
  const last = (ny - 1) * nx;
  while (head < tail) {
    const p = queue[head++];
    const i = p % nx;
    if (i > 0 && !reached[base + p - 1] && !wall[wallBase + p - 1]) {
      reached[base + p - 1] = 1;
      queue[tail++] = p - 1;
    }
    if (i < nx - 1 && !reached[base + p + 1] && !wall[wallBase + p + 1]) {
      reached[base + p + 1] = 1;
      queue[tail++] = p + 1;
    }
    if (p >= nx && !reached[base + p - nx] && !wall[wallBase + p - nx]) {
      reached[base + p - nx] = 1;
      queue[tail++] = p - nx;
    }
    if (p < last && !reached[base + p + nx] && !wall[wallBase + p + nx]) {
      reached[base + p + nx] = 1;
      queue[tail++] = p + nx;
    }
  }
  return tail;
}

/** Indices of the pixels on the border of an nx x ny slice. */
export function borderPixels(nx: number, ny: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < nx; i++) {
    out.push(i);
    if (ny > 1) out.push((ny - 1) * nx + i);
  }
  for (let j = 1; j < ny - 1; j++) {
    out.push(j * nx);
    if (nx > 1) out.push(j * nx + nx - 1);
  }
  return Int32Array.from(out);
}

/** Sets every pixel of the slice that the background cannot reach from the image border (4-connected). */
export function fillHolesInPlace(mask: Uint8Array, base: number, nx: number, ny: number, scratch: SliceScratch, outside: Uint8Array, border: Int32Array): void {
  const n = nx * ny;
  outside.fill(0, 0, n);
  floodFill(border, border.length, mask, base, outside, 0, nx, ny, scratch);
  for (let p = 0; p < n; p++) if (!outside[p]) mask[base + p] = 1;
}

/**
 * Keeps the largest 6-connected component of a 3D mask (in place), and with `keepFraction` > 0
 * also every component at least that fraction of the largest. Returns the largest size in voxels,
 * the voxels kept and the number of components found.
 */
export function keepLargestComponent3D(mask: Uint8Array, nx: number, ny: number, nz: number, keepFraction = 0): { size: number; kept: number; components: number } {
  const n = nx * ny;
  const total = n * nz;
  const visited = new Uint8Array(total);
  // Components are appended one after another; each occupies a contiguous run of the queue.
  const queue = new Int32Array(total);
  let tail = 0;
  let components = 0;
  let bestSize = 0;
  const starts: number[] = [];
  for (let start = 0; start < total; start++) {
    if (!mask[start] || visited[start]) continue;
    components++;
    const first = tail;
    visited[start] = 1;
    queue[tail++] = start;
    let head = first;
    while (head < tail) {
      const p = queue[head++];
      const inSlice = p % n;
      const i = inSlice % nx;
      // Six face neighbours, unrolled: closures here cost more than the search itself.
      let pp = p - 1;
      if (i > 0 && mask[pp] && !visited[pp]) {
        visited[pp] = 1;
        queue[tail++] = pp;
      }
      pp = p + 1;
      if (i < nx - 1 && mask[pp] && !visited[pp]) {
        visited[pp] = 1;
        queue[tail++] = pp;
      }
      pp = p - nx;
      if (inSlice >= nx && mask[pp] && !visited[pp]) {
        visited[pp] = 1;
        queue[tail++] = pp;
      }
      pp = p + nx;
      if (inSlice < n - nx && mask[pp] && !visited[pp]) {
        visited[pp] = 1;
        queue[tail++] = pp;
      }
      pp = p - n;
      if (p >= n && mask[pp] && !visited[pp]) {
        visited[pp] = 1;
        queue[tail++] = pp;
      }
      pp = p + n;
      if (p < total - n && mask[pp] && !visited[pp]) {
        visited[pp] = 1;
        queue[tail++] = pp;
      }
    }
    starts.push(first);
    if (tail - first > bestSize) bestSize = tail - first;
  }
  starts.push(tail);
  let kept = bestSize;
  if (components > 1) {
    mask.fill(0);
    kept = 0;
    const threshold = keepFraction > 0 ? Math.max(1, keepFraction * bestSize) : bestSize;
    let largestTaken = false;
    for (let c = 0; c < components; c++) {
      const size = starts[c + 1] - starts[c];
      // With keepFraction 0 only one component of the largest size is kept.
      if (size < threshold || (keepFraction <= 0 && largestTaken)) continue;
      if (size === bestSize) largestTaken = true;
      for (let q = starts[c]; q < starts[c + 1]; q++) mask[queue[q]] = 1;
      kept += size;
    }
  }
  return { size: bestSize, kept, components };
}
