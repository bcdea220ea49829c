/**
 * The 3D viewport: volume rendering with CT presets, lesion surfaces and the slice planes. Like
 * the slice views it reports data-ready="true" once a frame with the current volume, preset,
 * lesions and crosshair position is drawn (data-preset, data-lesion-triangles tell which).
 */
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { useElementSize, useOwned } from './hooks';
import { VolumeScene, VOLUME_PRESET_LABELS, type PlaneFrame } from './vtk/volumeScene';
import { downsampleInPlane, type LabelArray } from './voxels';
import { hexToRgb, SLICE_VIEWS, VIEW_COLORS } from './colormaps';
import type { Grid, ViewAxes } from './geometry';
import type { RGB, SliceViewId, VolumePresetId, VoxelIndex } from './types';

/** In-plane voxels kept for 3D: enough for a head, light enough for software WebGL. */
const MAX_IN_PLANE = 256;
const LESION_DEBOUNCE_MS = 120;
const SOFTWARE_PLANE_DELAY_MS = 400;

export interface VolumeViewProps {
  grid: Grid;
  data: Int16Array;
  allAxes: Readonly<Record<SliceViewId, ViewAxes>>;
  /** null hides lesion surfaces. */
  labels: LabelArray | null;
  colorOf: (label: number) => RGB;
  position: VoxelIndex;
  preset: VolumePresetId;
  planesVisible: boolean;
  active: boolean;
  hidden: boolean;
  onActivate(): void;
  onToggleMaximise(): void;
}

export function VolumeView(props: VolumeViewProps) {
  const { grid, data, allAxes } = props;
  const hostRef = useRef<HTMLDivElement>(null);
  const vtkRef = useRef<HTMLDivElement>(null);
  const frame = useRef(0);
  const scene = useOwned(vtkRef, (el) => new VolumeScene(el), () => cancelAnimationFrame(frame.current));
  const size = useElementSize(vtkRef);
  const [volumeReady, setVolumeReady] = useState(false);
  const [lesionTriangles, setLesionTriangles] = useState<number | null>(null);
  const pending = useRef(0);
  const latest = useRef({ preset: props.preset, lesionTriangles, volumeReady, hidden: props.hidden });
  latest.current = { preset: props.preset, lesionTriangles, volumeReady, hidden: props.hidden };

  const requestFrame = useCallback(() => {
    hostRef.current?.setAttribute('data-ready', 'false');
    if (frame.current || !scene) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const host = hostRef.current;
      const l = latest.current;
      if (!host || l.hidden) return;
      scene.render();
      host.setAttribute('data-preset', l.preset);
      host.setAttribute('data-lesion-triangles', String(l.lesionTriangles ?? 0));
      host.setAttribute('data-software', scene.software ? 'true' : 'false');
      host.setAttribute('data-ready', l.volumeReady && l.lesionTriangles !== null && pending.current === 0 ? 'true' : 'false');
    });
  }, [scene]);

  useEffect(() => {
    if (!scene || size.w < 2 || size.h < 2) return;
    scene.setSize(size.w, size.h);
    requestFrame();
  }, [scene, size, requestFrame]);

  useEffect(() => {
    if (!scene) return;
    scene.setVolume(downsampleInPlane(data, grid.dims, grid.spacing, MAX_IN_PLANE), grid, allAxes.coronal);
    setVolumeReady(true);
    requestFrame();
  }, [scene, data, grid, allAxes, requestFrame]);

  useEffect(() => {
    if (!scene) return;
    scene.setPreset(props.preset);
    requestFrame();
  }, [scene, props.preset, requestFrame]);

  const { labels, colorOf } = props;
  const defer = useDeferredWork(hostRef, pending);
  useEffect(() => {
    if (!scene) return;
    // Surfaces follow the threshold slider, but not on every pixel of its travel.
    return defer(labels ? LESION_DEBOUNCE_MS : 0, () => {
      setLesionTriangles(scene.setLesions(labels, grid, colorOf));
      requestFrame();
    });
  }, [scene, labels, grid, colorOf, requestFrame, defer]);

  const { i, j, k } = props.position;
  const planesShown = useRef(false);
  useEffect(() => {
    if (!scene) return;
    const frames: PlaneFrame[] = SLICE_VIEWS.map((v) => ({ view: v, axes: allAxes[v], color: hexToRgb(VIEW_COLORS[v]) }));
    // In software WebGL a 3D frame takes seconds and stalls the slice views: while the reader
    // scrolls, the planes catch up once scrolling pauses.
    return defer(scene.software && planesShown.current ? SOFTWARE_PLANE_DELAY_MS : 0, () => {
      planesShown.current = true;
      scene.setPlanes({ i, j, k }, grid, frames, props.planesVisible);
      requestFrame();
    });
  }, [scene, i, j, k, grid, allAxes, props.planesVisible, requestFrame, defer]);

  useEffect(() => {
    requestFrame();
  }, [lesionTriangles, volumeReady, props.hidden, requestFrame]);

  return (
    <div
      ref={hostRef}
      className={`slice-view view-volume${props.active ? ' active' : ''}`}
      style={{ ['--view-color' as string]: VIEW_COLORS.volume, display: props.hidden ? 'none' : undefined }}
      data-testid="viewport-3d"
      role="region"
      aria-label="3D view"
      onPointerDown={props.onActivate}
      onDoubleClick={props.onToggleMaximise}
    >
      <div ref={vtkRef} className="vtk-host volume-host" />
      <div className="corner top-left">
        <span className="view-name">3D</span>
        <span>{VOLUME_PRESET_LABELS[props.preset]}</span>
      </div>
      <div className="corner top-right">
        {lesionTriangles !== null && lesionTriangles > 0 && <span>Lesion surfaces</span>}
        {scene?.software && <span className="warn-readout" title="No GPU acceleration: the 3D view renders at reduced resolution.">Software rendering</span>}
      </div>
      <div className="corner bottom-right">
        <span className="muted-readout">Drag: rotate · Shift-drag: pan · Wheel: zoom</span>
      </div>
    </div>
  );
}

/**
 * Runs `work` after `delayMs` (at once for 0) unless the effect is cleaned up first; while any
 * work is pending the viewport is not ready. Returns the effect cleanup.
 */
function useDeferredWork(hostRef: RefObject<HTMLDivElement | null>, pending: RefObject<number>) {
  return useCallback(
    (delayMs: number, work: () => void): (() => void) | undefined => {
      if (delayMs <= 0) {
        work();
        return undefined;
      }
      pending.current++;
      hostRef.current?.setAttribute('data-ready', 'false');
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        pending.current--;
        work();
      }, delayMs);
      return () => {
        clearTimeout(timer);
        if (!done) pending.current--;
      };
    },
    [hostRef, pending],
  );
}
