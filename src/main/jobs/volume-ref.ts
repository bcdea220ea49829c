import { readFile } from 'node:fs/promises';
import type { Volume } from '../core/volume';

/**
 * A library series as a job receives it: geometry and metadata in the (persisted) job
 * parameters, the voxels by path, read in the worker so the main thread never loads them.
 */
export type VolumeRef = Omit<Volume, 'data'> & { voxelsFile: string };

/** Reads the Int16 voxels of a reference into a core Volume. */
export async function loadVolumeRef(ref: VolumeRef): Promise<Volume> {
  const bytes = await readFile(ref.voxelsFile);
  const { voxelsFile: _file, ...geometry } = ref;
  return { ...geometry, data: new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2) };
}
