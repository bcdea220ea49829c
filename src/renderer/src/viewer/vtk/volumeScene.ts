/**
 * The 3D view: ray-cast volume rendering of the CT with CT presets, lesions as coloured
 * surfaces (marching cubes on a smoothed crop of the label mask), the three slice planes as
 * coloured frames linked to the crosshair, and an orientation cube. Built once; the caller
 * swaps data and settings and calls render().
 */
import vtkVolume from '@kitware/vtk.js/Rendering/Core/Volume';
import vtkVolumeMapper from '@kitware/vtk.js/Rendering/Core/VolumeMapper';
import vtkColorTransferFunction from '@kitware/vtk.js/Rendering/Core/ColorTransferFunction';
import vtkPiecewiseFunction from '@kitware/vtk.js/Common/DataModel/PiecewiseFunction';
import vtkActor from '@kitware/vtk.js/Rendering/Core/Actor';
import vtkMapper from '@kitware/vtk.js/Rendering/Core/Mapper';
import vtkPolyData from '@kitware/vtk.js/Common/DataModel/PolyData';
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';
import vtkImageMarchingCubes from '@kitware/vtk.js/Filters/General/ImageMarchingCubes';
import vtkRenderWindowInteractor from '@kitware/vtk.js/Rendering/Core/RenderWindowInteractor';
import vtkInteractorStyleTrackballCamera from '@kitware/vtk.js/Interaction/Style/InteractorStyleTrackballCamera';
import vtkAnnotatedCubeActor from '@kitware/vtk.js/Rendering/Core/AnnotatedCubeActor';
import vtkOrientationMarkerWidget from '@kitware/vtk.js/Interaction/Widgets/OrientationMarkerWidget';
import { RenderSurface, makeImage, deleteImage, isSoftwareRenderer, type VtkImageData } from './common';
import type { Grid, Vec3, ViewAxes } from '../geometry';
import { orientationLetters } from '../geometry';
import type { RGB, SliceViewId, VolumePresetId, VoxelIndex } from '../types';
import { cropMask, labelNear, smoothMask, type Downsampled, type LabelArray } from '../voxels';

/** Fraction of device pixels the 3D view renders in software WebGL (SwiftShader, llvmpipe). */
const SOFTWARE_RESOLUTION = 0.5;

type VtkActor = ReturnType<typeof vtkActor.newInstance>;
type VtkMapper = ReturnType<typeof vtkMapper.newInstance>;
type VtkPolyData = ReturnType<typeof vtkPolyData.newInstance>;

interface VolumePreset {
  label: string;
  /** [HU, r, g, b] with channels 0..1 */
  colors: [number, number, number, number][];
  /** [HU, opacity per unit distance] */
  opacity: [number, number][];
  mip?: boolean;
  shade: boolean;
}

/**
 * "Bone" is 3D Slicer's CT-Bone; "Soft tissue" keeps skin and skull faint so lesion surfaces
 * inside the head stay visible; MIP shows the densest tissue along each ray.
 */
export const VOLUME_PRESETS: Readonly<Record<VolumePresetId, VolumePreset | null>> = {
  soft: {
    label: 'Soft tissue',
    colors: [
      [-1000, 0, 0, 0],
      [-400, 0.55, 0.3, 0.2],
      [-50, 0.85, 0.6, 0.5],
      [40, 0.92, 0.72, 0.62],
      [250, 0.98, 0.92, 0.82],
      [1500, 1, 1, 1],
    ],
    opacity: [
      [-1000, 0],
      [-400, 0],
      [-150, 0.012],
      [10, 0.004],
      [60, 0.008],
      [250, 0.03],
      [700, 0.12],
      [2000, 0.2],
    ],
    shade: true,
  },
  bone: {
    label: 'Bone',
    colors: [
      [-3024, 0, 0, 0],
      [-16, 0.73, 0.25, 0.3],
      [641, 0.91, 0.82, 0.55],
      [3071, 1, 1, 1],
    ],
    opacity: [
      [-3024, 0],
      [-16, 0],
      [641, 0.72],
      [3071, 0.71],
    ],
    shade: true,
  },
  mip: {
    label: 'MIP',
    colors: [
      [-100, 0, 0, 0],
      [1500, 1, 1, 1],
    ],
    opacity: [
      [-1024, 1],
      [3071, 1],
    ],
    mip: true,
    shade: false,
  },
  none: null,
};

export const VOLUME_PRESET_LABELS: Readonly<Record<VolumePresetId, string>> = {
  soft: 'Soft tissue',
  bone: 'Bone',
  mip: 'MIP',
  none: 'Lesions only',
};

export interface PlaneFrame {
  view: SliceViewId;
  axes: ViewAxes;
  color: RGB;
}

export class VolumeScene {
  private readonly surface: RenderSurface;
  private readonly interactor = vtkRenderWindowInteractor.newInstance();
  private readonly volume = vtkVolume.newInstance();
  private readonly volumeMapper = vtkVolumeMapper.newInstance();
  private readonly ctf = vtkColorTransferFunction.newInstance();
  private readonly otf = vtkPiecewiseFunction.newInstance();
  private readonly lesionActor: VtkActor = vtkActor.newInstance();
  private readonly lesionMapper: VtkMapper = vtkMapper.newInstance();
  private readonly frameActor: VtkActor = vtkActor.newInstance();
  private readonly frameMapper: VtkMapper = vtkMapper.newInstance();
  private readonly cube = vtkAnnotatedCubeActor.newInstance();
  private readonly marker: ReturnType<typeof vtkOrientationMarkerWidget.newInstance>;
  private image: VtkImageData | null = null;
  private lesions: VtkPolyData | null = null;
  private frames: VtkPolyData | null = null;
  readonly software: boolean;
  private minSpacing = 1;

  constructor(container: HTMLElement) {
    this.surface = new RenderSurface(container, [0.05, 0.06, 0.08]);
    this.software = isSoftwareRenderer(this.surface.rendererName());
    const ren = this.surface.renderer;

    this.volume.setMapper(this.volumeMapper);
    const prop = this.volume.getProperty();
    prop.setRGBTransferFunction(0, this.ctf);
    prop.setScalarOpacity(0, this.otf);
    prop.setInterpolationTypeToLinear();
    prop.setAmbient(0.25);
    prop.setDiffuse(0.75);
    prop.setSpecular(0.2);
    prop.setSpecularPower(10);
    // While the camera moves, vtk renders rays on a smaller grid to keep rotation fluid.
    this.volumeMapper.setAutoAdjustSampleDistances(true);
    this.volumeMapper.setMaximumSamplesPerRay(this.software ? 300 : 2000);

    this.lesionActor.setMapper(this.lesionMapper);
    this.lesionMapper.setColorModeToDirectScalars();
    this.lesionMapper.setScalarModeToUsePointData();
    this.lesionActor.getProperty().setSpecular(0.3);
    this.lesionActor.getProperty().setSpecularPower(20);
    this.lesionActor.setVisibility(false);

    this.frameActor.setMapper(this.frameMapper);
    this.frameMapper.setColorModeToDirectScalars();
    this.frameMapper.setScalarModeToUseCellData();
    this.frameActor.getProperty().setLighting(false);
    this.frameActor.getProperty().setLineWidth(2);
    this.frameActor.setVisibility(false);

    ren.addVolume(this.volume);
    ren.addActor(this.lesionActor);
    ren.addActor(this.frameActor);

    this.interactor.setView(this.surface.view);
    this.interactor.initialize();
    this.interactor.bindEvents(container);
    this.interactor.setInteractorStyle(vtkInteractorStyleTrackballCamera.newInstance());

    this.marker = vtkOrientationMarkerWidget.newInstance({ actor: this.cube, interactor: this.interactor });
    this.marker.setViewportCorner(vtkOrientationMarkerWidget.Corners.BOTTOM_LEFT);
    this.marker.setViewportSize(0.12);
    this.marker.setMinPixelSize(60);
    this.marker.setMaxPixelSize(96);
  }

  /** The (downsampled) CT and the grid it came from; the camera starts from the front. */
  setVolume(vol: Downsampled, grid: Grid, frontAxes: ViewAxes): void {
    const old = this.image;
    this.image = makeImage(vol.data, vol.dims, vol.spacing, vol.originMm);
    this.volumeMapper.setInputData(this.image);
    if (old) deleteImage(old);
    this.minSpacing = Math.min(...vol.spacing);
    this.volumeMapper.setSampleDistance(this.software ? Math.max(2, this.minSpacing * 1.5) : this.minSpacing * 0.5);
    this.volume.getProperty().setScalarOpacityUnitDistance(0, 1);
    this.setCubeLabels(grid.direction);
    this.resetCamera(frontAxes);
  }

  private setCubeLabels(direction: readonly number[]): void {
    const face = (a: number, s: number) => orientationLetters([s * direction[a * 3], s * direction[a * 3 + 1], s * direction[a * 3 + 2]]) || '?';
    this.cube.setDefaultStyle({ fontStyle: 'bold', fontFamily: 'Arial', fontColor: '#e8edf2', faceColor: '#3a4654', edgeThickness: 0.06, edgeColor: '#9fb3c8', resolution: 200 });
    this.cube.setXPlusFaceProperty({ text: face(0, 1) });
    this.cube.setXMinusFaceProperty({ text: face(0, -1) });
    this.cube.setYPlusFaceProperty({ text: face(1, 1) });
    this.cube.setYMinusFaceProperty({ text: face(1, -1) });
    this.cube.setZPlusFaceProperty({ text: face(2, 1) });
    this.cube.setZMinusFaceProperty({ text: face(2, -1) });
    this.marker.setEnabled(true);
  }

  /** Camera in front of the face (coronal view direction), turned a little for depth. */
  resetCamera(frontAxes: ViewAxes): void {
    const ren = this.surface.renderer;
    ren.resetCamera();
    const cam = ren.getActiveCamera();
    const fp = cam.getFocalPoint();
    const dist = cam.getDistance();
    const toward = cross(unit(frontAxes.right, frontAxes.rightSign), unit(frontAxes.up, frontAxes.upSign));
    cam.setPosition(fp[0] + toward[0] * dist, fp[1] + toward[1] * dist, fp[2] + toward[2] * dist);
    const up = unit(frontAxes.up, frontAxes.upSign);
    cam.setViewUp(up[0], up[1], up[2]);
    cam.azimuth(-30);
    cam.elevation(15);
    cam.orthogonalizeViewUp();
    ren.resetCamera();
    cam.zoom(1.25);
    ren.resetCameraClippingRange();
  }

  setPreset(id: VolumePresetId): void {
    const preset = VOLUME_PRESETS[id];
    this.volume.setVisibility(preset !== null);
    if (!preset) return;
    this.ctf.removeAllPoints();
    for (const [hu, r, g, b] of preset.colors) this.ctf.addRGBPoint(hu, r, g, b);
    this.otf.removeAllPoints();
    for (const [hu, o] of preset.opacity) this.otf.addPoint(hu, o);
    if (preset.mip) this.volumeMapper.setBlendModeToMaximumIntensity();
    else this.volumeMapper.setBlendModeToComposite();
    // Shading samples the gradient at every step: in software WebGL it costs ten times the frame.
    this.volume.getProperty().setShade(preset.shade && !this.software);
  }

  /**
   * Lesion surfaces from a label volume on the full grid; each surface point takes the colour of
   * the label it bounds. Returns the number of triangles.
   */
  setLesions(labels: LabelArray | null, grid: Grid, colorOf: (label: number) => RGB): number {
    const old = this.lesions;
    this.lesions = null;
    const crop = labels ? cropMask(labels, grid.dims) : null;
    if (!labels || !crop) {
      this.lesionActor.setVisibility(false);
      if (old) old.delete();
      return 0;
    }
    const sp = grid.spacing;
    const smooth = makeImage(smoothMask(crop), crop.dims, sp, [crop.offset[0] * sp[0], crop.offset[1] * sp[1], crop.offset[2] * sp[2]]);
    const mc = vtkImageMarchingCubes.newInstance({ contourValue: 0.4, computeNormals: true, mergePoints: true });
    mc.setInputData(smooth);
    const poly = mc.getOutputData() as VtkPolyData;
    mc.delete();
    deleteImage(smooth);
    const pts = poly.getPoints().getData() as Float32Array;
    const n = pts.length / 3;
    const rgb = new Uint8Array(n * 3);
    for (let p = 0; p < n; p++) {
      const l = labelNear(labels, grid.dims, pts[3 * p] / sp[0], pts[3 * p + 1] / sp[1], pts[3 * p + 2] / sp[2]);
      const c = colorOf(l || 1);
      rgb[3 * p] = c[0];
      rgb[3 * p + 1] = c[1];
      rgb[3 * p + 2] = c[2];
    }
    poly.getPointData().setScalars(vtkDataArray.newInstance({ name: 'colors', numberOfComponents: 3, values: rgb }));
    this.lesions = poly;
    this.lesionMapper.setInputData(poly);
    this.lesionActor.setVisibility(n > 0);
    if (old) old.delete();
    return poly.getNumberOfPolys();
  }

  setLesionsVisible(visible: boolean): void {
    this.lesionActor.setVisibility(visible && this.lesions !== null && this.lesions.getNumberOfPoints() > 0);
  }

  /** Frames of the three slice planes through the crosshair, each in its view's colour. */
  setPlanes(position: VoxelIndex, grid: Grid, frames: PlaneFrame[], visible: boolean): void {
    this.frameActor.setVisibility(visible);
    if (!visible) return;
    const sp = grid.spacing;
    const max: Vec3 = [(grid.dims[0] - 1) * sp[0], (grid.dims[1] - 1) * sp[1], (grid.dims[2] - 1) * sp[2]];
    const at: Vec3 = [position.i * sp[0], position.j * sp[1], position.k * sp[2]];
    const points: number[] = [];
    const lines: number[] = [];
    const colors: number[] = [];
    for (const f of frames) {
      const n = f.axes.normal;
      const [u, v] = n === 0 ? [1, 2] : n === 1 ? [0, 2] : [0, 1];
      const first = points.length / 3;
      for (const [a, b] of [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ]) {
        const p: Vec3 = [0, 0, 0];
        p[n] = at[n];
        p[u] = a * max[u];
        p[v] = b * max[v];
        points.push(...p);
      }
      lines.push(5, first, first + 1, first + 2, first + 3, first);
      colors.push(...f.color);
    }
    const poly = vtkPolyData.newInstance();
    poly.getPoints().setData(Float32Array.from(points), 3);
    poly.getLines().setData(Uint32Array.from(lines));
    poly.getCellData().setScalars(vtkDataArray.newInstance({ name: 'colors', numberOfComponents: 3, values: Uint8Array.from(colors) }));
    const old = this.frames;
    this.frames = poly;
    this.frameMapper.setInputData(poly);
    if (old) old.delete();
  }

  setSize(cssWidth: number, cssHeight: number): void {
    // Ray casting costs per pixel: in software WebGL, fewer pixels stretched by the canvas' CSS.
    this.surface.setSize(cssWidth, cssHeight, this.software ? SOFTWARE_RESOLUTION : 1);
    this.marker.updateViewport();
  }

  render(): void {
    this.surface.renderer.resetCameraClippingRange();
    this.surface.render();
  }

  dispose(): void {
    this.marker.setEnabled(false);
    this.marker.delete();
    this.interactor.unbindEvents();
    this.interactor.delete();
    this.surface.renderer.removeAllViewProps();
    for (const o of [this.volume, this.volumeMapper, this.ctf, this.otf, this.lesionActor, this.lesionMapper, this.frameActor, this.frameMapper, this.cube]) o.delete();
    this.lesions?.delete();
    this.frames?.delete();
    if (this.image) deleteImage(this.image);
    this.surface.dispose();
  }
}

function unit(axis: number, sign: number): Vec3 {
  const v: Vec3 = [0, 0, 0];
  v[axis] = sign;
  return v;
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
