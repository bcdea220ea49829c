export { confusionCounts, dice, diceFromCounts, iou, iouFromCounts, type ConfusionCounts } from './overlap';
export { averagePrecision, bestThresholdDice, pixelAuroc, type BestDice, type ScoredVoxels } from './ranking';
export { lesionDetection, summarizeDetection, type DetectionSummary, type LesionDetection, type LesionDetectionOptions } from './detection';
export { inpaintingQuality, type InpaintingQuality, type InpaintingQualityOptions } from './inpainting';
