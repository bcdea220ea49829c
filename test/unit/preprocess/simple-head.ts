import { IDENTITY_DIRECTION, type Vec3, type Volume } from '../../../src/main/core/volume';

/**
 * A deliberately plain head for edge-case tests (cropped field of view, MR look-alikes, no
 * brain): nested ellipsoids of scalp, skull and brain with a ventricle and Gaussian noise.
 * Realistic anatomy comes from the synth phantom; this one only has to be a head.
 */
export interface SimpleHead {
  volume: Volume;
  truth: Uint8Array;
}

export interface SimpleHeadOptions {
  /** A subdural-like crescent of acute blood (75 HU) against the inner table, right side. */
  subdural?: boolean;
  /** A hypodense infarct-like region (14 HU) in the left hemisphere touching the cortex. */
  infarct?: boolean;
}

export function simpleHead(dims: Vec3 = [96, 96, 8], spacingMm: Vec3 = [2.4, 2.4, 5], seed = 1, lesions: SimpleHeadOptions = {}): SimpleHead {
  const [nx, ny, nz] = dims;
  const data = new Float32Array(nx * ny * nz);
  const truth = new Uint8Array(nx * ny * nz);
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const cx = (nx - 1) / 2;
  const cy = (ny - 1) / 2;
  const cz = (nz - 1) / 2;
  for (let k = 0; k < nz; k++) {
    const z = (k - cz) * spacingMm[2];
    for (let j = 0; j < ny; j++) {
      const y = (j - cy) * spacingMm[1];
      for (let i = 0; i < nx; i++) {
        const x = (i - cx) * spacingMm[0];
        // Normalised radius against the outer scalp surface (ellipsoid 80 x 95 x 75 mm semi-axes).
        const r = (a: number, b: number, c: number) => Math.sqrt((x / a) ** 2 + (y / b) ** 2 + (z / c) ** 2);
        let hu = -1000;
        if (r(80, 95, 75) <= 1) hu = 30;
        if (r(75, 90, 70) <= 1) hu = 900;
        if (r(68, 83, 63) <= 1) {
          hu = 34;
          truth[i + nx * (j + ny * k)] = 1;
          if (r(12, 25, 15) <= 1) hu = 6;
          if (lesions.subdural && x > 0 && r(68, 83, 63) > 0.88) hu = 75;
          if (lesions.infarct && Math.hypot(x + 50, y - 10, z / 2) < 22) hu = 14;
        }
        data[i + nx * (j + ny * k)] = hu + (hu > -500 ? 4 * gauss() : 0);
      }
    }
  }
  const volume: Volume = {
    data,
    dims,
    spacing: spacingMm,
    origin: [0, 0, 0],
    direction: [...IDENTITY_DIRECTION],
    intensityUnit: 'HU',
    meta: { modality: 'CT' },
    warnings: [],
  };
  return { volume, truth };
}

export { dice } from '../../../src/main/core/metrics/overlap';
