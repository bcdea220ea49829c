/**
 * Voxel records: the per-voxel facts a lesion needs (position before and after the mass-effect
 * displacement, cavity/CSF/ventricle fractions, the healthy HU of the cranial contents),
 * collected once for a region so a lesion's size can be calibrated many times without
 * re-rendering.
 */

export class VoxelRecords {
  n = 0;
  index: Int32Array;
  /** Template position before displacement (where the lesion itself sits). */
  tx: Float32Array;
  ty: Float32Array;
  tz: Float32Array;
  /** Template position of the anatomy seen at this voxel (after displacement). */
  qx: Float32Array;
  qy: Float32Array;
  qz: Float32Array;
  /** Fraction of the voxel inside the cranial cavity. */
  cavity: Float32Array;
  /** CSF and ventricular CSF fractions of the healthy (displaced) anatomy. */
  csf: Float32Array;
  ventricle: Float32Array;
  /** HU of the cranial contents (healthy, displaced). */
  content: Float32Array;
  /** Depth below the inner table (mm, before displacement) and its slab spread. */
  depth: Float32Array;
  depthSpread: Float32Array;
  /** LPS y (mm) of the voxel centre: gravity acts along +y for a supine patient. */
  lpsY: Float32Array;

  constructor(capacity = 4096) {
    this.index = new Int32Array(capacity);
    this.tx = new Float32Array(capacity);
    this.ty = new Float32Array(capacity);
    this.tz = new Float32Array(capacity);
    this.qx = new Float32Array(capacity);
    this.qy = new Float32Array(capacity);
    this.qz = new Float32Array(capacity);
    this.cavity = new Float32Array(capacity);
    this.csf = new Float32Array(capacity);
    this.ventricle = new Float32Array(capacity);
    this.content = new Float32Array(capacity);
    this.depth = new Float32Array(capacity);
    this.depthSpread = new Float32Array(capacity);
    this.lpsY = new Float32Array(capacity);
  }

  /** Appends a slot and returns its position; grows the arrays as needed. */
  push(index: number): number {
    if (this.n === this.index.length) this.grow();
    const i = this.n++;
    this.index[i] = index;
    return i;
  }

  private grow(): void {
    const cap = this.index.length * 2;
    const g = <T extends Float32Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      return b;
    };
    this.index = g(this.index);
    this.tx = g(this.tx);
    this.ty = g(this.ty);
    this.tz = g(this.tz);
    this.qx = g(this.qx);
    this.qy = g(this.qy);
    this.qz = g(this.qz);
    this.cavity = g(this.cavity);
    this.csf = g(this.csf);
    this.ventricle = g(this.ventricle);
    this.content = g(this.content);
    this.depth = g(this.depth);
    this.depthSpread = g(this.depthSpread);
    this.lpsY = g(this.lpsY);
  }
}
