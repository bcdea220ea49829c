import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/main/cli/main';
import { writeNifti } from '../../../src/main/core/io/nifti';
import { defaultReading, loadHealthyReferences, toThresholdSettings, withReadableCut } from '../../../src/main/core/pipeline/reading';
import { modelsDir } from '../../../src/main/paths';
import { DEFAULT_READING_SETTINGS, DEFAULT_Z_CUT, Z_SUPPORT_STEP } from '../../../src/shared/analysis';
import { simpleHead } from '../preprocess/simple-head';

const nearest = { kind: 'classical', method: 'nearest' } as const;
const uncalibrated = { kind: 'diffusion', modelId: 'test-tiny', preset: 'fast', device: 'cpu' } as const;

describe('the cut a new analysis starts with', () => {
  it('is z 3 against the inpainter\'s own healthy reference for every shipped inpainter', async () => {
    for (const inpainter of [
      { kind: 'diffusion', modelId: 'healthy-brain-ddpm', preset: 'fast', device: 'cpu' } as const,
      { kind: 'diffusion', modelId: 'healthy-brain-ddpm-hidden-neighbours', preset: 'fast', device: 'cpu' } as const,
      ...(['nearest', 'linear', 'harmonic', 'biharmonic'] as const).map((method) => ({ kind: 'classical', method }) as const),
    ]) {
      const references = await loadHealthyReferences(modelsDir(), inpainter);
      const reading = defaultReading(inpainter, references);
      expect(reading.strategy, JSON.stringify(inpainter)).toEqual({ kind: 'zscore', z: DEFAULT_Z_CUT });
      // It reads: the cut resolves to a score from that method's reference, and lesions reach
      // down to z 2.5 against the same reference.
      const settings = toThresholdSettings(reading, references);
      expect(settings.strategy.kind).toBe('zscore');
      expect(settings.support).toMatchObject({ kind: 'zscore', z: DEFAULT_Z_CUT - Z_SUPPORT_STEP });
    }
  });

  it('is the absolute cut for a model without a healthy reference', async () => {
    const references = await loadHealthyReferences(modelsDir(), uncalibrated);
    expect(defaultReading(uncalibrated, references).strategy).toEqual(DEFAULT_READING_SETTINGS.strategy);
  });

  it('gives way to the absolute cut only where the references cannot serve the reading', async () => {
    const references = await loadHealthyReferences(modelsDir(), nearest);
    const z = defaultReading(nearest, references);
    expect(withReadableCut(z, references)).toBe(z);
    expect(withReadableCut({ ...z, smoothingMm: 2 }, references).strategy).toEqual(DEFAULT_READING_SETTINGS.strategy);
    expect(withReadableCut(z, { metrics: {} }).strategy).toEqual(DEFAULT_READING_SETTINGS.strategy);
    const percentile = { ...z, strategy: { kind: 'percentile' as const, percentile: 99 } };
    expect(withReadableCut(percentile, { metrics: {} })).toBe(percentile);
  });
});

describe('inpaint-ct analyze', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the run record, checked field by field
  const readingOf = (dir: string): any => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).reading;
  async function analyze(input: string, extra: string[]): Promise<{ code: number; out: string; err: string }> {
    const out = mkdtempSync(join(tmpdir(), 'ict-cut-out-'));
    let err = '';
    const code = await runCli(['analyze', input, '--out', out, '--inpainter', 'nearest', ...extra, '--json'], { stdout: () => {}, stderr: (s) => (err += s) });
    return { code, out, err };
  }

  it('starts at z 3, at the absolute cut when --smooth-mm leaves no reference to read, and refuses an explicit --z there', async () => {
    const input = join(mkdtempSync(join(tmpdir(), 'ict-cut-')), 'head.nii.gz');
    await writeNifti(simpleHead([96, 96, 3], [2.4, 2.4, 5], 11, { subdural: true }).volume, input);

    const plain = await analyze(input, []);
    expect(plain.code, plain.err).toBe(0);
    expect(readingOf(plain.out).strategy).toEqual({ kind: 'zscore', z: DEFAULT_Z_CUT });

    const smoothed = await analyze(input, ['--smooth-mm', '2']);
    expect(smoothed.code, smoothed.err).toBe(0);
    expect(readingOf(smoothed.out)).toMatchObject({ smoothingMm: 2, strategy: DEFAULT_READING_SETTINGS.strategy });

    const refused = await analyze(input, ['--smooth-mm', '2', '--z', '3']);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/unsmoothed residuals/);
  });
});
