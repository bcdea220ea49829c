/**
 * The vtk pipeline of one slice view, built once: the CT (or an alternate image) as an image
 * slice with window/level on the GPU, and three overlay image slices on the same plane drawn in
 * order over it — anomaly score heatmap (colormap + opacity ramp), brain-mask contour and
 * lesion labels (filled or outline). The label and contour layers are one-slice images the
 * caller fills on the CPU for the current slice, so a threshold change never re-uploads a volume.
 *
 * Every overlay keeps property opacity 1 and carries its opacity in the scalar-opacity function:
 * vtk then draws it in the opaque pass, in actor order, blended over what is below — exact
 * layering without order-independent transparency.
 */
import vtkImageMapper from '@kitware/vtk.js/Rendering/Core/ImageMapper';
import vtkImageSlice from '@kitware/vtk.js/Rendering/Core/ImageSlice';
import vtkColorTransferFunction from '@kitware/vtk.js/Rendering/Core/ColorTransferFunction';
import vtkPiecewiseFunction from '@kitware/vtk.js/Common/DataModel/PiecewiseFunction';
import type { SlicingMode } from '@kitware/vtk.js/Rendering/Core/ImageMapper/Constants';
import type { ColorStop } from '../colormaps';
import type { Axis, Vec3, ViewTransform } from '../geometry';
import type { RGB } from '../types';
import { RenderSurface, fillColormap, makeImage, deleteImage, type VtkImageData } from './common';

type VtkImageMapper = ReturnType<typeof vtkImageMapper.newInstance>;
type VtkImageSlice = ReturnType<typeof vtkImageSlice.newInstance>;
type VtkPiecewiseFunction = ReturnType<typeof vtkPiecewiseFunction.newInstance>;

/** Camera distance from the slice plane (mm); the clipping range keeps a slab around the plane. */
const CAMERA_DISTANCE_MM = 1000;

class ImageLayer {
  readonly mapper: VtkImageMapper = vtkImageMapper.newInstance();
  readonly actor: VtkImageSlice = vtkImageSlice.newInstance();
  readonly ctf = vtkColorTransferFunction.newInstance();
  readonly pwf: VtkPiecewiseFunction = vtkPiecewiseFunction.newInstance();
  private input: VtkImageData | null = null;
  private wanted = true;

  constructor(nearest: boolean, colored: boolean) {
    this.actor.setMapper(this.mapper);
    const p = this.actor.getProperty();
    if (nearest) p.setInterpolationTypeToNearest();
    else p.setInterpolationTypeToLinear();
    if (colored) {
      p.setRGBTransferFunction(0, this.ctf);
      p.setPiecewiseFunction(0, this.pwf);
      p.setUseLookupTableScalarRange(true);
    }
    this.actor.setVisibility(false);
  }

  setInput(image: VtkImageData | null): void {
    if (image === this.input) return;
    this.input = image;
    if (image) this.mapper.setInputData(image);
    this.sync();
  }

  setWanted(wanted: boolean): void {
    this.wanted = wanted;
    this.sync();
  }

  private sync(): void {
    this.actor.setVisibility(this.wanted && this.input !== null);
  }

  dispose(): void {
    this.actor.delete();
    this.mapper.delete();
    this.ctf.delete();
    this.pwf.delete();
  }
}

/** A layer whose image is one slice thick and refilled by the caller for each slice. */
class SliceBufferLayer extends ImageLayer {
  private image: VtkImageData | null = null;
  private buffer: Uint8Array | null = null;

  setSlice(buffer: Uint8Array, dims: Vec3, spacing: Vec3, originMm: Vec3): void {
    const dimsNow = this.image?.getDimensions();
    if (!this.image || this.buffer !== buffer || !dimsNow || dimsNow[0] !== dims[0] || dimsNow[1] !== dims[1] || dimsNow[2] !== dims[2]) {
      const old = this.image;
      this.image = makeImage(buffer, dims, spacing, originMm);
      this.buffer = buffer;
      this.setInput(this.image);
      if (old) deleteImage(old);
    } else {
      this.image.setOrigin([originMm[0], originMm[1], originMm[2]]);
      this.image.getPointData().getScalars().dataChange();
      this.image.modified();
    }
    this.mapper.setSlice(0);
  }

  override dispose(): void {
    super.dispose();
    if (this.image) deleteImage(this.image);
  }
}

export interface ScoreStyle {
  stops: readonly ColorStop[];
  range: readonly [number, number];
  transparentBelow?: number;
  opacity: number;
}

export class SliceScene {
  private readonly surface: RenderSurface;
  private readonly base = new ImageLayer(false, false);
  private readonly score = new ImageLayer(false, true);
  private readonly brain = new SliceBufferLayer(true, true);
  private readonly labels = new SliceBufferLayer(true, true);
  private axis: Axis = 2;

  constructor(container: HTMLElement) {
    this.surface = new RenderSurface(container);
    for (const layer of [this.base, this.score, this.brain, this.labels]) this.surface.renderer.addViewProp(layer.actor);
    const cam = this.surface.renderer.getActiveCamera();
    cam.setParallelProjection(true);
    // Opaque pass for overlays: see the file comment.
    for (const layer of [this.score, this.brain, this.labels]) layer.actor.setForceOpaque(true);
  }

  get rendererName(): string {
    return this.surface.rendererName();
  }

  setAxis(axis: Axis): void {
    this.axis = axis;
    for (const layer of [this.base, this.score, this.brain, this.labels]) layer.mapper.setSlicingMode(axis as number as SlicingMode);
  }

  setBaseImage(image: VtkImageData | null): void {
    this.base.setInput(image);
  }

  setSlice(slice: number): void {
    this.base.mapper.setSlice(slice);
    this.score.mapper.setSlice(slice);
  }

  setWindow(centerHu: number, widthHu: number): void {
    const p = this.base.actor.getProperty();
    p.setColorLevel(centerHu);
    p.setColorWindow(Math.max(1, widthHu));
  }

  setScoreImage(image: VtkImageData | null): void {
    this.score.setInput(image);
  }

  /** null hides the heatmap. */
  setScoreStyle(style: ScoreStyle | null): void {
    this.score.setWanted(style !== null);
    if (!style) return;
    const [lo, hi] = style.range;
    const span = hi > lo ? hi - lo : 1;
    fillColormap(this.score.ctf, style.stops, lo, lo + span);
    const pwf = this.score.pwf;
    pwf.removeAllPoints();
    if (style.transparentBelow !== undefined && style.transparentBelow > lo) {
      // A hard cut: nothing below it, full overlay opacity above.
      const cut = Math.min(style.transparentBelow, lo + span);
      pwf.addPoint(lo - span, 0);
      pwf.addPoint(cut, 0);
      pwf.addPoint(cut + span * 1e-4, style.opacity);
      pwf.addPoint(lo + span, style.opacity);
    } else {
      // Low scores fade out, so the anatomy stays readable where nothing is suspicious.
      pwf.addPoint(lo, 0);
      pwf.addPoint(lo + 0.4 * span, style.opacity);
      pwf.addPoint(lo + span, style.opacity);
    }
  }

  /** Colour slots 1..n of the label layer (index 0 of `colors` is ignored). */
  setLabelColors(colors: readonly RGB[], opacity: number): void {
    const ctf = this.labels.ctf;
    ctf.removeAllPoints();
    ctf.addRGBPoint(0, 0, 0, 0);
    for (let s = 1; s < colors.length; s++) {
      const [r, g, b] = colors[s];
      ctf.addRGBPoint(s - 0.45, r / 255, g / 255, b / 255);
      ctf.addRGBPoint(s + 0.45, r / 255, g / 255, b / 255);
    }
    setStepOpacity(this.labels.pwf, opacity, Math.max(1, colors.length - 1));
  }

  /** `buffer` holds the colour slots of the current slice (see voxels.labelSlice); null hides the layer. */
  setLabelSlice(buffer: Uint8Array | null, dims: Vec3, spacing: Vec3, originMm: Vec3): void {
    if (buffer) this.labels.setSlice(buffer, dims, spacing, originMm);
    this.labels.setWanted(buffer !== null);
  }

  setBrainStyle(color: RGB, opacity: number): void {
    const ctf = this.brain.ctf;
    ctf.removeAllPoints();
    ctf.addRGBPoint(0, 0, 0, 0);
    ctf.addRGBPoint(0.5, color[0] / 255, color[1] / 255, color[2] / 255);
    ctf.addRGBPoint(1, color[0] / 255, color[1] / 255, color[2] / 255);
    setStepOpacity(this.brain.pwf, opacity, 1);
  }

  setBrainSlice(buffer: Uint8Array | null, dims: Vec3, spacing: Vec3, originMm: Vec3): void {
    if (buffer) this.brain.setSlice(buffer, dims, spacing, originMm);
    this.brain.setWanted(buffer !== null);
  }

  setCamera(t: ViewTransform): void {
    const cam = this.surface.renderer.getActiveCamera();
    const [fx, fy, fz] = t.focal;
    const d = t.towardViewer;
    cam.setFocalPoint(fx, fy, fz);
    cam.setPosition(fx + d[0] * CAMERA_DISTANCE_MM, fy + d[1] * CAMERA_DISTANCE_MM, fz + d[2] * CAMERA_DISTANCE_MM);
    cam.setViewUp(t.up[0], t.up[1], t.up[2]);
    cam.setParallelScale(t.parallelScale);
    cam.setClippingRange(CAMERA_DISTANCE_MM - 50, CAMERA_DISTANCE_MM + 50);
  }

  setSize(cssWidth: number, cssHeight: number): void {
    this.surface.setSize(cssWidth, cssHeight);
  }

  render(): void {
    this.surface.render();
  }

  get sliceAxis(): Axis {
    return this.axis;
  }

  dispose(): void {
    this.surface.renderer.removeAllViewProps();
    for (const layer of [this.base, this.score, this.brain, this.labels]) layer.dispose();
    this.surface.dispose();
  }
}

/** Transparent at 0, `opacity` from 0.5 up to `max`. */
function setStepOpacity(pwf: VtkPiecewiseFunction, opacity: number, max: number): void {
  pwf.removeAllPoints();
  pwf.addPoint(0, 0);
  pwf.addPoint(0.49, 0);
  pwf.addPoint(0.51, opacity);
  pwf.addPoint(Math.max(1, max), opacity);
}
