/**
 * The component tree ("max-tree") of a score map over a set of voxels, which makes
 * re-thresholding a scored study cost one pass over the above-threshold voxels.
 *
 * Voxels are ranked by score, highest first (rank 0 = highest). Berger et al.'s union-find
 * construction (ICIP 2007) processes them in rank order and, whenever a voxel touches already
 * processed voxels, makes it the parent of their current roots. Consequences used here:
 *  - a parent always has a larger rank than its children (it was processed later, so its score
 *    is lower or equal);
 *  - the subtree of a voxel is its connected component among the voxels of rank <= its own;
 *  - for any cut m (the candidates are ranks 0..m-1, i.e. every voxel with score >= threshold),
 *    the connected component of a candidate is exactly the subtree of its highest ancestor
 *    that is still a candidate; that ancestor is the one whose parent has rank >= m.
 * So labelling at a threshold walks ranks m-1 down to 0: a voxel whose parent is a candidate
 * takes the parent's label, any other voxel starts a new component, whose size is the
 * subtree size `area`. No neighbour is looked at after construction.
 *
 * Construction only ever looks at lower ranks, so the tree over ranks 0..b-1 is final once
 * built: it is built incrementally, only as far down as the lowest threshold asked for so far.
 * That matters because construction is memory-bound (each voxel, taken in score order, is at a
 * random place in the volume, and its neighbourhood costs about nine cache misses): about
 * 1 µs per voxel, seconds for a whole brain, but milliseconds for the top few percent of
 * scores where lesion thresholds live.
 */
import type { Vec3 } from '../volume';
import { checkConnectivity, neighbourSteps, type Connectivity } from './components';

/** Voxel index -> rank of the voxel in a score order (-1 = not in it); the whole grid. */
export function rankOfVoxels(order: Int32Array, voxelCount: number): Int32Array {
  const rankOf = new Int32Array(voxelCount).fill(-1);
  for (let r = 0; r < order.length; r++) rankOf[order[r]] = r;
  return rankOf;
}

export class ComponentTree {
  /** Parent rank of each built rank; a root (so far) is its own parent. */
  readonly parent: Int32Array;
  /** Voxels in the subtree of each built rank (itself included). */
  readonly area: Int32Array;
  /** Ranks 0..built-1 are final. */
  built = 0;
  private zpar: Int32Array | null;
  private readonly steps: Int8Array;
  private readonly offsets: Int32Array;

  /**
   * @param order voxel indices sorted by score, highest first
   * @param rankOf voxel index -> rank, either in `order` directly or, with `rankMap`, in a
   *   superset order whose ranks `rankMap` translates to ranks of `order` (-1 = not in it);
   *   lets one full-grid map serve every subset (eroded brain, one polarity)
   * @param classes with it, voxels only connect to voxels of the same class (e.g. residual sign)
   */
  constructor(
    private readonly order: Int32Array,
    private readonly dims: Vec3,
    connectivity: Connectivity,
    private readonly rankOf: Int32Array,
    private readonly rankMap: Int32Array | null = null,
    private readonly classes: Int8Array | null = null,
  ) {
    const n = order.length;
    this.parent = new Int32Array(n);
    this.area = new Int32Array(n);
    this.zpar = new Int32Array(n);
    this.steps = neighbourSteps(checkConnectivity(connectivity));
    const stepCount = this.steps.length / 3;
    this.offsets = new Int32Array(stepCount);
    const [nx, ny] = dims;
    for (let s = 0; s < stepCount; s++) this.offsets[s] = this.steps[3 * s] + this.steps[3 * s + 1] * nx + this.steps[3 * s + 2] * nx * ny;
  }

  get size(): number {
    return this.order.length;
  }

  /** Makes ranks 0..m-1 final. */
  extendTo(m: number): void {
    const end = Math.min(m, this.order.length);
    if (end <= this.built) return;
    const zpar = this.zpar!;
    const { parent, area, order, rankOf, rankMap, classes, steps, offsets } = this;
    const [nx, ny, nz] = this.dims;
    const plane = nx * ny;
    const stepCount = offsets.length;
    for (let r = this.built; r < end; r++) {
      parent[r] = r;
      zpar[r] = r;
      area[r] = 1;
      const v = order[r];
      const k = (v / plane) | 0;
      const rem = v - k * plane;
      const j = (rem / nx) | 0;
      const i = rem - j * nx;
      const interior = i > 0 && j > 0 && k > 0 && i < nx - 1 && j < ny - 1 && k < nz - 1;
      const cls = classes ? classes[r] : 0;
      for (let s = 0; s < stepCount; s++) {
        if (!interior) {
          const ii = i + steps[3 * s];
          const jj = j + steps[3 * s + 1];
          const kk = k + steps[3 * s + 2];
          if (ii < 0 || jj < 0 || kk < 0 || ii >= nx || jj >= ny || kk >= nz) continue;
        }
        let q = rankOf[v + offsets[s]];
        if (q < 0) continue;
        if (rankMap) {
          q = rankMap[q];
          if (q < 0) continue;
        }
        if (q >= r) continue;
        if (classes && classes[q] !== cls) continue;
        // Root of q's current component, with path halving.
        let root = q;
        while (zpar[root] !== root) {
          zpar[root] = zpar[zpar[root]];
          root = zpar[root];
        }
        if (root !== r) {
          parent[root] = r;
          zpar[root] = r;
          // The root's subtree is complete (all of it has lower rank), so its area is final.
          area[r] += area[root];
        }
      }
    }
    this.built = end;
    if (end === order.length) this.zpar = null;
  }
}

/** The whole tree at once (tests, one-shot use). */
export function buildComponentTree(order: Int32Array, dims: Vec3, connectivity: Connectivity, classes?: Int8Array | null): ComponentTree {
  const tree = new ComponentTree(order, dims, connectivity, rankOfVoxels(order, dims[0] * dims[1] * dims[2]), null, classes ?? null);
  tree.extendTo(order.length);
  return tree;
}
