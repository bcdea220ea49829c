/**
 * The subject: every number that makes one synthetic head differ from another, drawn from the
 * seed. Anatomy is described in a template frame (mm): x towards the patient's left, y
 * posterior, z superior, origin on the midline at the orbitomeatal baseline (the usual scan
 * plane), so positions below read like an atlas. A subject is the template scaled per axis,
 * rotated slightly and placed in the scanner.
 */
import { Rng, streamSeed } from './random';

export interface TissueHu {
  grayMatter: number;
  whiteMatter: number;
  deepGray: number;
  thalamus: number;
  cerebellum: number;
  brainstem: number;
  csf: number;
  dura: number;
  scalp: number;
  muscle: number;
  fat: number;
  corticalBone: number;
  diploe: number;
  petrousBone: number;
  vitreous: number;
  lens: number;
  air: number;
  calcification: number;
}

export interface Calcification {
  /** Template position (mm). */
  center: [number, number, number];
  radiusMm: number;
  hu: number;
}

export interface SubjectParams {
  seed: number;
  /** Per-axis scale of the template (LR, AP, SI). */
  scale: [number, number, number];
  /** Degrees: yaw about S, pitch about L (chin down positive), roll about P. */
  rotationDeg: { yaw: number; pitch: number; roll: number };
  /** In-plane position of the head in the field of view (mm, LPS x and y). */
  offsetMm: [number, number];
  /** 0 = young adult, 1 = marked age-related atrophy. */
  atrophy: number;
  /** Nominal age implied by the atrophy, for metadata. */
  ageYears: number;
  sex: 'M' | 'F';
  ventricleScale: number;
  /** Mean skull thickness scale (1 = about 6.5 mm at the parietal bone). */
  skullThicknessScale: number;
  scalpThicknessMm: number;
  /** Extra-axial CSF layer under the inner table (mm). */
  extraAxialCsfMm: number;
  /** Half width of a sulcus at the surface (mm). */
  sulcusHalfWidthMm: number;
  /** Cortical gray-matter thickness (mm). */
  cortexThicknessMm: number;
  /** Half width of the interhemispheric fissure (mm). */
  fissureHalfWidthMm: number;
  /** Size of the frontal sinus, 0 (absent) to about 1.3. */
  frontalSinusScale: number;
  /** Lateral curvature of the midline (mm at the vertex). */
  midlineBowMm: number;
  hu: TissueHu;
  calcifications: Calcification[];
  /** Noise standard deviation in brain (HU). */
  noiseSdHu: number;
  /** Correlation length of the noise grain (mm, Gaussian sigma). */
  noiseGrainMm: number;
  /** Independent seeds for the procedural fields. */
  fieldSeeds: { sulci: number; sulcusDepth: number; texture: number; skull: number; folia: number; shape: number; cells: number };
}

/** Template geometry shared by every subject (mm, template frame). */
export const TEMPLATE = {
  /** Inner-table ellipsoid: centre, semi-axes; the lower half is longer so the cranium narrows slowly below its equator. */
  cranium: { cx: 0, cy: 2, cz: 28, rx: 66, ry: 84, rzUp: 88, rzDown: 140, egginess: 0.07 },
  /** Skull base landmarks. */
  sella: { y: -15, z: 9 },
  foramenMagnum: { cy: 37, rx: 14, ry: 17, z: -38 },
};

export function drawSubject(seed: number): SubjectParams {
  if (!Number.isFinite(seed)) throw new Error(`drawSubject: seed must be a finite number, got ${seed}`);
  const rng = Rng.stream(seed, 'subject');
  const overall = rng.gauss(1, 0.035);
  const scale: [number, number, number] = [overall * rng.gauss(1, 0.03), overall * rng.gauss(1, 0.03), overall * rng.gauss(1, 0.025)];
  const atrophy = Math.pow(rng.next(), 1.6);
  const sex = rng.bool() ? 'M' : 'F';
  const gm = rng.gauss(39.5, 1.5);
  const gmWmContrast = rng.gauss(11.5, 1.2);
  const csf = rng.gauss(7, 1.5);
  const hu: TissueHu = {
    grayMatter: gm,
    whiteMatter: gm - gmWmContrast - 1.5 * atrophy,
    deepGray: gm - rng.gauss(1.5, 0.8),
    thalamus: gm - rng.gauss(3, 0.8),
    cerebellum: gm - rng.gauss(2, 1),
    brainstem: gm - gmWmContrast * 0.55,
    csf,
    dura: rng.gauss(52, 4),
    scalp: rng.gauss(32, 4),
    muscle: rng.gauss(50, 3),
    fat: rng.gauss(-92, 6),
    corticalBone: rng.gauss(1550, 120),
    diploe: rng.gauss(650, 90),
    petrousBone: rng.gauss(1850, 120),
    vitreous: rng.gauss(9, 2),
    lens: rng.gauss(95, 8),
    air: -1000,
    calcification: rng.gauss(260, 60),
  };
  const ventricleScale = 0.88 + 0.75 * atrophy + rng.gauss(0, 0.07);
  const calcifications: Calcification[] = [];
  const cal = Rng.stream(seed, 'calcifications');
  // Choroid plexus glomus in the atria: very common in adults, often bilateral.
  for (const side of [-1, 1]) {
    if (cal.bool(0.75)) {
      calcifications.push({ center: [side * (19.5 + 4 * (ventricleScale - 1)) + cal.gauss(0, 1), 25 + cal.gauss(0, 1.5), 54 + cal.gauss(0, 1.5)], radiusMm: cal.range(1.6, 3.2), hu: hu.calcification * cal.range(0.6, 1.2) });
    }
  }
  // Pineal gland behind the third ventricle.
  if (cal.bool(0.65)) calcifications.push({ center: [cal.gauss(0, 0.5), 27 + cal.gauss(0, 1), 33 + cal.gauss(0, 1)], radiusMm: cal.range(1.4, 2.6), hu: hu.calcification * cal.range(0.5, 1) });
  const fieldRng = Rng.stream(seed, 'fields');
  return {
    seed,
    scale,
    rotationDeg: { yaw: rng.gauss(0, 2.5), pitch: rng.gauss(0, 3), roll: rng.gauss(0, 1.5) },
    offsetMm: [rng.gauss(0, 3), rng.gauss(-4, 4)],
    atrophy,
    ageYears: Math.round(25 + 60 * atrophy + rng.gauss(0, 5)),
    sex,
    ventricleScale,
    skullThicknessScale: rng.gauss(1, 0.13) * (sex === 'M' ? 1.03 : 0.97),
    scalpThicknessMm: rng.gauss(5.5, 0.8),
    extraAxialCsfMm: 1.0 + 2.2 * atrophy + rng.gauss(0, 0.25),
    sulcusHalfWidthMm: 0.45 + 1.1 * atrophy + rng.gauss(0, 0.1),
    cortexThicknessMm: rng.gauss(2.7, 0.2),
    fissureHalfWidthMm: 0.9 + 1.3 * atrophy + rng.gauss(0, 0.15),
    frontalSinusScale: rng.bool(0.9) ? rng.gauss(0.9, 0.25) : 0,
    midlineBowMm: rng.gauss(0, 1.2),
    hu,
    calcifications,
    noiseSdHu: rng.range(3.2, 5.2),
    noiseGrainMm: rng.range(0.55, 0.8),
    fieldSeeds: {
      sulci: fieldRng.nextUint32(),
      sulcusDepth: fieldRng.nextUint32(),
      texture: fieldRng.nextUint32(),
      skull: fieldRng.nextUint32(),
      folia: fieldRng.nextUint32(),
      shape: fieldRng.nextUint32(),
      cells: fieldRng.nextUint32(),
    },
  };
}

/** Stable per-subject sub-seed for things drawn later (noise realisations, lesions). */
export function subjectStream(seed: number, label: string): Rng {
  return new Rng(streamSeed(seed, label));
}
