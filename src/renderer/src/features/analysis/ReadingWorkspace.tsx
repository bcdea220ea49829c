import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useApi } from '../../api/context';
import type { ReadingSettings } from '../../../../shared/analysis';
import type { LesionInfo, ReviewState, RunInfo, RunReferenceInfo, SeriesDetail, SeriesSummary, StudySummary, ThresholdOutcome } from '../../../../shared/types';
import { Viewer, type AlternateImage, type CursorInfo, type RGB, type ScoreMapLayer, type VoxelIndex } from '../../viewer';
import { DEFAULT_BRUSH, ExportPanel, ReviewPanel, type BrushSettings } from './ReviewPanel';
import { AnalysisPanel } from './AnalysisPanel';
import { ThresholdPanel } from './ThresholdPanel';
import { LesionList } from './LesionList';
import { labelVolume, useRunLayers } from './useRunLayers';
import { DEFAULT_WORKBENCH_BRUSH, WorkbenchPanel, type FillOutcome, type WorkbenchBrush } from '../workbench/WorkbenchPanel';
import { useFillMask } from '../workbench/useFillMask';

/** The fill mask is drawn in one colour that no anomaly overlay uses. */
const FILL_MASK_COLORS: (RGB | undefined)[] = [undefined, [0, 190, 255]];

/**
 * The reading view of one series: the viewer with the selected run's overlays, the analysis
 * runs, the live threshold and the lesion list. Every threshold change re-thresholds the whole
 * scan on the services; requests are coalesced so the slider never queues stale work.
 */
export function ReadingWorkspace({ study, series, onOpenSeries }: { study: StudySummary; series: SeriesSummary; onOpenSeries?: (seriesId: string) => void }) {
  const api = useApi();
  const [mode, setMode] = useState<'reading' | 'workbench'>('reading');
  const [wbBrush, setWbBrush] = useState<WorkbenchBrush>(DEFAULT_WORKBENCH_BRUSH);
  const [fillOutcome, setFillOutcome] = useState<FillOutcome | null>(null);
  const [detail, setDetail] = useState<SeriesDetail | null>(null);
  const fillMask = useFillMask(series);
  const [runs, setRuns] = useState<RunInfo[]>([]);
  const [runId, setRunId] = useState<string | null>(null);
  const [reading, setReading] = useState<ReadingSettings | null>(null);
  const [outcome, setOutcome] = useState<ThresholdOutcome | null>(null);
  // The healthy reference behind the run's z cuts: from every threshold outcome, and asked for on
  // its own when a run opens, so the panel can say why a reference that cannot be read fails.
  const [reference, setReference] = useState<RunReferenceInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [focus, setFocus] = useState<(VoxelIndex & { zoom?: number }) | undefined>(undefined);
  const [selectedLesion, setSelectedLesion] = useState<number | null>(null);
  const [review, setReview] = useState<ReviewState | null>(null);
  const [brush, setBrush] = useState<BrushSettings>(DEFAULT_BRUSH);
  const cursor = useRef<CursorInfo | null>(null);
  const painting = useRef(false);
  const brushBusy = useRef(false);
  const inFlight = useRef(false);
  const pending = useRef<{ runId: string; reading: ReadingSettings } | null>(null);

  const loadRuns = useCallback(() => {
    api.call('analysis.runs', { seriesId: series.id }).then(
      (list) => {
        setRuns(list);
        // A newly finished run is selected; otherwise keep the reader's choice.
        setRunId((cur) => (cur && list.some((r) => r.id === cur) ? cur : (list[0]?.id ?? null)));
      },
      (e: Error) => setError(e.message),
    );
  }, [api, series.id]);

  useEffect(() => {
    api.call('series.get', { seriesId: series.id }).then(setDetail, () => setDetail(null));
  }, [api, series.id]);

  useEffect(() => {
    setRuns([]);
    setRunId(null);
    setOutcome(null);
    loadRuns();
    return api.subscribe('library.changed', (e) => {
      if (e.reason === 'run-added' || e.reason === 'run-deleted') loadRuns();
    });
  }, [api, loadRuns]);

  // The run list shows each run's review progress; a review edit changes it.
  useEffect(() => {
    if (review) loadRuns();
  }, [review, loadRuns]);

  useEffect(() => {
    const run = runs.find((r) => r.id === runId);
    setOutcome(null);
    setSelectedLesion(null);
    setReview(null);
    setBrush(DEFAULT_BRUSH);
    setReading(run ? run.reading : null);
    setReference(null);
    if (runId) api.call('review.get', { runId }).then(setReview, (e: Error) => setError(e.message));
    if (runId) api.call('analysis.reference', { runId }).then(setReference, (e: Error) => setError(e.message));
    // Only a change of run resets the reading; later edits to the runs list must not.
  }, [runId]);

  const request = useCallback(
    (rid: string, r: ReadingSettings) => {
      if (inFlight.current) {
        pending.current = { runId: rid, reading: r };
        return;
      }
      inFlight.current = true;
      setBusy(true);
      api
        .call('analysis.threshold', { runId: rid, reading: r })
        .then(
          (o) => {
            setOutcome(o);
            setReference(o.reference);
            setError(null);
          },
          (e: Error) => setError(e.message),
        )
        .finally(() => {
          inFlight.current = false;
          const next = pending.current;
          pending.current = null;
          if (next) request(next.runId, next.reading);
          else setBusy(false);
        });
    },
    [api],
  );

  useEffect(() => {
    if (runId && reading) request(runId, reading);
  }, [runId, reading, request]);

  const layers = useRunLayers(runId, reading);
  const voxels = series.dims[0] * series.dims[1] * series.dims[2];
  const reviewing = !!review?.started && review.runId === runId;
  const labels = useMemo(() => {
    if (reviewing) return labelVolume(review!, voxels);
    return outcome && outcome.runId === runId ? labelVolume(outcome, voxels) : undefined;
  }, [outcome, runId, voxels, review, reviewing]);
  // Rejected lesions stay visible in grey so the reader sees what was dismissed.
  const labelColors = useMemo(() => {
    if (!reviewing) return undefined;
    const colors: (RGB | undefined)[] = [];
    for (const l of review!.lesions) if (l.status === 'rejected') colors[l.label] = [128, 128, 128];
    return colors;
  }, [review, reviewing]);

  const workbench = mode === 'workbench';
  const drawing = workbench && wbBrush.active;
  // The brush in use takes the pointer from the viewer's own tools: the workbench's or the review's.
  const brushing = workbench ? drawing : brush.active;
  function paintFillMask() {
    const c = cursor.current;
    if (!c) return;
    fillMask.paint([c.voxel.i, c.voxel.j, c.voxel.k], wbBrush.radiusMm, wbBrush.sphere, wbBrush.mode === 'erase', c.sliceAxis);
  }

  async function paintAtCursor() {
    const c = cursor.current;
    if (!brush.active || !c || !runId || brushBusy.current) return;
    brushBusy.current = true;
    try {
      const next = await api.call('review.brush', {
        runId,
        target: brush.target,
        mode: brush.mode,
        center: [c.voxel.i, c.voxel.j, c.voxel.k],
        radiusMm: brush.radiusMm,
        sphere: brush.sphere,
        sliceAxis: c.sliceAxis,
        ...(brush.target === 'lesion' && brush.mode === 'paint' && brush.label ? { label: brush.label } : {}),
      });
      setReview(next);
      // Keep painting into the lesion a stroke started, instead of a new lesion per dab.
      if (brush.target === 'lesion' && brush.mode === 'paint' && !brush.label) {
        const drawn = next.lesions.filter((l) => l.origin === 'drawn').map((l) => l.label);
        if (drawn.length) setBrush((b) => ({ ...b, label: Math.max(...drawn) }));
      }
    } catch (e) {
      setError((e as Error).message);
    } finally {
      brushBusy.current = false;
    }
  }
  const scoreMap = useMemo<ScoreMapLayer | undefined>(() => {
    if (!layers.score || !outcome) return undefined;
    const cut = outcome.threshold.value;
    const top = Math.max(outcome.quantiles.max, cut * 1.5, 1e-6);
    // Show the tail from half the cut upward, so near-misses are visible as faint heat.
    return { data: layers.score, range: [cut * 0.5, top], transparentBelow: cut * 0.5, label: `Anomaly score (${reading?.metric}, ${reading?.fusion})` };
  }, [layers.score, outcome, reading?.metric, reading?.fusion]);
  const alternates = useMemo<AlternateImage[]>(() => {
    const list: AlternateImage[] = [];
    if (layers.healthy) list.push({ name: 'Healthy', data: layers.healthy });
    if (layers.difference) list.push({ name: 'Difference', data: layers.difference, window: { centerHu: 0, widthHu: 60 } });
    return list;
  }, [layers.healthy, layers.difference]);

  const fillAlternates = useMemo<AlternateImage[]>(() => (fillOutcome ? [{ name: 'Filled', data: fillOutcome.voxels }] : []), [fillOutcome]);

  async function save(asDefault: boolean) {
    if (!runId || !reading) return;
    try {
      await api.call('analysis.saveReading', { runId, reading, asDefault });
      setSaved(true);
      setTimeout(() => setSaved(false), 2000);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function adoptReference() {
    if (!runId) return;
    try {
      await api.call('analysis.adoptCurrentReference', { runId });
      loadRuns();
      setReference(await api.call('analysis.reference', { runId }));
      if (reading) request(runId, reading);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  function selectLesion(l: LesionInfo) {
    setSelectedLesion(l.label);
    setFocus({ i: l.peakVoxel[0], j: l.peakVoxel[1], k: l.peakVoxel[2] });
  }

  return (
    <div className="reading" data-testid="reading-workspace">
      <div
        className={`viewer-host${brushing ? ' brushing' : ''}`}
        data-brush={brushing ? (workbench ? wbBrush.mode : brush.mode) : 'off'}
        onPointerDownCapture={(e) => {
          if (e.button !== 0) return;
          painting.current = true;
          if (drawing) {
            fillMask.beginStroke();
            paintFillMask();
          } else if (!workbench) void paintAtCursor();
        }}
        onPointerMoveCapture={(e) => {
          if (!painting.current || e.buttons !== 1) return;
          if (drawing) paintFillMask();
          else if (!workbench) void paintAtCursor();
        }}
        onPointerUpCapture={() => {
          if (painting.current && drawing) fillMask.endStroke();
          painting.current = false;
        }}
      >
        <Viewer
          seriesId={series.id}
          scoreMap={workbench ? undefined : scoreMap}
          labelMask={workbench ? (fillMask.mask ?? undefined) : labels}
          labelColors={workbench ? FILL_MASK_COLORS : labelColors}
          brainMask={layers.brainMask ?? undefined}
          alternateImages={workbench ? fillAlternates : alternates}
          focus={workbench ? undefined : focus}
          onCursor={(c) => (cursor.current = c)}
          externalTool={brushing}
        />
      </div>
      <aside className="side-panel" aria-label="Analysis and reading">
        <div className="panel small series-head">
          <strong>{study.patientName || 'Unnamed patient'}</strong> · {series.modality} {series.description}
          {series.warnings.length > 0 && (
            <ul className="warnings" data-testid="series-warnings">
              {series.warnings.map((w, i) => (
                <li key={i} className="warn">
                  ⚠ {w.message}
                </li>
              ))}
            </ul>
          )}
          {detail?.fill && (
            <div className="small muted" data-testid="series-fill-provenance">
              Made by the inpainting workbench from “{detail.fill.sourceDescription || 'a series'}”: {detail.fill.maskVolumeMl.toFixed(2)} mL filled with{' '}
              {detail.fill.method === 'diffusion' ? `${detail.fill.model?.id} v${detail.fill.model?.version} (${detail.fill.preset}, seed ${detail.fill.seed})` : `${detail.fill.method} interpolation`} · Inpaint CT {detail.fill.appVersion}
            </div>
          )}
        </div>
        <div className="row mode-tabs" role="tablist" aria-label="Workspace">
          <button role="tab" aria-selected={!workbench} aria-pressed={!workbench} onClick={() => setMode('reading')} data-testid="mode-reading">
            Analysis &amp; reading
          </button>
          <button role="tab" aria-selected={workbench} aria-pressed={workbench} onClick={() => setMode('workbench')} data-testid="mode-workbench">
            Inpainting workbench
          </button>
        </div>
        {workbench && <WorkbenchPanel series={series} mask={fillMask} brush={wbBrush} onBrush={setWbBrush} outcome={fillOutcome} onOutcome={setFillOutcome} onOpenSeries={onOpenSeries} />}
        {!workbench && (
          <>
            <AnalysisPanel seriesId={series.id} runs={runs} selectedRunId={runId} onSelectRun={setRunId} />
            {runId && reading && !reviewing && <ThresholdPanel key={runId} reading={reading} onChange={setReading} outcome={outcome} error={error ?? layers.error} busy={busy} onSave={(d) => void save(d)} saved={saved} reference={reference} onAdoptReference={() => void adoptReference()} />}
            {runId && !reviewing && <LesionList outcome={outcome} selected={selectedLesion} onSelect={selectLesion} />}
            {runId && (
              <ReviewPanel
                runId={runId}
                review={review}
                onReview={setReview}
                onStart={async () => {
                  if (!reading) return;
                  setReview(await api.call('review.start', { runId, reading }));
                }}
                brush={brush}
                onBrush={setBrush}
                selected={selectedLesion}
                onSelectLesion={(label) => {
                  const l = review?.lesions.find((x) => x.label === label);
                  if (!l) return;
                  setSelectedLesion(label);
                  setFocus({ i: l.peakVoxel[0], j: l.peakVoxel[1], k: l.peakVoxel[2] });
                }}
              />
            )}
            {runId && <ExportPanel runId={runId} />}
            {(!runId || reviewing) && error && (
              <div className="error-text small" role="alert">
                {error}
              </div>
            )}
          </>
        )}
      </aside>
    </div>
  );
}
