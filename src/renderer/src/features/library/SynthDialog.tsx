import { useState } from 'react';
import { useApi } from '../../api/context';

const LESIONS: { id: 'iph' | 'ivh' | 'sah' | 'sdh' | 'edh' | 'infarct' | 'mass'; label: string }[] = [
  { id: 'iph', label: 'Intraparenchymal hemorrhage' },
  { id: 'ivh', label: 'Intraventricular hemorrhage' },
  { id: 'sah', label: 'Subarachnoid hemorrhage' },
  { id: 'sdh', label: 'Subdural hematoma' },
  { id: 'edh', label: 'Epidural hematoma' },
  { id: 'infarct', label: 'Ischemic infarct' },
  { id: 'mass', label: 'Mass lesion' },
];

/**
 * A number typed into a field, checked when the case is generated rather than on every
 * keystroke (clamping while typing turns "0.5" into "3.5" on its way through "0"). Throws the
 * message the dialog shows.
 */
function fieldNumber(text: string, name: string, min: number, max: number, integer: boolean): number {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v)) throw new Error(`${name} must be a number.`);
  if (integer && !Number.isInteger(v)) throw new Error(`${name} must be a whole number.`);
  if (v < min || v > max) throw new Error(`${name} must be between ${min} and ${max}.`);
  return v;
}

/** "New synthetic case": a generated head CT with chosen lesions and timepoints, as a study. */
export function SynthDialog({ onClose }: { onClose: () => void }) {
  const api = useApi();
  const [seedText, setSeedText] = useState(() => String(Math.floor(Math.random() * 100000)));
  const [lesions, setLesions] = useState<string[]>(['iph']);
  const [timepointsText, setTimepointsText] = useState('1');
  const [intervalText, setIntervalText] = useState('3');
  const [slicesText, setSlicesText] = useState('36');
  // The follow-up fields show while the timepoints read more than one (also mid-edit).
  const timepointsShown = Number(timepointsText);
  /** Percent per day; empty = let the seed decide. */
  const [growthPct, setGrowthPct] = useState('');
  const [error, setError] = useState<string | null>(null);

  async function create() {
    setError(null);
    try {
      const seed = fieldNumber(seedText, 'The seed', 0, 2 ** 31, true);
      const timepoints = fieldNumber(timepointsText, 'The number of timepoints', 1, 10, true);
      const intervalDays = timepoints > 1 ? fieldNumber(intervalText, 'The days between timepoints', 0.5, 365, false) : 3;
      const slices = fieldNumber(slicesText, 'The number of slices', 1, 120, true);
      const growth = growthPct.trim() === '' ? undefined : Number(growthPct) / 100;
      if (growth !== undefined && !(Number.isFinite(growth) && growth >= -0.5 && growth <= 0.5)) {
        setError('Lesion growth must be a number of percent per day between -50 and 50, or empty to let the seed decide.');
        return;
      }
      await api.call('synth.start', { seed, lesions: lesions as never, timepoints, intervalDays, slices, ...(growth === undefined ? {} : { growthPerDay: growth }) });
      onClose();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <div className="dialog-backdrop" role="dialog" aria-modal="true" aria-label="New synthetic case" data-testid="synth-dialog">
      <div className="dialog">
        <h3>New synthetic case</h3>
        <p className="muted small">A generated head CT (512×512, 0.45 mm pixels, 5 mm slices) with exact lesion masks. For testing and teaching; not patient data.</p>
        <div className="form-grid">
          <label htmlFor="synth-seed">Seed</label>
          <input id="synth-seed" type="number" min={0} step={1} value={seedText} onChange={(e) => setSeedText(e.target.value)} />
          <label htmlFor="synth-tp">Timepoints</label>
          <input id="synth-tp" type="number" min={1} max={10} step={1} value={timepointsText} onChange={(e) => setTimepointsText(e.target.value)} />
          {timepointsShown > 1 && (
            <>
              <label htmlFor="synth-int">Days between</label>
              <input id="synth-int" type="number" min={0.5} max={365} step={0.5} value={intervalText} onChange={(e) => setIntervalText(e.target.value)} />
              <label htmlFor="synth-growth" title="Volume change of every lesion per day, e.g. 15 for haematoma expansion or -5 for resolution. Empty: drawn from the seed.">
                Lesion growth (%/day)
              </label>
              <input id="synth-growth" type="number" min={-50} max={50} step={1} placeholder="from seed" value={growthPct} onChange={(e) => setGrowthPct(e.target.value)} data-testid="synth-growth" />
            </>
          )}
          <label htmlFor="synth-slices">Slices</label>
          <input id="synth-slices" type="number" min={1} max={120} step={1} value={slicesText} onChange={(e) => setSlicesText(e.target.value)} />
        </div>
        <fieldset className="lesion-choices">
          <legend className="small">Lesions (none = healthy)</legend>
          {LESIONS.map((l) => (
            <label key={l.id} className="small">
              <input
                type="checkbox"
                checked={lesions.includes(l.id)}
                onChange={(e) => setLesions((cur) => (e.target.checked ? [...cur, l.id] : cur.filter((x) => x !== l.id)))}
              />{' '}
              {l.label}
            </label>
          ))}
        </fieldset>
        {error && (
          <div className="error-text small" role="alert">
            {error}
          </div>
        )}
        <div className="row" style={{ justifyContent: 'flex-end' }}>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" style={{ width: 'auto' }} onClick={() => void create()} data-testid="synth-create">
            Generate
          </button>
        </div>
      </div>
    </div>
  );
}
