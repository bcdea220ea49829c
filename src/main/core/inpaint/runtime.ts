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
 * - An accelerator is trusted only after it agrees with the CPU on the caller's test input
 *   (`check`): ONNX Runtime's WebGPU provider computes the first convolution of our 6-channel
 *   networks wrongly (measured with 1.30 on SwiftShader's Vulkan: outputs off by more than their
 *   own size; upstream onnxruntime issue 29651), and a silently wrong network would turn into
 *   plausible-looking anomaly maps. A device that disagrees is skipped (`auto`) or refused.
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
  /** How the active accelerator compared with the CPU on the model's check input (absent for the CPU). */
  checkedAgainstCpu?: DeviceCheckResult;
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
  /** Run before a device other than the CPU is used; without it accelerators are trusted unchecked. */
  check?: DeviceCheck;
}

export interface DeviceCheck {
  /** Inputs run on the device and on the CPU. */
  feeds: Record<string, TensorData>;
  /** Largest accepted |device − CPU| over all outputs, as a fraction of max(1, largest |CPU output|). */
  relativeTolerance: number;
}

interface SharedEntry {
  session: Promise<ort.InferenceSession>;
  refs: number;
}

const shared = new Map<string, SharedEntry>();
/** Device failures already seen for a model file, so `auto` does not retry them on every open. */
const failures = new Map<string, string>();
/** (model file, device) pairs that passed the CPU comparison in this process, with its measurement. */
const verified = new Map<string, DeviceCheckResult>();

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

/**
 * The sentence of an ONNX Runtime error a reader can use: without the source location and C++
 * signature it starts with, and without the failed assertion in front of the explanation
 * ("adapter_result.status == ... was false. Failed to get a WebGPU adapter: No supported adapters").
 */
export function readableOrtError(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = (text.split('\n').find((l) => l.trim()) ?? text).trim();
  const explained = / was false\. (.+)$/.exec(line);
  if (explained) return explained[1].slice(0, 240);
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
    const key = `${modelPath}|${device}`;
    const measured = verified.get(key);
    const reason = precheck(device) ?? failures.get(key) ?? (requested === 'auto' && measured ? tooSlowForAuto(measured) : null);
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
      const why = readableOrtError(e);
      if (device === 'cpu') throw new AppError('MODEL_LOAD_FAILED', `The model file ${modelPath} could not be loaded by ONNX Runtime: ${why}`, { path: modelPath });
      failures.set(key, why);
      skipped.push({ device, reason: why });
      continue;
    }
    let checked = measured;
    if (device !== 'cpu' && options.check && !checked) {
      const { result, problem } = await compareWithCpu(modelPath, device, threads, session, options.check);
      if (problem) {
        await release(modelPath, device, threads, entry);
        failures.set(key, problem);
        skipped.push({ device, reason: problem });
        continue;
      }
      verified.set(key, (checked = result!));
      // A named request may use a slow device; `auto` should not pick it.
      const slow = requested === 'auto' ? tooSlowForAuto(checked) : null;
      if (slow) {
        await release(modelPath, device, threads, entry);
        skipped.push({ device, reason: slow });
        continue;
      }
    }
    return makeHandle(modelPath, device, threads, entry, session, { requested, active: device, skipped, intraOpThreads: threads, ...(checked ? { checkedAgainstCpu: checked } : {}) });
  }
  const detail = skipped.map((s) => `${s.device}: ${s.reason}`).join(' ');
  throw new AppError('DEVICE_UNAVAILABLE', `The ${requested} device is not available here. ${detail}`.trim(), { requested, skipped });
}

function toOrtFeeds(feeds: Record<string, TensorData>): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = t.data instanceof BigInt64Array ? new ort.Tensor('int64', t.data, t.dims) : new ort.Tensor('float32', t.data, t.dims);
  return out;
}

/** Outcome of running the check input on a device and on the CPU. */
export interface DeviceCheckResult {
  /** Largest |device − CPU| over all outputs, and the largest |CPU output| it is judged against. */
  maxDifference: number;
  outputScale: number;
  /** One run of the check input, after a first (warm-up, shader-compiling) run; milliseconds. */
  deviceMs: number;
  cpuMs: number;
}

/** An `auto` choice is passed over when it runs the check this many times slower than the CPU. */
const AUTO_MAX_SLOWDOWN = 10;

async function timedRun(session: ort.InferenceSession, feeds: Record<string, TensorData>): Promise<{ out: ort.InferenceSession.OnnxValueMapType; ms: number }> {
  const ortFeeds = toOrtFeeds(feeds);
  await session.run(ortFeeds);
  const t0 = performance.now();
  const out = await session.run(ortFeeds);
  return { out, ms: performance.now() - t0 };
}

/** Why `auto` should not pick a device that ran the check this much slower than the CPU, or null. */
function tooSlowForAuto(r: DeviceCheckResult): string | null {
  const ratio = r.deviceMs / Math.max(r.cpuMs, 1);
  if (ratio <= AUTO_MAX_SLOWDOWN) return null;
  return `it ran a test input ${Math.round(ratio)} times slower than the CPU (${r.deviceMs.toFixed(0)} ms against ${r.cpuMs.toFixed(0)} ms): a software adapter, not a GPU. Ask for it by name to use it anyway.`;
}

/**
 * Runs the check on the device and on the CPU: the measurement, and why the device cannot be
 * trusted when its outputs differ from the CPU's (or it fails on the check input).
 */
async function compareWithCpu(modelPath: string, device: DeviceName, threads: number, session: ort.InferenceSession, check: DeviceCheck): Promise<{ result?: DeviceCheckResult; problem?: string }> {
  const cpuEntry = acquire(modelPath, 'cpu', threads);
  try {
    const cpu = await timedRun(await cpuEntry.session, check.feeds);
    let onDevice: Awaited<ReturnType<typeof timedRun>>;
    try {
      onDevice = await timedRun(session, check.feeds);
    } catch (e) {
      return { problem: `it failed on a test input (${readableOrtError(e)}).` };
    }
    let outputScale = 0;
    let maxDifference = 0;
    for (const [name, ref] of Object.entries(cpu.out)) {
      const got = onDevice.out[name]?.data as Float32Array | undefined;
      const want = ref.data as Float32Array;
      if (!got || got.length !== want.length) return { problem: `its output "${name}" on a test input does not have the CPU's shape.` };
      for (let i = 0; i < want.length; i++) {
        outputScale = Math.max(outputScale, Math.abs(want[i]));
        const d = Math.abs(got[i] - want[i]);
        // NaN on either side is a disagreement too.
        maxDifference = Number.isNaN(d) ? Infinity : Math.max(maxDifference, d);
      }
    }
    const result: DeviceCheckResult = { maxDifference, outputScale, deviceMs: onDevice.ms, cpuMs: cpu.ms };
    if (maxDifference > check.relativeTolerance * Math.max(1, outputScale)) {
      const known = device === 'webgpu' ? " (a known fault of ONNX Runtime's WebGPU convolutions, onnxruntime issue 29651)" : '';
      return { result, problem: `its results on a test input differ from the CPU's (largest difference ${maxDifference.toPrecision(3)} where the outputs reach ${outputScale.toPrecision(3)}), so they cannot be trusted${known}.` };
    }
    return { result };
  } finally {
    await release(modelPath, 'cpu', threads, cpuEntry);
  }
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
      const ortFeeds = toOrtFeeds(feeds);
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
