/**
 * Synthetic head CT: healthy phantoms with tissue labels and brain mask, lesions with exact
 * masks and mass effect, longitudinal series, and writers (DICOM/NIfTI + metadata.json).
 *
 *   generatePhantom({ seed })                        healthy volume + brain mask + labels
 *   generateCase({ seed, lesions, timepoints })      volumes + masks + metadata in memory
 *   writeSyntheticCase(case, outDir, { format })     files on disk (docs/synth.md)
 */
export { generatePhantom, phantomGeometry, DEFAULT_FOV_MM, DEFAULT_MATRIX, DEFAULT_SLICES, DEFAULT_SLICE_MM, type Phantom, type PhantomOptions, type PhantomGeometry } from './phantom';
export { generateCase, type CaseOptions, type GenerateCaseOptions, type SyntheticCase, type CaseTimepoint, type LesionInstance } from './case';
export { LESION_TYPES, LESION_TYPE_NAMES, LESION_SITES, lesionAtDay, type LesionSpec, type LesionType, type ResolvedLesion } from './lesions';
export { writeSyntheticCase, derivedUid, type SynthFormat, type WriteCaseOptions, type WrittenCase, type WrittenTimepoint } from './write';
export { caseMetadata, LESION_MASK_DEFINITION, type CaseMetadata } from './metadata';
export { TISSUE, TISSUE_NAMES, type TissueName } from './labels';
export { drawSubject, type SubjectParams, type TissueHu } from './anatomy';
export { renderContactSheet, renderCasePreview, type PreviewTile, type PreviewOptions } from './preview';
