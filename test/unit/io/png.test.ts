import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { scanInputs } from '../../../src/main/core/io/index';
import { useTempDir } from './helpers';

const tempDir = useTempDir('inpaint-png-');

/** Slice s, pixel p has gray (s * 40 + p) % 256. */
function gray8(width: number, height: number, s: number): Uint8Array {
  return Uint8Array.from({ length: width * height }, (_, p) => (s * 40 + p) % 256);
}

describe('PNG slice stacks', () => {
  it('orders files naturally and maps gray to HU through the assumed brain window', async () => {
    const dir = await tempDir();
    const names = ['slice10.png', 'slice2.png', 'slice1.png'];
    const order = [10, 2, 1];
    for (let t = 0; t < names.length; t++) await writeFile(join(dir, names[t]), encodePng({ width: 8, height: 4, data: gray8(8, 4, order[t]), channels: 1, depth: 8 }));
    const scan = await scanInputs([dir]);
    expect(scan.errors).toEqual([]);
    const v = scan.series[0].volume;
    expect(v.dims).toEqual([8, 4, 3]);
    expect(v.data).toBeInstanceOf(Float32Array);
    // k order follows slice1, slice2, slice10.
    [1, 2, 10].forEach((s, k) => {
      const g = gray8(8, 4, s);
      for (const p of [0, 5, 31]) expect(v.data[k * 32 + p]).toBeCloseTo(0 + (g[p] / 255) * 80, 4);
    });
    expect(v.intensityUnit).toBe('HU');
    expect(v.meta).toMatchObject({ source: 'png', windowCenter: 40, windowWidth: 80, modality: 'CT' });
    expect(v.warnings.map((w) => w.code)).toEqual(['ASSUMED_WINDOW', 'ASSUMED_GEOMETRY']);
    expect(v.spacing).toEqual([1, 1, 1]);
    expect(scan.series[0].files.map((f) => f.split('/').pop())).toEqual(['slice1.png', 'slice2.png', 'slice10.png']);
  });

  it('uses a given window and spacing without warnings; gray 0 and 255 are the window ends', async () => {
    const dir = await tempDir();
    const data = new Uint8Array(4 * 4);
    data[0] = 0;
    data[1] = 255;
    data[2] = 128;
    await writeFile(join(dir, 'a.png'), encodePng({ width: 4, height: 4, data, channels: 1, depth: 8 }));
    const scan = await scanInputs([dir], { png: { windowCenter: 50, windowWidth: 350, pixelSpacingMm: 0.5, sliceSpacingMm: 5 } });
    const v = scan.series[0].volume;
    expect(v.data[0]).toBeCloseTo(-125, 5);
    expect(v.data[1]).toBeCloseTo(225, 5);
    expect(v.data[2]).toBeCloseTo(-125 + (128 / 255) * 350, 4);
    expect(v.warnings).toEqual([]);
    expect(v.spacing).toEqual([0.5, 0.5, 5]);
  });

  it('accepts RGB(A) PNGs whose channels are equal, rejects true colour, and reads 16-bit', async () => {
    const dir = await tempDir();
    const n = 6 * 5;
    const rgb = new Uint8Array(n * 3);
    for (let p = 0; p < n; p++) rgb.fill(p * 8, p * 3, p * 3 + 3);
    await writeFile(join(dir, 'grayish.png'), encodePng({ width: 6, height: 5, data: rgb, channels: 3, depth: 8 }));
    const rgba = new Uint8Array(n * 4);
    for (let p = 0; p < n; p++) rgba.set([p, p, p, 255], p * 4);
    await writeFile(join(dir, 'grayish2.png'), encodePng({ width: 6, height: 5, data: rgba, channels: 4, depth: 8 }));
    const colour = Uint8Array.from(rgb);
    colour[4] = 3;
    await writeFile(join(dir, 'zz-colour.png'), encodePng({ width: 6, height: 5, data: colour, channels: 3, depth: 8 }));
    const scan = await scanInputs([dir]);
    expect(scan.series[0].volume.dims).toEqual([6, 5, 2]);
    expect(scan.series[0].volume.data[31]).toBeCloseTo((1 / 255) * 80, 5);
    expect(scan.errors.map((e) => e.code)).toEqual(['PNG_INVALID']);
    expect(scan.errors[0].message).toMatch(/colour image/);

    const dir16 = await tempDir();
    const words = Uint16Array.from({ length: 4 }, (_, p) => [0, 1024, 1064, 65535][p]);
    await writeFile(join(dir16, 'a.png'), encodePng({ width: 2, height: 2, data: words, channels: 1, depth: 16 }));
    const windowed = (await scanInputs([dir16])).series[0].volume;
    expect(windowed.data[3]).toBeCloseTo(80, 5);
    const exact = (await scanInputs([dir16], { png: { huOffset: 1024 } })).series[0].volume;
    expect(Array.from(exact.data)).toEqual([-1024, 0, 40, 64511]);
    expect(exact.warnings.map((w) => w.code)).toEqual(['ASSUMED_GEOMETRY']);
  });
});
