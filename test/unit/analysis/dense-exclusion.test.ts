import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliJson } from '../run-cli';
import { readNifti, writeNifti } from '../../../src/main/core/io/nifti';
import { DEFAULT_READING_SETTINGS, readingSettingsSchema } from '../../../src/shared/analysis';
import { analysedDicomHead, type HeadRun } from '../report/fixture';

const cli = runCliJson;

type StoredLesion = { label: number; voxelCount: number; meanHu: number; sign: string };
const lesionsOf = (dir: string): StoredLesion[] => JSON.parse(readFileSync(join(dir, 'lesions.json'), 'utf8')).lesions;
const readingOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).reading;

let head: HeadRun;
/** Voxels of the largest hyperdense lesion that the test turns into bone-dense ones. */
let densified = 0;
beforeAll(async () => {
  head = await analysedDicomHead();
  // The fixture's analysis: searched with the default limit, which its plain phantom never reaches.
  expect(readingOf(head.dir).denseExclusionHu).toBe(170);
  // Make half of the subdural crescent read like bone partial volume (400 HU), as a calcified
  // or skull-adjacent stretch would; the scores stay as the analysis found them.
  const ct = await readNifti(join(head.dir, 'ct.nii.gz'));
  const labels = await readNifti(join(head.dir, 'labels.nii.gz'));
  const bleed = lesionsOf(head.dir).find((l) => l.sign === 'hyper')!;
  let seen = 0;
  for (let p = 0; p < labels.data.length; p++) {
    if (labels.data[p] !== bleed.label) continue;
    if (seen++ % 2 === 0) {
      ct.data[p] = 400;
      densified++;
    }
  }
  await writeNifti(ct, join(head.dir, 'ct.nii.gz'));
}, 120_000);
afterAll(() => {
  if (head) rmSync(head.root, { recursive: true, force: true });
});

describe('voxels denser than blood are left out of the lesion search', () => {
  it('has a default of 170 HU for new readings and off for readings saved before it existed', () => {
    expect(DEFAULT_READING_SETTINGS.denseExclusionHu).toBe(170);
    expect(readingSettingsSchema.safeParse({ denseExclusionHu: 50 }).success).toBe(false);
    expect(readingSettingsSchema.parse({ denseExclusionHu: null }).denseExclusionHu).toBeNull();
  });

  it('inpaint-ct threshold drops the dense voxels, brings them back with --dense-hu off, and records the choice', async () => {
    const before = lesionsOf(head.dir);
    const bleedBefore = before.find((l) => l.sign === 'hyper')!;

    const excluded = await cli(['threshold', head.dir]);
    expect(excluded.code, excluded.err).toBe(0);
    const after = lesionsOf(head.dir);
    const total = (ls: StoredLesion[]) => ls.reduce((s, l) => s + l.voxelCount, 0);
    expect(total(after)).toBeLessThanOrEqual(total(before) - densified);
    expect(after.every((l) => l.meanHu < 170)).toBe(true);
    const mask = await readNifti(join(head.dir, 'mask.nii.gz'));
    const ct = await readNifti(join(head.dir, 'ct.nii.gz'));
    for (let p = 0; p < mask.data.length; p++) if (mask.data[p]) expect(ct.data[p]).toBeLessThan(170);

    const off = await cli(['threshold', head.dir, '--dense-hu', 'off']);
    expect(off.code, off.err).toBe(0);
    expect(readingOf(head.dir).denseExclusionHu).toBeNull();
    const bleedOff = lesionsOf(head.dir).find((l) => l.sign === 'hyper')!;
    expect(bleedOff.voxelCount).toBe(bleedBefore.voxelCount);
    expect(bleedOff.meanHu).toBeGreaterThan(170);

    const bad = await cli(['threshold', head.dir, '--dense-hu', '40']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--dense-hu/);
    expect(readingOf(head.dir).denseExclusionHu).toBeNull();
  });

  it('reads a run folder written before the setting existed as searching every voxel', async () => {
    const runJson = join(head.dir, 'run.json');
    const record = JSON.parse(readFileSync(runJson, 'utf8'));
    delete record.reading.denseExclusionHu;
    writeFileSync(runJson, JSON.stringify(record));
    const again = await cli(['threshold', head.dir]);
    expect(again.code, again.err).toBe(0);
    expect(readingOf(head.dir).denseExclusionHu).toBeNull();
    expect(lesionsOf(head.dir).find((l) => l.sign === 'hyper')!.meanHu).toBeGreaterThan(170);
  });
});
