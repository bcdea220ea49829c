/**
 * The brush footprint, shared by the review (server side, edits a run's masks) and the
 * workbench (renderer side, draws a fill mask) so one radius paints the same voxels in both.
 */

export type VoxelGrid = { dims: readonly [number, number, number]; spacing: readonly [number, number, number] };

/**
 * Calls `visit` with the flat index (x fastest) of every voxel within `radiusMm` of `center`:
 * a sphere, or a disc in the slice through the centre across grid axis `sliceAxis` (2, the k
 * axis, is the axial slice of an axial series; the viewer passes the axis of the view the user
 * draws in). Voxel distances use the spacing, so the footprint is round in millimetres on
 * anisotropic grids.
 */
export function forEachBrushVoxel(
  grid: VoxelGrid,
  center: readonly [number, number, number],
  radiusMm: number,
  sphere: boolean,
  visit: (index: number) => void,
  sliceAxis: 0 | 1 | 2 = 2,
): void {
  const [nx, ny, nz] = grid.dims;
  const [sx, sy, sz] = grid.spacing;
  const [ci, cj, ck] = center.map(Math.round);
  const ri = sphere || sliceAxis !== 0 ? Math.ceil(radiusMm / sx) : 0;
  const rj = sphere || sliceAxis !== 1 ? Math.ceil(radiusMm / sy) : 0;
  const rk = sphere || sliceAxis !== 2 ? Math.ceil(radiusMm / sz) : 0;
  const r2 = radiusMm * radiusMm;
  for (let k = Math.max(0, ck - rk); k <= Math.min(nz - 1, ck + rk); k++)
    for (let j = Math.max(0, cj - rj); j <= Math.min(ny - 1, cj + rj); j++)
      for (let i = Math.max(0, ci - ri); i <= Math.min(nx - 1, ci + ri); i++) {
        if (((i - ci) * sx) ** 2 + ((j - cj) * sy) ** 2 + ((k - ck) * sz) ** 2 > r2) continue;
        visit(i + nx * (j + ny * k));
      }
}
