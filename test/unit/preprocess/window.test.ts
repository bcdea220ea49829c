import { describe, expect, it } from 'vitest';
import { applyWindow } from '../../../src/main/core/preprocess/window';
import { BRAIN_WINDOW, WINDOW_PRESETS, windowRangeHu, windowValue } from '../../../src/shared/windows';

describe('CT windows', () => {
  it('brain window maps 0..80 HU linearly onto [0, 1] and clips outside', () => {
    const hu = Float32Array.from([-1000, -1, 0, 20, 40, 60, 80, 81, 1500, NaN]);
    const w = applyWindow(hu);
    expect(Array.from(w)).toEqual([0, 0, 0, 0.25, 0.5, 0.75, 1, 1, 1, 0]);
    expect(windowRangeHu(BRAIN_WINDOW)).toEqual([0, 80]);
  });

  it('presets hold the clinical values', () => {
    expect(WINDOW_PRESETS.brain).toMatchObject({ centerHu: 40, widthHu: 80 });
    expect(WINDOW_PRESETS.subdural).toMatchObject({ centerHu: 75, widthHu: 215 });
    expect(WINDOW_PRESETS.stroke).toMatchObject({ centerHu: 40, widthHu: 40 });
    expect(WINDOW_PRESETS.bone).toMatchObject({ centerHu: 600, widthHu: 2800 });
    expect(windowValue(600, WINDOW_PRESETS.bone)).toBeCloseTo(0.5, 6);
    expect(windowValue(-800, WINDOW_PRESETS.bone)).toBe(0);
    expect(windowValue(30, WINDOW_PRESETS.stroke)).toBeCloseTo(0.25, 6);
    expect(applyWindow(Int16Array.from([75 - 107.5, 75, 75 + 107.5]), WINDOW_PRESETS.subdural)[1]).toBeCloseTo(0.5, 6);
  });

  it('rejects a zero-width window', () => {
    expect(() => applyWindow([1, 2], { centerHu: 40, widthHu: 0 })).toThrow(/width/);
  });
});
