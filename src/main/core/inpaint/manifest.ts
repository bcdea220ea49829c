import { z } from 'zod';
import { AppError } from '../../../shared/errors';

/**
 * The model manifest: `models/<id>/model.json` beside the ONNX file. It states everything the
 * engine must know to feed the network exactly as it was trained, and the model card a research
 * user needs to judge it. The same file format serves every model kind.
 *
 * Conventions of an inpainting model (kind "inpainting"):
 * - input `io.inputs.condition`: float32 [batch, C, height, width]; C = conditioning.channels.length,
 *   the channels in that order:
 *     noisy        x_t, the noisy image being denoised
 *     known        the real image outside the inpainting mask, `knownFill` inside it
 *     inpaintMask  1 inside the region to inpaint, 0 where the image is known
 *     brainMask    1 inside the brain, 0 outside
 *     sliceAbove   the preprocessed slice above (superior, k + 1); `missingSliceFill` where there is none
 *     sliceBelow   the preprocessed slice below (inferior, k - 1); likewise
 *   With `neighbourSlicesInHole: "hidden"` the two neighbour slices carry `knownFill` inside the
 *   inpainting mask as well, as the known image does. A lesion that spans slices then cannot be
 *   copied from the slice above or below into the repainting of its own slice (training/
 *   neighbour-leak.ts: with the neighbours shown, model 1.1.0's 64 px repainting of three
 *   infarcts left a residual of -3.9 of their -30.4 /255 contrast). "shown" (the default) passes
 *   them whole, as models up to 1.1.0 were trained.
 *   Images are windowed (intensity.window) to intensity.windowedRange, then mapped linearly to
 *   intensity.networkRange; masks are 0/1 and not mapped. `knownFill` and `missingSliceFill` are
 *   windowed values (default 0: background, as the preprocessing pads and as its
 *   `conditioningSlices` returns for a missing neighbour) and are mapped like the images.
 * - input `io.inputs.timestep`: [batch] training timestep index in 0 .. trainingSteps-1 (float32 or int64).
 * - output `io.output`: [batch, 1, height, width], the prediction named by `prediction`
 *   (epsilon = the noise, v = sqrt(ᾱ) ε - sqrt(1-ᾱ) x0, x0 = the clean image), in network units.
 */

export const CONDITIONING_CHANNELS = ['noisy', 'known', 'inpaintMask', 'brainMask', 'sliceAbove', 'sliceBelow'] as const;
export type ConditioningChannel = (typeof CONDITIONING_CHANNELS)[number];

const dimension = z.union([z.number().int().positive(), z.string().min(1)]);
const tensorSpec = z.object({
  name: z.string().min(1),
  /** Numbers are fixed sizes; strings name dynamic axes (e.g. "batch"). */
  shape: z.array(dimension).min(1),
  dtype: z.enum(['float32', 'int64']).default('float32'),
});
export type TensorSpec = z.infer<typeof tensorSpec>;

const imageSize = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('fixed'), height: z.number().int().positive(), width: z.number().int().positive() }),
  z.object({
    mode: z.literal('fullyConvolutional'),
    /** Height and width must be multiples of this (2^downsamplings). */
    multiple: z.number().int().positive(),
    /** Size of the slices the model was trained on. */
    trainedSize: z.number().int().positive().default(256),
    /** Smallest input the engine may crop to. */
    minSize: z.number().int().positive().optional(),
  }),
]);
export type ImageSizeSpec = z.infer<typeof imageSize>;

const range = z.tuple([z.number(), z.number()]).refine(([a, b]) => b > a, { message: 'the range must rise ([low, high])' });

const intensity = z.object({
  window: z.object({ centerHu: z.number(), widthHu: z.number().positive() }),
  windowedRange: range.default([0, 1]),
  networkRange: range,
});

const schedule = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('linear'),
    betaStart: z.number().positive().lt(1),
    betaEnd: z.number().positive().lt(1),
    trainingSteps: z.number().int().min(2),
    variance: z.enum(['fixedSmall', 'fixedLarge']).default('fixedSmall'),
  }),
  z.object({
    type: z.literal('cosine'),
    s: z.number().nonnegative().default(0.008),
    maxBeta: z.number().positive().lt(1).default(0.999),
    trainingSteps: z.number().int().min(2),
    variance: z.enum(['fixedSmall', 'fixedLarge']).default('fixedSmall'),
  }),
]);
export type NoiseSchedule = z.infer<typeof schedule>;

const metricStats = z.looseObject({ mean: z.number(), std: z.number().nonnegative() });

const card = z.looseObject({
  description: z.string().min(1),
  architecture: z.string().optional(),
  parameters: z.number().int().nonnegative().optional(),
  trainingData: z.string().min(1),
  /** Measured quality, free-form numbers keyed by metric name. */
  metrics: z.record(z.string(), z.unknown()).default({}),
  intendedUse: z.string().min(1),
  hardware: z.string().optional(),
  trainingTime: z.string().optional(),
  license: z.string().optional(),
});

const base = {
  schemaVersion: z.literal(1),
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'letters, digits, ".", "_" or "-"'),
  version: z.string().min(1),
  /** The ONNX file, relative to the manifest's folder. */
  file: z.string().regex(/^[^/\\]+\.onnx$/, 'a file name ending in .onnx in the same folder'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hexadecimal digits'),
  card,
  /**
   * Statistics of the anomaly metrics on healthy data (filled by the scoring work), used to turn
   * scores into z-scores.
   */
  healthyReference: z.looseObject({ metrics: z.record(z.string(), metricStats).optional() }).optional(),
};

const inpaintingManifest = z
  .object({
    ...base,
    kind: z.literal('inpainting'),
    io: z.object({ inputs: z.object({ condition: tensorSpec, timestep: tensorSpec }), output: tensorSpec }),
    conditioning: z.object({
      channels: z
        .array(z.enum(CONDITIONING_CHANNELS))
        .min(1)
        .refine((c) => new Set(c).size === c.length, { message: 'channels must not repeat' })
        .refine((c) => c.includes('noisy'), { message: 'the "noisy" channel is required' }),
      knownFill: z.number().default(0),
      missingSliceFill: z.number().default(0),
      neighbourSlicesInHole: z.enum(['shown', 'hidden']).default('shown'),
    }),
    imageSize,
    intensity,
    schedule,
    prediction: z.enum(['epsilon', 'v', 'x0']),
  })
  .superRefine((m, ctx) => {
    const cond = m.io.inputs.condition.shape;
    if (cond.length !== 4) ctx.addIssue({ code: 'custom', path: ['io', 'inputs', 'condition', 'shape'], message: 'must have 4 axes [batch, channels, height, width]' });
    else if (cond[1] !== m.conditioning.channels.length)
      ctx.addIssue({ code: 'custom', path: ['io', 'inputs', 'condition', 'shape', 1], message: `must equal the number of conditioning channels (${m.conditioning.channels.length})` });
    if (m.io.inputs.timestep.shape.length !== 1) ctx.addIssue({ code: 'custom', path: ['io', 'inputs', 'timestep', 'shape'], message: 'must have 1 axis [batch]' });
    const out = m.io.output.shape;
    if (out.length !== 4 || out[1] !== 1) ctx.addIssue({ code: 'custom', path: ['io', 'output', 'shape'], message: 'must be [batch, 1, height, width]' });
    if (m.io.output.dtype !== 'float32') ctx.addIssue({ code: 'custom', path: ['io', 'output', 'dtype'], message: 'must be float32' });
    if (m.io.inputs.condition.dtype !== 'float32') ctx.addIssue({ code: 'custom', path: ['io', 'inputs', 'condition', 'dtype'], message: 'must be float32' });
    if (m.schedule.type === 'linear' && m.schedule.betaEnd < m.schedule.betaStart) ctx.addIssue({ code: 'custom', path: ['schedule', 'betaEnd'], message: 'must not be below betaStart' });
    checkSizeAgainstShape(m.imageSize, cond, ['io', 'inputs', 'condition', 'shape'], ctx);
  });

const brainExtractionManifest = z
  .object({
    ...base,
    kind: z.literal('brain-extraction'),
    io: z.object({ inputs: z.object({ image: tensorSpec }), output: tensorSpec }),
    imageSize,
    intensity,
    /** What the output holds and where to cut it into a mask. */
    maskOutput: z.object({ activation: z.enum(['sigmoid', 'none']), threshold: z.number() }),
  })
  .superRefine((m, ctx) => {
    if (m.io.inputs.image.shape.length !== 4) ctx.addIssue({ code: 'custom', path: ['io', 'inputs', 'image', 'shape'], message: 'must have 4 axes [batch, channels, height, width]' });
    checkSizeAgainstShape(m.imageSize, m.io.inputs.image.shape, ['io', 'inputs', 'image', 'shape'], ctx);
  });

function checkSizeAgainstShape(size: ImageSizeSpec, shape: (string | number)[], path: (string | number)[], ctx: z.RefinementCtx): void {
  if (shape.length !== 4) return;
  if (size.mode === 'fixed') {
    if (typeof shape[2] === 'number' && shape[2] !== size.height) ctx.addIssue({ code: 'custom', path: [...path, 2], message: `must be ${size.height} (imageSize.height)` });
    if (typeof shape[3] === 'number' && shape[3] !== size.width) ctx.addIssue({ code: 'custom', path: [...path, 3], message: `must be ${size.width} (imageSize.width)` });
  } else if (typeof shape[2] === 'number' || typeof shape[3] === 'number') {
    ctx.addIssue({ code: 'custom', path: [...path, 2], message: 'height and width must be dynamic (named) for a fully convolutional model' });
  }
}

export const modelManifestSchema = z.discriminatedUnion('kind', [inpaintingManifest, brainExtractionManifest]);

export type ModelManifest = z.infer<typeof modelManifestSchema>;
export type InpaintingManifest = Extract<ModelManifest, { kind: 'inpainting' }>;
export type BrainExtractionManifest = Extract<ModelManifest, { kind: 'brain-extraction' }>;
export type ModelKind = ModelManifest['kind'];

/** Validates a parsed model.json; the error names the first offending field. */
export function parseManifest(json: unknown, source = 'model.json'): ModelManifest {
  const result = modelManifestSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.map(String).join('.') || '(root)';
  const why = issue.code === 'invalid_type' && issue.message.includes('received undefined') ? 'is missing' : issue.message.replace(/^Invalid input: /, '');
  throw new AppError('MODEL_MANIFEST_INVALID', `The model manifest ${source} is invalid: field "${field}" ${why}.`, { field, source });
}
