import { describe, expect, it } from 'vitest';
import {
  anatomicalAxes,
  centreOn,
  edgeLabels,
  orientationLetters,
  screenToWorld,
  slicePositionText,
  viewAxes,
  viewTransform,
  voxelToLps,
  worldToScreen,
  worldToVoxel,
  zoomAt,
  FIT_CAMERA,
  type Grid,
  type Vec3,
} from '../../../src/renderer/src/viewer/geometry';

const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];
const grid: Grid = { dims: [256, 200, 40], spacing: [0.5, 0.5, 5], origin: [-64, -50, -100], direction: IDENTITY };

function close(a: readonly number[], b: readonly number[], eps = 1e-9) {
  expect(a.length).toBe(b.length);
  a.forEach((v, n) => expect(Math.abs(v - b[n])).toBeLessThan(eps));
}

describe('anatomical axes and view conventions', () => {
  it('maps an LPS-aligned grid straight through with radiological view directions', () => {
    const anat = anatomicalAxes(IDENTITY);
    expect(anat.gridAxisOf).toEqual([0, 1, 2]);
    expect(anat.signOf).toEqual([1, 1, 1]);
    // Axial from the feet: patient left on screen right, anterior (-j) up.
    expect(viewAxes('axial', anat)).toEqual({ normal: 2, right: 0, rightSign: 1, up: 1, upSign: -1 });
    expect(viewAxes('coronal', anat)).toEqual({ normal: 1, right: 0, rightSign: 1, up: 2, upSign: 1 });
    // Sagittal from the left: posterior on screen right.
    expect(viewAxes('sagittal', anat)).toEqual({ normal: 0, right: 1, rightSign: 1, up: 2, upSign: 1 });
    expect(edgeLabels(viewAxes('axial', anat), IDENTITY)).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
    expect(edgeLabels(viewAxes('sagittal', anat), IDENTITY)).toEqual({ left: 'A', right: 'P', top: 'S', bottom: 'I' });
  });

  it('follows flipped and permuted grids (RAS-stored NIfTI, sagittal acquisition)', () => {
    // i towards the right, j anterior: the axial view still shows the patient's left on screen right.
    const ras = [-1, 0, 0, 0, -1, 0, 0, 0, 1];
    const axial = viewAxes('axial', anatomicalAxes(ras));
    expect(axial).toEqual({ normal: 2, right: 0, rightSign: -1, up: 1, upSign: 1 });
    expect(edgeLabels(axial, ras)).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
    // Sagittal stack: i runs posterior, j inferior, k towards the left.
    const sag = [0, 1, 0, 0, 0, -1, 1, 0, 0];
    const anat = anatomicalAxes(sag);
    expect(anat.gridAxisOf).toEqual([2, 0, 1]);
    expect(anat.signOf).toEqual([1, 1, -1]);
    expect(viewAxes('axial', anat).normal).toBe(1);
    expect(viewAxes('sagittal', anat).normal).toBe(2);
    expect(edgeLabels(viewAxes('coronal', anat), sag)).toEqual({ left: 'R', right: 'L', top: 'S', bottom: 'I' });
  });

  it('still gives three distinct views for a tilted gantry and writes oblique letters', () => {
    const t = (20 * Math.PI) / 180;
    // k tilted 20 degrees towards anterior.
    const tilted = [1, 0, 0, 0, Math.cos(t), Math.sin(t), 0, -Math.sin(t), Math.cos(t)];
    const anat = anatomicalAxes(tilted);
    expect(new Set(anat.gridAxisOf).size).toBe(3);
    expect(viewAxes('axial', anat).normal).toBe(2);
    expect(orientationLetters([0, -Math.sin(t), Math.cos(t)])).toBe('SA');
    expect(orientationLetters([0.7071, 0.7071, 0])).toMatch(/^(LP|PL)$/);
  });
});

describe('positions', () => {
  it('puts voxel centres in LPS with spacing and direction, and names the slice position', () => {
    close(voxelToLps(grid, 0, 0, 0), [-64, -50, -100]);
    close(voxelToLps(grid, 10, 4, 2), [-59, -48, -90]);
    const flipped: Grid = { ...grid, direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1] };
    close(voxelToLps(flipped, 10, 4, 2), [-69, -52, -90]);
    expect(slicePositionText('axial', [0, 0, -12.34])).toBe('I 12.3 mm');
    expect(slicePositionText('sagittal', [7, 0, 0])).toBe('L 7.0 mm');
  });

  it('rounds grid-world points to voxels and rejects points outside', () => {
    expect(worldToVoxel(grid, [10.2, 4.9, 12.4])).toEqual({ i: 20, j: 10, k: 2 });
    expect(worldToVoxel(grid, [-1, 0, 0])).toBeNull();
    expect(worldToVoxel(grid, [0, 0, 40 * 5])).toBeNull();
  });
});

describe('view transform', () => {
  const axes = viewAxes('axial', anatomicalAxes(IDENTITY));

  it('fits the slice into the viewport and maps screen to world and back', () => {
    const t = viewTransform(grid, axes, 7, FIT_CAMERA, 800, 600);
    // 128 mm x 100 mm slice in 800 x 600 px: height limits (100/2 * 1.04 = 52 mm half-height)... width: 64*600/800 = 48 < 52.
    expect(t.parallelScale).toBeCloseTo(52, 6);
    expect(t.focal[2]).toBe(35);
    const centre: Vec3 = [(255 * 0.5) / 2, (199 * 0.5) / 2, 35];
    close(worldToScreen(t, centre), [400, 300]);
    // Anterior (smaller j) is up on screen, left (larger i) is right.
    const [x, y] = worldToScreen(t, [centre[0] + 10, centre[1] - 10, 35]);
    expect(x).toBeGreaterThan(400);
    expect(y).toBeLessThan(300);
    close(screenToWorld(t, x, y), [centre[0] + 10, centre[1] - 10, 35], 1e-9);
    close(t.towardViewer, [0, 0, -1]);
  });

  it('zooms about the pointer and centres on a point', () => {
    const t = viewTransform(grid, axes, 7, FIT_CAMERA, 800, 600);
    const anchor = screenToWorld(t, 600, 150);
    const cam = zoomAt(grid, t, FIT_CAMERA, 2, 600, 150);
    expect(cam.zoom).toBe(2);
    const t2 = viewTransform(grid, axes, 7, cam, 800, 600);
    close(worldToScreen(t2, anchor), [600, 150], 1e-9);
    expect(t2.pxPerMm).toBeCloseTo(t.pxPerMm * 2, 9);

    const target: Vec3 = [20, 30, 35];
    const centred = centreOn(grid, axes, target, 3);
    const t3 = viewTransform(grid, axes, 7, centred, 800, 600);
    close(worldToScreen(t3, target), [400, 300], 1e-9);
  });
});
