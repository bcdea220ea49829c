/**
 * The cranial cavity of one subject: the vault (an egg-shaped ellipsoid) cut by the skull-base
 * heightmap, and the thickness maps of the layers around it (built once per subject). Its signed distance is the backbone of the phantom (brain mask, skull, cortex
 * depth) and of the extra-axial lesions.
 */
import { TEMPLATE, type SubjectParams } from './anatomy';
import { ellipsoidDistance, type DistanceSample } from './shapes';
import { buildHeadLayers, buildSkullBase, type Table2, type Table3 } from './tables';

export class Cranium {
  readonly floor: Table2;
  /** Skull, scalp and temporalis thickness maps (mm). */
  readonly layers: Table3;
  /** The vault (ellipsoid) part of the last distance() call, before the skull base was considered. */
  lastVaultDistance = 0;

  constructor(subject: SubjectParams) {
    this.floor = buildSkullBase(subject);
    this.layers = buildHeadLayers(subject);
  }

  /** Signed distance (template mm, negative inside) to the inner table; writes nz too. */
  distance(x: number, y: number, z: number, out: DistanceSample): void {
    const C = TEMPLATE.cranium;
    const dy = y - C.cy;
    const dz = z - C.cz;
    const dx = (x - C.cx) / (1 + (C.egginess * dy) / C.ry);
    ellipsoidDistance(dx, dy, dz, C.rx, C.ry, dz > 0 ? C.rzUp : C.rzDown, out);
    this.lastVaultDistance = out.d;
    const f = this.floor.sample(x, y);
    const g = this.floor.lastSlope;
    const cosF = 1 / Math.sqrt(1 + g * g);
    const dF = (f - z) * cosF;
    if (dF > out.d) {
      out.d = dF;
      out.nz = -cosF;
    }
  }
}
