import { describe, expect, it } from 'vitest';
import { circleStats, describeRoi } from '../../../src/renderer/src/viewer/roi';
import type { Vec3 } from '../../../src/renderer/src/viewer/geometry';

/** A 20 x 16 x 3 volume of 10 HU with a 6 x 6 block of 70 HU on slice 1; spacing 0.5 x 0.5 x 5 mm. */
function volume(): { data: Float32Array; dims: Vec3; spacing: Vec3 } {
  const dims: Vec3 = [20, 16, 3];
  const data = new Float32Array(20 * 16 * 3).fill(10);
  for (let j = 5; j < 11; j++) for (let i = 7; i < 13; i++) data[i + 20 * (j + 16 * 1)] = 70;
  return { data, dims, spacing: [0.5, 0.5, 5] };
}

describe('density ROI statistics', () => {
  it('counts the voxel centres inside the circle on the drawn slice only', () => {
    const { data, dims, spacing } = volume();
    // Centre on voxel (10, 8) of slice 1 (world 5.0, 4.0 mm), radius 1 mm: voxels within two steps.
    const s = circleStats(data, dims, spacing, 2, 1, [5, 4, 5], 1)!;
    // Centres at (di, dj) with di² + dj² <= 4 in voxel steps: 13 voxels, all inside the block.
    expect(s.voxels).toBe(13);
    expect(s).toMatchObject({ mean: 70, sd: 0, min: 70, max: 70 });
    expect(s.areaMm2).toBeCloseTo(Math.PI, 9);
    // The same circle on slice 0 reads the background.
    expect(circleStats(data, dims, spacing, 2, 0, [5, 4, 0], 1)!.mean).toBe(10);
  });

  it('mixes block and background by their share of voxels, with the sample SD', () => {
    const { data, dims, spacing } = volume();
    // Centred on the block's left edge (between voxels 6 and 7): part block, part background.
    const s = circleStats(data, dims, spacing, 2, 1, [3.25, 4, 5], 1.2)!;
    const inside: number[] = [];
    for (let j = 0; j < 16; j++) for (let i = 0; i < 20; i++) if ((i * 0.5 - 3.25) ** 2 + (j * 0.5 - 4) ** 2 <= 1.44) inside.push(data[i + 20 * (j + 16)]);
    const mean = inside.reduce((a, v) => a + v, 0) / inside.length;
    const sd = Math.sqrt(inside.reduce((a, v) => a + (v - mean) ** 2, 0) / (inside.length - 1));
    expect(s.voxels).toBe(inside.length);
    expect(s.min).toBe(10);
    expect(s.max).toBe(70);
    expect(s.mean).toBeCloseTo(mean, 9);
    expect(s.sd).toBeCloseTo(sd, 9);
  });

  it('works in coronal and sagittal planes, clips at the volume edge, and refuses a circle without a voxel', () => {
    const { data, dims, spacing } = volume();
    // Coronal plane (normal j) through row 8: the block spans i 7-12 on slice k 1.
    const coronal = circleStats(data, dims, spacing, 1, 8, [5, 4, 5], 0.6)!;
    expect(coronal.mean).toBe(70);
    // A circle over the corner holds only the voxels inside the volume.
    const corner = circleStats(data, dims, spacing, 2, 0, [0, 0, 0], 0.5)!;
    expect(corner.voxels).toBe(3);
    expect(circleStats(data, dims, spacing, 2, 0, [0.25, 0.25, 0], 0.1)).toBeNull();
    expect(circleStats(data, dims, spacing, 2, 0, [-20, -20, 0], 2)).toBeNull();
  });

  it('labels the circle with mean, SD, range and area', () => {
    expect(describeRoi({ mean: 72.06, sd: 4.94, min: 60, max: 85, voxels: 250, areaMm2: 201 }, 'HU')).toBe('72.1 ± 4.9 HU (60 to 85) · 2.01 cm²');
    expect(describeRoi({ mean: 0.5, sd: 0.1, min: 0.25, max: 1, voxels: 4, areaMm2: 12.5 }, '')).toBe('0.5 ± 0.1 (0.3 to 1) · 12.5 mm²');
  });
});
