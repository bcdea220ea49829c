import { useCallback, useEffect, useMemo, useState } from 'react';
import { useAppInfo, useStudies } from './api/context';
import { StudyList } from './features/library/StudyList';
import { ImportPanel } from './features/library/ImportPanel';
import { ReadingWorkspace } from './features/analysis/ReadingWorkspace';
import { JobBar } from './features/jobs/JobBar';
import { DemoButton } from './features/library/DemoButton';
import { CompareView } from './features/compare/CompareView';
import type { SeriesSummary, StudySummary } from '../../shared/types';

/** The open series survives a reload of this window (not a new one): kept per tab, like the access token. */
const OPEN_SERIES_KEY = 'inpaint-ct-open-series';

function useOpenSeries(): [string | null, (id: string | null) => void] {
  const [id, setId] = useState<string | null>(() => sessionStorage.getItem(OPEN_SERIES_KEY));
  const set = useCallback((next: string | null) => {
    if (next) sessionStorage.setItem(OPEN_SERIES_KEY, next);
    else sessionStorage.removeItem(OPEN_SERIES_KEY);
    setId(next);
  }, []);
  return [id, set];
}

export function App() {
  const { info, error: infoError } = useAppInfo();
  const { studies, loaded, error } = useStudies();
  const [selectedSeriesId, setSelectedSeriesId] = useOpenSeries();
  const [comparing, setComparing] = useState(false);

  const selection = useMemo(() => {
    for (const st of studies) for (const se of st.series) if (se.id === selectedSeriesId) return { study: st, series: se };
    return null;
  }, [studies, selectedSeriesId]) as { study: StudySummary; series: SeriesSummary } | null;

  // A library of one series (the demo on a first start, or a first import) opens it: there is
  // nothing to choose, and a newcomer should land on the scan rather than on an empty viewer.
  const onlySeriesId = studies.length === 1 && studies[0].series.length === 1 ? studies[0].series[0].id : null;
  useEffect(() => {
    if (loaded && !selection && !comparing && onlySeriesId) setSelectedSeriesId(onlySeriesId);
  }, [loaded, selection, comparing, onlySeriesId, setSelectedSeriesId]);

  return (
    <div className="app" data-testid="app-shell">
      <header className="topbar">
        <div className="brand">
          <span className="brand-name">Inpaint CT</span>
          <span className="research-badge" title={info?.researchNotice}>
            RESEARCH USE ONLY — not for diagnosis
          </span>
        </div>
        <div className="topbar-info">
          <button className="compare-open" aria-pressed={comparing} onClick={() => setComparing((c) => !c)} data-testid="compare-open" title="Two runs side by side: timepoints, studies or runs of one series">
            Compare…
          </button>{' '}
          {info ? (
            <span data-testid="app-version">
              v{info.version} · {info.mode === 'electron' ? 'desktop' : 'browser mode'}
            </span>
          ) : infoError ? (
            <span className="error-text">{infoError}</span>
          ) : (
            <span>connecting…</span>
          )}
        </div>
      </header>
      <aside className="library" aria-label="Study library">
        <ImportPanel />
        <StudyList
          studies={studies}
          loaded={loaded}
          error={error}
          selectedSeriesId={selectedSeriesId}
          onSelectSeries={(id) => {
            setComparing(false);
            setSelectedSeriesId(id);
          }}
        />
      </aside>
      <main className="viewer-area" aria-label="Viewer">
        {comparing ? (
          <CompareView studies={studies} onClose={() => setComparing(false)} />
        ) : selection ? (
          <ReadingWorkspace key={selection.series.id} study={selection.study} series={selection.series} onOpenSeries={setSelectedSeriesId} />
        ) : (
          <div className="empty-state">
            <h2>No series selected</h2>
            <p>{studies.length === 0 && loaded ? 'The library is empty. Import DICOM, NIfTI or PNG images, or load the demo study.' : 'Choose a series in the library on the left.'}</p>
            {studies.length === 0 && loaded && <DemoButton />}
          </div>
        )}
      </main>
      <footer className="jobs-area" aria-label="Background jobs">
        <JobBar />
      </footer>
    </div>
  );
}
