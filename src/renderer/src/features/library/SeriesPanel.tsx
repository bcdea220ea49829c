import type { SeriesSummary, StudySummary } from '../../../../shared/types';
import { useApi } from '../../api/context';
import { formatDate } from './StudyList';

/** What is known about the selected series; the slice viewer builds on this area. */
export function SeriesPanel({ study, series }: { study: StudySummary; series: SeriesSummary }) {
  const api = useApi();
  return (
    <section className="series-panel" data-testid="series-panel">
      <img className="series-preview" alt="Middle slice at brain window" src={api.blobUrl(`series/${series.id}/thumbnail`)} />
      <dl className="facts">
        <dt>Patient</dt>
        <dd>{study.patientName || '—'} {study.patientIdentifier && `(${study.patientIdentifier})`}</dd>
        <dt>Study</dt>
        <dd>{formatDate(study.studyDate) || '—'} {study.description}</dd>
        <dt>Series</dt>
        <dd>{series.modality} · {series.description || `#${series.seriesNumber ?? ''}`}</dd>
        <dt>Matrix</dt>
        <dd>{series.dims.join(' × ')} voxels</dd>
        <dt>Spacing</dt>
        <dd>{series.spacing.map((s) => s.toFixed(3)).join(' × ')} mm</dd>
        <dt>Source</dt>
        <dd>{series.source}{series.deidentified ? ' · de-identified' : ''}</dd>
      </dl>
      {series.warnings.length > 0 && (
        <ul className="warnings" data-testid="series-warnings">
          {series.warnings.map((w, i) => (
            <li key={i} className="warn">⚠ {w.message}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
