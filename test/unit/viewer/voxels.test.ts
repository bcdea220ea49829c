import { describe, expect, it } from 'vitest';
import { colourSlot, cropMask, downsampleInPlane, labelNear, labelSlice, nonZeroBounds, sliceDims, smoothMask, valueRange } from '../../../src/renderer/src/viewer/voxels';
import { colormapAt, labelColor, LABEL_PALETTE } from '../../../src/renderer/src/viewer/colormaps';
import { SHORTCUTS, shortcutFor } from '../../../src/renderer/src/viewer/shortcuts';
import { dragWindow, windowKey } from '../../../src/renderer/src/viewer/model';
import type { Vec3 } from '../../../src/renderer/src/viewer/geometry';

/** A 6 x 5 x 4 label volume with a 3 x 3 x 2 block of label 2 and one voxel of label 300. */
function block(): { labels: Int32Array; dims: Vec3 } {
  const dims: Vec3 = [6, 5, 4];
  const labels = new Int32Array(6 * 5 * 4);
  for (let k = 1; k <= 2; k++) for (let j = 1; j <= 3; j++) for (let i = 2; i <= 4; i++) labels[i + 6 * (j + 5 * k)] = 2;
  labels[0 + 6 * (0 + 5 * 3)] = 300;
  return { labels, dims };
}

describe('label slices', () => {
  it('fills an axial slice with colour slots and an outline keeps only the border', () => {
    const { labels, dims } = block();
    const out = new Uint8Array(6 * 5);
    expect(labelSlice(labels, dims, 2, 1, 'filled', out)).toBe(true);
    expect(Array.from(out).filter((v) => v === 2).length).toBe(9);
    labelSlice(labels, dims, 2, 1, 'outline', out);
    // The 3 x 3 block's centre (i 3, j 2) is inside: not drawn.
    expect(out[3 + 6 * 2]).toBe(0);
    expect(Array.from(out).filter((v) => v === 2).length).toBe(8);
    expect(labelSlice(labels, dims, 2, 0, 'filled', out)).toBe(false);
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('cuts coronal and sagittal slices in x-fastest order of the remaining axes', () => {
    const { labels, dims } = block();
    expect(sliceDims(dims, 1)).toEqual([6, 1, 4]);
    const cor = new Uint8Array(6 * 4);
    labelSlice(labels, dims, 1, 2, 'filled', cor);
    // (i, k) -> i + 6k
    expect(cor[2 + 6 * 1]).toBe(2);
    expect(cor[1 + 6 * 1]).toBe(0);
    const sag = new Uint8Array(5 * 4);
    labelSlice(labels, dims, 0, 0, 'filled', sag);
    // (j, k) -> j + 5k: the label-300 voxel at j 0, k 3 wraps to slot 300 - 255.
    expect(sag[0 + 5 * 3]).toBe(45);
    expect(colourSlot(300)).toBe(45);
    expect(colourSlot(255)).toBe(255);
    expect(colourSlot(0)).toBe(0);
  });
});

describe('masks for 3D', () => {
  it('finds bounds and crops with an empty border', () => {
    const { labels, dims } = block();
    labels[0 + 6 * (0 + 5 * 3)] = 0;
    expect(nonZeroBounds(labels, dims)).toEqual([2, 4, 1, 3, 1, 2]);
    const crop = cropMask(labels, dims)!;
    expect(crop.dims).toEqual([5, 5, 4]);
    expect(crop.offset).toEqual([1, 0, 0]);
    expect(crop.data.reduce((a, b) => a + b, 0)).toBe(18);
    // Border voxels are empty.
    expect(crop.data[0]).toBe(0);
    expect(nonZeroBounds(new Uint8Array(8), [2, 2, 2])).toBeNull();
  });

  it('smooths without changing the total much and finds the label next to a surface point', () => {
    const { labels, dims } = block();
    labels[0 + 6 * (0 + 5 * 3)] = 0;
    const crop = cropMask(labels, dims)!;
    const s = smoothMask(crop);
    expect(s.reduce((a, b) => a + b, 0)).toBeGreaterThan(18 * 0.8);
    expect(Math.max(...s)).toBeLessThan(1);
    // Halfway between voxel (4, 2, 1) (label 2) and (5, 2, 1) (empty).
    expect(labelNear(labels, dims, 4.5, 2, 1)).toBe(2);
    expect(labelNear(labels, dims, 0.2, 4.2, 0.1)).toBe(0);
  });

  it('box-averages in plane and keeps the grid aligned', () => {
    const dims: Vec3 = [600, 520, 2];
    const data = new Int16Array(600 * 520 * 2);
    for (let n = 0; n < data.length; n++) data[n] = n % 2 === 0 ? 100 : 0;
    const d = downsampleInPlane(data, dims, [0.4, 0.4, 5], 256);
    expect(d.factor).toBe(3);
    expect(d.dims).toEqual([200, 173, 2]);
    expect(d.spacing[0]).toBeCloseTo(1.2, 9);
    expect(d.originMm[0]).toBeCloseTo(0.4, 9);
    // Three columns of alternating 100/0: means of 33 or 67.
    expect([33, 67]).toContain(d.data[0]);
    const same = downsampleInPlane(new Int16Array(8), [2, 2, 2], [1, 1, 1], 256);
    expect(same.factor).toBe(1);
    expect(valueRange(Int16Array.from([5, -3, 9]))).toEqual([-3, 9]);
  });
});

describe('colour tables, windows and shortcuts', () => {
  it('interpolates colormaps and cycles the label palette', () => {
    expect(colormapAt('hot', 0)).toEqual([40, 0, 0]);
    expect(colormapAt('hot', 1)).toEqual([255, 255, 255]);
    expect(colormapAt('hot', 0.75)).toEqual([255, 255, 0]);
    expect(colormapAt('viridis', 2)).toEqual([253, 231, 37]);
    expect(labelColor(1)).toEqual(LABEL_PALETTE[0]);
    expect(labelColor(LABEL_PALETTE.length + 1)).toEqual(LABEL_PALETTE[0]);
    expect(labelColor(2, [undefined, undefined, [1, 2, 3]])).toEqual([1, 2, 3]);
  });

  it('drags the window in proportion to its width and never below 1 HU', () => {
    expect(windowKey(dragWindow({ centerHu: 40, widthHu: 80 }, 0, 0))).toBe('40/80');
    const wider = dragWindow({ centerHu: 40, widthHu: 2800 }, 100, 0);
    expect(wider.widthHu).toBeCloseTo(2800 + 100 * (2800 / 250), 6);
    expect(dragWindow({ centerHu: 40, widthHu: 80 }, -1000, 0).widthHu).toBe(1);
    expect(dragWindow({ centerHu: 40, widthHu: 80 }, 0, 10).centerHu).toBeGreaterThan(40);
  });

  it('maps every shortcut key to one action, ignoring browser chords', () => {
    const keys = SHORTCUTS.flatMap((s) => s.keys.map((k) => (k.length === 1 ? k.toLowerCase() : k)));
    expect(new Set(keys).size).toBe(keys.length);
    const press = (key: string, mods: Partial<{ ctrlKey: boolean; altKey: boolean; metaKey: boolean }> = {}) => shortcutFor({ key, ctrlKey: false, altKey: false, metaKey: false, ...mods });
    expect(press('ArrowUp')).toBe('sliceNext');
    expect(press('4')).toBe('windowBone');
    expect(press('V')).toBe('toggle3d');
    expect(press('?')).toBe('help');
    expect(press('r', { ctrlKey: true })).toBeNull();
    expect(press('q')).toBeNull();
  });
});
