/**
 * The discrete structures of the head, as shapes in the template frame painted in order over
 * the cortex/skull background: deep nuclei, cisterns, brainstem, ventricles and physiologic
 * calcifications inside the cranium; orbits, sinuses, petrous bone and the upper spine outside.
 */
import type { SubjectParams } from './anatomy';
import { TISSUE } from './labels';
import { Rng } from './random';
import { makeTube, tubeBounds, type Tube } from './shapes';

export type Shape =
  | { kind: 'ellipsoid'; c: [number, number, number]; r: [number, number, number]; yawRad: number }
  | { kind: 'tube'; tube: Tube };

export interface Structure {
  name: string;
  shape: Shape;
  hu: number;
  label: number;
  /** Shapes carved out of this one (the caudate indents the frontal horn). */
  subtract?: Shape[];
  /** Outer structures: stay this many mm away from the cranial cavity (a bony wall remains). */
  keepFromCavityMm?: number;
  /** Wider partial-volume edge (mm) for structures without a crisp boundary on CT (deep nuclei). */
  softMm?: number;
  /** Air cells with bony septa (ethmoid, mastoid): noise cell size (mm) and septum HU. */
  cells?: { sizeMm: number; septumHu: number };
}

/** Every structure with the same property set (one hidden class: fast property access in the paint loop). */
function normalised(list: Structure[]): Structure[] {
  return list.map((s) => ({ name: s.name, shape: s.shape, hu: s.hu, label: s.label, subtract: s.subtract, keepFromCavityMm: s.keepFromCavityMm ?? 0, softMm: s.softMm ?? 0, cells: s.cells }));
}

export function ellipsoid(c: [number, number, number], r: [number, number, number], yawDeg = 0): Shape {
  return { kind: 'ellipsoid', c, r, yawRad: (yawDeg * Math.PI) / 180 };
}

export function tube(vertices: ReadonlyArray<readonly [number, number, number, number]>, zSquash = 1): Shape {
  return { kind: 'tube', tube: makeTube(vertices, zSquash) };
}

/** Template-frame bounds [x0, y0, z0, x1, y1, z1] of a shape. */
export function shapeBounds(s: Shape): [number, number, number, number, number, number] {
  if (s.kind === 'tube') return tubeBounds(s.tube);
  const rxy = s.yawRad === 0 ? null : Math.max(s.r[0], s.r[1]);
  const rx = rxy ?? s.r[0];
  const ry = rxy ?? s.r[1];
  return [s.c[0] - rx, s.c[1] - ry, s.c[2] - s.r[2], s.c[0] + rx, s.c[1] + ry, s.c[2] + s.r[2]];
}

function mirror(v: ReadonlyArray<readonly [number, number, number, number]>): [number, number, number, number][] {
  return v.map(([x, y, z, r]) => [-x, y, z, r]);
}

/** Structures inside the cranial cavity, in painting order. */
export function intracranialStructures(s: SubjectParams): Structure[] {
  const hu = s.hu;
  const vs = s.ventricleScale;
  const rng = Rng.stream(s.seed, 'structures');
  const spread = (x: number) => x + Math.sign(x) * 3.2 * (vs - 1);
  const vr = (r: number) => r * Math.pow(vs, 0.9);
  const out: Structure[] = [];

  // Deep gray nuclei. The internal capsule is the white matter left between them.
  const caudateHead = (side: number) => ellipsoid([side * spread(12.8), -16, 42], [5.5, 9.5, 10]);
  const caudateBody = (side: number) =>
    tube(
      [
        [side * spread(12.8), -15, 44, 5.2],
        [side * spread(14.5), -3, 52, 3.8],
        [side * spread(16.5), 11, 57, 2.8],
        [side * spread(20), 22, 55, 1.8],
      ],
      1,
    );
  const thalamus = (side: number) => ellipsoid([side * 10.5, 9, 36], [9, 14, 10], side * -8);
  for (const side of [-1, 1]) {
    out.push({ name: 'caudate-head', shape: caudateHead(side), hu: hu.deepGray, label: TISSUE.deepGray, softMm: 1.5 });
    out.push({ name: 'caudate-body', shape: caudateBody(side), hu: hu.deepGray, label: TISSUE.deepGray, softMm: 1.5 });
    out.push({ name: 'putamen', shape: ellipsoid([side * 23, -3, 37], [6.5, 16, 10], side * 8), hu: hu.deepGray, label: TISSUE.deepGray, softMm: 2.2 });
    out.push({ name: 'globus-pallidus', shape: ellipsoid([side * 17.5, -1, 35], [3.5, 8.5, 6], side * 12), hu: (hu.deepGray + hu.whiteMatter) / 2 + 1, label: TISSUE.deepGray, softMm: 2.5 });
    out.push({ name: 'thalamus', shape: thalamus(side), hu: hu.thalamus, label: TISSUE.deepGray, softMm: 2.2 });
  }

  // Basal cisterns, painted before the brainstem so only a CSF rim stays around it.
  const cisternScale = 1 + 0.5 * s.atrophy;
  out.push({ name: 'suprasellar-cistern', shape: ellipsoid([0, -6, 19], [12 * cisternScale, 8.5, 5.5]), hu: hu.csf, label: TISSUE.csf });
  out.push({ name: 'ambient-cistern', shape: ellipsoid([0, 14, 23], [14.5 + 1.5 * s.atrophy, 13 + s.atrophy, 9]), hu: hu.csf, label: TISSUE.csf });
  out.push({ name: 'quadrigeminal-cistern', shape: ellipsoid([0, 28, 27], [7 * cisternScale, 5.5, 6]), hu: hu.csf, label: TISSUE.csf });
  out.push({ name: 'prepontine-cistern', shape: ellipsoid([0, 13, 1], [15 + s.atrophy, 8.5, 15]), hu: hu.csf, label: TISSUE.csf });
  const magna = rng.range(0.6, 1.5);
  out.push({ name: 'cisterna-magna', shape: ellipsoid([0, 63, -30], [10 * magna, 9 * magna, 8 * magna]), hu: hu.csf, label: TISSUE.csf });

  // Brainstem.
  for (const side of [-1, 1]) out.push({ name: 'cerebral-peduncle', shape: ellipsoid([side * 6.5, 10.5, 22], [6.5, 8.5, 9.5], side * 28), hu: hu.brainstem, label: TISSUE.brainstem });
  out.push({ name: 'tectum', shape: ellipsoid([0, 17, 23], [8.5, 6.5, 9]), hu: hu.brainstem + 1, label: TISSUE.brainstem });
  out.push({ name: 'pons', shape: ellipsoid([0, 19.5, 2], [14.5, 12.5, 13]), hu: hu.brainstem, label: TISSUE.brainstem });
  out.push({
    name: 'medulla',
    shape: tube([
      [0, 22, -6, 9],
      [0, 27, -24, 7.5],
      [0, 33, -48, 6.5],
      [0, 35, -70, 6],
    ]),
    hu: hu.brainstem,
    label: TISSUE.brainstem,
  });

  // Ventricular system.
  const lateral = (side: number): Shape => {
    const v: [number, number, number, number][] = [
      [spread(6.0), -32, 42.5, vr(2.2)],
      [spread(6.7), -25, 45, vr(4.3)],
      [spread(7.8), -14, 49.5, vr(5.1)],
      [spread(8.8), -2, 54.5, vr(5.3)],
      [spread(12.5), 12, 57.5, vr(5.5)],
      [spread(18), 23, 54, vr(6.8)],
      [spread(20.5), 28, 47, vr(5.6)],
      [spread(19), 36, 45.5, vr(4)],
      [spread(16), 43, 45, vr(2.6)],
      [spread(13.5), 49, 44.5, vr(1.1)],
    ];
    return tube(side < 0 ? mirror(v) : v, 0.95);
  };
  const temporalHorn = (side: number): Shape => {
    const v: [number, number, number, number][] = [
      [spread(19), 25, 50, vr(5)],
      [spread(25), 22, 42, vr(4)],
      [spread(29), 13, 31, vr(3.2)],
      [spread(30), 2, 22, vr(2.4)],
      [spread(28.5), -9, 17, vr(1.8)],
      [spread(26.5), -16, 15, vr(0.9)],
    ];
    return tube(side < 0 ? mirror(v) : v, 1.1);
  };
  for (const side of [-1, 1]) {
    const carve = [caudateHead(side), caudateBody(side), thalamus(side)];
    out.push({ name: 'lateral-ventricle', shape: lateral(side), hu: hu.csf, label: TISSUE.ventricle, subtract: carve });
    out.push({ name: 'temporal-horn', shape: temporalHorn(side), hu: hu.csf, label: TISSUE.ventricle, subtract: [thalamus(side)] });
  }
  const v3 = 1.6 * Math.pow(vs, 1.6);
  out.push({ name: 'third-ventricle', shape: ellipsoid([0, 3, 35], [v3, 14, 10.5]), hu: hu.csf, label: TISSUE.ventricle });
  out.push({
    name: 'aqueduct',
    shape: tube([
      [0, 14, 27, 1.1],
      [0, 19, 18, 1.1],
      [0, 24, 9, 1.4],
    ]),
    hu: hu.csf,
    label: TISSUE.ventricle,
  });
  out.push({ name: 'fourth-ventricle', shape: ellipsoid([0, 32.5, 1], [7.5 * Math.pow(vs, 0.7), 4.2, 8.5]), hu: hu.csf, label: TISSUE.ventricle });

  for (const c of s.calcifications) out.push({ name: 'calcification', shape: ellipsoid(c.center, [c.radiusMm, c.radiusMm, c.radiusMm]), hu: c.hu, label: TISSUE.calcification });
  return normalised(out);
}

/** Structures of the skull base and face, outside the cranial cavity, in painting order. */
export function extracranialStructures(s: SubjectParams): Structure[] {
  const hu = s.hu;
  const out: Structure[] = [];
  const bone = (name: string, shape: Shape, h = hu.corticalBone) => out.push({ name, shape, hu: h, label: TISSUE.corticalBone });
  const air = (name: string, shape: Shape, keep = 1.2) => out.push({ name, shape, hu: hu.air, label: TISSUE.air, keepFromCavityMm: keep });
  const soft = (name: string, shape: Shape, h = hu.muscle, label: number = TISSUE.muscle) => out.push({ name, shape, hu: h, label });

  for (const side of [-1, 1]) {
    // Petrous pyramid and mastoid (air cells in bone), external auditory canal.
    bone('petrous', tube([
      [side * 57, 25, -9, 9],
      [side * 38, 14, -4, 8],
      [side * 17, 2, 0, 5],
    ]), hu.petrousBone);
    bone('mastoid-cortex', ellipsoid([side * 50, 28, -14], [13, 13, 15]));
    out.push({ name: 'mastoid-cells', shape: ellipsoid([side * 50, 28, -14], [11, 11, 13]), hu: hu.air, label: TISSUE.air, keepFromCavityMm: 1.5, cells: { sizeMm: 2.6, septumHu: hu.corticalBone * 0.7 } });
    air('ear-canal', tube([
      [side * 72, 16, -15, 3.8],
      [side * 49, 16, -12, 3],
    ]), 2);
    // Zygomatic arch and mandibular condyle/ramus.
    bone('zygomatic-arch', tube([
      [side * 63, 4, -16, 3.2],
      [side * 60, -35, -13, 3.5],
      [side * 47, -70, -6, 4.5],
    ]));
    bone('mandible', tube([
      [side * 53, 13, -22, 6],
      [side * 51, 6, -40, 5],
      [side * 48, -4, -65, 5],
    ]));
    // Orbit: bony wall, fat cone, globe with lens, optic nerve.
    bone('orbit-wall', ellipsoid([side * 31, -68, 3], [18, 24.5, 16.5], side * -18));
    out.push({ name: 'orbit-fat', shape: ellipsoid([side * 31, -70, 3], [16.5, 24, 15], side * -18), hu: hu.fat, label: TISSUE.fat, keepFromCavityMm: 1.5 });
    soft('optic-nerve', tube([
      [side * 31, -74, 2, 2.3],
      [side * 22, -52, 4, 2.2],
      [side * 13, -32, 7, 2],
    ]), hu.brainstem, TISSUE.softTissue);
    out.push({ name: 'globe', shape: ellipsoid([side * 32, -80, 2], [11.5, 11.5, 11.5]), hu: hu.vitreous, label: TISSUE.eye });
    out.push({ name: 'lens', shape: ellipsoid([side * 32, -90, 2], [4.5, 1.8, 4.5]), hu: hu.lens, label: TISSUE.eye });
    // Maxillary sinus with its bony wall.
    bone('maxilla', ellipsoid([side * 27, -58, -36], [16, 19, 19]));
    air('maxillary-sinus', ellipsoid([side * 27, -58, -36], [14, 17, 17]));
    soft('turbinate', ellipsoid([side * 9, -68, -30], [4.5, 22, 5]), hu.muscle - 5, TISSUE.softTissue);
  }
  // Ethmoid cells between the orbits, sphenoid sinus under the sella, nasal cavity and septum.
  out.push({ name: 'ethmoid-cells', shape: ellipsoid([0, -62, 7], [11, 26, 12]), hu: hu.air, label: TISSUE.air, keepFromCavityMm: 1.5, cells: { sizeMm: 3.2, septumHu: hu.corticalBone * 0.6 } });
  out.push({ name: 'sphenoid-sinus', shape: ellipsoid([0, -24, 2], [13, 15, 9]), hu: hu.air, label: TISSUE.air, keepFromCavityMm: 1.2, cells: { sizeMm: 18, septumHu: hu.corticalBone * 0.8 } });
  air('nasal-cavity', ellipsoid([0, -72, -33], [14, 30, 21]));
  soft('inferior-turbinate', ellipsoid([0, -66, -42], [14, 22, 5]), hu.muscle - 5, TISSUE.softTissue);
  air('nasopharynx', ellipsoid([0, -30, -48], [11, 9, 16]), 0);
  bone('nasal-septum', ellipsoid([0, -70, -30], [1.2, 30, 22]));
  if (s.frontalSinusScale > 0.15) {
    const f = s.frontalSinusScale;
    air('frontal-sinus', ellipsoid([0, -91, 27], [13 * f, 5, 9 * f]), 1.5);
  }
  // Atlas and dens; the spinal canal with the cord.
  bone('dens', ellipsoid([0, 16, -56], [5.5, 5.5, 12]));
  for (const side of [-1, 1]) bone('atlas-lateral-mass', ellipsoid([side * 17, 24, -58], [8, 10, 7]));
  bone('atlas-posterior-arch', tube([
    [-17, 30, -56, 3.5],
    [-10, 50, -55, 3.5],
    [10, 50, -55, 3.5],
    [17, 30, -56, 3.5],
  ]));
  out.push({ name: 'spinal-canal', shape: tube([[0, 34, -42, 10], [0, 35, -90, 10]]), hu: hu.csf, label: TISSUE.spinalCanal, keepFromCavityMm: 0 });
  out.push({ name: 'spinal-cord', shape: tube([[0, 33, -40, 6], [0, 35, -90, 5.5]]), hu: hu.brainstem, label: TISSUE.spinalCanal, keepFromCavityMm: 0 });
  return normalised(out);
}
