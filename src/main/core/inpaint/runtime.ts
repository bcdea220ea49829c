import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { AppError } from '../../../shared/errors';

/**
 * The only module that knows ONNX Runtime. Everything else hands it Float32Arrays with shapes.
 *
 * - Devices: `auto` tries CUDA (only when its provider library is installed), then WebGPU, then
 *   the CPU, and reports which one is active and why the others were skipped.
 * - Sessions are created once per (model file, device) and shared: every `openSession` returns a
 *   handle with its own `dispose()`; the native session is released when the last handle goes.
 * - `session.run` in onnxruntime-node blocks the calling thread while it computes, so the app
 *   calls this from a worker thread; nothing here needs the main thread.
 */

export type DeviceName = 'cuda' | 'webgpu' | 'cpu';
export type DeviceRequest = 'auto' | DeviceName;
export const DEVICE_REQUESTS: readonly DeviceRequest[] = ['auto', 'cpu', 'webgpu', 'cuda'];
const AUTO_ORDER: DeviceName[] = ['cuda', 'webgpu', 'cpu'];

export interface DeviceReport {
  requested: DeviceRequest;
  active: DeviceName;
  /** Devices tried or passed over before the active one, with the reason. */
  skipped: { device: DeviceName; reason: string }[];
  /** CPU threads ONNX Runtime uses inside one operator. */
  intraOpThreads: number;
}

export interface TensorData {
  data: Float32Array | BigInt64Array;
  dims: readonly number[];
}

export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

export interface IoMetadata {
  name: string;
  dtype: string;
  /** Numbers for fixed axes, strings for named dynamic axes. */
  shape: (number | string)[];
}

export interface RuntimeSession {
  readonly device: DeviceReport;
  readonly inputs: IoMetadata[];
  readonly outputs: IoMetadata[];
  /** session.run invocations through this handle. */
  readonly runs: number;
  run(feeds: Record<string, TensorData>): Promise<Record<string, FloatTensor>>;
  /** Releases this handle; the native session goes when no handle is left. Idempotent. */
  dispose(): Promise<void>;
}

export interface OpenSessionOptions {
  device?: DeviceRequest;
  /** Intra-op threads; default from INPAINT_CT_ORT_THREADS or the machine's cores (at most 8). */
  threads?: number;
}

interface SharedEntry {
  session: Promise<ort.InferenceSession>;
  refs: number;
}

const shared = new Map<string, SharedEntry>();
/** Device failures already seen for a model file, so `auto` does not retry them on every open. */
const failures = new Map<string, string>();

export function defaultThreadCount(): number {
  const env = Number(process.env.INPAINT_CT_ORT_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, Math.min(8, availableParallelism()));
}

function bindingFolder(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

/** Why a device cannot even be tried on this installation, or null when it can. */
function precheck(device: DeviceName): string | null {
  const backends = ort.listSupportedBackends?.() ?? [];
  const entry = backends.find((b) => b.name === device);
  if (device === 'cpu') return null;
  if (device === 'cuda') {
    if (process.platform !== 'linux' && process.platform !== 'win32') return 'CUDA is only available on Linux and Windows.';
    const folder = bindingFolder();
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    if (!folder || !existsSync(join(folder, lib))) return 'the CUDA execution provider is not installed (onnxruntime-node ships CPU-only; reinstall it with --onnxruntime-node-install-cuda on a machine with CUDA 12).';
    return null;
  }
  if (!entry) return `this build of ONNX Runtime has no ${device} support.`;
  return null;
}

function sessionOptions(device: DeviceName, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [device],
    graphOptimizationLevel: 'all',
    // One operator at a time, parallel inside it: the best use of few cores.
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    // Idle pool threads sleep instead of spinning: on a 2-core desktop shared with the UI and other
    // jobs, spinning threads steal the cores the computing ones need (measured: up to 3x slower under load).
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n').find((l) => l.trim()) ?? text;
  // ONNX Runtime prefixes its source location; the sentence after it is what matters.
  return line.replace(/^.*?\.(cc|cpp|h):\d+ [^ ]+ /, '').slice(0, 240);
}

function acquire(modelPath: string, device: DeviceName, threads: number): SharedEntry {
  const key = `${modelPath}|${device}|${threads}`;
  let entry = shared.get(key);
  if (!entry) {
    const session = ort.InferenceSession.create(modelPath, sessionOptions(device, threads));
    entry = { session, refs: 0 };
    shared.set(key, entry);
    // A failed creation must not poison later attempts.
    session.catch(() => shared.delete(key));
  }
  entry.refs++;
  return entry;
}

async function release(modelPath: string, device: DeviceName, threads: number, entry: SharedEntry): Promise<void> {
  entry.refs--;
  if (entry.refs > 0) return;
  const key = `${modelPath}|${device}|${threads}`;
  if (shared.get(key) === entry) shared.delete(key);
  const session = await entry.session.catch(() => null);
  await session?.release();
}

/** Number of native sessions alive (for tests of sharing and disposal). */
export function liveSessionCount(): number {
  return shared.size;
}

function metadata(list: readonly ort.InferenceSession.ValueMetadata[]): IoMetadata[] {
  return list.map((m) => (m.isTensor ? { name: m.name, dtype: m.type, shape: [...m.shape] } : { name: m.name, dtype: 'non-tensor', shape: [] }));
}

export async function openSession(modelPath: string, options: OpenSessionOptions = {}): Promise<RuntimeSession> {
  const requested = options.device ?? 'auto';
  if (!DEVICE_REQUESTS.includes(requested)) throw new AppError('BAD_REQUEST', `Unknown device "${requested}"; use auto, cpu, webgpu or cuda.`);
  const threads = options.threads ?? defaultThreadCount();
  const candidates = requested === 'auto' ? AUTO_ORDER : [requested];
  const skipped: DeviceReport['skipped'] = [];
  for (const device of candidates) {
    const reason = precheck(device) ?? failures.get(`${modelPath}|${device}`);
    if (reason) {
      skipped.push({ device, reason });
      continue;
    }
    const entry = acquire(modelPath, device, threads);
    let session: ort.InferenceSession;
    try {
      session = await entry.session;
    } catch (e) {
      entry.refs--;
      const why = firstLine(e);
      if (device === 'cpu') throw new AppError('MODEL_LOAD_FAILED', `The model file ${modelPath} could not be loaded by ONNX Runtime: ${why}`, { path: modelPath });
      failures.set(`${modelPath}|${device}`, why);
      skipped.push({ device, reason: why });
      continue;
    }
    return makeHandle(modelPath, device, threads, entry, session, { requested, active: device, skipped, intraOpThreads: threads });
  }
  const detail = skipped.map((s) => `${s.device}: ${s.reason}`).join(' ');
  throw new AppError('DEVICE_UNAVAILABLE', `The ${requested} device is not available here. ${detail}`.trim(), { requested, skipped });
}

function makeHandle(modelPath: string, device: DeviceName, threads: number, entry: SharedEntry, session: ort.InferenceSession, report: DeviceReport): RuntimeSession {
  let disposed = false;
  let runs = 0;
  const inputs = metadata(session.inputMetadata);
  const outputs = metadata(session.outputMetadata);
  return {
    device: report,
    inputs,
    outputs,
    get runs() {
      return runs;
    },
    async run(feeds) {
      if (disposed) throw new Error('This model session was disposed.');
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        ortFeeds[name] = t.data instanceof BigInt64Array ? new ort.Tensor('int64', t.data, t.dims) : new ort.Tensor('float32', t.data, t.dims);
      }
      runs++;
      const result = await session.run(ortFeeds);
      const out: Record<string, FloatTensor> = {};
      for (const [name, t] of Object.entries(result)) {
        if (t.type !== 'float32') throw new AppError('MODEL_SHAPE_MISMATCH', `The model output "${name}" is ${t.type}; float32 is required.`);
        out[name] = { data: t.data as Float32Array, dims: [...t.dims] };
      }
      return out;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await release(modelPath, device, threads, entry);
    },
  };
}
