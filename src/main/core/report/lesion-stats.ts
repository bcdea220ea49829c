import { voxelToLps, voxelVolumeMl, type Vec3, type Volume } from '../volume';
import type { Lesion } from '../scoring/lesions';

export interface LesionMaps {
  score?: ArrayLike<number> | null;
  signed?: ArrayLike<number> | null;
  hu?: ArrayLike<number> | null;
}

/**
 * The lesion-table entry of every label in a label volume, measured the way the threshold engine
 * measures its own (volume, extent, centroid, peak, mean score and HU). Used for lesions a reader
 * edited or drew, whose numbers in lesions.json no longer describe them. The sign follows the mean
 * signed residual (original - healthy), 'unknown' without one.
 */
export function measureLesions(labels: ArrayLike<number>, grid: Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction'>, maps: LesionMaps, only?: ReadonlySet<number>): Map<number, Lesion> {
  const [nx, ny, nz] = grid.dims;
  const acc = new Map<number, { n: number; min: Vec3; max: Vec3; si: number; sj: number; sk: number; score: number; hu: number; signed: number; peak: Vec3; peakScore: number }>();
  const { score, signed, hu } = maps;
  let p = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        const l = labels[p];
        if (!(l > 0) || (only && !only.has(l))) continue;
        let a = acc.get(l);
        if (!a) {
          a = { n: 0, min: [i, j, k], max: [i, j, k], si: 0, sj: 0, sk: 0, score: 0, hu: 0, signed: 0, peak: [i, j, k], peakScore: -Infinity };
          acc.set(l, a);
        }
        a.n++;
        if (i < a.min[0]) a.min[0] = i;
        if (j < a.min[1]) a.min[1] = j;
        if (k < a.min[2]) a.min[2] = k;
        if (i > a.max[0]) a.max[0] = i;
        if (j > a.max[1]) a.max[1] = j;
        if (k > a.max[2]) a.max[2] = k;
        a.si += i;
        a.sj += j;
        a.sk += k;
        const s = score ? score[p] : 0;
        a.score += s;
        if (s > a.peakScore) {
          a.peakScore = s;
          a.peak = [i, j, k];
        }
        if (hu) a.hu += hu[p];
        if (signed) a.signed += signed[p];
      }
    }
  }
  const mlPerVoxel = voxelVolumeMl(grid.spacing);
  const out = new Map<number, Lesion>();
  for (const [label, a] of acc) {
    const centroidVoxel: Vec3 = [a.si / a.n, a.sj / a.n, a.sk / a.n];
    const meanSigned = signed ? a.signed / a.n : null;
    out.set(label, {
      label,
      voxelCount: a.n,
      volumeMl: a.n * mlPerVoxel,
      sliceRange: [a.min[2], a.max[2]],
      bbox: { min: a.min, max: a.max },
      centroidVoxel,
      centroidLps: voxelToLps(grid, ...centroidVoxel),
      peakVoxel: a.peak,
      meanScore: score ? a.score / a.n : 0,
      maxScore: score ? a.peakScore : 0,
      meanHu: hu ? a.hu / a.n : null,
      meanSignedResidual: meanSigned,
      sign: meanSigned === null || meanSigned === 0 ? 'unknown' : meanSigned > 0 ? 'hyper' : 'hypo',
    });
  }
  return out;
}
