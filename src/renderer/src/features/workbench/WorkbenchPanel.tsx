import { useEffect, useRef, useState } from 'react';
import { useApi, useJobs } from '../../api/context';
import { decodeMaskRuns, encodeMaskRuns } from '../../../../shared/mask-rle';
import type { FillMethodName, FillProvenance, SeriesSummary } from '../../../../shared/types';
import { useInpaintingModels } from '../../api/useInpaintingModels';
import { downloadFile } from '../../download';
import { BrushTools, type BrushToolState } from '../brush/BrushTools';
import type { FillMaskEditor } from './useFillMask';

export type WorkbenchBrush = BrushToolState;

export const DEFAULT_WORKBENCH_BRUSH: WorkbenchBrush = { active: true, mode: 'paint', radiusMm: 4, sphere: false };

/** A finished fill, shown as the "Filled" image beside the original. */
export interface FillOutcome {
  seriesId: string;
  description: string;
  provenance: FillProvenance;
  voxels: Int16Array;
}

const METHOD_LABELS: Record<FillMethodName, string> = {
  diffusion: 'Diffusion model (learned healthy brain)',
  biharmonic: 'Biharmonic (smooth, classical)',
  harmonic: 'Harmonic (classical)',
  linear: 'Linear (classical)',
  nearest: 'Nearest neighbour (classical)',
};

/**
 * The inpainting workbench: draw or import a mask on the series, fill it with the diffusion model
 * or a classical inpainter, then look at the result beside the original and export it. The fill
 * is a new series of the same study; the original is never changed.
 */
export function WorkbenchPanel(props: {
  series: SeriesSummary;
  mask: FillMaskEditor;
  brush: WorkbenchBrush;
  onBrush: (b: WorkbenchBrush) => void;
  outcome: FillOutcome | null;
  onOutcome: (o: FillOutcome | null) => void;
  onOpenSeries?: (seriesId: string) => void;
}) {
  const api = useApi();
  const jobs = useJobs();
  const [method, setMethod] = useState<FillMethodName>('diffusion');
  const [modelId, setModelId] = useState('');
  const [preset, setPreset] = useState<'fast' | 'reference'>('fast');
  const [device, setDevice] = useState<'auto' | 'cpu' | 'webgpu' | 'cuda'>('auto');
  const [seed, setSeed] = useState(0);
  const [jobId, setJobId] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const handled = useRef<string | null>(null);
  const { mask, brush, onBrush, onOutcome } = props;
  const setBrush = (patch: Partial<WorkbenchBrush>) => onBrush({ ...brush, ...patch });
  const voxelMl = (props.series.spacing[0] * props.series.spacing[1] * props.series.spacing[2]) / 1000;

  const models = useInpaintingModels((preferredId) => {
    if (preferredId) setModelId((cur) => cur || preferredId);
    else setMethod((m) => (m === 'diffusion' ? 'biharmonic' : m));
  }, setError);

  const job = jobs.find((j) => j.id === jobId) ?? null;
  useEffect(() => {
    if (!job || handled.current === job.id || (job.status !== 'succeeded' && job.status !== 'failed' && job.status !== 'cancelled')) return;
    handled.current = job.id;
    if (job.status !== 'succeeded') {
      setError(job.status === 'cancelled' ? 'The fill was cancelled.' : (job.error?.message ?? 'The fill failed.'));
      return;
    }
    const seriesId = (job.result as { studies: { series: { id: string }[] }[] }).studies[0]?.series[0]?.id;
    if (!seriesId) {
      setError('The fill finished but its series is not in the library.');
      return;
    }
    Promise.all([api.call('series.get', { seriesId }), api.fetchBinary(`series/${seriesId}/voxels`)]).then(
      ([detail, bytes]) => {
        if (!detail.fill) throw new Error('The filled series has no fill record.');
        onOutcome({ seriesId, description: detail.description, provenance: detail.fill, voxels: new Int16Array(bytes) });
        setStatus(null);
      },
      (e: Error) => setError(e.message),
    );
  }, [api, job, onOutcome]);

  const running = !!job && (job.status === 'queued' || job.status === 'running');

  async function fill() {
    const current = mask.current();
    if (!current || mask.maskedVoxels === 0) return;
    setError(null);
    onOutcome(null);
    try {
      const started = await api.call('workbench.fill', {
        seriesId: props.series.id,
        maskRuns: encodeMaskRuns(current),
        method,
        ...(method === 'diffusion' ? { modelId, preset, device } : {}),
        seed,
      });
      setJobId(started.jobId);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function importMask(paths: string[]) {
    if (paths.length === 0) return;
    setError(null);
    try {
      if (paths.length > 1) throw new Error('Choose one mask file.');
      const res = await api.call('workbench.importMask', { seriesId: props.series.id, path: paths[0] });
      const decoded = decodeMaskRuns(res.runs, props.series.dims[0] * props.series.dims[1] * props.series.dims[2]);
      if (!decoded) throw new Error('The mask came back on another grid.');
      mask.replace(decoded);
      setStatus(`Mask imported: ${res.maskedVoxels.toLocaleString()} voxels.${res.notes.length ? ` ${res.notes.join(' ')}` : ''}`);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function uploadMask(files: FileList | null) {
    const list = [...(files ?? [])];
    if (!api.uploadFiles || list.length === 0) return;
    try {
      await importMask(await api.uploadFiles(list.map((file) => ({ file, relativePath: file.name }))));
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function exportResult() {
    if (!props.outcome) return;
    setError(null);
    try {
      const out = await api.call('export.series', { seriesId: props.outcome.seriesId });
      await downloadFile(api, out.downloadPath, out.fileName);
      setStatus(`${out.fileName} (${Math.ceil(out.bytes / 1024)} KB)${out.warnings.length ? ` — ${out.warnings.join(' ')}` : ''}`);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  const p = props.outcome?.provenance;
  return (
    <section className="panel" aria-label="Inpainting workbench" data-testid="workbench-panel">
      <h3>Inpainting workbench</h3>
      <p className="small muted">Paint the region to fill in a slice view (or import a mask on this series' grid), then fill it with healthy-looking tissue. The result is a new series of this study; the original is not changed.</p>

      <BrushTools brush={brush} onChange={setBrush} testIdPrefix="wb-brush" defaultRadiusMm={DEFAULT_WORKBENCH_BRUSH.radiusMm} />
      <div className="row wrap">
        <button onClick={() => mask.undo()} disabled={mask.undoDepth === 0} data-testid="wb-undo">
          Undo
        </button>
        <button onClick={() => mask.redo()} disabled={mask.redoDepth === 0} data-testid="wb-redo">
          Redo
        </button>
        <button onClick={() => mask.clear()} disabled={mask.maskedVoxels === 0} data-testid="wb-clear">
          Clear
        </button>
        {api.choosePaths ? (
          <button onClick={async () => importMask(await api.choosePaths!('files'))}>Import mask…</button>
        ) : (
          <>
            <button onClick={() => fileInput.current?.click()} data-testid="wb-import">
              Import mask…
            </button>
            <input ref={fileInput} type="file" hidden accept=".nii,.gz,.png,.dcm,application/dicom" onChange={(e) => void uploadMask(e.target.files)} data-testid="wb-import-file" />
          </>
        )}
      </div>
      <div className="small" data-testid="wb-mask-size" data-voxels={mask.maskedVoxels}>
        Mask: {mask.maskedVoxels.toLocaleString()} voxels ({(mask.maskedVoxels * voxelMl).toFixed(2)} mL)
      </div>

      <div className="row wrap">
        <select value={method} onChange={(e) => setMethod(e.target.value as FillMethodName)} aria-label="Fill method" data-testid="wb-method">
          {(Object.keys(METHOD_LABELS) as FillMethodName[]).map((m) => (
            <option key={m} value={m} disabled={m === 'diffusion' && models.length === 0}>
              {METHOD_LABELS[m]}
            </option>
          ))}
        </select>
      </div>
      {method === 'diffusion' && (
        <div className="row wrap">
          <select value={modelId} onChange={(e) => setModelId(e.target.value)} aria-label="Model">
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id} v{m.version}
              </option>
            ))}
          </select>
          <select value={preset} onChange={(e) => setPreset(e.target.value as 'fast' | 'reference')} aria-label="Preset" title="fast: a few model evaluations per slice; reference: the published sampler, minutes per slice on a CPU">
            <option value="fast">fast</option>
            <option value="reference">reference (slow)</option>
          </select>
          <select value={device} onChange={(e) => setDevice(e.target.value as typeof device)} aria-label="Device">
            <option value="auto">auto device</option>
            <option value="cpu">CPU</option>
            <option value="webgpu">WebGPU</option>
            <option value="cuda">CUDA</option>
          </select>
          <label className="small" title="Seed of the sampler: the same seed gives the same fill">
            seed <input type="number" min={0} value={seed} onChange={(e) => setSeed(Math.max(0, Math.floor(Number(e.target.value) || 0)))} style={{ width: 56 }} aria-label="Seed" />
          </label>
        </div>
      )}
      <div className="row">
        <button className="primary" onClick={() => void fill()} disabled={mask.maskedVoxels === 0 || running || (method === 'diffusion' && !modelId)} data-testid="wb-fill">
          Fill mask
        </button>
        {running && (
          <button onClick={() => void api.call('jobs.cancel', { jobId: job!.id })} data-testid="wb-cancel">
            Cancel
          </button>
        )}
      </div>
      {running && (
        <div className="small" data-testid="wb-progress">
          {job!.stage || 'Waiting…'} {job!.total > 0 ? `${job!.done}/${job!.total}` : ''}
          <progress max={Math.max(1, job!.total)} value={job!.done} />
        </div>
      )}

      {props.outcome && p && (
        <div className="wb-result" data-testid="wb-result" data-series={props.outcome.seriesId}>
          <div className="small">
            <strong>{props.outcome.description}</strong>
          </div>
          <div className="small muted">Shown as the “Filled” image: switch with the image buttons above the views, or flick with Space.</div>
          <dl className="facts small" data-testid="wb-provenance">
            <dt>Method</dt>
            <dd>{p.method === 'diffusion' ? `${p.model?.id} v${p.model?.version}, ${p.preset} preset, ${p.device}, seed ${p.seed}` : `${p.method} (classical)`}</dd>
            <dt>Filled</dt>
            <dd>
              {p.maskedVoxels.toLocaleString()} voxels ({p.maskVolumeMl.toFixed(2)} mL)
              {p.method === 'diffusion' ? `: ${p.filledByDiffusion.toLocaleString()} by the model, ${p.filledByClassical.toLocaleString()} outside the brain by biharmonic fill` : ''}
            </dd>
            {p.method === 'diffusion' && (
              <>
                <dt title="Forward passes of the diffusion network (batched); everything runs on this computer">Model evaluations</dt>
                <dd>
                  {p.networkCalls.toLocaleString()} over {p.slicesInpainted} slice{p.slicesInpainted === 1 ? '' : 's'}
                </dd>
              </>
            )}
            <dt>Time</dt>
            <dd>{(p.timeMs / 1000).toFixed(1)} s</dd>
            <dt>App</dt>
            <dd>Inpaint CT {p.appVersion}</dd>
          </dl>
          {p.notes.length > 0 && (
            <ul className="warnings small">
              {p.notes.map((n, i) => (
                <li key={i} className="warn">
                  {n}
                </li>
              ))}
            </ul>
          )}
          <div className="row wrap">
            <button onClick={() => void exportResult()} data-testid="wb-export">
              Export NIfTI
            </button>
            {props.onOpenSeries && (
              <button onClick={() => props.onOpenSeries!(props.outcome!.seriesId)} data-testid="wb-open">
                Open filled series
              </button>
            )}
          </div>
        </div>
      )}
      {status && (
        <div className="small muted" data-testid="wb-status">
          {status}
        </div>
      )}
      {error && (
        <div className="error-text small" role="alert" data-testid="wb-error">
          {error}
        </div>
      )}
    </section>
  );
}
