import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useApi } from '../../api/context';
import type { ComparisonResult, RunInfo, SeriesSummary, StudySummary } from '../../../../shared/types';
import { DEFAULT_OVERLAY_DISPLAY, Viewer, type OverlayDisplay, type RGB, type ViewerHandle, type VoxelIndex } from '../../viewer';
import { labelVolume } from '../analysis/useRunLayers';
import { mapPosition, sameWindow } from './sync';
import { describeInterval, densityLabel, formatChange, formatMl, formatStudyDate, truthTotalChange } from '../../../../shared/compare';
import type { CtWindow } from '../../../../shared/windows';
import './compare.css';

/** One analysis run with where it comes from, as offered in the pickers. */
export interface RunChoice {
  run: RunInfo;
  study: StudySummary;
  series: SeriesSummary;
  text: string;
}

function describeSeries(s: SeriesSummary): string {
  return `${s.modality} ${s.description || (s.seriesNumber !== null ? `series ${s.seriesNumber}` : 'series')}`.trim();
}

/** Every finished run in the library, grouped by patient and in date order (synthetic timepoints share a study: "day 0" before "day 5"). */
function useRunChoices(studies: StudySummary[]): { choices: RunChoice[]; error: string | null } {
  const api = useApi();
  const [choices, setChoices] = useState<RunChoice[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  useEffect(() => api.subscribe('library.changed', (e) => (e.reason === 'run-added' || e.reason === 'run-deleted') && setGeneration((g) => g + 1)), [api]);
  useEffect(() => {
    let alive = true;
    const all = studies.flatMap((study) => study.series.map((series) => ({ study, series })));
    Promise.all(all.map(({ study, series }) => api.call('analysis.runs', { seriesId: series.id }).then((runs) => runs.map((run) => ({ run, study, series })))))
      .then((lists) => {
        if (!alive) return;
        const flat = lists.flat().map((c) => ({
          ...c,
          text: `${c.study.patientName || 'Unnamed patient'} · ${describeSeries(c.series)} · ${c.run.label} · ${formatStudyDate(c.series.date || c.study.studyDate)}`,
        }));
        flat.sort((x, y) => x.study.patientName.localeCompare(y.study.patientName) || (x.series.date || x.study.studyDate).localeCompare(y.series.date || y.study.studyDate) || x.series.description.localeCompare(y.series.description, undefined, { numeric: true }) || x.run.createdAt.localeCompare(y.run.createdAt));
        setChoices(flat);
        setError(null);
      })
      .catch((e: Error) => alive && setError(e.message));
    return () => {
      alive = false;
    };
  }, [api, studies, generation]);
  return { choices, error };
}

/**
 * The lesion labels a side shows: the reviewed mask when the run has a review (what the
 * comparison measures), else the run's saved reading.
 */
function useRunLabels(run: RunInfo, voxelCount: number): { labels: Int32Array | undefined; colors: (RGB | undefined)[] | undefined; reviewed: boolean; error: string | null } {
  const api = useApi();
  const [state, setState] = useState<{ labels?: Int32Array; colors?: (RGB | undefined)[]; reviewed: boolean; error: string | null }>({ reviewed: false, error: null });
  useEffect(() => {
    let alive = true;
    setState({ reviewed: false, error: null });
    (async () => {
      const review = await api.call('review.get', { runId: run.id });
      if (review.started) {
        const colors: (RGB | undefined)[] = [];
        for (const l of review.lesions) if (l.status === 'rejected') colors[l.label] = [128, 128, 128];
        return { labels: labelVolume(review, voxelCount), colors, reviewed: true, error: null };
      }
      const outcome = await api.call('analysis.threshold', { runId: run.id, reading: run.reading });
      return { labels: labelVolume(outcome, voxelCount), reviewed: false, error: null };
    })().then(
      (s) => alive && setState(s),
      (e: Error) => alive && setState({ reviewed: false, error: e.message }),
    );
    return () => {
      alive = false;
    };
  }, [api, run, voxelCount]);
  return { labels: state.labels, colors: state.colors, reviewed: state.reviewed, error: state.error };
}

interface SideProps {
  side: 'a' | 'b';
  choice: RunChoice;
  position: VoxelIndex;
  onPositionChange: (p: VoxelIndex) => void;
  display: OverlayDisplay;
  onDisplayChange: (d: OverlayDisplay) => void;
  handle: React.RefObject<ViewerHandle | null>;
}

function CompareSide({ side, choice, position, onPositionChange, display, onDisplayChange, handle }: SideProps) {
  const d = choice.series.dims;
  const { labels, colors, reviewed, error } = useRunLabels(choice.run, d[0] * d[1] * d[2]);
  return (
    <section className="compare-side" data-testid={`compare-side-${side}`} aria-label={`Run ${side.toUpperCase()}`}>
      <header className="compare-side-head">
        <span className="compare-tag">{side.toUpperCase()}</span>
        <span className="compare-side-text" title={choice.text}>
          {choice.text}
        </span>
        <span className={reviewed ? 'compare-badge reviewed' : 'compare-badge'}>{reviewed ? 'reviewed mask' : 'saved reading'}</span>
      </header>
      {error && (
        <div className="error-text small" role="alert">
          {error}
        </div>
      )}
      <div className="compare-viewer">
        <Viewer
          ref={handle}
          seriesId={choice.series.id}
          labelMask={labels}
          labelColors={colors}
          position={position}
          onPositionChange={onPositionChange}
          display={display}
          onDisplayChange={onDisplayChange}
          globalShortcuts={false}
        />
      </div>
    </section>
  );
}

const ZOOMS = [1, 1.5, 2, 3];

function ComparePanes({ a, b }: { a: RunChoice; b: RunChoice }) {
  const api = useApi();
  const dimsA = a.series.dims;
  const dimsB = b.series.dims;
  const centre = (d: readonly number[]) => ({ i: Math.floor(d[0] / 2), j: Math.floor(d[1] / 2), k: Math.floor(d[2] / 2) });
  const [posA, setPosA] = useState<VoxelIndex>(() => centre(dimsA));
  const [posB, setPosB] = useState<VoxelIndex>(() => mapPosition(centre(dimsA), dimsA, dimsB));
  const [display, setDisplay] = useState<OverlayDisplay>({ ...DEFAULT_OVERLAY_DISPLAY });
  const [result, setResult] = useState<ComparisonResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [zoom, setZoom] = useState(1);
  const handleA = useRef<ViewerHandle | null>(null);
  const handleB = useRef<ViewerHandle | null>(null);

  useEffect(() => {
    let alive = true;
    setResult(null);
    setError(null);
    api.call('compare.runs', { runA: a.run.id, runB: b.run.id }).then(
      (r) => alive && setResult(r),
      (e: Error) => alive && setError(e.message),
    );
    return () => {
      alive = false;
    };
  }, [api, a.run.id, b.run.id]);

  const moveA = useCallback(
    (p: VoxelIndex) => {
      setPosA(p);
      setPosB(mapPosition(p, dimsA, dimsB));
    },
    [dimsA, dimsB],
  );
  const moveB = useCallback(
    (p: VoxelIndex) => {
      setPosB(p);
      setPosA(mapPosition(p, dimsB, dimsA));
    },
    [dimsA, dimsB],
  );

  // The viewer reports no window changes, so both windows are watched: whichever the reader
  // changed (drag, preset, key) is applied to the other.
  const synced = useRef<CtWindow | null>(null);
  useEffect(() => {
    const timer = setInterval(() => {
      const ha = handleA.current;
      const hb = handleB.current;
      if (!ha || !hb) return;
      const wa = ha.getWindow();
      const wb = hb.getWindow();
      if (sameWindow(wa, wb)) {
        synced.current = wa;
        return;
      }
      if (!synced.current) {
        // First look: both follow A.
        hb.setWindow(wa);
        synced.current = wa;
      } else if (!sameWindow(wa, synced.current)) {
        hb.setWindow(wa);
        synced.current = wa;
      } else {
        ha.setWindow(wb);
        synced.current = wb;
      }
    }, 150);
    return () => clearInterval(timer);
  }, []);

  function zoomBoth(z: number) {
    setZoom(z);
    handleA.current?.goTo(posA, { zoom: z });
    handleB.current?.goTo(posB, { zoom: z });
  }

  const gridsDiffer = result ? !result.sameGrid : dimsA.some((v, n) => v !== dimsB[n]);

  return (
    <div className="compare-body">
      <div className="compare-sync-bar">
        <span className="small muted">Slice, window and overlays are synchronised.</span>
        <span className="compare-zoom" role="group" aria-label="Zoom both">
          Zoom both:
          {ZOOMS.map((z) => (
            <button key={z} aria-pressed={zoom === z} onClick={() => zoomBoth(z)} data-testid={`compare-zoom-${z}`}>
              {z === 1 ? 'Fit' : `${z}×`}
            </button>
          ))}
        </span>
      </div>
      {result && (
        <div className={gridsDiffer ? 'compare-matching warn-box' : 'compare-matching'} data-testid="compare-matching" data-same-grid={String(result.sameGrid)} role={gridsDiffer ? 'alert' : undefined}>
          {gridsDiffer ? '⚠ ' : ''}
          {result.matching}
          {gridsDiffer ? ' Slices are kept in step by their position along each axis.' : ''}
        </div>
      )}
      {result &&
        (
          [
            ['compare-subject-note', result.subjectNote],
            ['compare-reading-note', result.readingNote],
            ['compare-reference-note', result.referenceNote],
          ] as const
        ).map(([testId, note]) =>
          note ? (
            <div key={testId} className="compare-matching warn-box" data-testid={testId} role="alert">
              ⚠ {note}
            </div>
          ) : null,
        )}
      <div className="compare-panes">
        <CompareSide side="a" choice={a} position={posA} onPositionChange={moveA} display={display} onDisplayChange={setDisplay} handle={handleA} />
        <CompareSide side="b" choice={b} position={posB} onPositionChange={moveB} display={display} onDisplayChange={setDisplay} handle={handleB} />
      </div>
      <CompareTable result={result} error={error} a={a} b={b} />
    </div>
  );
}

function CompareTable({ result, error, a, b }: { result: ComparisonResult | null; error: string | null; a: RunChoice; b: RunChoice }) {
  if (error)
    return (
      <div className="compare-table error-text" role="alert">
        {error}
      </div>
    );
  if (!result) return <div className="compare-table muted">Measuring lesion volumes…</div>;
  const total = formatChange(result.totalChangeMl, result.totalChangePct);
  const truthChange = truthTotalChange(result);
  return (
    <div className="compare-table" data-testid="compare-table">
      <div className="compare-summary">
        <span data-testid="compare-interval">
          Interval: {describeInterval(result.intervalDays)}
        </span>
        <span>
          A: {formatStudyDate(result.dateA ?? a.study.studyDate)} {result.reviewedA ? '(reviewed)' : '(not reviewed)'} · B: {formatStudyDate(result.dateB ?? b.study.studyDate)} {result.reviewedB ? '(reviewed)' : '(not reviewed)'}
        </span>
      </div>
      {(!result.reviewedA || !result.reviewedB) && <div className="small muted">Volumes of an unreviewed run are the analysis' own mask at its saved reading, false positives included.</div>}
      <table>
        <thead>
          <tr>
            <th>Lesion A</th>
            <th>Lesion B</th>
            <th>Density</th>
            <th className="num">A (mL)</th>
            <th className="num">B (mL)</th>
            <th className="num">Change (mL)</th>
            <th className="num">Change</th>
          </tr>
        </thead>
        <tbody>
          {result.rows.map((r, n) => {
            const c = formatChange(r.changeMl, r.changePct);
            return (
              <tr key={n} data-testid="compare-row">
                <td>{r.labelA ?? '—'}</td>
                <td>{r.labelB ?? '—'}</td>
                <td>
                  {densityLabel(r.sign)}
                  {r.truthId && <span className="muted small" data-testid="compare-row-truth">{` · on generated ${r.truthId}`}</span>}
                </td>
                <td className="num">{r.labelA === null ? '—' : formatMl(r.volumeMlA)}</td>
                <td className="num">{r.labelB === null ? '—' : formatMl(r.volumeMlB)}</td>
                <td className="num">{c.ml}</td>
                <td className="num">{r.labelB === null ? 'gone' : c.pct}</td>
              </tr>
            );
          })}
          {result.rows.length === 0 && (
            <tr>
              <td colSpan={7} className="muted">
                No lesions in either run.
              </td>
            </tr>
          )}
        </tbody>
        <tfoot>
          <tr className="total">
            <th colSpan={3}>Total</th>
            <td className="num" data-testid="compare-total-a">
              {formatMl(result.totalMlA)}
            </td>
            <td className="num" data-testid="compare-total-b">
              {formatMl(result.totalMlB)}
            </td>
            <td className="num" data-testid="compare-total-change">
              {total.ml}
            </td>
            <td className="num">{total.pct}</td>
          </tr>
          {result.truth && truthChange && (
            <tr className="truth" data-testid="compare-truth">
              <th colSpan={3}>Generated (synthetic truth)</th>
              <td className="num">{formatMl(result.truth.totalMlA)}</td>
              <td className="num">{formatMl(result.truth.totalMlB)}</td>
              <td className="num">{truthChange.ml}</td>
              <td className="num">{truthChange.pct}</td>
            </tr>
          )}
          {result.truth?.lesions.map((t) => {
            const c = formatChange(t.changeMl, t.changePct);
            return (
              <tr key={t.id} className="truth" data-testid="compare-truth-lesion">
                <th colSpan={3}>
                  Generated {t.id} ({t.type})
                </th>
                <td className="num">{formatMl(t.volumeMlA)}</td>
                <td className="num">{formatMl(t.volumeMlB)}</td>
                <td className="num">{c.ml}</td>
                <td className="num">{c.pct}</td>
              </tr>
            );
          })}
        </tfoot>
      </table>
    </div>
  );
}

/**
 * Two analysis runs side by side (two timepoints of one patient, two studies, or two runs of one
 * series) with synchronised slice, window, overlays and zoom, and the table of lesion volumes and
 * their change.
 */
export function CompareView({ studies, onClose }: { studies: StudySummary[]; onClose: () => void }) {
  const { choices, error } = useRunChoices(studies);
  const [pickA, setPickA] = useState('');
  const [pickB, setPickB] = useState('');
  const [shown, setShown] = useState<{ a: string; b: string } | null>(null);
  const byId = useMemo(() => new Map(choices.map((c) => [c.run.id, c])), [choices]);
  const a = shown ? byId.get(shown.a) : undefined;
  const b = shown ? byId.get(shown.b) : undefined;
  const canCompare = pickA && pickB && pickA !== pickB;

  return (
    <div className="compare" data-testid="compare-view">
      <div className="compare-picker">
        <label>
          Run A
          <select value={pickA} onChange={(e) => setPickA(e.target.value)} data-testid="compare-run-a">
            <option value="">Choose a run…</option>
            {choices.map((c) => (
              <option key={c.run.id} value={c.run.id}>
                {c.text}
              </option>
            ))}
          </select>
        </label>
        <label>
          Run B
          <select value={pickB} onChange={(e) => setPickB(e.target.value)} data-testid="compare-run-b">
            <option value="">Choose a run…</option>
            {choices.map((c) => (
              <option key={c.run.id} value={c.run.id} disabled={c.run.id === pickA}>
                {c.text}
              </option>
            ))}
          </select>
        </label>
        <button className="compare-go" disabled={!canCompare} onClick={() => setShown({ a: pickA, b: pickB })} data-testid="compare-go">
          Compare
        </button>
        <button onClick={onClose} data-testid="compare-close" title="Back to reading one series">
          Close
        </button>
      </div>
      {error && (
        <div className="error-text small" role="alert">
          {error}
        </div>
      )}
      {a && b ? (
        <ComparePanes key={`${a.run.id}:${b.run.id}`} a={a} b={b} />
      ) : (
        <div className="empty-state">
          <h2>Compare two analyses</h2>
          <p>
            {choices.length < 2
              ? 'Comparison needs at least two finished analysis runs: analyse two timepoints or studies first.'
              : 'Choose run A (usually the earlier timepoint) and run B, then press Compare.'}
          </p>
        </div>
      )}
    </div>
  );
}
