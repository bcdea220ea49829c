import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countsAtZ, detectionAtCut, renderModelCard } from '../../../training/card';
import { describeStrategy } from '../../../src/shared/analysis';

const describeCut = (z: number) => describeStrategy({ kind: 'zscore', z });

/** Two rows of a bench:detect run led by z 3 that also read z 3.25: a method with a healthy reference and the density baseline. */
const run = {
  date: '2026-12-04T16:40:00.000Z',
  casesPerType: 3,
  full: false,
  zCuts: [3, 2.5, 3.25],
  rows: [
    { method: 'diffusion', type: 'sdh', denseHu: '170', bestDice: 0.822, auprc: 0.841, auroc: 0.968, sensitivity: 1, fpPerScan: 42, defaultCut: describeCut(3), sensitivityDefault: 1, fpPerScanDefault: 6.3 },
    { method: 'density', type: 'sdh', denseHu: '170', bestDice: 0.757, auprc: 0.592, auroc: 0.969, sensitivity: 1, fpPerScan: 11.7, defaultCut: 'score ≥ 0.25', sensitivityDefault: 1, fpPerScanDefault: 11.7 },
  ],
  operatingPoints: [{ method: 'diffusion', type: 'sdh', denseHu: '170', 'z 3': '1.00 / 6.3', 'z 2.5': '1.00 / 25.0', 'z 3.25': '0.67 / 2.0' }],
};

describe('the model card quotes detection at the default cut', () => {
  it('takes each referenced method\'s counts at that cut from the z cuts the run read', () => {
    const at = detectionAtCut(run, 3.25, describeCut);
    expect(at.zCuts).toEqual([3.25, 3, 2.5]);
    expect(at.rows[0]).toMatchObject({ defaultCut: 'z ≥ 3.25 against healthy scans, reaching down to z 2.75', sensitivityDefault: 0.67, fpPerScanDefault: 2, bestDice: 0.822, fpPerScan: 42 });
    // The density baseline has no healthy reference and keeps its own cut.
    expect(at.rows[1]).toEqual(run.rows[1]);
    // The rendered card says which cut and shows its counts.
    const manifest = JSON.parse(readFileSync(join(__dirname, '../../../models/healthy-brain-ddpm/model.json'), 'utf8'));
    manifest.card.metrics.benchmarks = { detection: at };
    const card = renderModelCard(manifest);
    expect(card).toContain('(z = 3.25 against');
    expect(card).toContain('| sdh | diffusion | < 170 HU | 0.822 | 0.841 | 0.968 | 1.00 / 42 | z ≥ 3.25 against healthy scans, reaching down to z 2.75 | 0.67 / 2 |');
  });

  it('reads the counts bench:detect now stores as numbers the same way as the text of older runs', () => {
    const numeric = { ...run, operatingPoints: [{ method: 'diffusion', type: 'sdh', denseHu: '170', atZ: [{ z: 3, sensitivity: 1, fpPerScan: 6.3 }, { z: 2.5, sensitivity: 1, fpPerScan: 25 }, { z: 3.25, sensitivity: 0.67, fpPerScan: 2 }] }] };
    const fromNumbers = detectionAtCut(numeric, 3.25, describeCut);
    const fromText = detectionAtCut(run, 3.25, describeCut);
    expect(fromNumbers.rows).toEqual(fromText.rows);
    expect(fromNumbers.zCuts).toEqual(fromText.zCuts);
    // A cut missing for a point leaves that row at the run's own cut, in either form.
    const without = { ...numeric, operatingPoints: [{ ...numeric.operatingPoints[0], atZ: numeric.operatingPoints[0].atZ.filter((a) => a.z !== 3.25) }] };
    expect(detectionAtCut(without, 3.25, describeCut).rows[0]).toEqual(run.rows[0]);
    expect(countsAtZ({ method: 'diffusion', type: 'sdh', 'z 3': '-' }, 3)).toBeNull();
  });

  it('leaves a run led by that cut as it is, and refuses one that never read it', () => {
    expect(detectionAtCut(run, 3, describeCut)).toBe(run);
    expect(() => detectionAtCut(run, 3.5, describeCut)).toThrow(/read z 3, 2.5, 3.25, not z 3.5: run it again with --z 3.5/);
  });
});
