/**
 * The brush footprint, shared by the review (server side, edits a run's masks) and the
 * workbench (renderer side, draws a fill mask) so one radius paints the same voxels in both.
 */

export type VoxelGrid = { dims: readonly [number, number, number]; spacing: readonly [number, number, number] };

/**
 * Calls `visit` with the flat index (x fastest) of every voxel within `radiusMm` of `center`:
 * a disc in the axial slice of the centre, or a sphere. Voxel distances use the spacing, so the
 * footprint is round in millimetres on anisotropic grids.
 */
export function forEachBrushVoxel(grid: VoxelGrid, center: readonly [number, number, number], radiusMm: number, sphere: boolean, visit: (index: number) => void): void {
  const [nx, ny, nz] = grid.dims;
  const [sx, sy, sz] = grid.spacing;
  const [ci, cj, ck] = center.map(Math.round);
  const ri = Math.ceil(radiusMm / sx);
  const rj = Math.ceil(radiusMm / sy);
  const rk = sphere ? Math.ceil(radiusMm / sz) : 0;
  const r2 = radiusMm * radiusMm;
  for (let k = Math.max(0, ck - rk); k <= Math.min(nz - 1, ck + rk); k++)
    for (let j = Math.max(0, cj - rj); j <= Math.min(ny - 1, cj + rj); j++)
      for (let i = Math.max(0, ci - ri); i <= Math.min(nx - 1, ci + ri); i++) {
        if (((i - ci) * sx) ** 2 + ((j - cj) * sy) ** 2 + ((k - ck) * sz) ** 2 > r2) continue;
        visit(i + nx * (j + ny * k));
      }
}
