import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanInputs } from '../../../src/main/core/io/index';
import { readNifti } from '../../../src/main/core/io/nifti';
import { generateCase, writeSyntheticCase } from '../../../src/main/core/synth/index';
import { synthCommand } from '../../../src/main/cli/commands/synth';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ict-synth-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const hasDciodvfy = spawnSync('sh', ['-c', 'command -v dciodvfy']).status === 0;

describe('writing a synthetic case', () => {
  const c = generateCase({ seed: 12, dims: [96, 96], slices: 8, timepoints: 2, lesions: [{ type: 'iph', volumeMl: 8, site: 'basal-ganglia' }] });

  it('writes DICOM, NIfTI, masks and metadata that read back to the same HU and geometry', async () => {
    const out = join(tempDir(), 'case');
    const w = await writeSyntheticCase(c, out, { format: 'both' });
    expect(w.timepoints).toHaveLength(2);
    const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
    expect(meta.seed).toBe(12);
    expect(meta.timepoints[1].lesions[0].volumeMl).toBeCloseTo(c.timepoints[1].lesions[0].volumeMl, 2);
    expect(meta.lesions[0].type).toBe('iph');
    expect(meta.subject.ventricleScale).toBeGreaterThan(0);
    expect(meta.lesionMaskDefinition).toMatch(/exactly the voxels/);
    expect(meta.dicom.studyInstanceUid).toBe(w.studyInstanceUid);

    const scanned = await scanInputs([out]);
    expect(scanned.errors).toEqual([]);
    const dicom = scanned.series.filter((s) => s.format === 'dicom');
    expect(dicom).toHaveLength(2);
    // One study and one frame of reference for the subject, one series per timepoint.
    expect(new Set(dicom.map((s) => s.volume.meta.studyInstanceUid)).size).toBe(1);
    expect(new Set(dicom.map((s) => s.volume.meta.frameOfReferenceUid)).size).toBe(1);
    expect(new Set(dicom.map((s) => s.volume.meta.seriesInstanceUid)).size).toBe(2);
    for (const tp of c.timepoints) {
      const s = dicom.find((d) => d.volume.meta.seriesNumber === tp.index + 1)!;
      const v = s.volume;
      expect(s.files).toHaveLength(8);
      expect(v.dims).toEqual(tp.volume.dims);
      for (let a = 0; a < 3; a++) {
        expect(v.spacing[a]).toBeCloseTo(tp.volume.spacing[a], 4);
        expect(v.origin[a]).toBeCloseTo(tp.volume.origin[a], 3);
      }
      v.direction.forEach((d, i) => expect(d).toBeCloseTo(tp.volume.direction[i], 6));
      let worst = 0;
      for (let p = 0; p < v.data.length; p++) worst = Math.max(worst, Math.abs(v.data[p] - tp.volume.data[p]));
      expect(worst).toBeLessThanOrEqual(0.5 + 1e-6);
      const nifti = await readNifti(join(out, w.timepoints[tp.index].ct!));
      expect(nifti.dims).toEqual(tp.volume.dims);
      nifti.origin.forEach((o, i) => expect(o).toBeCloseTo(tp.volume.origin[i], 3));
      for (let p = 0; p < nifti.data.length; p += 97) expect(nifti.data[p]).toBe(v.data[p]);
      // Masks: exactly the lesion voxels.
      for (const l of tp.lesions) {
        const m = await readNifti(join(out, w.timepoints[tp.index].lesions.find((x) => x.id === l.id)!.mask));
        let count = 0;
        for (let p = 0; p < m.data.length; p++) if (m.data[p]) count++;
        expect(count).toBe(l.voxelCount);
        for (const v2 of l.voxels) expect(m.data[v2]).toBe(1);
      }
    }
    const brain = await readNifti(join(out, 'brain_mask.nii.gz'));
    let inBrain = 0;
    for (let p = 0; p < brain.data.length; p++) inBrain += brain.data[p];
    expect(inBrain).toBe(c.brainMask.reduce((a, v) => a + v, 0));
  });

  it.skipIf(!hasDciodvfy)('DICOM passes dciodvfy without errors', async () => {
    const out = join(tempDir(), 'dcm');
    const w = await writeSyntheticCase(c, out, { format: 'dicom' });
    expect(existsSync(join(out, 't1_day0', 'ct.nii.gz'))).toBe(false);
    const file = join(out, w.timepoints[0].dicomDirectory!, 'CT0004.dcm');
    const res = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
    const text = `${res.stdout}\n${res.stderr}`;
    expect(text).not.toMatch(/^Error/m);
  });

  it('reproduces identical files for identical options, and refuses to mix into a used folder', async () => {
    const a = join(tempDir(), 'a');
    const b = join(tempDir(), 'b');
    const again = generateCase({ seed: 12, dims: [96, 96], slices: 8, timepoints: 2, lesions: [{ type: 'iph', volumeMl: 8, site: 'basal-ganglia' }] });
    await writeSyntheticCase(c, a, { format: 'dicom' });
    await writeSyntheticCase(again, b, { format: 'dicom' });
    const f = 't2_day3/dicom/CT0005.dcm';
    // Instance creation time differs between runs; pixel data and UIDs do not.
    const pa = readFileSync(join(a, f));
    const pb = readFileSync(join(b, f));
    expect(pa.length).toBe(pb.length);
    expect(pa.subarray(pa.length - 96 * 96 * 2).equals(pb.subarray(pb.length - 96 * 96 * 2))).toBe(true);
    expect(JSON.parse(readFileSync(join(a, 'metadata.json'), 'utf8')).dicom).toEqual(JSON.parse(readFileSync(join(b, 'metadata.json'), 'utf8')).dicom);
    await expect(writeSyntheticCase(c, a)).rejects.toThrow(/not empty/);
  });
});

describe('synth command', () => {
  it('writes the case and lists files and lesion volumes', async () => {
    const out = join(tempDir(), 'cli');
    const logs: string[] = [];
    const r = await synthCommand.run(['--out', out, '--seed', '5', '--lesions', 'edh,ivh', '--volumes', '20,-', '--slices', '6', '--matrix', '96', '--format', 'nifti', '--preview'], {
      json: true,
      log: (l) => logs.push(l),
      signal: new AbortController().signal,
      dataDir: tempDir(),
    });
    expect(r.seed).toBe(5);
    expect(r.files).toContain('metadata.json');
    expect(r.files).toContain('preview.png');
    expect(r.files.some((f) => f.endsWith('.dcm'))).toBe(false);
    const edh = r.timepoints[0].lesions.find((l) => l.type === 'edh')!;
    expect(Math.abs(edh.volumeMl - 20) / 20).toBeLessThan(0.1);
    expect(existsSync(join(out, edh.mask))).toBe(true);
    expect(logs.join('\n')).toMatch(/seed 5/);
    expect(synthCommand.format!(r)).toMatch(/edh-1/);
    await expect(synthCommand.run(['--out', out, '--lesions', 'tumor'], { json: true, log: () => {}, signal: new AbortController().signal, dataDir: '' })).rejects.toThrow(/Unknown lesion type/);
  });
});
