import type { ThresholdOutcome } from '../../../src/shared/types';

/** The sparse label transfer (threshold outcome or review state) as a dense label volume. */
export function labelVolumeFromSparse(outcome: Pick<ThresholdOutcome, 'labelIndices' | 'labelValues'>, voxelCount: number): Int32Array {
  const out = new Int32Array(voxelCount);
  const idx = Buffer.from(outcome.labelIndices, 'base64');
  const val = Buffer.from(outcome.labelValues, 'base64');
  const indices = new Uint32Array(idx.buffer.slice(idx.byteOffset, idx.byteOffset + idx.byteLength));
  const values = new Uint16Array(val.buffer.slice(val.byteOffset, val.byteOffset + val.byteLength));
  for (let t = 0; t < indices.length; t++) if (indices[t] < voxelCount) out[indices[t]] = values[t];
  return out;
}
