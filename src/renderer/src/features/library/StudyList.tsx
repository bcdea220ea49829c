import { useState } from 'react';
import type { StudySummary } from '../../../../shared/types';
import { useApi } from '../../api/context';

/**
 * Removing a study from the library asks once, in place, and says what goes with it (every series
 * and analysis of it, from this computer; the original files it was imported from stay).
 */
function DeleteStudy({ study }: { study: StudySummary }) {
  const api = useApi();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const name = study.patientName || 'Unnamed patient';
  if (!asking)
    return (
      <button className="small link-button" onClick={() => setAsking(true)} data-testid="study-delete" title="Remove this study, its series and analyses from the library">
        Remove…
      </button>
    );
  return (
    <div className="confirm small" role="group" aria-label={`Remove ${name}`} data-testid="study-delete-confirm">
      <span>
        Remove {name}, {study.series.length} series and their analyses from the library? The files it was imported from are not touched.
      </span>
      <span className="row">
        <button
          className="danger small"
          disabled={busy}
          data-testid="study-delete-yes"
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await api.call('studies.delete', { studyId: study.id });
            } catch (e) {
              setError((e as Error).message);
              setBusy(false);
            }
          }}
        >
          Remove
        </button>
        <button className="small" disabled={busy} onClick={() => setAsking(false)}>
          Keep
        </button>
      </span>
      {error && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

export function StudyList(props: {
  studies: StudySummary[];
  loaded: boolean;
  error: string | null;
  selectedSeriesId: string | null;
  onSelectSeries: (id: string) => void;
}) {
  const api = useApi();
  if (props.error) return <div className="error-text" role="alert">{props.error}</div>;
  if (!props.loaded) return <div className="muted">Loading library…</div>;
  if (props.studies.length === 0) return <div className="muted" data-testid="library-empty">No studies yet.</div>;
  return (
    <ul className="study-list" data-testid="study-list">
      {props.studies.map((st) => (
        <li key={st.id} className="study">
          <div className="study-head">
            <strong>{st.patientName || 'Unnamed patient'}</strong>
            <span className="muted">{st.patientIdentifier}</span>
          </div>
          <div className="muted small study-sub">
            <span>
              {formatDate(st.studyDate)} {st.description}
            </span>
            <DeleteStudy study={st} />
          </div>
          <ul className="series-list">
            {st.series.map((se) => (
              <li key={se.id}>
                <button
                  className={`series-item${se.id === props.selectedSeriesId ? ' selected' : ''}`}
                  onClick={() => props.onSelectSeries(se.id)}
                  data-testid="series-item"
                  data-series-id={se.id}
                  aria-pressed={se.id === props.selectedSeriesId}
                >
                  <img className="thumb" alt="" src={api.blobUrl(`series/${se.id}/thumbnail`)} width={48} height={48} />
                  <span className="series-text">
                    <span>
                      {se.modality || '?'} · {se.description || `Series ${se.seriesNumber ?? ''}`}
                    </span>
                    <span className="muted small">
                      {se.dims[0]}×{se.dims[1]}×{se.dims[2]} · {se.spacing.map((s) => s.toFixed(2)).join('×')} mm
                    </span>
                    {se.warnings.length > 0 && (
                      <span className="warn small" title={se.warnings.map((w) => w.message).join('\n')}>
                        ⚠ {se.warnings.length} warning{se.warnings.length > 1 ? 's' : ''}
                      </span>
                    )}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </li>
      ))}
    </ul>
  );
}

/** DICOM dates are YYYYMMDD. */
export function formatDate(d: string): string {
  return /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : d;
}
