import type { CtWindow } from '../../../../shared/windows';
import type { VoxelIndex } from '../../viewer';

type Dims = readonly [number, number, number];

function scaleIndex(v: number, from: number, to: number): number {
  if (from <= 1 || to <= 1) return 0;
  return Math.min(to - 1, Math.max(0, Math.round((v / (from - 1)) * (to - 1))));
}

/**
 * The crosshair of one viewer carried to the other. On the same grid it is the same voxel; on
 * different grids (not registered) it is the same fraction of each axis, which keeps slice
 * scrolling in step but does not promise the same anatomy.
 */
export function mapPosition(p: VoxelIndex, from: Dims, to: Dims): VoxelIndex {
  if (from[0] === to[0] && from[1] === to[1] && from[2] === to[2]) return { ...p };
  return { i: scaleIndex(p.i, from[0], to[0]), j: scaleIndex(p.j, from[1], to[1]), k: scaleIndex(p.k, from[2], to[2]) };
}

export function sameWindow(a: CtWindow | null, b: CtWindow | null): boolean {
  return !!a && !!b && Math.abs(a.centerHu - b.centerHu) < 1e-6 && Math.abs(a.widthHu - b.widthHu) < 1e-6;
}
