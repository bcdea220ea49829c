/**
 * What a perfect inpainter could score on the phantoms: grid squares filled with the subject's
 * noise-free image (the same phantom rendered without acquisition noise), scored against the
 * noisy slice exactly as training/evaluate.ts scores a model. The acquisition noise cannot be
 * predicted from the surroundings, so no inpainter gets below this MAE or above this SSIM.
 *
 *   npx tsx training/noise-floor.ts [--seeds 1400-1403] [--sizes 32,64] [--write-card MODELS_DIR/ID]
 *
 * --write-card stores the result as metrics.noiseFloor in that model's model.json (and re-renders its README.md).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderModelCard } from './card';
import { planGrid } from '../src/main/core/inpaint/grid';
import { inpaintingQuality } from '../src/main/core/metrics/inpainting';
import { phantomStacks } from './stack';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '1400-1403' }, sizes: { type: 'string', default: '32,64' }, 'write-card': { type: 'string' } } });
const [first, last] = values.seeds!.split('-').map(Number);
const sizes = values.sizes!.split(',').map(Number);
const sums = new Map<number, { px: number; abs: number; ssim: number }>();
for (let seed = first; seed <= (last ?? first); seed++) {
  // The noisy scan's mask, as the training data (and the app) would extract it.
  const { noisy: a, clean: b } = phantomStacks(seed);
  const n = a.size * a.size;
  const areas = Array.from({ length: a.sliceCount }, (_, k) => a.masks256.subarray(k * n, (k + 1) * n).reduce((s, v) => s + v, 0));
  const max = Math.max(...areas);
  for (let k = 0; k < a.sliceCount; k++) {
    if (areas[k] < 0.5 * max) continue;
    for (const size of sizes) {
      const plan = planGrid(a.masks256.subarray(k * n, (k + 1) * n), a.size, a.size, { sizesPx: [size], halfOffsets: true });
      for (const grid of plan.grids) {
        const region = new Uint8Array(n);
        for (const sq of grid.squares)
          if (sq.brainPixels >= 0.95 * size * size && sq.x1 - sq.x0 === size && sq.y1 - sq.y0 === size)
            for (let y = sq.y0; y < sq.y1; y++) region.fill(1, y * a.size + sq.x0, y * a.size + sq.x1);
        if (!region.some((v) => v)) continue;
        const truth = a.images256.subarray(k * n, (k + 1) * n);
        const filled = Float32Array.from(truth);
        for (let p = 0; p < n; p++) if (region[p]) filled[p] = b.images256[k * n + p];
        const q = inpaintingQuality(truth, filled, region, { width: a.size, height: a.size }, { input: 'windowed' });
        const s = sums.get(size) ?? { px: 0, abs: 0, ssim: 0 };
        s.px += q.pixels;
        s.abs += q.mae255 * q.pixels;
        s.ssim += q.ssim * q.pixels;
        sums.set(size, s);
      }
    }
  }
}
const lines = [...sums].map(([size, s]) => `${size}px squares, noise-free truth as the fill: MAE ${(s.abs / s.px).toFixed(2)} (0-255), SSIM ${(s.ssim / s.px).toFixed(3)}`);
console.log(lines.join('\n'));
if (values['write-card']) {
  const dir = resolve(values['write-card']);
  const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  manifest.card.metrics.noiseFloor = `A perfect inpainter (the same phantom rendered without acquisition noise, seeds ${values.seeds}, scored like evaluate.ts): ${lines.join('; ')}.`;
  await writeFile(join(dir, 'model.json'), JSON.stringify(manifest, null, 2) + '\n');
  await writeFile(join(dir, 'README.md'), renderModelCard(manifest));
}
