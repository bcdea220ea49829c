/** Tissue label values of the phantom's label volume (uint8). */
export const TISSUE = {
  background: 0,
  softTissue: 1,
  fat: 2,
  muscle: 3,
  corticalBone: 4,
  cancellousBone: 5,
  air: 6,
  eye: 7,
  csf: 8,
  ventricle: 9,
  grayMatter: 10,
  whiteMatter: 11,
  deepGray: 12,
  cerebellum: 13,
  brainstem: 14,
  dura: 15,
  calcification: 16,
  /** CSF and cord of the spinal canal, below the foramen magnum (outside the brain mask). */
  spinalCanal: 17,
} as const;

export type TissueName = keyof typeof TISSUE;

/** Names by label value, for metadata and legends. */
export const TISSUE_NAMES: string[] = (() => {
  const names: string[] = [];
  for (const [name, value] of Object.entries(TISSUE)) names[value] = name;
  return names;
})();
