/**
 * Mass effect: a smooth displacement field of the cranial contents, pushing tissue away from
 * space-occupying lesions. Three parts, all with compact support (exactly zero outside their
 * bounds, so anatomy away from the lesion is bit-identical to the healthy phantom):
 * - a radial push around intra-axial lesions that decays as 1/r^2 (tissue is compressed next
 *   to the lesion: sulcal and ventricular effacement);
 * - an inward push under extra-axial collections (subdural, epidural) equal to their local
 *   thickness at the brain surface, fading with depth;
 * - a lateral shift of the midline structures (subfalcine shift) away from the lesion side.
 * Displacement gradients stay well below 1, so the mapping never folds.
 */
import type { Cranium } from './cranium';
import type { Warp } from './raster';
import { smoothstep } from './shapes';

export interface RadialPush {
  kind: 'radial';
  /** Template mm. */
  center: [number, number, number];
  /** Radius of the sphere of the same volume (mm). */
  radiusMm: number;
  /** 0..1.5: fraction of the volume that is pushed out (the rest compresses CSF, is absorbed). */
  strength: number;
}

export interface ExtraAxialPush {
  kind: 'extra-axial';
  /** Unit direction from the cranial centre to the collection's centre. */
  direction: [number, number, number];
  /** Thickness (mm) at angle theta (radians) from the direction; zero beyond maxAngleRad. */
  thickness: (theta: number) => number;
  maxAngleRad: number;
  maxThicknessMm: number;
  /** The subject's cavity: depth below the inner table. */
  cranium: Cranium;
}

export interface MidlineShift {
  kind: 'midline';
  /** mm, positive pushes towards patient left (+x). */
  shiftMm: number;
  /** Template y, z of the region centre (shift is largest there). */
  centerYZ: [number, number];
}

export type Push = RadialPush | ExtraAxialPush | MidlineShift;

/** Centre of the cranial cavity (template), origin of extra-axial directions. */
export const CRANIAL_CENTRE: [number, number, number] = [0, 2, 36];

const RADIAL_REACH_MM = 55;
const EXTRA_AXIAL_DEPTH_MM = 45;
const MIDLINE_SIGMA_X = 20;
const MIDLINE_REACH_YZ = 75;

/** Builds a warp from pushes; undefined when there is nothing to push. */
export function buildWarp(pushes: Push[]): Warp | undefined {
  const active = pushes.filter((p) => (p.kind === 'radial' ? p.radiusMm > 0 && p.strength > 0 : p.kind === 'midline' ? Math.abs(p.shiftMm) > 0.01 : p.maxThicknessMm > 0));
  if (!active.length) return undefined;
  const b: [number, number, number, number, number, number] = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  const grow = (x0: number, y0: number, z0: number, x1: number, y1: number, z1: number) => {
    b[0] = Math.min(b[0], x0);
    b[1] = Math.min(b[1], y0);
    b[2] = Math.min(b[2], z0);
    b[3] = Math.max(b[3], x1);
    b[4] = Math.max(b[4], y1);
    b[5] = Math.max(b[5], z1);
  };
  for (const p of active) {
    if (p.kind === 'radial') {
      const r = p.radiusMm + RADIAL_REACH_MM;
      grow(p.center[0] - r, p.center[1] - r, p.center[2] - r, p.center[0] + r, p.center[1] + r, p.center[2] + r);
    } else if (p.kind === 'midline') {
      const r = MIDLINE_REACH_YZ;
      grow(-2.5 * MIDLINE_SIGMA_X, p.centerYZ[0] - r, p.centerYZ[1] - r, 2.5 * MIDLINE_SIGMA_X, p.centerYZ[0] + r, p.centerYZ[1] + r);
    } else {
      // The cone of directions the collection covers, from near the centre to beyond the vault.
      const d = p.direction;
      const ref = Math.abs(d[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
      const u = normalize(cross(d, ref));
      const v = cross(d, u);
      for (let a = 0; a <= 12; a++) {
        const th = (p.maxAngleRad * a) / 12;
        for (let b = 0; b < 24; b++) {
          const ph = (2 * Math.PI * b) / 24;
          const dir = [0, 1, 2].map((t) => Math.cos(th) * d[t] + Math.sin(th) * (Math.cos(ph) * u[t] + Math.sin(ph) * v[t]));
          for (const r of [15, 115]) {
            const x = CRANIAL_CENTRE[0] + r * dir[0];
            const y = CRANIAL_CENTRE[1] + r * dir[1];
            const z = CRANIAL_CENTRE[2] + r * dir[2];
            grow(x, y, z, x, y, z);
          }
        }
      }
      grow(CRANIAL_CENTRE[0] - 15, CRANIAL_CENTRE[1] - 15, CRANIAL_CENTRE[2] - 15, CRANIAL_CENTRE[0] + 15, CRANIAL_CENTRE[1] + 15, CRANIAL_CENTRE[2] + 15);
    }
  }
  const sample = { d: 0, nz: 0 };
  const warp: Warp = {
    bounds: b,
    maxDisplacementMm: 0,
    displacement(x: number, y: number, z: number, out: Float64Array): void {
      let ux = 0;
      let uy = 0;
      let uz = 0;
      for (const p of active) {
        if (p.kind === 'radial') {
          const dx = x - p.center[0];
          const dy = y - p.center[1];
          const dz = z - p.center[2];
          const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
          const R = p.radiusMm;
          if (r >= R + RADIAL_REACH_MM || r < 1e-6) continue;
          // Outside: the volume R^3/3 spread over the sphere of radius r (1/r^2 decay); inside: linear.
          const g = r > R ? (R * R * R) / (3 * r * r) : r / 3;
          const m = p.strength * g * (1 - smoothstep(R + 0.35 * RADIAL_REACH_MM, R + RADIAL_REACH_MM, r));
          ux += (m * dx) / r;
          uy += (m * dy) / r;
          uz += (m * dz) / r;
        } else if (p.kind === 'midline') {
          const ry = y - p.centerYZ[0];
          const rz = z - p.centerYZ[1];
          const ryz = Math.sqrt(ry * ry + rz * rz);
          if (ryz >= MIDLINE_REACH_YZ || Math.abs(x) >= 2.5 * MIDLINE_SIGMA_X) continue;
          const fx = Math.exp(-(x * x) / (2 * MIDLINE_SIGMA_X * MIDLINE_SIGMA_X)) * (1 - smoothstep(1.5 * MIDLINE_SIGMA_X, 2.5 * MIDLINE_SIGMA_X, Math.abs(x)));
          ux += p.shiftMm * fx * (1 - smoothstep(0.3 * MIDLINE_REACH_YZ, MIDLINE_REACH_YZ, ryz));
        } else {
          const dx = x - CRANIAL_CENTRE[0];
          const dy = y - CRANIAL_CENTRE[1];
          const dz = z - CRANIAL_CENTRE[2];
          const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
          if (r < 1e-6) continue;
          const cos = (dx * p.direction[0] + dy * p.direction[1] + dz * p.direction[2]) / r;
          const theta = Math.acos(Math.max(-1, Math.min(1, cos)));
          if (theta >= p.maxAngleRad) continue;
          p.cranium.distance(x, y, z, sample);
          const depth = Math.max(0, -sample.d);
          if (depth >= EXTRA_AXIAL_DEPTH_MM) continue;
          const m = p.thickness(theta) * (1 - smoothstep(0, EXTRA_AXIAL_DEPTH_MM, depth));
          ux -= (m * dx) / r;
          uy -= (m * dy) / r;
          uz -= (m * dz) / r;
        }
      }
      out[0] = ux;
      out[1] = uy;
      out[2] = uz;
    },
  };
  // Largest displacement, sampled every 4 mm, with a margin for what falls between samples.
  const u = new Float64Array(3);
  let most = 0;
  for (let x = b[0]; x <= b[3]; x += 4)
    for (let y = b[1]; y <= b[4]; y += 4)
      for (let z = b[2]; z <= b[5]; z += 4) {
        warp.displacement(x, y, z, u);
        most = Math.max(most, Math.hypot(u[0], u[1], u[2]));
      }
  warp.maxDisplacementMm = 1.2 * most + 0.5;
  return warp;
}

function cross(a: readonly number[], b: readonly number[]): number[] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function normalize(a: number[]): number[] {
  const n = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / n, a[1] / n, a[2] / n];
}
