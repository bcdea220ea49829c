/**
 * One slice viewport (axial, coronal or sagittal): the vtk scene, a 2D canvas on top for the
 * crosshair and measurements, corner annotations, orientation letters and a slice slider.
 *
 * The vtk pipeline is built once; each changing property has its own small effect that sets it
 * and asks for a frame. Frames are coalesced per animation frame; after each one the viewport's
 * data-* attributes (data-ready, data-slice, data-window, data-image) describe exactly what is
 * on screen, which is what the end-to-end tests wait on.
 */
import { useCallback, useEffect, useMemo, useRef, type PointerEvent as ReactPointerEvent, type RefObject } from 'react';
import type { CtWindow } from '../../../shared/windows';
import {
  clampVoxel,
  distanceMm,
  edgeLabels,
  screenToWorld,
  slicePositionText,
  voxelAxisValue,
  voxelToLps,
  viewTransform,
  withVoxelAxis,
  worldToScreen,
  worldToVoxel,
  zoomAt,
  type Axis,
  type Grid,
  type Vec3,
  type ViewAxes,
  type ViewCamera,
  type ViewTransform,
} from './geometry';
import { BRAIN_CONTOUR_COLOR, SLICE_VIEWS, VIEW_COLORS } from './colormaps';
import { SliceScene, type ScoreStyle } from './vtk/sliceScene';
import type { VtkImageData } from './vtk/common';
import { labelSlice, sliceDims, type LabelArray } from './voxels';
import { useElementSize, useOwned } from './hooks';
import { VIEW_TITLES, windowKey, type Measurement, type ToolId } from './model';
import { describeRoi } from './roi';
import type { CursorInfo, LabelStyle, RGB, SliceViewId, VoxelIndex } from './types';

export interface SliceViewProps {
  view: SliceViewId;
  grid: Grid;
  axes: ViewAxes;
  /** Axes of all three views, to draw the other views' planes as crosshair lines. */
  allAxes: Readonly<Record<SliceViewId, ViewAxes>>;
  baseImage: VtkImageData | null;
  imageName: string;
  window: CtWindow;
  scoreImage: VtkImageData | null;
  scoreStyle: ScoreStyle | null;
  /** null hides the lesion layer. */
  labels: LabelArray | null;
  labelStyle: LabelStyle;
  /** Colour of each slot (index 0 unused). */
  labelSlotColors: readonly RGB[];
  labelOpacity: number;
  /** null hides the contour. */
  brainMask: Uint8Array | null;
  brainOpacity: number;
  /** Names of the overlays on screen, for data-overlays. */
  overlayNames: string;
  position: VoxelIndex;
  camera: ViewCamera;
  /** 'external': the left button belongs to the parent (a brush); the view only reports the cursor. */
  tool: ToolId | 'external';
  crosshairVisible: boolean;
  measurements: readonly Measurement[];
  active: boolean;
  /** When the pointer is over this view. */
  cursor: CursorInfo | null;
  valueUnit: string;
  alternateUnit: string | null;
  seriesLabel: string;
  hidden: boolean;
  onPosition(position: VoxelIndex): void;
  onCamera(view: SliceViewId, camera: ViewCamera): void;
  onWindowDrag(dx: number, dy: number, start: CtWindow): void;
  onHover(view: SliceViewId, voxel: VoxelIndex | null): void;
  onMeasure(m: Omit<Measurement, 'id' | 'roi'>): void;
  onActivate(view: SliceViewId): void;
  onToggleMaximise(view: SliceViewId): void;
}

type DragMode = ToolId;

interface Drag {
  mode: DragMode;
  pointerId: number;
  x0: number;
  y0: number;
  moved: boolean;
  camera: ViewCamera;
  transform: ViewTransform;
  window: CtWindow;
  measureFrom?: Vec3;
  measureTo?: Vec3;
}

export function SliceView(props: SliceViewProps) {
  const { view, grid, axes, position } = props;
  const hostRef = useRef<HTMLDivElement>(null);
  const vtkRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const frame = useRef(0);
  const scene = useOwned(vtkRef, (el) => new SliceScene(el), () => cancelAnimationFrame(frame.current));
  const size = useElementSize(vtkRef);
  const slice = voxelAxisValue(position, axes.normal);
  const sliceCount = grid.dims[axes.normal];

  const transform = useMemo(() => viewTransform(grid, axes, slice, props.camera, size.w, size.h), [grid, axes, slice, props.camera, size.w, size.h]);

  // Everything the frame callback reads, always current.
  const latest = useRef({ props, transform, slice, drag: null as Drag | null });
  latest.current.props = props;
  latest.current.transform = transform;
  latest.current.slice = slice;

  const vtkDirty = useRef(false);

  const drawOverlay = useCallback(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const { props: p, transform: t, slice: s, drag } = latest.current;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(t.width * dpr);
    const h = Math.round(t.height * dpr);
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, t.width, t.height);
    if (p.crosshairVisible) drawCrosshair(ctx, p, t);
    for (const m of p.measurements) {
      if (m.view !== p.view || m.slice !== s) continue;
      if (m.kind === 'roi') drawRoi(ctx, t, m.a, m.b, m.roi ? describeRoi(m.roi, p.valueUnit) : null);
      else drawMeasurement(ctx, t, m.a, m.b, false);
    }
    if (drag?.measureFrom && drag.measureTo) {
      if (drag.mode === 'measure') drawMeasurement(ctx, t, drag.measureFrom, drag.measureTo, true);
      else if (drag.mode === 'roi') drawRoi(ctx, t, drag.measureFrom, drag.measureTo, null);
    }
  }, []);

  const requestFrame = useCallback(
    (vtkToo: boolean) => {
      if (vtkToo) vtkDirty.current = true;
      hostRef.current?.setAttribute('data-ready', 'false');
      if (frame.current) return;
      frame.current = requestAnimationFrame(() => {
        frame.current = 0;
        const host = hostRef.current;
        const { props: p, transform: t, slice: s } = latest.current;
        if (!scene || !host || t.width < 2 || t.height < 2 || p.hidden) return;
        if (vtkDirty.current) {
          vtkDirty.current = false;
          scene.render();
        }
        drawOverlay();
        host.setAttribute('data-slice', String(s));
        host.setAttribute('data-window', windowKey(p.window));
        host.setAttribute('data-image', p.imageName);
        host.setAttribute('data-overlays', p.overlayNames);
        host.setAttribute('data-zoom', p.camera.zoom.toFixed(2));
        host.setAttribute('data-ready', p.baseImage ? 'true' : 'false');
      });
    },
    [scene, drawOverlay],
  );

  // One small effect per property: set it on the scene, ask for a frame.
  useEffect(() => {
    if (!scene || size.w < 2 || size.h < 2) return;
    scene.setSize(size.w, size.h);
    requestFrame(true);
  }, [scene, size, requestFrame]);

  useEffect(() => {
    if (!scene) return;
    scene.setAxis(axes.normal);
    requestFrame(true);
  }, [scene, axes.normal, requestFrame]);

  useEffect(() => {
    if (!scene) return;
    scene.setBaseImage(props.baseImage);
    requestFrame(true);
  }, [scene, props.baseImage, requestFrame]);

  useEffect(() => {
    if (!scene) return;
    scene.setSlice(slice);
    requestFrame(true);
  }, [scene, slice, requestFrame]);

  const { centerHu, widthHu } = props.window;
  useEffect(() => {
    if (!scene) return;
    scene.setWindow(centerHu, widthHu);
    requestFrame(true);
  }, [scene, centerHu, widthHu, requestFrame]);

  useEffect(() => {
    if (!scene) return;
    scene.setScoreImage(props.scoreImage);
    requestFrame(true);
  }, [scene, props.scoreImage, requestFrame]);

  useEffect(() => {
    if (!scene) return;
    scene.setScoreStyle(props.scoreStyle);
    requestFrame(true);
  }, [scene, props.scoreStyle, requestFrame]);

  useEffect(() => {
    if (!scene) return;
    scene.setLabelColors(props.labelSlotColors, props.labelOpacity);
    requestFrame(true);
  }, [scene, props.labelSlotColors, props.labelOpacity, requestFrame]);

  const labelBuffer = useRef<Uint8Array | null>(null);
  useEffect(() => {
    if (!scene) return;
    const s = fillSliceBuffer(labelBuffer, props.labels, grid, axes.normal, slice, props.labelStyle);
    scene.setLabelSlice(s.buffer, s.dims, grid.spacing, s.originMm);
    requestFrame(true);
  }, [scene, props.labels, props.labelStyle, grid, axes.normal, slice, requestFrame]);

  useEffect(() => {
    if (!scene) return;
    scene.setBrainStyle(BRAIN_CONTOUR_COLOR, props.brainOpacity);
    requestFrame(true);
  }, [scene, props.brainOpacity, requestFrame]);

  const brainBuffer = useRef<Uint8Array | null>(null);
  useEffect(() => {
    if (!scene) return;
    const s = fillSliceBuffer(brainBuffer, props.brainMask, grid, axes.normal, slice, 'outline');
    scene.setBrainSlice(s.buffer, s.dims, grid.spacing, s.originMm);
    requestFrame(true);
  }, [scene, props.brainMask, grid, axes.normal, slice, requestFrame]);

  useEffect(() => {
    if (!scene) return;
    scene.setCamera(transform);
    requestFrame(true);
  }, [scene, transform, requestFrame]);

  // Things only the 2D canvas or the attributes show.
  useEffect(() => {
    requestFrame(false);
  }, [props.crosshairVisible, props.measurements, position, props.active, props.overlayNames, props.imageName, props.hidden, requestFrame]);

  // ---- pointer interaction -------------------------------------------------------------
  const localPoint = (e: { clientX: number; clientY: number }): [number, number] => {
    const r = canvasRef.current!.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };

  const voxelAt = (x: number, y: number, t: ViewTransform): VoxelIndex | null => {
    const v = worldToVoxel(grid, screenToWorld(t, x, y));
    return v ? withVoxelAxis(v, axes.normal, slice) : null;
  };

  const onPointerDown = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    props.onActivate(view);
    if (latest.current.drag) return;
    const [x, y] = localPoint(e);
    const mode: DragMode | 'external' = e.button === 1 || (e.button === 0 && e.shiftKey) ? 'pan' : e.button === 2 || (e.button === 0 && e.ctrlKey) ? 'zoom' : props.tool;
    if (mode === 'external') return;
    e.currentTarget.setPointerCapture(e.pointerId);
    const drag: Drag = { mode, pointerId: e.pointerId, x0: x, y0: y, moved: false, camera: props.camera, transform, window: props.window };
    if (mode === 'measure' || mode === 'roi') {
      drag.measureFrom = screenToWorld(transform, x, y);
      drag.measureTo = drag.measureFrom;
    }
    latest.current.drag = drag;
    e.preventDefault();
  };

  const onPointerMove = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    const [x, y] = localPoint(e);
    const drag = latest.current.drag;
    if (!drag || drag.pointerId !== e.pointerId) {
      props.onHover(view, voxelAt(x, y, transform));
      return;
    }
    const dx = x - drag.x0;
    const dy = y - drag.y0;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (!drag.moved) return;
    switch (drag.mode) {
      case 'window':
        props.onWindowDrag(dx, dy, drag.window);
        break;
      case 'pan': {
        const k = drag.transform.pxPerMm;
        props.onCamera(view, { zoom: drag.camera.zoom, panMm: [drag.camera.panMm[0] - dx / k, drag.camera.panMm[1] + dy / k] });
        break;
      }
      case 'zoom':
        props.onCamera(view, zoomAt(grid, drag.transform, drag.camera, Math.exp(-dy * 0.01), drag.x0, drag.y0));
        break;
      case 'crosshair': {
        const v = voxelAt(x, y, transform);
        if (v) props.onPosition(v);
        break;
      }
      case 'measure':
      case 'roi':
        drag.measureTo = screenToWorld(transform, x, y);
        requestFrame(false);
        break;
    }
    props.onHover(view, voxelAt(x, y, transform));
  };

  const endDrag = (e: ReactPointerEvent<HTMLCanvasElement>, cancelled: boolean) => {
    const drag = latest.current.drag;
    if (!drag || drag.pointerId !== e.pointerId) return;
    latest.current.drag = null;
    if (e.currentTarget.hasPointerCapture(e.pointerId)) e.currentTarget.releasePointerCapture(e.pointerId);
    if (cancelled) {
      requestFrame(false);
      return;
    }
    if ((drag.mode === 'measure' || drag.mode === 'roi') && drag.measureFrom && drag.measureTo) {
      if (distanceMm(drag.measureFrom, drag.measureTo) >= 0.5) props.onMeasure({ kind: drag.mode === 'roi' ? 'roi' : 'distance', view, slice, a: drag.measureFrom, b: drag.measureTo });
      requestFrame(false);
    } else if (!drag.moved && e.button === 0) {
      // A click (no drag) points the crosshair here, whatever the tool.
      const [x, y] = localPoint(e);
      const v = voxelAt(x, y, transform);
      if (v) props.onPosition(v);
    }
  };

  // Wheel must be able to preventDefault (page scroll), so it is a native non-passive listener.
  const wheelAcc = useRef(0);
  useEffect(() => {
    const canvas = canvasRef.current!;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const { props: p, transform: t, slice: s } = latest.current;
      const pixels = e.deltaMode === 1 ? e.deltaY * 40 : e.deltaMode === 2 ? e.deltaY * 400 : e.deltaY;
      if (e.ctrlKey || e.metaKey) {
        const r = canvas.getBoundingClientRect();
        p.onCamera(p.view, zoomAt(p.grid, t, p.camera, Math.exp(-pixels * 0.0015), e.clientX - r.left, e.clientY - r.top));
        return;
      }
      wheelAcc.current += pixels;
      const steps = Math.trunc(wheelAcc.current / 100);
      if (steps === 0) return;
      wheelAcc.current -= steps * 100;
      // Wheel up (negative delta) moves forward, like the up arrow.
      const next = Math.min(p.grid.dims[p.axes.normal] - 1, Math.max(0, s - steps * (e.shiftKey ? 5 : 1)));
      if (next !== s) p.onPosition(withVoxelAxis(p.position, p.axes.normal, next));
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, []);

  // ---- annotations -----------------------------------------------------------------------
  const labels = useMemo(() => edgeLabels(axes, grid.direction), [axes, grid.direction]);
  const lps = voxelToLps(grid, position.i, position.j, position.k);
  const c = props.cursor;

  return (
    <div
      ref={hostRef}
      className={`slice-view view-${view}${props.active ? ' active' : ''}`}
      style={{ ['--view-color' as string]: VIEW_COLORS[view], display: props.hidden ? 'none' : undefined }}
      data-testid={`viewport-${view}`}
      role="region"
      aria-label={`${VIEW_TITLES[view]} view`}
      data-view={view}
      data-slice-count={sliceCount}
    >
      <div ref={vtkRef} className="vtk-host" />
      <canvas
        ref={canvasRef}
        className={`overlay-canvas tool-${props.tool}`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={(e) => endDrag(e, false)}
        onPointerCancel={(e) => endDrag(e, true)}
        onPointerLeave={() => props.onHover(view, null)}
        onDoubleClick={() => props.onToggleMaximise(view)}
        onContextMenu={(e) => e.preventDefault()}
      />
      <div className="corner top-left">
        <span className="view-name">{VIEW_TITLES[view]}</span>
        <span>{props.seriesLabel}</span>
      </div>
      <div className="corner top-right">
        <span data-testid={`window-readout-${view}`}>
          W {Math.round(props.window.widthHu)} L {Math.round(props.window.centerHu)}
        </span>
        {props.imageName !== 'original' && <span className="image-name">{props.imageName}</span>}
      </div>
      <div className="corner bottom-left">
        <span data-testid={`slice-readout-${view}`}>
          Im {slice + 1}/{sliceCount}
        </span>
        <span>{slicePositionText(view, lps)}</span>
        <span>
          Zoom {(props.camera.zoom * 100).toFixed(0)}% · {grid.spacing[axes.normal].toFixed(2)} mm
        </span>
      </div>
      <div className="corner bottom-right" data-testid={`cursor-readout-${view}`}>
        {c && (
          <>
            <span>
              {Math.round(c.value)} {props.valueUnit}
              {c.alternateValue !== undefined && ` · ${formatValue(c.alternateValue)} ${props.alternateUnit ?? ''}`}
            </span>
            {c.score !== undefined && <span>Score {formatValue(c.score)}</span>}
            {c.label !== undefined && c.label !== 0 && <span>Lesion {c.label}</span>}
            <span className="muted-readout">
              ({c.voxel.i}, {c.voxel.j}, {c.voxel.k})
            </span>
          </>
        )}
      </div>
      <div className="orient orient-top">{labels.top}</div>
      <div className="orient orient-bottom">{labels.bottom}</div>
      <div className="orient orient-left">{labels.left}</div>
      <div className="orient orient-right">{labels.right}</div>
      <input
        className="slice-slider"
        type="range"
        min={0}
        max={sliceCount - 1}
        value={slice}
        aria-label={`${VIEW_TITLES[view]} slice`}
        data-testid={`slice-slider-${view}`}
        onChange={(e) => props.onPosition(clampVoxel(withVoxelAxis(position, axes.normal, Number(e.target.value)), grid.dims))}
      />
    </div>
  );
}

/**
 * The current slice of a label volume as colour slots in a reused buffer, with the one-slice
 * image's dims and grid-world origin; buffer null when nothing on the slice is labelled (the
 * layer is then hidden rather than drawn transparent).
 */
function fillSliceBuffer(ref: RefObject<Uint8Array | null>, labels: LabelArray | null, grid: Grid, axis: Axis, slice: number, style: LabelStyle) {
  const dims = sliceDims(grid.dims, axis);
  const originMm: Vec3 = [0, 0, 0];
  originMm[axis] = slice * grid.spacing[axis];
  if (!labels) return { buffer: null, dims, originMm };
  const n = dims[0] * dims[1] * dims[2];
  if (ref.current?.length !== n) ref.current = new Uint8Array(n);
  const any = labelSlice(labels, grid.dims, axis, slice, style, ref.current);
  return { buffer: any ? ref.current : null, dims, originMm };
}

function formatValue(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(1) : v.toFixed(3);
}

/** Lines of the other two views' planes through the crosshair, with a gap at the centre. */
function drawCrosshair(ctx: CanvasRenderingContext2D, p: SliceViewProps, t: ViewTransform): void {
  const sp = p.grid.spacing;
  const at: Vec3 = [p.position.i * sp[0], p.position.j * sp[1], p.position.k * sp[2]];
  const [cx, cy] = worldToScreen(t, at);
  const gap = 14;
  ctx.lineWidth = 1;
  for (const other of SLICE_VIEWS) {
    if (other === p.view) continue;
    const m = p.allAxes[other].normal;
    ctx.strokeStyle = VIEW_COLORS[other];
    ctx.globalAlpha = 0.85;
    ctx.beginPath();
    if (m === t.axes.right) {
      ctx.moveTo(cx, 0);
      ctx.lineTo(cx, cy - gap);
      ctx.moveTo(cx, cy + gap);
      ctx.lineTo(cx, t.height);
    } else if (m === t.axes.up) {
      ctx.moveTo(0, cy);
      ctx.lineTo(cx - gap, cy);
      ctx.moveTo(cx + gap, cy);
      ctx.lineTo(t.width, cy);
    }
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
}

/** A density ROI: the circle about `a` through `b`, dashed while drawn, with its statistics once taken. */
function drawRoi(ctx: CanvasRenderingContext2D, t: ViewTransform, a: Vec3, b: Vec3, label: string | null): void {
  const [ax, ay] = worldToScreen(t, a);
  const radius = distanceMm(a, b) * t.pxPerMm;
  const color = label ? '#7bdff2' : '#b2f7ef';
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 1.5;
  ctx.setLineDash(label ? [] : [5, 4]);
  ctx.beginPath();
  ctx.arc(ax, ay, radius, 0, Math.PI * 2);
  ctx.stroke();
  ctx.setLineDash([]);
  if (!label) return;
  ctx.font = '600 12px system-ui, sans-serif';
  // Above right of the circle, or on the side where the view has room for the whole label.
  const width = ctx.measureText(label).width;
  const offset = radius * 0.71 + 6;
  const tx = ax + offset + width <= t.width - 4 ? ax + offset : Math.max(4, ax - offset - width);
  const ty = ay - offset >= 16 ? ay - offset : ay + offset + 12;
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(0,0,0,0.85)';
  ctx.strokeText(label, tx, ty);
  ctx.fillText(label, tx, ty);
}

function drawMeasurement(ctx: CanvasRenderingContext2D, t: ViewTransform, a: Vec3, b: Vec3, live: boolean): void {
  const [ax, ay] = worldToScreen(t, a);
  const [bx, by] = worldToScreen(t, b);
  const color = live ? '#ffe66d' : '#ffd23f';
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 1.5;
  ctx.setLineDash(live ? [5, 4] : []);
  ctx.beginPath();
  ctx.moveTo(ax, ay);
  ctx.lineTo(bx, by);
  ctx.stroke();
  ctx.setLineDash([]);
  for (const [x, y] of [
    [ax, ay],
    [bx, by],
  ]) {
    ctx.beginPath();
    ctx.arc(x, y, 3, 0, Math.PI * 2);
    ctx.fill();
  }
  const text = `${distanceMm(a, b).toFixed(1)} mm`;
  ctx.font = '600 12px system-ui, sans-serif';
  const tx = bx + 8;
  const ty = by - 8;
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(0,0,0,0.85)';
  ctx.strokeText(text, tx, ty);
  ctx.fillText(text, tx, ty);
}
