import { useEffect, useState } from 'react';
import { useApi } from '../../api/context';
import type { ReadingSettings } from '../../../../shared/analysis';
import type { ThresholdOutcome } from '../../../../shared/types';

export interface RunLayers {
  runId: string | null;
  score: Float32Array | null;
  brainMask: Uint8Array | null;
  healthy: Int16Array | null;
  difference: Int16Array | null;
  error: string | null;
}

const EMPTY: RunLayers = { runId: null, score: null, brainMask: null, healthy: null, difference: null, error: null };

/** The per-voxel layers of one run, on the series' native grid. */
export function useRunLayers(runId: string | null, reading: Pick<ReadingSettings, 'metric' | 'fusion'> | null): RunLayers {
  const api = useApi();
  const [layers, setLayers] = useState<RunLayers>(EMPTY);
  const metric = reading?.metric;
  const fusion = reading?.fusion;
  useEffect(() => {
    setLayers({ ...EMPTY, runId });
    if (!runId) return;
    let alive = true;
    Promise.all([api.fetchBinary(`runs/${runId}/brain-mask`), api.fetchBinary(`runs/${runId}/healthy`), api.fetchBinary(`runs/${runId}/difference`)]).then(
      ([mask, healthy, difference]) =>
        alive && setLayers((l) => ({ ...l, brainMask: new Uint8Array(mask), healthy: new Int16Array(healthy), difference: new Int16Array(difference) })),
      (e: Error) => alive && setLayers((l) => ({ ...l, error: e.message })),
    );
    return () => {
      alive = false;
    };
  }, [api, runId]);
  useEffect(() => {
    if (!runId || !metric || !fusion) return;
    let alive = true;
    api.fetchBinary(`runs/${runId}/score/${metric}/${fusion}`).then(
      (buf) => alive && setLayers((l) => ({ ...l, score: new Float32Array(buf) })),
      (e: Error) => alive && setLayers((l) => ({ ...l, error: e.message })),
    );
    return () => {
      alive = false;
    };
  }, [api, runId, metric, fusion]);
  return layers;
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  // A fresh buffer keeps the typed views over it aligned.
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The sparse label transfer (threshold outcome or review state) as a dense label volume. */
export function labelVolume(outcome: Pick<ThresholdOutcome, 'labelIndices' | 'labelValues'>, voxelCount: number): Int32Array {
  const out = new Int32Array(voxelCount);
  const idx = decodeBase64(outcome.labelIndices);
  const val = decodeBase64(outcome.labelValues);
  const indices = new Uint32Array(idx.buffer, 0, idx.byteLength / 4);
  const values = new Uint16Array(val.buffer, 0, val.byteLength / 2);
  for (let t = 0; t < indices.length; t++) if (indices[t] < voxelCount) out[indices[t]] = values[t];
  return out;
}
