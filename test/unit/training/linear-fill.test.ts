import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { numpyReady, PYTHON } from './python';
import { inpaintClassical } from '../../../src/main/core/inpaint/classical';

/**
 * Training poses the fast preset's problem (the hole's linear fill noised to t = 500) with a NumPy
 * copy of the engine's linear fill (training/fill.py). If the two drift apart, the model learns
 * from inputs it never gets in the app; this checks them against each other on the hole shapes
 * the engine and training use. Needs /usr/bin/python3 with python3-numpy (installed by .ci/run).
 */

function pythonFill(width: number, height: number, image: Float32Array, hole: Uint8Array): number[] {
  const run = spawnSync(PYTHON, ['training/fill.py'], { input: JSON.stringify({ width, height, image: Array.from(image), hole: Array.from(hole) }), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`training/fill.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as number[];
}

/** Deterministic test image: a ramp, a blob of tissue and texture (values in the windowed [0, 1] range). */
function testImage(width: number, height: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const blob = Math.hypot(x - width * 0.6, y - height * 0.4) < width / 4 ? 0.25 : 0;
      out[y * width + x] = 0.2 + (0.3 * x) / width + blob + 0.1 * rand();
    }
  return out;
}

function holeOf(width: number, height: number, inside: (x: number, y: number) => boolean): Uint8Array {
  const hole = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) hole[y * width + x] = inside(x, y) ? 1 : 0;
  return hole;
}

const CASES: { name: string; width: number; height: number; inside: (x: number, y: number) => boolean }[] = [
  { name: 'a 32 px square centred in its 64 px context crop (the fast preset)', width: 64, height: 64, inside: (x, y) => x >= 16 && x < 48 && y >= 16 && y < 48 },
  { name: 'an 8 px square in a 16 px crop', width: 16, height: 16, inside: (x, y) => x >= 4 && x < 12 && y >= 4 && y < 12 },
  { name: 'a square that reaches the crop border (one-sided rows)', width: 32, height: 32, inside: (x, y) => x >= 20 && y >= 6 && y < 22 },
  { name: 'an irregular blob of two ellipses', width: 48, height: 40, inside: (x, y) => ((x - 18) / 9) ** 2 + ((y - 20) / 6) ** 2 <= 1 || ((x - 28) / 5) ** 2 + ((y - 14) / 10) ** 2 <= 1 },
  { name: 'two holes on the same rows (a grid phase on a whole slice)', width: 64, height: 32, inside: (x, y) => y >= 8 && y < 24 && ((x >= 4 && x < 20) || (x >= 40 && x < 56)) },
];

describe.skipIf(!numpyReady)(`training/fill.py reproduces the engine linear fill (needs ${PYTHON} with python3-numpy)`, () => {
  for (const [i, c] of CASES.entries())
    it(c.name, () => {
      const image = testImage(c.width, c.height, 17 + i);
      const hole = holeOf(c.width, c.height, c.inside);
      const engine = inpaintClassical('linear', image, hole, [c.width, c.height, 1]).values;
      const training = pythonFill(c.width, c.height, image, hole);
      let worst = 0;
      let changed = 0;
      for (let p = 0; p < image.length; p++) {
        worst = Math.max(worst, Math.abs(engine[p] - training[p]));
        if (hole[p] && Math.abs(training[p] - image[p]) > 1e-3) changed++;
      }
      expect(changed).toBeGreaterThan(0); // the hole really was filled, not passed through
      expect(worst).toBeLessThan(1e-5);
    });
});
