import { useState } from 'react';
import { useApi } from '../../api/context';

/** Offers the demo study (a synthetic head CT with a hemorrhage) on an empty library. */
export function DemoButton() {
  const api = useApi();
  const [state, setState] = useState<'idle' | 'started' | string>('idle');
  return (
    <div>
      <button
        className="primary"
        data-testid="load-demo"
        disabled={state === 'started'}
        onClick={() =>
          api.call('synth.start', { seed: 42, lesions: ['iph'], timepoints: 1 }).then(
            () => setState('started'),
            (e: Error) => setState(e.message),
          )
        }
      >
        Load demo study (synthetic CT with a hemorrhage)
      </button>
      {state !== 'idle' && state !== 'started' && <div className="error-text small">{state}</div>}
    </div>
  );
}
