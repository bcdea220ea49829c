import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNifti, writeNifti } from '../../../src/main/core/io/index';
import { Services } from '../../../src/main/services/index';
import { forEachBrushVoxel } from '../../../src/shared/brush';
import { decodeMaskRuns, encodeMaskRuns } from '../../../src/shared/mask-rle';
import type { JobInfo, SeriesDetail, StudySummary } from '../../../src/shared/types';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

describe('mask run-length transfer', () => {
  it('round-trips masks that start and end with either value', () => {
    for (const mask of [[0, 0, 1, 1, 1, 0], [1, 1, 0, 1], [0, 0, 0], [1], []]) {
      const runs = encodeMaskRuns(mask);
      expect(Array.from(decodeMaskRuns(runs, mask.length)!)).toEqual(mask);
    }
  });
  it('rejects runs that do not cover the grid exactly', () => {
    expect(decodeMaskRuns([2, 3], 6)).toBeNull();
    expect(decodeMaskRuns([2, 5], 6)).toBeNull();
    expect(decodeMaskRuns([2, -1, 5], 6)).toBeNull();
    expect(decodeMaskRuns([2.5, 3.5], 6)).toBeNull();
  });
});

/**
 * The workbench end to end on the services: a synthetic haemorrhage is painted over with the
 * brush footprint the UI uses, filled, and the result checked as a new series of the same study.
 */
describe('inpainting workbench on the services', () => {
  let services: Services;
  let source: SeriesDetail;
  let studyId: string;
  let truth: Uint8Array;
  let sourceVoxels: Int16Array;

  async function finished(jobId: string): Promise<JobInfo> {
    return services.jobs.waitFor(jobId);
  }

  beforeAll(async () => {
    services = await Services.open({ dataDir: tmp('ict-wb-'), mode: 'cli' });
    const job = await finished(((await services.call('synth.start', { seed: 11, lesions: ['iph'], slices: 5 })) as { jobId: string }).jobId);
    expect(job.status).toBe('succeeded');
    const study = ((await services.call('studies.list', {})) as StudySummary[])[0];
    studyId = study.id;
    source = (await services.call('series.get', { seriesId: study.series[0].id })) as SeriesDetail;
    truth = (await services.readBinary(`series/${source.id}/truth`)).bytes;
    const v = (await services.readBinary(source.voxelsPath)).bytes;
    sourceVoxels = new Int16Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  });
  afterAll(async () => {
    await services?.close();
  });

  /** The truth lesion widened by a 1 mm disc brush on every lesion voxel: what a user paints over it. */
  function maskOverLesion(): Uint8Array {
    const mask = new Uint8Array(truth.length);
    const [nx, ny] = source.dims;
    for (let p = 0; p < truth.length; p++) {
      if (!truth[p] || mask[p]) continue;
      const k = Math.floor(p / (nx * ny));
      const j = Math.floor((p - k * nx * ny) / nx);
      forEachBrushVoxel(source, [p % nx, j, k], 1, false, (q) => (mask[q] = 1));
    }
    return mask;
  }

  it('fills a painted lesion with a classical inpainter into a new series of the same study, leaving the source untouched', async () => {
    const mask = maskOverLesion();
    const masked = mask.reduce((a, v) => a + v, 0);
    expect(masked).toBeGreaterThan(100);
    const { jobId } = (await services.call('workbench.fill', { seriesId: source.id, maskRuns: encodeMaskRuns(mask), method: 'biharmonic' })) as { jobId: string };
    const job = await finished(jobId);
    expect(job.status, job.error?.message).toBe('succeeded');
    const filledId = (job.result as { studies: { id: string; series: { id: string }[] }[] }).studies[0].series[0].id;
    const filled = (await services.call('series.get', { seriesId: filledId })) as SeriesDetail;
    expect(filled.studyId).toBe(studyId);
    expect(filled.description).toMatch(/\(filled, biharmonic\)$/);
    expect(filled.fill).toMatchObject({ sourceSeriesId: source.id, method: 'biharmonic', model: null, maskedVoxels: masked, filledByClassical: masked, filledByDiffusion: 0 });
    expect(filled.fill!.maskVolumeMl).toBeCloseTo(masked * source.spacing[0] * source.spacing[1] * source.spacing[2] * 1e-3, 6);
    expect(filled.fill!.appVersion).toMatch(/^\d+\.\d+\.\d+/);

    const v = (await services.readBinary(filled.voxelsPath)).bytes;
    const out = new Int16Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
    let changedOutside = 0;
    let lesionBefore = 0;
    let lesionAfter = 0;
    let n = 0;
    for (let p = 0; p < out.length; p++) {
      if (!mask[p] && out[p] !== sourceVoxels[p]) changedOutside++;
      if (truth[p]) {
        lesionBefore += sourceVoxels[p];
        lesionAfter += out[p];
        n++;
      }
    }
    expect(changedOutside).toBe(0);
    let ring = 0;
    let ringCount = 0;
    let filledMin = Infinity;
    let filledMax = -Infinity;
    const nx = source.dims[0];
    for (let p = 0; p < out.length; p++) {
      if (mask[p]) {
        filledMin = Math.min(filledMin, out[p]);
        filledMax = Math.max(filledMax, out[p]);
      } else if ([p - 1, p + 1, p - nx, p + nx].some((q) => q >= 0 && q < out.length && mask[q])) {
        ring += sourceVoxels[p];
        ringCount++;
      }
    }
    // The hyperdense haemorrhage is repainted from the brain around it: its mean drops to the
    // level of its surroundings, and no filled value leaves the range of the voxels around the mask.
    const ringMean = ring / ringCount;
    expect(lesionBefore / n).toBeGreaterThan(ringMean + 8);
    expect(Math.abs(lesionAfter / n - ringMean)).toBeLessThan(6);
    expect(filledMin).toBeGreaterThanOrEqual(-20);
    expect(filledMax).toBeLessThanOrEqual(100);
    // The source is untouched and the fill mask is kept with the result.
    const again = (await services.readBinary(source.voxelsPath)).bytes;
    expect(Buffer.from(again).equals(Buffer.from(sourceVoxels.buffer))).toBe(true);
    expect(Array.from((await services.readBinary(filled.fill!.maskPath)).bytes)).toEqual(Array.from(mask));

    // Export as NIfTI: same grid and values.
    const exp = (await services.call('export.series', { seriesId: filledId })) as { path: string; downloadPath: string; fileName: string };
    expect(exp.fileName).toMatch(/filled_biharmonic.*\.nii\.gz$/);
    const back = await readNifti(exp.path);
    expect(back.dims).toEqual(source.dims);
    expect(Array.from(back.data.slice(0, 5000))).toEqual(Array.from(out.slice(0, 5000)));
    expect((await services.readBinary(exp.downloadPath)).contentType).toBe('application/gzip');
  }, 120_000);

  it('fills with the shipped diffusion model inside the brain and records its provenance', async () => {
    // One slice only: a disc in the middle slice, so the test stays quick on a CPU.
    const mask = new Uint8Array(truth.length);
    const k = Math.floor(source.dims[2] / 2);
    forEachBrushVoxel(source, [Math.floor(source.dims[0] * 0.4), Math.floor(source.dims[1] * 0.5), k], 6, false, (q) => (mask[q] = 1));
    const { jobId } = (await services.call('workbench.fill', { seriesId: source.id, maskRuns: encodeMaskRuns(mask), method: 'diffusion', modelId: 'healthy-brain-ddpm', device: 'cpu' })) as { jobId: string };
    const job = await finished(jobId);
    expect(job.status, job.error?.message).toBe('succeeded');
    const filledId = (job.result as { studies: { series: { id: string }[] }[] }).studies[0].series[0].id;
    const filled = (await services.call('series.get', { seriesId: filledId })) as SeriesDetail;
    expect(filled.fill).toMatchObject({ method: 'diffusion', model: { id: 'healthy-brain-ddpm' }, preset: 'fast', device: 'cpu', slicesInpainted: 1 });
    expect(filled.fill!.networkCalls).toBeGreaterThan(0);
    expect(filled.fill!.filledByDiffusion + filled.fill!.filledByClassical).toBe(mask.reduce((a, v) => a + v, 0));
    expect(filled.fill!.filledByDiffusion).toBeGreaterThan(0);
    const v = (await services.readBinary(filled.voxelsPath)).bytes;
    const out = new Int16Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
    // The model's values lie in the brain window (0-80 HU); outside voxels are unchanged.
    const brainFilled = filled.fill!.filledByClassical === 0;
    let outsideWindow = 0;
    let changedOutside = 0;
    for (let p = 0; p < out.length; p++) {
      if (mask[p] && brainFilled && (out[p] < -1 || out[p] > 81)) outsideWindow++;
      if (!mask[p] && out[p] !== sourceVoxels[p]) changedOutside++;
    }
    expect(outsideWindow).toBe(0);
    expect(changedOutside).toBe(0);
  }, 180_000);

  it('refuses an empty mask, a mask of another grid and a mask file that does not fit, with clear messages', async () => {
    const voxels = source.dims[0] * source.dims[1] * source.dims[2];
    await expect(services.call('workbench.fill', { seriesId: source.id, maskRuns: [voxels], method: 'linear' })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/mask is empty/) });
    await expect(services.call('workbench.fill', { seriesId: source.id, maskRuns: [10, 10], method: 'linear' })).rejects.toMatchObject({ code: 'GEOMETRY_MISMATCH' });
    await expect(services.call('workbench.fill', { seriesId: source.id, maskRuns: [10, 10, voxels - 20], method: 'diffusion', modelId: 'no-such-model' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });

    const dir = tmp('ict-wb-mask-');
    const geometry = { spacing: source.spacing, origin: source.origin, direction: source.direction, intensityUnit: 'raw' as const, meta: {}, warnings: [] };
    const good = new Int16Array(voxels);
    good.fill(1, 1000, 1100);
    await writeNifti({ ...geometry, dims: source.dims, data: good }, join(dir, 'good.nii.gz'), { datatype: 'uint8' });
    const imported = (await services.call('workbench.importMask', { seriesId: source.id, path: join(dir, 'good.nii.gz') })) as { runs: number[]; maskedVoxels: number };
    expect(imported.maskedVoxels).toBe(100);
    expect(Array.from(decodeMaskRuns(imported.runs, voxels)!)).toEqual(Array.from(good));

    const small = new Int16Array(source.dims[0] * source.dims[1]);
    small[5] = 1;
    await writeNifti({ ...geometry, dims: [source.dims[0], source.dims[1], 1], data: small }, join(dir, 'small.nii.gz'), { datatype: 'uint8' });
    await expect(services.call('workbench.importMask', { seriesId: source.id, path: join(dir, 'small.nii.gz') })).rejects.toMatchObject({ code: 'GEOMETRY_MISMATCH', message: expect.stringMatching(/must share one grid/) });
    const shifted = { ...geometry, origin: [source.origin[0] + 40, source.origin[1], source.origin[2]] as [number, number, number] };
    await writeNifti({ ...shifted, dims: source.dims, data: good }, join(dir, 'shifted.nii.gz'), { datatype: 'uint8' });
    await expect(services.call('workbench.importMask', { seriesId: source.id, path: join(dir, 'shifted.nii.gz') })).rejects.toMatchObject({ code: 'GEOMETRY_MISMATCH', message: expect.stringMatching(/different position/) });
    await expect(services.call('workbench.importMask', { seriesId: source.id, path: join(dir, 'missing.nii.gz') })).rejects.toMatchObject({ message: expect.any(String) });
  }, 60_000);
});

describe('brush footprint', () => {
  const grid = { dims: [40, 40, 10] as const, spacing: [0.5, 0.5, 5] as const };
  const collect = (sphere: boolean, sliceAxis?: 0 | 1 | 2) => {
    const hit: [number, number, number][] = [];
    forEachBrushVoxel(grid, [20, 20, 5], 3, sphere, (p) => hit.push([p % 40, Math.floor(p / 40) % 40, Math.floor(p / 1600)]), sliceAxis);
    return hit;
  };
  it('paints a round disc in millimetres across the axis of the view painted in', () => {
    const axial = collect(false);
    expect(new Set(axial.map((v) => v[2]))).toEqual(new Set([5]));
    // Radius 3 mm on 0.5 mm pixels: about pi * 6^2 voxels.
    expect(axial.length).toBeGreaterThan(100);
    expect(axial.length).toBeLessThan(125);
    const coronal = collect(false, 1);
    expect(new Set(coronal.map((v) => v[1]))).toEqual(new Set([20]));
    // 5 mm slices: a 3 mm radius reaches no neighbouring slice, so the disc is one slice thick.
    expect(new Set(coronal.map((v) => v[2]))).toEqual(new Set([5]));
    expect(coronal.length).toBe(13);
    const sagittal = collect(false, 0);
    expect(new Set(sagittal.map((v) => v[0]))).toEqual(new Set([20]));
  });
  it('paints a sphere through neighbouring slices within the radius', () => {
    const sphere = collect(true);
    expect(sphere.length).toBe(collect(false).length);
    const big: number[] = [];
    forEachBrushVoxel(grid, [20, 20, 5], 6, true, (p) => big.push(Math.floor(p / 1600)));
    expect(new Set(big)).toEqual(new Set([4, 5, 6]));
  });
});
