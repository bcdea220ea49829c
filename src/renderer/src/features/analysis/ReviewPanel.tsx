import { useState } from 'react';
import { useApi } from '../../api/context';
import type { ReviewLesionType, ReviewState, ReviewStatus } from '../../../../shared/types';
import { downloadFile } from '../../download';
import { BrushTools, type BrushToolState } from '../brush/BrushTools';

export interface BrushSettings extends BrushToolState {
  target: 'lesion' | 'brain';
  /** Paint into this lesion; null: each stroke starts a new lesion. */
  label: number | null;
}

export const DEFAULT_BRUSH: BrushSettings = { active: false, target: 'lesion', mode: 'paint', radiusMm: 3, sphere: false, label: null };

const TYPES: { id: ReviewLesionType; label: string }[] = [
  { id: '', label: '— type —' },
  { id: 'iph', label: 'Intraparenchymal hem.' },
  { id: 'ivh', label: 'Intraventricular hem.' },
  { id: 'sah', label: 'Subarachnoid hem.' },
  { id: 'sdh', label: 'Subdural hem.' },
  { id: 'edh', label: 'Epidural hem.' },
  { id: 'infarct', label: 'Infarct' },
  { id: 'mass', label: 'Mass' },
  { id: 'artefact', label: 'Artefact' },
  { id: 'other', label: 'Other' },
];

/** Reviewer tools: freeze the mask, brush/eraser, accept/reject, type and note, undo/redo. */
export function ReviewPanel(props: {
  runId: string;
  review: ReviewState | null;
  onReview: (s: ReviewState) => void;
  onStart: () => Promise<void>;
  brush: BrushSettings;
  onBrush: (b: BrushSettings) => void;
  onSelectLesion: (label: number) => void;
  selected: number | null;
}) {
  const api = useApi();
  const [error, setError] = useState<string | null>(null);
  const r = props.review;
  const act = async (fn: () => Promise<ReviewState>) => {
    setError(null);
    try {
      props.onReview(await fn());
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const setLesion = (label: number, patch: { status?: ReviewStatus; type?: ReviewLesionType; note?: string }) => act(() => api.call('review.setLesion', { runId: props.runId, label, ...patch }));
  const b = props.brush;
  const setBrush = (patch: Partial<BrushSettings>) => props.onBrush({ ...b, ...patch });

  if (!r?.started) {
    return (
      <section className="panel" aria-label="Review" data-testid="review-panel">
        <h3>Review</h3>
        <p className="small muted">Reviewing freezes the lesion mask at the current threshold; then correct it with the brush and accept or reject each lesion. Every edit is saved with your name and time.</p>
        <button onClick={() => void props.onStart().catch((e: Error) => setError(e.message))} data-testid="review-start">
          Start review
        </button>
        {error && <div className="error-text small">{error}</div>}
      </section>
    );
  }
  return (
    <section className="panel" aria-label="Review" data-testid="review-panel">
      <h3>
        Review <span className="small muted">frozen at {r.threshold?.description}</span>
      </h3>
      <BrushTools brush={b} onChange={setBrush} testIdPrefix="brush" defaultRadiusMm={DEFAULT_BRUSH.radiusMm}>
        <select value={b.target} onChange={(e) => setBrush({ target: e.target.value as BrushSettings['target'] })} aria-label="Brush edits" data-testid="brush-target">
          <option value="lesion">Lesion mask</option>
          <option value="brain">Brain mask</option>
        </select>
      </BrushTools>
      {b.target === 'lesion' && b.mode === 'paint' && (
        <div className="small">
          Paint into:{' '}
          <select value={b.label ?? ''} onChange={(e) => setBrush({ label: e.target.value ? Number(e.target.value) : null })} aria-label="Paint into lesion">
            <option value="">a new lesion</option>
            {r.lesions.map((l) => (
              <option key={l.label} value={l.label}>
                lesion {l.label}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="row">
        <button disabled={!r.canUndo} onClick={() => void act(() => api.call('review.undo', { runId: props.runId }))} data-testid="review-undo" title="Undo (Ctrl+Z)">
          Undo
        </button>
        <button disabled={!r.canRedo} onClick={() => void act(() => api.call('review.redo', { runId: props.runId }))} data-testid="review-redo" title="Redo (Ctrl+Shift+Z)">
          Redo
        </button>
        <button
          onClick={() => {
            if (confirm('Discard the review and all its edits? The analysis itself is kept.')) void act(() => api.call('review.discard', { runId: props.runId }));
          }}
        >
          Discard review
        </button>
      </div>
      <table className="lesion-table review-lesions" data-testid="review-lesions">
        {/* Fixed columns: the type list shrinks so that the note stays inside the panel. */}
        <colgroup>
          <col style={{ width: 30 }} />
          <col style={{ width: 62 }} />
          <col style={{ width: 58 }} />
          <col />
          <col style={{ width: 72 }} />
        </colgroup>
        <tbody>
          {/* Largest first, as in the lesion list and the report. */}
          {[...r.lesions].sort((x, y) => y.volumeMl - x.volumeMl || x.label - y.label).map((l) => (
            <tr key={l.label} className={`${l.label === props.selected ? 'selected' : ''} ${l.status === 'rejected' ? 'rejected' : ''}`} data-testid="review-lesion" data-label={l.label} data-status={l.status}>
              <td onClick={() => props.onSelectLesion(l.label)} title="Go to this lesion">
                {l.label}
                {l.origin === 'drawn' ? '✎' : ''}
              </td>
              <td onClick={() => props.onSelectLesion(l.label)}>{l.volumeMl.toFixed(2)} mL</td>
              <td>
                <button className="tiny" aria-pressed={l.status === 'accepted'} onClick={() => void setLesion(l.label, { status: l.status === 'accepted' ? 'pending' : 'accepted' })} title="Accept" data-testid="accept-lesion">
                  ✓
                </button>
                <button className="tiny" aria-pressed={l.status === 'rejected'} onClick={() => void setLesion(l.label, { status: l.status === 'rejected' ? 'pending' : 'rejected' })} title="Reject" data-testid="reject-lesion">
                  ✗
                </button>
              </td>
              <td>
                <select value={l.type} onChange={(e) => void setLesion(l.label, { type: e.target.value as ReviewLesionType })} aria-label={`Type of lesion ${l.label}`}>
                  {TYPES.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.label}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <input
                  defaultValue={l.note}
                  placeholder="note"
                  aria-label={`Note on lesion ${l.label}`}
                  onBlur={(e) => e.target.value !== l.note && void setLesion(l.label, { note: e.target.value })}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {r.history.length > 0 && (
        <details className="small">
          <summary>History ({r.history.filter((h) => !h.undone).length} edits)</summary>
          <ol className="history">
            {r.history.map((h, i) => (
              <li key={i} className={h.undone ? 'muted' : ''}>
                {h.summary} — {h.author}, {new Date(h.at).toLocaleString()}
                {h.undone ? ' (undone)' : ''}
              </li>
            ))}
          </ol>
        </details>
      )}
      {error && (
        <div className="error-text small" role="alert">
          {error}
        </div>
      )}
    </section>
  );
}

/** Download exports of the run (PDF report, DICOM SEG, NIfTI mask, CSV/JSON lesion table). */
export function ExportPanel({ runId }: { runId: string }) {
  const api = useApi();
  const [deidentify, setDeidentify] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function download(format: 'pdf' | 'seg' | 'nifti' | 'csv' | 'json') {
    setError(null);
    setStatus(`Writing ${format.toUpperCase()}…`);
    try {
      const out = await api.call('export.run', { runId, format, deidentify });
      await downloadFile(api, out.downloadPath, out.fileName);
      setStatus(`${out.fileName} (${Math.ceil(out.bytes / 1024)} KB)${out.reviewed ? ', with review edits' : ''}${out.warnings.length ? ` — ${out.warnings.join(' ')}` : ''}`);
    } catch (e) {
      setStatus(null);
      setError((e as Error).message);
    }
  }
  return (
    <section className="panel" aria-label="Export" data-testid="export-panel">
      <h3>Export</h3>
      <div className="row wrap">
        <button onClick={() => void download('pdf')} data-testid="export-pdf">
          PDF report
        </button>
        <button onClick={() => void download('seg')} data-testid="export-seg">
          DICOM SEG
        </button>
        <button onClick={() => void download('nifti')}>NIfTI mask</button>
        <button onClick={() => void download('csv')}>CSV</button>
        <button onClick={() => void download('json')}>JSON</button>
      </div>
      <label className="small">
        <input type="checkbox" checked={deidentify} onChange={(e) => setDeidentify(e.target.checked)} /> De-identified
      </label>
      {status && (
        <div className="small muted" data-testid="export-status">
          {status}
        </div>
      )}
      {error && (
        <div className="error-text small" role="alert">
          {error}
        </div>
      )}
    </section>
  );
}
