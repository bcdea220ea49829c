import { useState } from 'react';
import { useApi, useJobs } from '../../api/context';
import type { HealthyReferenceStamp, InpainterInfo, RunInfo, RunReviewProgress } from '../../../../shared/types';
import { describeDevice, describeReferenceStamp, type DeviceProvenance } from '../../../../shared/provenance';
import { useInpaintingModels } from '../../api/useInpaintingModels';

type InpainterKind = 'diffusion' | 'biharmonic' | 'harmonic' | 'linear' | 'nearest';

function Provenance({ run }: { run: RunInfo }) {
  const p = run.provenance as {
    appVersion?: string;
    model?: { id: string; version: string; sha256: string } | null;
    preset?: { steps?: number; sampler?: string; startFraction?: number } | null;
    device?: DeviceProvenance;
    seed?: number;
    networkCalls?: number;
    timingsMs?: { total?: number };
    host?: { cpu?: string; cores?: number };
    healthyReference?: HealthyReferenceStamp | null;
  };
  return (
    <details className="provenance small" data-testid="run-provenance">
      <summary>Provenance</summary>
      <dl className="facts">
        <dt>App</dt>
        <dd>Inpaint CT {p.appVersion}</dd>
        <dt>Inpainter</dt>
        <dd>{run.inpainter.kind === 'diffusion' ? `${p.model?.id} v${p.model?.version}` : `${run.inpainter.method} (classical)`}</dd>
        {p.model && (
          <>
            <dt>Model sha256</dt>
            <dd className="mono">{p.model.sha256.slice(0, 16)}…</dd>
          </>
        )}
        {p.preset && (
          <>
            <dt>Preset</dt>
            <dd>
              {run.preset}: {p.preset.sampler} {p.preset.steps} steps from {Math.round((p.preset.startFraction ?? 1) * 100)}% noise
            </dd>
          </>
        )}
        <dt>Device</dt>
        <dd>{describeDevice(p.device)}</dd>
        {p.healthyReference !== undefined && (
          <>
            <dt title="The healthy reference z cuts were read against at analysis; the run keeps a copy">Healthy reference</dt>
            <dd>
              {p.healthyReference
                ? `${describeReferenceStamp(p.healthyReference, (iso) => new Date(iso).toLocaleDateString())} · ${p.healthyReference.sha256.slice(0, 12)}…`
                : 'none (uncalibrated)'}
            </dd>
          </>
        )}
        <dt>Seed</dt>
        <dd>{p.seed}</dd>
        <dt title="Forward passes of the diffusion network (batched); everything runs on this computer">Model evaluations</dt>
        <dd>{p.networkCalls ?? 0}</dd>
        <dt>Time</dt>
        <dd>{((p.timingsMs?.total ?? 0) / 1000).toFixed(1)} s on {p.host?.cpu} ({p.host?.cores} cores)</dd>
        <dt>Created</dt>
        <dd>{new Date(run.createdAt).toLocaleString()}</dd>
      </dl>
    </details>
  );
}

/** The run list's word on a review, so a reader sees which runs are done without opening each. */
export function describeReviewProgress(review: RunReviewProgress): string {
  const decided = review.accepted + review.rejected;
  if (decided < review.found) return `review: ${decided} of ${review.found} found lesion${review.found === 1 ? '' : 's'} decided`;
  return review.found === 0 ? 'reviewed' : `reviewed: ${review.accepted} accepted, ${review.rejected} rejected`;
}

export function AnalysisPanel(props: { seriesId: string; runs: RunInfo[]; selectedRunId: string | null; onSelectRun: (id: string) => void }) {
  const api = useApi();
  const [kind, setKind] = useState<InpainterKind>('diffusion');
  const [modelId, setModelId] = useState<string>('');
  const [preset, setPreset] = useState<'fast' | 'reference'>('fast');
  const [device, setDevice] = useState<'auto' | 'cpu' | 'webgpu' | 'cuda'>('auto');
  const [error, setError] = useState<string | null>(null);
  // The job this panel started: its progress and, if it fails, its reason show here, where the
  // reader pressed "Run analysis", not only in the job bar.
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJobs().find((j) => j.id === jobId) ?? null;

  const models = useInpaintingModels((preferredId) => {
    if (preferredId) setModelId((cur) => cur || preferredId);
    else setKind((k) => (k === 'diffusion' ? 'biharmonic' : k));
  }, setError);

  async function start() {
    setError(null);
    const inpainter: InpainterInfo = kind === 'diffusion' ? { kind: 'diffusion', modelId, preset, device } : { kind: 'classical', method: kind };
    try {
      setJobId((await api.call('analysis.start', { seriesId: props.seriesId, inpainter })).jobId);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  const selected = props.runs.find((r) => r.id === props.selectedRunId) ?? null;
  const selectedModel = models.find((m) => m.id === modelId) ?? null;
  return (
    <section className="panel" aria-label="Analysis" data-testid="analysis-panel">
      <h3>Analysis</h3>
      <div className="form-grid">
        <label htmlFor="inpainter">Inpainter</label>
        <select id="inpainter" value={kind} onChange={(e) => setKind(e.target.value as InpainterKind)} data-testid="inpainter-select">
          <option value="diffusion" disabled={models.length === 0}>
            Diffusion model{models.length === 0 ? ' (none installed)' : ''}
          </option>
          <option value="biharmonic">Biharmonic (classical)</option>
          <option value="harmonic">Harmonic (classical)</option>
          <option value="linear">Linear (classical)</option>
          <option value="nearest">Nearest (classical)</option>
        </select>
        {kind === 'diffusion' && (
          <>
            <label htmlFor="model">Model</label>
            <select id="model" value={modelId} onChange={(e) => setModelId(e.target.value)} data-testid="model-select">
              {models.map((m) => (
                <option key={m.id} value={m.id} title={m.description}>
                  {m.id} v{m.version}
                </option>
              ))}
            </select>
            <label htmlFor="preset">Preset</label>
            <select id="preset" value={preset} onChange={(e) => setPreset(e.target.value as 'fast' | 'reference')}>
              <option value="fast">Fast (default)</option>
              <option value="reference">Reference (paper: 250 steps ×10 resampling — hours)</option>
            </select>
            <label htmlFor="device">Device</label>
            <select id="device" value={device} onChange={(e) => setDevice(e.target.value as typeof device)}>
              <option value="auto">Auto (CUDA → WebGPU → CPU)</option>
              <option value="cpu">CPU</option>
              <option value="webgpu">WebGPU</option>
              <option value="cuda">CUDA</option>
            </select>
          </>
        )}
      </div>
      {kind === 'diffusion' && selectedModel && (
        // The shipped models differ in what they detect best; the card's description says which to pick.
        <details className="small" data-testid="model-description">
          <summary>About {selectedModel.id}</summary>
          <p className="muted">{selectedModel.description}</p>
        </details>
      )}
      <button className="primary" onClick={() => void start()} data-testid="run-analysis">
        Run analysis
      </button>
      {error && (
        <div className="error-text small" role="alert">
          {error}
        </div>
      )}
      {job && (job.status === 'running' || job.status === 'queued') && (
        <div className="small muted" data-testid="analysis-progress">
          {job.status === 'queued' ? 'Waiting for another job to finish…' : `${job.stage}${job.total ? ` ${job.done}/${job.total}` : ''}…`}
        </div>
      )}
      {job && (job.status === 'failed' || job.status === 'interrupted') && (
        <div className="error-text small" role="alert" data-testid="analysis-failed">
          The analysis did not finish: {job.error?.message ?? job.status}
        </div>
      )}
      {props.runs.length > 0 && (
        <ul className="run-list" data-testid="run-list">
          {props.runs.map((r) => (
            <li key={r.id}>
              <button className={`run-item${r.id === props.selectedRunId ? ' selected' : ''}`} aria-pressed={r.id === props.selectedRunId} onClick={() => props.onSelectRun(r.id)} data-testid="run-item">
                <span>{r.label}</span>
                <span className="muted small">
                  {new Date(r.createdAt).toLocaleString()} · {r.summary.lesions} lesion{r.summary.lesions === 1 ? '' : 's'}
                </span>
                {r.review && (
                  <span className="muted small" data-testid="run-review" title={`Review started by ${r.review.startedBy}, last edited ${new Date(r.review.updatedAt).toLocaleString()}`}>
                    {describeReviewProgress(r.review)}
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
      )}
      {selected && <Provenance run={selected} />}
    </section>
  );
}
