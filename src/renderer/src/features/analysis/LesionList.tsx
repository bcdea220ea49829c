import type { LesionInfo, ThresholdOutcome } from '../../../../shared/types';

const SIGN_TEXT: Record<LesionInfo['sign'], string> = { hyper: 'hyperdense', hypo: 'hypodense', unknown: '—' };

export function LesionList({ outcome, selected, onSelect }: { outcome: ThresholdOutcome | null; selected: number | null; onSelect: (l: LesionInfo) => void }) {
  if (!outcome) return null;
  return (
    <section className="panel" aria-label="Lesions">
      <h3>
        Lesions <span className="muted small" data-testid="lesion-count">{outcome.lesions.length} · {outcome.lesionVolumeMl.toFixed(2)} mL</span>
      </h3>
      {outcome.lesions.length === 0 ? (
        <div className="muted small">No region exceeds the threshold.</div>
      ) : (
        <table className="lesion-table" data-testid="lesion-list">
          <thead>
            <tr>
              <th>#</th>
              <th>mL</th>
              <th>Slices</th>
              <th>Max</th>
              <th>Sign</th>
            </tr>
          </thead>
          <tbody>
            {outcome.lesions.map((l) => (
              <tr
                key={l.label}
                className={l.label === selected ? 'selected' : ''}
                onClick={() => onSelect(l)}
                data-testid="lesion-row"
                data-label={l.label}
                tabIndex={0}
                onKeyDown={(e) => e.key === 'Enter' && onSelect(l)}
                title={`Centroid ${l.centroidLps.map((c) => c.toFixed(1)).join(', ')} mm (LPS); mean ${l.meanHu?.toFixed(0) ?? '?'} HU`}
              >
                <td>{l.label}</td>
                <td>{l.volumeMl.toFixed(2)}</td>
                <td>
                  {l.sliceRange[0] + 1}–{l.sliceRange[1] + 1}
                </td>
                <td>{l.maxScore.toFixed(2)}</td>
                <td className={l.sign === 'hyper' ? 'hyper' : l.sign === 'hypo' ? 'hypo' : ''}>{SIGN_TEXT[l.sign]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="muted small">Threshold: {outcome.threshold.description} · {outcome.elapsedMs.toFixed(0)} ms</div>
    </section>
  );
}
