/**
 * Sorting of float32 scores, highest first, carrying voxel indices along: an LSD radix sort
 * over the float bit patterns (three 11-bit passes), linear in the voxel count and stable, so
 * equal scores keep voxel order and results are reproducible.
 */

const RADIX_BITS = 11;
const BUCKETS = 1 << RADIX_BITS;

/**
 * Sorts `scores` (no NaN) from high to low, permuting `indices` the same way; both in place.
 * -0 sorts just after +0 (they compare equal, so thresholds treat them alike).
 */
export function sortScoresDescending(scores: Float32Array, indices: Int32Array): void {
  const n = scores.length;
  if (indices.length !== n) throw new RangeError('sortScoresDescending: scores and indices differ in length');
  if (n < 2) return;
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, n);
  let keys: Uint32Array = new Uint32Array(n);
  for (let t = 0; t < n; t++) {
    const u = bits[t];
    // Map float order to unsigned order (negatives: flip all bits; positives: set the sign bit), then invert for descending.
    keys[t] = ~(u & 0x80000000 ? ~u : u | 0x80000000) >>> 0;
  }
  let payload: Int32Array = indices;
  let keysOut: Uint32Array = new Uint32Array(n);
  let payloadOut: Int32Array = new Int32Array(n);
  const counts = new Uint32Array(BUCKETS);
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    counts.fill(0);
    for (let t = 0; t < n; t++) counts[(keys[t] >>> shift) & (BUCKETS - 1)]++;
    let sum = 0;
    for (let b = 0; b < BUCKETS; b++) {
      const c = counts[b];
      counts[b] = sum;
      sum += c;
    }
    for (let t = 0; t < n; t++) {
      const key = keys[t];
      const at = counts[(key >>> shift) & (BUCKETS - 1)]++;
      keysOut[at] = key;
      payloadOut[at] = payload[t];
    }
    [keys, keysOut] = [keysOut, keys];
    [payload, payloadOut] = [payloadOut, payload];
  }
  // Three passes: the result sits in the scratch buffers; copy back.
  if (payload !== indices) indices.set(payload);
  for (let t = 0; t < n; t++) {
    const key = ~keys[t] >>> 0;
    bits[t] = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  }
}
