/**
 * Regenerates the screenshots in docs/synth/ (brain window 40/80): heights of one healthy
 * subject, several subjects at one level, every lesion type (with and without its mask
 * outline), and a three-timepoint series.
 *
 * Run: npx tsx docs/synth/screenshots.ts
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCase, generatePhantom, renderContactSheet, type LesionSpec, type PreviewTile, type SyntheticCase } from '../../src/main/core/synth/index';

const here = dirname(fileURLToPath(import.meta.url));
const write = (name: string, png: Uint8Array) => {
  writeFileSync(join(here, name), png);
  console.log(`${name}: ${(png.length / 1024).toFixed(0)} KiB`);
};

/** Slice where a lesion is largest. */
function largestSlice(c: SyntheticCase, t: number, lesion: number): number {
  const tp = c.timepoints[t];
  const [nx, ny, nz] = tp.volume.dims;
  const per = new Array<number>(nz).fill(0);
  for (const v of tp.lesions[lesion].voxels) per[Math.floor(v / (nx * ny))]++;
  return per.indexOf(Math.max(...per));
}

// 1. One healthy subject from the skull base to the vertex.
const healthy = generatePhantom({ seed: 1 });
const levels: [number, string][] = [
  [7, 'skull base'],
  [11, 'temporal lobes'],
  [14, 'suprasellar'],
  [18, 'third ventricle'],
  [21, 'ventricles'],
  [25, 'centrum semiovale'],
  [29, 'high convexity'],
  [32, 'vertex'],
];
write('healthy-levels.png', renderContactSheet(levels.map(([k, name]) => ({ volume: healthy.volume, k, caption: name })), { tileSize: 256, columns: 4, crop: 0.85 }));

// 2. Four subjects at the level of the lateral ventricles.
const subjects = [2, 3, 4, 5].map((seed) => generatePhantom({ seed, slices: 1 }));
write('subjects.png', renderContactSheet(subjects.map((p, i) => ({ volume: p.volume, k: 0, caption: `seed ${i + 2} age ${p.params.ageYears}` })), { tileSize: 256, columns: 4, crop: 0.85 }));

// 3. Every lesion type, each in its own subject, at its largest slice; then with the mask.
const specs: LesionSpec[] = [
  { type: 'iph', volumeMl: 25, site: 'basal-ganglia' },
  { type: 'ivh', volumeMl: 6 },
  { type: 'sah', volumeMl: 8, site: 'basal' },
  { type: 'sdh', volumeMl: 60 },
  { type: 'edh', volumeMl: 35 },
  { type: 'infarct', volumeMl: 70, site: 'mca' },
  { type: 'edema', volumeMl: 35 },
  { type: 'mass', volumeMl: 20 },
];
const plain: PreviewTile[] = [];
const outlined: PreviewTile[] = [];
specs.forEach((spec, i) => {
  const c = generateCase({ seed: 20 + i, lesions: [spec] });
  const tp = c.timepoints[0];
  const k = largestSlice(c, 0, 0);
  const mask = Uint8Array.from(tp.lesionLabels, (v) => (v ? 1 : 0));
  const caption = `${spec.type} ${tp.lesions[0].volumeMl.toFixed(0)} ml`;
  plain.push({ volume: tp.volume, k, caption });
  outlined.push({ volume: tp.volume, k, mask, caption });
});
write('lesions.png', renderContactSheet(plain, { tileSize: 256, columns: 4, crop: 0.85 }));
write('lesion-masks.png', renderContactSheet(outlined, { tileSize: 160, columns: 4, crop: 0.85 }));

// 4. A growing hemorrhage over three timepoints (days 0, 3, 6), same slice.
const series = generateCase({ seed: 40, lesions: [{ type: 'iph', volumeMl: 12, site: 'basal-ganglia', volumeRatePerDay: 0.1 }], timepoints: 3, intervalDays: 3 });
const k = largestSlice(series, 2, 0);
write(
  'series.png',
  renderContactSheet(
    series.timepoints.map((tp) => ({ volume: tp.volume, k, caption: `day ${tp.day} ${tp.lesions[0].volumeMl.toFixed(0)} ml` })),
    { tileSize: 256, columns: 3, crop: 0.85 },
  ),
);
