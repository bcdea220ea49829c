/**
 * vtk.js plumbing shared by the slice and 3D scenes: one WebGL render window bound to a div,
 * image data that wraps our typed arrays without copying, and transfer functions from our
 * colour tables.
 */
import '@kitware/vtk.js/Rendering/OpenGL/Profiles/Volume';
import '@kitware/vtk.js/Rendering/OpenGL/Profiles/Geometry';
import vtkRenderWindow from '@kitware/vtk.js/Rendering/Core/RenderWindow';
import vtkRenderer from '@kitware/vtk.js/Rendering/Core/Renderer';
import vtkOpenGLRenderWindow from '@kitware/vtk.js/Rendering/OpenGL/RenderWindow';
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData';
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';
import vtkColorTransferFunction from '@kitware/vtk.js/Rendering/Core/ColorTransferFunction';
import type { ColorStop } from '../colormaps';
import type { Vec3 } from '../geometry';

export type VtkImageData = ReturnType<typeof vtkImageData.newInstance>;
export type VtkColorTransferFunction = ReturnType<typeof vtkColorTransferFunction.newInstance>;
type VtkRenderWindow = ReturnType<typeof vtkRenderWindow.newInstance>;
type VtkRenderer = ReturnType<typeof vtkRenderer.newInstance>;
type VtkOpenGLRenderWindow = ReturnType<typeof vtkOpenGLRenderWindow.newInstance>;

export type ScalarArray = Int16Array | Float32Array | Uint8Array | Uint16Array | Int32Array;

/** Wraps (does not copy) a scalar array as image data in grid-world coordinates. */
export function makeImage(data: ScalarArray, dims: Vec3, spacing: Vec3, originMm: Vec3 = [0, 0, 0]): VtkImageData {
  const image = vtkImageData.newInstance();
  image.setDimensions(dims[0], dims[1], dims[2]);
  image.setSpacing([spacing[0], spacing[1], spacing[2]]);
  image.setOrigin([originMm[0], originMm[1], originMm[2]]);
  image.getPointData().setScalars(vtkDataArray.newInstance({ name: 'scalars', numberOfComponents: 1, values: data }));
  return image;
}

/** Deletes image data together with its scalar array. */
export function deleteImage(image: VtkImageData): void {
  const scalars = image.getPointData().getScalars();
  image.delete();
  scalars?.delete();
}

/** A colormap stretched over [lo, hi]. */
export function fillColormap(ctf: VtkColorTransferFunction, stops: readonly ColorStop[], lo: number, hi: number): void {
  ctf.removeAllPoints();
  const span = hi > lo ? hi - lo : 1;
  for (const [t, r, g, b] of stops) ctf.addRGBPoint(lo + t * span, r / 255, g / 255, b / 255);
}

/**
 * A WebGL2 render window with one renderer, drawing into `container`. The canvas fills the
 * container; `setSize` takes CSS pixels and renders at device resolution.
 */
export class RenderSurface {
  readonly renderWindow: VtkRenderWindow;
  readonly renderer: VtkRenderer;
  readonly view: VtkOpenGLRenderWindow;
  private deleted = false;

  constructor(readonly container: HTMLElement, background: Vec3 = [0, 0, 0]) {
    this.renderWindow = vtkRenderWindow.newInstance();
    this.renderer = vtkRenderer.newInstance();
    this.renderer.setBackground(background[0], background[1], background[2]);
    this.renderWindow.addRenderer(this.renderer);
    this.view = vtkOpenGLRenderWindow.newInstance();
    this.renderWindow.addView(this.view);
    this.view.setContainer(container);
    // Create the WebGL context now (vtk would on the first render), so the GPU can be asked for.
    this.view.initialize();
    const canvas = this.view.getCanvas();
    if (canvas) {
      canvas.style.width = '100%';
      canvas.style.height = '100%';
      canvas.style.display = 'block';
    }
  }

  /** `resolution` < 1 renders fewer pixels than the screen has; CSS stretches the canvas. */
  setSize(cssWidth: number, cssHeight: number, resolution = 1): void {
    const dpr = (window.devicePixelRatio || 1) * resolution;
    this.view.setSize(Math.max(1, Math.round(cssWidth * dpr)), Math.max(1, Math.round(cssHeight * dpr)));
  }

  render(): void {
    if (!this.deleted) this.renderWindow.render();
  }

  /** The GPU's name, to tell software rendering (SwiftShader, llvmpipe) from a real GPU. */
  rendererName(): string {
    const gl = glContext(this.view);
    if (!gl) return '';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  }

  /** Releases GPU resources and the WebGL context itself (browsers allow only a few at once). */
  dispose(): void {
    if (this.deleted) return;
    this.deleted = true;
    const gl = glContext(this.view);
    this.renderer.removeAllViewProps();
    this.renderWindow.removeRenderer(this.renderer);
    this.renderer.delete();
    this.view.delete();
    this.renderWindow.delete();
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
    this.container.replaceChildren();
  }
}

/** vtk.js exposes the context through a generated getter its typings leave out. */
function glContext(view: VtkOpenGLRenderWindow): WebGL2RenderingContext | null {
  return (view as unknown as { getContext(): WebGL2RenderingContext | null }).getContext() ?? null;
}

export function isSoftwareRenderer(name: string): boolean {
  return /swiftshader|llvmpipe|software|basic render/i.test(name);
}
