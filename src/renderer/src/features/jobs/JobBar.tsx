import { useApi, useJobs } from '../../api/context';
import type { JobInfo } from '../../../../shared/types';

function eta(job: JobInfo): string {
  if (!job.startedAt || job.done <= 0 || job.total <= 0 || job.done >= job.total) return '';
  const elapsed = (Date.now() - Date.parse(job.startedAt)) / 1000;
  const remaining = (elapsed / job.done) * (job.total - job.done);
  return remaining > 90 ? ` · about ${Math.round(remaining / 60)} min left` : ` · about ${Math.max(1, Math.round(remaining))} s left`;
}

export function JobBar() {
  const api = useApi();
  const jobs = useJobs();
  const visible = jobs.filter((j) => j.status === 'running' || j.status === 'queued').concat(jobs.filter((j) => j.status !== 'running' && j.status !== 'queued').slice(0, 3));
  if (visible.length === 0) return <div className="muted small">No background jobs.</div>;
  return (
    <ul className="job-list" data-testid="job-list">
      {visible.map((j) => {
        const pct = j.total > 0 ? Math.min(100, (100 * j.done) / j.total) : j.status === 'succeeded' ? 100 : 0;
        return (
          <li key={j.id} className={`job job-${j.status}`} data-testid="job" data-status={j.status} data-kind={j.kind}>
            <span className="job-title">{j.title}</span>
            <progress max={100} value={pct} aria-label={`${j.title} progress`} />
            <span className="job-stage small">
              {j.status === 'running' ? `${j.stage} ${j.total ? `${j.done}/${j.total}` : ''}${eta(j)}` : j.status}
              {j.error && j.status !== 'cancelled' ? ` — ${j.error.message}` : ''}
              {j.status === 'succeeded' && j.message ? ` — ${j.message}` : ''}
            </span>
            {(j.status === 'running' || j.status === 'queued') && (
              <button className="small" onClick={() => void api.call('jobs.cancel', { jobId: j.id })}>
                Cancel
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
