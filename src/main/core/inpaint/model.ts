import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, toErrorPayload, type ErrorPayload } from '../../../shared/errors';
import { parseManifest, type ModelManifest, type TensorSpec } from './manifest';
import { openSession, type DeviceCheck, type DeviceReport, type DeviceRequest, type FloatTensor, type IoMetadata, type RuntimeSession, type TensorData } from './runtime';

/**
 * The one loader for every model kind: reads models/<id>/model.json, checks the ONNX file's
 * sha256, opens (or shares) an inference session and checks its inputs and outputs against the
 * manifest, so a model that would silently compute garbage is refused with a clear sentence.
 */

export interface LoadedModel<M extends ModelManifest = ModelManifest> {
  manifest: M;
  dir: string;
  onnxPath: string;
  device: DeviceReport;
  /** session.run invocations through this model handle. */
  readonly runs: number;
  run(feeds: Record<string, TensorData>): Promise<Record<string, FloatTensor>>;
  dispose(): Promise<void>;
}

export interface LoadModelOptions {
  device?: DeviceRequest;
  threads?: number;
  /** Refuse a model of another kind. */
  kind?: ModelManifest['kind'];
}

const hashCache = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

/** sha256 of a file, cached per (path, size, mtime) so re-opening a 40 MB model costs nothing. */
export async function fileSha256(path: string): Promise<string> {
  const st = await stat(path);
  const cached = hashCache.get(path);
  if (cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs) return cached.sha256;
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
  const sha256 = hash.digest('hex');
  hashCache.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
  return sha256;
}

/** Reads and validates models/<id>/model.json without touching the ONNX file. */
export async function readManifest(modelsDir: string, id: string): Promise<{ manifest: ModelManifest; dir: string }> {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(id)) throw new AppError('MODEL_NOT_FOUND', `"${id}" is not a valid model name.`, { id });
  const dir = join(modelsDir, id);
  const manifestPath = join(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    // Name what is installed: with several models a mistyped id is the usual cause.
    const installed = (await listModels(modelsDir)).map((m) => m.id);
    const listing = installed.length > 0 ? ` Installed: ${installed.join(', ')}.` : ' No models are installed.';
    throw new AppError('MODEL_NOT_FOUND', `No model named "${id}" is installed (looked for ${manifestPath}).${listing}`, { id, path: manifestPath, installed });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AppError('MODEL_MANIFEST_INVALID', `The model manifest ${manifestPath} is not valid JSON: ${(e as Error).message}.`, { field: '(root)', source: manifestPath });
  }
  const manifest = parseManifest(json, manifestPath);
  if (manifest.id !== id) throw new AppError('MODEL_MANIFEST_INVALID', `The model manifest ${manifestPath} is invalid: field "id" is "${manifest.id}" but the folder is "${id}".`, { field: 'id', source: manifestPath });
  return { manifest, dir };
}

export async function loadModel(modelsDir: string, id: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const { manifest, dir } = await readManifest(modelsDir, id);
  if (options.kind && manifest.kind !== options.kind) throw new AppError('MODEL_MANIFEST_INVALID', `The model "${id}" is a ${manifest.kind} model; a ${options.kind} model is needed here.`, { field: 'kind' });
  const onnxPath = join(dir, manifest.file);
  let sha: string;
  try {
    sha = await fileSha256(onnxPath);
  } catch {
    throw new AppError('MODEL_NOT_FOUND', `The model "${id}" has a manifest but its network file ${onnxPath} is missing.`, { id, path: onnxPath });
  }
  if (sha !== manifest.sha256)
    throw new AppError('MODEL_CHECKSUM_MISMATCH', `The network file of model "${id}" does not match its manifest (sha256 ${sha.slice(0, 12)}… instead of ${manifest.sha256.slice(0, 12)}…); it is damaged or was replaced. Reinstall the model.`, {
      id,
      expected: manifest.sha256,
      actual: sha,
    });
  const session = await openSession(onnxPath, { device: options.device, threads: options.threads, check: deviceCheck(manifest) });
  try {
    checkIo(manifest, session);
  } catch (e) {
    await session.dispose();
    throw e;
  }
  return {
    manifest,
    dir,
    onnxPath,
    device: session.device,
    get runs() {
      return session.runs;
    },
    run: (feeds) => session.run(feeds),
    dispose: () => session.dispose(),
  };
}

/**
 * The input an accelerator must get right before the model runs on it: two images of a small
 * size the model accepts, every channel a fixed pseudo-random pattern over the network's range,
 * two timesteps (inpainting). 1% of the output's scale separates float rounding (1e-6 in float32,
 * about 1e-3 with float16 weights) from a wrong kernel (of the order of the output itself).
 */
export function deviceCheck(manifest: ModelManifest): DeviceCheck {
  const size = manifest.imageSize;
  // A fully convolutional model gets 32 px squares (or its minimum), rounded up to its multiple.
  const side = (s: { multiple: number; minSize?: number }) => Math.ceil(Math.max(32, s.minSize ?? s.multiple) / s.multiple) * s.multiple;
  const [height, width] = size.mode === 'fixed' ? [size.height, size.width] : [side(size), side(size)];
  const image = manifest.kind === 'inpainting' ? manifest.io.inputs.condition : manifest.io.inputs.image;
  const batch = typeof image.shape[0] === 'number' ? image.shape[0] : 2;
  const channels = typeof image.shape[1] === 'number' ? image.shape[1] : 1;
  const dims = [batch, channels, height, width];
  const data = new Float32Array(batch * channels * height * width);
  // Not periodic over a row or a channel, so a kernel that mixes up pixels or channels shows.
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37 + Math.sin(i * 0.011) * 3);
  const feeds: Record<string, TensorData> = { [image.name]: { data, dims } };
  if (manifest.kind === 'inpainting') {
    const steps = manifest.schedule.trainingSteps;
    const t = Array.from({ length: batch }, (_, b) => Math.round(((b + 1) * (steps - 1)) / (batch + 1)));
    const spec = manifest.io.inputs.timestep;
    feeds[spec.name] = { data: spec.dtype === 'int64' ? BigInt64Array.from(t.map(BigInt)) : Float32Array.from(t), dims: [batch] };
  }
  return { feeds, relativeTolerance: 0.01 };
}

function expectedIo(manifest: ModelManifest): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  if (manifest.kind === 'inpainting') return { inputs: [manifest.io.inputs.condition, manifest.io.inputs.timestep], outputs: [manifest.io.output] };
  return { inputs: [manifest.io.inputs.image], outputs: [manifest.io.output] };
}

function shapeText(shape: (string | number)[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Every declared input and output must exist with the declared type and rank; fixed axes must
 * match; an axis the manifest names (dynamic, e.g. "batch") must be dynamic in the file too,
 * because the engine will vary it.
 */
function checkIo(manifest: ModelManifest, session: RuntimeSession): void {
  const { inputs, outputs } = expectedIo(manifest);
  const check = (spec: TensorSpec, actual: IoMetadata[], role: string) => {
    const found = actual.find((m) => m.name === spec.name);
    const fail = (why: string) => {
      throw new AppError('MODEL_SHAPE_MISMATCH', `The model "${manifest.id}" does not match its manifest: ${role} "${spec.name}" ${why}.`, { id: manifest.id, tensor: spec.name });
    };
    if (!found) fail(`is not in the network (it has ${actual.map((a) => `"${a.name}"`).join(', ') || 'none'})`);
    const m = found!;
    if (m.dtype !== spec.dtype) fail(`is ${m.dtype} in the network but ${spec.dtype} in the manifest`);
    if (m.shape.length !== spec.shape.length) fail(`has shape ${shapeText(m.shape)} in the network but ${shapeText(spec.shape)} in the manifest`);
    spec.shape.forEach((dim, axis) => {
      const actualDim = m.shape[axis];
      if (typeof dim === 'number' && typeof actualDim === 'number' && dim !== actualDim) fail(`has shape ${shapeText(m.shape)} in the network but ${shapeText(spec.shape)} in the manifest`);
      if (typeof dim === 'string' && typeof actualDim === 'number') fail(`has a fixed axis ${axis} of ${actualDim} in the network (shape ${shapeText(m.shape)}) where the manifest declares it dynamic ("${dim}")`);
    });
  };
  for (const spec of inputs) check(spec, session.inputs, 'input');
  for (const spec of outputs) check(spec, session.outputs, 'output');
  if (session.inputs.length !== inputs.length) {
    const extra = session.inputs.filter((m) => !inputs.some((s) => s.name === m.name)).map((m) => `"${m.name}"`);
    throw new AppError('MODEL_SHAPE_MISMATCH', `The model "${manifest.id}" does not match its manifest: the network also needs input ${extra.join(', ')}.`, { id: manifest.id });
  }
}

export interface ModelListing {
  id: string;
  manifest?: ModelManifest;
  /** Why the folder is not a usable model (bad manifest); the checksum is checked on load only. */
  error?: ErrorPayload;
}

/** Every folder of `modelsDir` with a model.json, valid or not (invalid ones carry their error). */
export async function listModels(modelsDir: string): Promise<ModelListing[]> {
  let entries: string[];
  try {
    entries = (await readdir(modelsDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
  const out: ModelListing[] = [];
  for (const id of entries.sort()) {
    try {
      await stat(join(modelsDir, id, 'model.json'));
    } catch {
      continue;
    }
    try {
      out.push({ id, manifest: (await readManifest(modelsDir, id)).manifest });
    } catch (e) {
      out.push({ id, error: toErrorPayload(e) });
    }
  }
  return out;
}
