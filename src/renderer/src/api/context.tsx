import { createContext, useContext, useEffect, useState, useCallback, type ReactNode } from 'react';
import type { JobInfo, StudySummary, AppInfo } from '../../../shared/types';
import { createTransport, type Transport } from './transport';

const TransportContext = createContext<Transport | null>(null);

export function TransportProvider({ transport, children }: { transport?: Transport; children: ReactNode }) {
  const [t] = useState(() => transport ?? createTransport());
  return <TransportContext.Provider value={t}>{children}</TransportContext.Provider>;
}

export function useApi(): Transport {
  const t = useContext(TransportContext);
  if (!t) throw new Error('useApi outside TransportProvider');
  return t;
}

export function useAppInfo(): { info: AppInfo | null; error: string | null } {
  const api = useApi();
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.call('app.info', {}).then(setInfo, (e: Error) => setError(e.message));
  }, [api]);
  return { info, error };
}

/** The study library, refreshed whenever the services say it changed. */
export function useStudies(): { studies: StudySummary[]; loaded: boolean; error: string | null; reload: () => void } {
  const api = useApi();
  const [studies, setStudies] = useState<StudySummary[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    api.call('studies.list', {}).then(
      (s) => {
        setStudies(s);
        setLoaded(true);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  }, [api]);
  useEffect(() => {
    reload();
    return api.subscribe('library.changed', reload);
  }, [api, reload]);
  return { studies, loaded, error, reload };
}

/** Recent jobs with live progress. */
export function useJobs(): JobInfo[] {
  const api = useApi();
  const [jobs, setJobs] = useState<JobInfo[]>([]);
  useEffect(() => {
    let alive = true;
    api.call('jobs.list', { limit: 20 }).then((j) => alive && setJobs(j), () => undefined);
    const upsert = (job: JobInfo) =>
      setJobs((prev) => {
        const i = prev.findIndex((p) => p.id === job.id);
        if (i < 0) return [job, ...prev].slice(0, 20);
        const next = prev.slice();
        next[i] = job;
        return next;
      });
    const off1 = api.subscribe('job.progress', upsert);
    const off2 = api.subscribe('job.finished', upsert);
    return () => {
      alive = false;
      off1();
      off2();
    };
  }, [api]);
  return jobs;
}
