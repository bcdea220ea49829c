/**
 * Binary masks travel between the renderer and the services run-length encoded: a drawn mask is
 * a few blobs in millions of voxels, so the runs are tiny where the raw mask (or even a bitset)
 * would be megabytes per request.
 *
 * Encoding: lengths of alternating runs, starting with a run of zeros (possibly 0 long).
 */

export function encodeMaskRuns(mask: ArrayLike<number>): number[] {
  const runs: number[] = [];
  let current = 0;
  let length = 0;
  for (let p = 0; p < mask.length; p++) {
    const v = mask[p] ? 1 : 0;
    if (v === current) length++;
    else {
      runs.push(length);
      current = v;
      length = 1;
    }
  }
  runs.push(length);
  return runs;
}

/** Returns null when the runs do not describe exactly `voxelCount` voxels. */
export function decodeMaskRuns(runs: readonly number[], voxelCount: number): Uint8Array | null {
  const out = new Uint8Array(voxelCount);
  let p = 0;
  for (let r = 0; r < runs.length; r++) {
    const n = runs[r];
    if (!Number.isInteger(n) || n < 0 || p + n > voxelCount) return null;
    if (r % 2 === 1) out.fill(1, p, p + n);
    p += n;
  }
  return p === voxelCount ? out : null;
}
