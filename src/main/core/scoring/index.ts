export { WANG_SSIM_WINDOW, ssimMap2d, type SsimOptions, type SsimWindow } from './ssim';
export { RESIDUAL_METRICS, SCORE_SSIM_OPTIONS, residualMap, scoreScales, signedResidual, type ResidualMetric, type ResidualOptions, type ScaleReconstruction, type ScaleScore, type StackShape } from './residuals';
export { FUSION_METHODS, fuseScaleScores, fuseScores, fuseSignedResiduals, restrictToBrain, restrictToRegion, type FusedScore, type FusionMethod, type FusionOptions } from './fusion';
export { borderDistance, erodeMask, type BorderErosion } from './distance';
export { labelComponents, type ComponentLabels, type Connectivity } from './components';
export {
  DEFAULT_REFERENCE_PROBABILITIES,
  computeHealthyReference,
  healthyReferenceKey,
  normalCdf,
  parseHealthyReference,
  parseHealthyReferenceSet,
  referenceQuantile,
  requireHealthyReference,
  resolveThreshold,
  type HealthyReference,
  type HealthyReferenceOptions,
  type HealthyReferenceSet,
  type ResolvedThreshold,
  type ThresholdStrategy,
} from './threshold';
export { ThresholdEngine, labelsToMask, thresholdStudy, type Lesion, type LesionPolarity, type LesionSign, type ScoreHistogram, type ScoredStudy, type ThresholdResult, type ThresholdSettings } from './lesions';
