import type { ReadingSettings } from '../../../../shared/analysis';
import { DEFAULT_ABSOLUTE_CUT, DEFAULT_Z_CUT, DENSE_EXCLUSION_HU, describeStrategy } from '../../../../shared/analysis';
import { useState } from 'react';
import type { HealthyReferenceStamp, RunReferenceInfo, ThresholdOutcome } from '../../../../shared/types';
import { describeReferenceStamp, referenceState } from '../../../../shared/provenance';

type Strategy = ReadingSettings['strategy'];

function Histogram({ outcome }: { outcome: ThresholdOutcome }) {
  const { counts, min, binWidth } = outcome.histogram;
  const w = 280;
  const h = 64;
  // Log heights: the healthy bulk would otherwise flatten the tail where lesions live.
  const logs = counts.map((c) => Math.log10(1 + c));
  const top = Math.max(1e-9, ...logs);
  const barW = w / counts.length;
  const span = binWidth * counts.length;
  const cutX = span > 0 ? ((outcome.threshold.value - min) / span) * w : 0;
  return (
    <svg className="histogram" width={w} height={h} role="img" aria-label="Histogram of brain scores with the current cut" data-testid="score-histogram">
      {logs.map((v, b) => {
        const bh = (v / top) * (h - 2);
        const above = min + (b + 1) * binWidth > outcome.threshold.value;
        return <rect key={b} x={b * barW} y={h - bh} width={Math.max(1, barW - 0.5)} height={bh} fill={above ? '#ff7043' : '#5b7083'} />;
      })}
      {cutX >= 0 && cutX <= w && <line x1={cutX} x2={cutX} y1={0} y2={h} stroke="#ffd54f" strokeWidth={2} />}
    </svg>
  );
}

function sliderSpec(strategy: Strategy, outcome: ThresholdOutcome | null): { min: number; max: number; step: number; value: number } {
  switch (strategy.kind) {
    case 'absolute': {
      const max = Math.max(0.05, outcome ? outcome.quantiles.max : 1);
      return { min: 0, max: +max.toPrecision(3), step: max / 500, value: strategy.value };
    }
    case 'percentile':
      return { min: 90, max: 100, step: 0.01, value: strategy.percentile };
    case 'zscore':
      // Steps of 0.05 so the default cut (3.25) and every quarter z, which the healthy
      // reference stores exactly, sit on the slider instead of being snapped to a tenth.
      return { min: 0, max: 20, step: 0.05, value: strategy.z };
  }
}

function withValue(strategy: Strategy, value: number): Strategy {
  switch (strategy.kind) {
    case 'absolute':
      return { kind: 'absolute', value };
    case 'percentile':
      return { kind: 'percentile', percentile: value };
    case 'zscore':
      return { kind: 'zscore', z: value };
  }
}

/** Density limits offered, plus the reading's own when it was set elsewhere (CLI, a saved reading). */
function denseChoices(current: number | null): (number | null)[] {
  const offered: (number | null)[] = [DENSE_EXCLUSION_HU, 130, 100, null];
  return offered.includes(current) ? offered : [current, ...offered];
}

const DEFAULT_FOR: Record<Strategy['kind'], Strategy> = {
  absolute: { kind: 'absolute', value: DEFAULT_ABSOLUTE_CUT },
  percentile: { kind: 'percentile', percentile: 99.5 },
  zscore: { kind: 'zscore', z: DEFAULT_Z_CUT },
};

const localDate = (iso: string) => new Date(iso).toLocaleDateString();
const describeStamp = (s: HealthyReferenceStamp) => describeReferenceStamp(s, localDate);

/**
 * Which healthy reference the z cut reads. A run keeps the reference it was analysed with, so a
 * recalibrated model does not silently move its cut; the reader is told when the model's
 * reference has changed and moves the run to it only by asking.
 */
function ReferenceNote({ info, onAdopt }: { info: RunReferenceInfo; onAdopt: () => void }) {
  const { readAgainst, current } = info;
  const state = referenceState(info);
  const adopt = (label: string) => (
    <button className="link-button" data-testid="adopt-reference" onClick={onAdopt}>
      {label}
    </button>
  );
  if (info.unreadable !== null) {
    return (
      <div className="small warn" data-testid="reference-note" data-state={state} title={info.unreadable}>
        {/* The reason itself is in the refused cut's error, just below. */}
        The healthy reference of this run cannot be read, so neither can its z cuts; absolute and percentile cuts can. {current && adopt('Read against the current reference')}
      </div>
    );
  }
  return (
    <div className={`small${state === 'current' ? ' muted' : ' warn'}`} data-testid="reference-note" data-state={state}>
      {readAgainst ? `Healthy reference: ${describeStamp(readAgainst)}` : 'No healthy reference'}
      {info.kept && (info.adoptedAt ? `, adopted ${localDate(info.adoptedAt)}` : ', kept with this run')}.
      {state === 'changed' && current && (
        <>
          {' '}
          The model&apos;s reference has changed since (now {describeStamp(current)}); this run stays read against its own, so its results do not move. {adopt('Read against the current reference')}
        </>
      )}
      {state === 'not-kept' && <> This run was analysed before runs kept their reference, so a recalibration would move its cut. {adopt('Keep this reference with the run')}</>}
      {info.currentUnavailable && <> The model&apos;s current reference cannot be read ({info.currentUnavailable}); this run keeps its own.</>}
    </div>
  );
}

export function ThresholdPanel(props: {
  reading: ReadingSettings;
  onChange: (r: ReadingSettings) => void;
  outcome: ThresholdOutcome | null;
  error: string | null;
  busy: boolean;
  onSave: (asDefault: boolean) => void;
  saved: boolean;
  /** The healthy reference behind the run's z cuts (null until known). */
  reference: RunReferenceInfo | null;
  onAdoptReference: () => void;
}) {
  const { reading, onChange, outcome } = props;
  const spec = sliderSpec(reading.strategy, outcome);
  const set = (patch: Partial<ReadingSettings>) => onChange({ ...reading, ...patch });
  /** The z of a cut turned into its score when residual smoothing was switched on (for the note). */
  const [zReplaced, setZReplaced] = useState<number | null>(null);
  return (
    <section className="panel threshold-panel" data-testid="threshold-panel" aria-label="Threshold">
      <h3>Threshold</h3>
      <div className="form-grid">
        <label htmlFor="metric">Metric</label>
        <select id="metric" value={reading.metric} onChange={(e) => set({ metric: e.target.value as ReadingSettings['metric'] })} data-testid="metric-select">
          <option value="absolute">Absolute residual</option>
          <option value="squared">Squared residual</option>
          <option value="ssim">Structural (1−SSIM)/2</option>
        </select>
        <label htmlFor="fusion">Fusion</label>
        <select
          id="fusion"
          value={reading.fusion}
          onChange={(e) => {
            const fusion = e.target.value as ReadingSettings['fusion'];
            set({ fusion, weights: fusion === 'weighted' ? reading.weights ?? [1, 1, 2, 2] : undefined });
          }}
        >
          <option value="max">Max over scales</option>
          <option value="mean">Mean over scales</option>
          <option value="weighted">Weighted (8/16/32/64 px: 1,1,2,2)</option>
        </select>
        <label htmlFor="strategy">Strategy</label>
        <select
          id="strategy"
          value={reading.strategy.kind}
          onChange={(e) => {
            setZReplaced(null);
            set({ strategy: DEFAULT_FOR[e.target.value as Strategy['kind']] });
          }}
          data-testid="strategy-select"
        >
          <option value="absolute">Absolute score</option>
          <option value="percentile">Percentile of this scan</option>
          <option value="zscore">z-score vs healthy scans</option>
        </select>
      </div>
      <input
        type="range"
        className="threshold-slider"
        aria-label="Threshold"
        data-testid="threshold-slider"
        min={spec.min}
        max={spec.max}
        step={spec.step}
        value={Math.min(spec.max, Math.max(spec.min, spec.value))}
        onChange={(e) => set({ strategy: withValue(reading.strategy, Number(e.target.value)) })}
      />
      {zReplaced !== null && reading.strategy.kind === 'absolute' && reading.smoothingMm > 0 && (
        <div className="small muted" data-testid="z-replaced">
          Smoothed residuals have no healthy reference: the z ≥ {zReplaced} cut is kept as the score it stood at.
        </div>
      )}
      <div className="small" data-testid="threshold-cut">
        {describeStrategy(reading.strategy)}
        {outcome && reading.strategy.kind !== 'absolute' ? ` → score ≥ ${outcome.threshold.value.toPrecision(3)}` : ''}
        {props.busy ? ' …' : ''}
      </div>
      {props.reference && reading.strategy.kind === 'zscore' && <ReferenceNote info={props.reference} onAdopt={props.onAdoptReference} />}
      {outcome && <Histogram outcome={outcome} />}
      {/* Set once per study or as a default, so folded: the lesion list stays in view beneath. */}
      <details className="reading-settings" data-testid="reading-settings">
        <summary className="small">
          Lesion settings: from {reading.minSizeMl} mL · border {reading.borderErosionMm} mm · {reading.denseExclusionHu === null ? 'dense voxels searched' : `< ${reading.denseExclusionHu} HU`}
          {reading.smoothingMm > 0 ? ` · smoothed ${reading.smoothingMm} mm` : ''} · {reading.extent === 'half-contrast' ? 'half-contrast outline' : 'outline at the cut'}
        </summary>
        <div className="form-grid">
          <label htmlFor="minsize">Min. lesion size</label>
          <span>
            <input id="minsize" type="number" min={0} step={0.01} value={reading.minSizeMl} onChange={(e) => set({ minSizeMl: Math.max(0, Number(e.target.value) || 0) })} style={{ width: 70 }} /> mL
          </span>
          <label htmlFor="erode">Border erosion</label>
          <span>
            <input id="erode" type="number" min={0} max={20} step={0.5} value={reading.borderErosionMm} onChange={(e) => set({ borderErosionMm: Math.min(20, Math.max(0, Number(e.target.value) || 0)) })} style={{ width: 70 }} /> mm
          </span>
          <label htmlFor="dense" title="Bone at the vertex and skull base and physiological calcifications (choroid plexus, pineal) lie inside the brain mask and differ from any healthy estimate; acute blood is 40-100 HU. Voxels at or above this density are never lesion voxels.">
            Dense voxels
          </label>
          <select
            id="dense"
            data-testid="dense-exclusion"
            value={reading.denseExclusionHu === null ? 'off' : String(reading.denseExclusionHu)}
            onChange={(e) => set({ denseExclusionHu: e.target.value === 'off' ? null : Number(e.target.value) })}
          >
            {denseChoices(reading.denseExclusionHu).map((hu) => (
              <option key={hu} value={hu === null ? 'off' : String(hu)}>
                {hu === null ? 'Searched too' : `Left out from ${hu} HU${hu === DENSE_EXCLUSION_HU ? ' (bone)' : ''}`}
              </option>
            ))}
          </select>
          <label htmlFor="smoothing" title="Averages the difference from the healthy estimate over a few millimetres before the cut: the estimate's pixel noise cancels, a faint extended lesion (infarct, oedema, mass) does not. Small bright lesions lose some contrast. z-score cuts need 0.">
            Residual smoothing
          </label>
          <span>
            <input
              id="smoothing"
              data-testid="smoothing"
              type="number"
              min={0}
              max={10}
              step={0.5}
              value={reading.smoothingMm}
              onChange={(e) => {
                const smoothingMm = Math.min(10, Math.max(0, Number(e.target.value) || 0));
                // No healthy reference describes smoothed residuals, so a z cut cannot be read on
                // them: keep the cut where it stood, as the score it resolved to, and say so.
                if (smoothingMm > 0 && reading.strategy.kind === 'zscore') {
                  const stood = outcome ? +outcome.threshold.value.toPrecision(3) : DEFAULT_ABSOLUTE_CUT;
                  setZReplaced(reading.strategy.z);
                  set({ smoothingMm, strategy: { kind: 'absolute', value: stood } });
                } else set({ smoothingMm });
              }}
              style={{ width: 70 }}
            />{' '}
            mm
          </span>
          <label htmlFor="polarity">Lesions from</label>
          <select id="polarity" value={reading.polarity} onChange={(e) => set({ polarity: e.target.value as ReadingSettings['polarity'] })}>
            <option value="split">Hyper- and hypodense apart</option>
            <option value="any">Any sign together</option>
            <option value="hyper">Hyperdense only</option>
            <option value="hypo">Hypodense only</option>
          </select>
          <label htmlFor="extent" title="The threshold finds lesions. Half-contrast then outlines each one where its difference from the healthy estimate falls to half of its own typical value, so its volume does not depend on the threshold or on how dense it is.">
            Lesion outline
          </label>
          <select id="extent" data-testid="extent" value={reading.extent} onChange={(e) => set({ extent: e.target.value as ReadingSettings['extent'] })}>
            <option value="half-contrast">At half its own contrast</option>
            <option value="threshold">At the threshold</option>
          </select>
        </div>
      </details>
      {props.error && (
        <div className="error-text small" role="alert">
          {props.error}
        </div>
      )}
      <div className="row">
        <button onClick={() => props.onSave(false)} title="Keep these settings for this study">
          Save for study
        </button>
        <button onClick={() => props.onSave(true)} title="Also use these settings for new studies">
          Save as default
        </button>
        {props.saved && <span className="small muted">saved</span>}
      </div>
    </section>
  );
}
