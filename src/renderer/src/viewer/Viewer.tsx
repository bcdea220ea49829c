/**
 * The reading viewer: axial, coronal and sagittal views linked by a crosshair, an optional 3D
 * view, overlays (anomaly heatmap, lesion labels, brain contour), alternate images to flick
 * to, window presets, measurement and keyboard shortcuts. Data comes through the transport;
 * overlays come from the parent as arrays on the native voxel grid.
 */
import { useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState } from 'react';
import { BRAIN_WINDOW, WINDOW_PRESETS, type CtWindow } from '../../../shared/windows';
import { useApi } from '../api/context';
import {
  anatomicalAxes,
  centreOn,
  centreVoxel,
  clampVoxel,
  distanceMm,
  FIT_CAMERA,
  sameVoxel,
  viewAxes,
  voxelAxisValue,
  voxelOffset,
  voxelToLps,
  voxelToWorld,
  withVoxelAxis,
  type ViewAxes,
  type ViewCamera,
} from './geometry';
import { COLORMAPS, labelColor, SLICE_VIEWS } from './colormaps';
import { dragWindow, type Measurement, type ToolId } from './model';
import { shortcutFor, type ShortcutAction } from './shortcuts';
import { SliceView } from './SliceView';
import { VolumeView } from './VolumeView';
import { Toolbar } from './Toolbar';
import { HelpOverlay } from './HelpOverlay';
import { useSeriesVolume, useVtkImages, type LoadedSeries } from './useSeriesVolume';
import { valueRange } from './voxels';
import { circleStats } from './roi';
import type { ScoreStyle } from './vtk/sliceScene';
import { DEFAULT_OVERLAY_DISPLAY, type CursorInfo, type OverlayDisplay, type RGB, type SliceViewId, type ViewerProps, type ViewId, type VolumePresetId, type VoxelIndex } from './types';
import './viewer.css';

export function Viewer(props: ViewerProps) {
  const api = useApi();
  const load = useSeriesVolume(api, props.seriesId);
  if (load.status === 'error') {
    return (
      <div className="viewer viewer-message" data-testid="viewer" data-state="error" role="alert">
        <h2>This series cannot be displayed</h2>
        <p>{load.message}</p>
      </div>
    );
  }
  if (load.status === 'loading') {
    const d = load.detail;
    return (
      <div className="viewer viewer-message" data-testid="viewer" data-state="loading" aria-busy="true">
        <div className="spinner" />
        <p>{d ? `Loading ${d.dims.join(' × ')} voxels (${((d.dims[0] * d.dims[1] * d.dims[2] * 2) / 1048576).toFixed(0)} MB)…` : 'Loading series…'}</p>
      </div>
    );
  }
  return <Workspace key={props.seriesId} {...props} series={load.series} />;
}

type Cameras = Record<SliceViewId, ViewCamera>;
const FIT_ALL: Cameras = { axial: FIT_CAMERA, coronal: FIT_CAMERA, sagittal: FIT_CAMERA };

function Workspace(props: ViewerProps & { series: LoadedSeries }) {
  const { detail, data, grid } = props.series;
  const voxelCount = data.length;

  const allAxes = useMemo(() => {
    const anat = anatomicalAxes(grid.direction);
    return { axial: viewAxes('axial', anat), coronal: viewAxes('coronal', anat), sagittal: viewAxes('sagittal', anat) } as Record<SliceViewId, ViewAxes>;
  }, [grid]);

  // ---- overlays, checked against the grid ------------------------------------------------
  const fits = (a: { length: number } | undefined) => a !== undefined && a.length === voxelCount;
  const problems: string[] = [];
  const mismatch = (name: string, a: { length: number } | undefined) => {
    if (a && !fits(a)) problems.push(`${name} has ${a.length.toLocaleString()} values but the series has ${voxelCount.toLocaleString()} voxels; it is not shown.`);
  };
  mismatch('The anomaly map', props.scoreMap?.data);
  mismatch('The lesion mask', props.labelMask);
  mismatch('The brain mask', props.brainMask);
  for (const alt of props.alternateImages ?? []) mismatch(`The image "${alt.name}"`, alt.data);
  const scoreMap = props.scoreMap && fits(props.scoreMap.data) ? props.scoreMap : undefined;
  const labelMask = fits(props.labelMask) ? props.labelMask : undefined;
  const brainMask = fits(props.brainMask) ? props.brainMask : undefined;
  const alternatesRaw = props.alternateImages;
  const alternates = useMemo(() => (alternatesRaw ?? []).filter((a) => a.data.length === voxelCount), [alternatesRaw, voxelCount]);

  // ---- display state (controlled or not) -------------------------------------------------
  const [innerDisplay, setInnerDisplay] = useState<OverlayDisplay>(() => ({ ...DEFAULT_OVERLAY_DISPLAY, ...props.defaultDisplay }));
  const display = props.display ?? innerDisplay;
  const activeAltIndex = alternates.findIndex((a) => a.name === display.image);
  const activeAlt = activeAltIndex >= 0 ? alternates[activeAltIndex] : null;
  const imageName = activeAlt ? activeAlt.name : 'original';
  const lastAlternate = useRef<string | null>(null);
  if (activeAlt) lastAlternate.current = activeAlt.name;

  // ---- window per image ---------------------------------------------------------------------
  const seriesWindow = useMemo<CtWindow | null>(
    () => (detail.windowCenter !== null && detail.windowWidth !== null && detail.windowWidth > 0 ? { centerHu: detail.windowCenter, widthHu: detail.windowWidth } : null),
    [detail],
  );
  const originalDefault = useMemo<CtWindow>(() => {
    if (seriesWindow) return seriesWindow;
    if (detail.intensityUnit === 'HU') return BRAIN_WINDOW;
    const [lo, hi] = valueRange(data);
    return { centerHu: (lo + hi) / 2, widthHu: Math.max(1, hi - lo) };
  }, [seriesWindow, detail.intensityUnit, data]);
  const [windows, setWindows] = useState<Record<string, CtWindow>>({});
  const currentWindow = windows[imageName] ?? activeAlt?.window ?? windows.original ?? originalDefault;

  // ---- crosshair position (controlled or not) ---------------------------------------------
  const [innerPosition, setInnerPosition] = useState<VoxelIndex>(() => clampVoxel(props.defaultPosition ?? centreVoxel(grid.dims), grid.dims));
  const position = props.position ? clampVoxel(props.position, grid.dims) : innerPosition;

  const [cameras, setCameras] = useState<Cameras>(FIT_ALL);
  const [tool, setTool] = useState<ToolId>('window');
  const [activeView, setActiveView] = useState<ViewId>('axial');
  const [maximised, setMaximised] = useState<ViewId | null>(null);
  const [show3d, setShow3d] = useState(false);
  const [volumePreset, setVolumePreset] = useState<VolumePresetId>('soft');
  const [crosshairVisible, setCrosshairVisible] = useState(true);
  const [measurements, setMeasurements] = useState<Measurement[]>([]);
  const [helpOpen, setHelpOpen] = useState(false);
  const [cursor, setCursor] = useState<CursorInfo | null>(null);

  // Handlers read the newest state through this ref, so they can stay stable.
  const live = useRef({ display, position, currentWindow, imageName, cameras, props, activeView, alternates });
  live.current = { display, position, currentWindow, imageName, cameras, props, activeView, alternates };

  const updateDisplay = useCallback((patch: Partial<OverlayDisplay>) => {
    const { display: d, props: p } = live.current;
    const next = { ...d, ...patch };
    if (!p.display) setInnerDisplay(next);
    p.onDisplayChange?.(next);
  }, []);

  const setPosition = useCallback(
    (v: VoxelIndex) => {
      const next = clampVoxel(v, grid.dims);
      const { position: now, props: p } = live.current;
      if (sameVoxel(next, now)) return;
      if (!p.position) setInnerPosition(next);
      p.onPositionChange?.(next);
    },
    [grid.dims],
  );

  const setWindow = useCallback((w: CtWindow) => {
    const name = live.current.imageName;
    setWindows((prev) => ({ ...prev, [name]: w }));
  }, []);

  const goTo = useCallback(
    (v: VoxelIndex, zoom?: number) => {
      const target = clampVoxel(v, grid.dims);
      setPosition(target);
      const world = voxelToWorld(grid, target);
      setCameras((prev) => {
        const next = { ...prev };
        for (const view of SLICE_VIEWS) {
          const z = zoom ?? prev[view].zoom;
          // At fit zoom the whole slice is visible anyway: centring would only push part of it out.
          next[view] = z > 1 ? centreOn(grid, allAxes[view], world, z) : { zoom: z, panMm: [0, 0] };
        }
        return next;
      });
    },
    [grid, allAxes, setPosition],
  );

  const reset = useCallback(() => {
    setCameras(FIT_ALL);
    setWindows({});
  }, []);

  useImperativeHandle(
    props.ref,
    () => ({
      goTo: (v, opts) => goTo(v, opts?.zoom),
      getPosition: () => live.current.position,
      reset,
      setWindow: (w) => setWindow(typeof w === 'string' ? WINDOW_PRESETS[w] : w),
      getWindow: () => live.current.currentWindow,
    }),
    [goTo, reset, setWindow],
  );

  const focus = props.focus;
  useEffect(() => {
    if (focus) goTo(focus, focus.zoom);
  }, [focus, goTo]);

  // ---- vtk images -----------------------------------------------------------------------------
  // Separate sets, so a new score map or reconstruction never withholds the CT for a frame.
  const [originalImage] = useVtkImages([data], grid);
  const [scoreImage] = useVtkImages([scoreMap?.data], grid);
  const altImages = useVtkImages(alternates.map((a) => a.data), grid);
  const baseImage = activeAlt ? altImages[activeAltIndex] ?? null : originalImage;

  const overlaysOn = display.overlaysVisible;
  const showScore = overlaysOn && display.showScore && scoreMap !== undefined;
  const showLabels = overlaysOn && display.showLabels && labelMask !== undefined;
  const showBrain = overlaysOn && display.showBrainMask && brainMask !== undefined;
  const overlayNames = [showScore && 'score', showLabels && 'labels', showBrain && 'brain'].filter(Boolean).join(',');

  const scoreStyle = useMemo<ScoreStyle | null>(
    () => (showScore && scoreMap ? { stops: COLORMAPS[display.colormap].stops, range: scoreMap.range, transparentBelow: scoreMap.transparentBelow, opacity: display.scoreOpacity } : null),
    [showScore, scoreMap, display.colormap, display.scoreOpacity],
  );

  const maxLabel = useMemo(() => (labelMask ? valueRange(labelMask)[1] : 0), [labelMask]);
  const customColors = props.labelColors;
  const labelSlotColors = useMemo<RGB[]>(() => {
    const slots = Math.min(255, Math.max(1, maxLabel));
    return Array.from({ length: slots + 1 }, (_, s) => (s === 0 ? ([0, 0, 0] as RGB) : labelColor(s, customColors)));
  }, [maxLabel, customColors]);
  const colorOf = useCallback((label: number) => labelColor(label, customColors), [customColors]);

  // ---- cursor readout -------------------------------------------------------------------------
  const cursorAt = useCallback(
    (view: SliceViewId, v: VoxelIndex): CursorInfo => {
      const off = voxelOffset(v, grid.dims);
      const alt = live.current.alternates.find((a) => a.name === live.current.imageName);
      return {
        view,
        sliceAxis: allAxes[view].normal,
        voxel: v,
        lpsMm: voxelToLps(grid, v.i, v.j, v.k),
        value: data[off],
        alternateValue: alt ? alt.data[off] : undefined,
        score: scoreMap ? scoreMap.data[off] : undefined,
        label: labelMask ? labelMask[off] : undefined,
      };
    },
    [grid, data, scoreMap, labelMask, allAxes],
  );
  const onHover = useCallback(
    (view: SliceViewId, v: VoxelIndex | null) => {
      const p = live.current.props;
      if (!v) {
        setCursor(null);
        p.onCursor?.(null);
        return;
      }
      setActiveView(view);
      const info = cursorAt(view, v);
      setCursor(info);
      p.onCursor?.(info);
    },
    [cursorAt],
  );
  // The pointer stays put while the wheel or a key changes the slice: the readout follows to the
  // voxel now under it (same place in the view, the new slice), never the slice that was left.
  const positionKey = `${position.i},${position.j},${position.k}`;
  useEffect(() => {
    if (!cursor) return;
    const under = withVoxelAxis(cursor.voxel, cursor.sliceAxis, voxelAxisValue(position, cursor.sliceAxis));
    if (sameVoxel(under, cursor.voxel)) return;
    const info = cursorAt(cursor.view, under);
    setCursor(info);
    live.current.props.onCursor?.(info);
    // Keyed on the position's value, not its object identity (it is rebuilt on every render).
  }, [positionKey, cursorAt]);

  const onCamera = useCallback((view: SliceViewId, cam: ViewCamera) => setCameras((prev) => ({ ...prev, [view]: cam })), []);
  const onWindowDrag = useCallback((dx: number, dy: number, start: CtWindow) => setWindow(dragWindow(start, dx, dy)), [setWindow]);
  const onMeasure = useCallback(
    (m: Omit<Measurement, 'id' | 'roi'>) => {
      // An ROI's statistics are those of the scan as acquired (not an alternate image), taken once.
      const roi = m.kind === 'roi' ? circleStats(data, grid.dims, grid.spacing, allAxes[m.view].normal, m.slice, m.a, distanceMm(m.a, m.b)) : undefined;
      if (roi === null) return;
      setMeasurements((prev) => [...prev, { ...m, ...(roi ? { roi } : {}), id: Date.now() + prev.length }]);
    },
    [data, grid, allAxes],
  );
  const toggleMaximise = useCallback((view: ViewId) => setMaximised((m) => (m === view ? null : view)), []);
  const rootRef = useRef<HTMLDivElement>(null);
  // Pressing in a view gives the viewer the keyboard (needed when shortcuts are not global).
  const activate = useCallback((view: ViewId) => {
    setActiveView(view);
    rootRef.current?.focus({ preventScroll: true });
  }, []);

  // ---- keyboard ------------------------------------------------------------------------------
  const run = (action: ShortcutAction): boolean => {
    const view: SliceViewId = activeView === 'volume' ? 'axial' : activeView;
    const axis = allAxes[view].normal;
    const count = grid.dims[axis];
    const slice = voxelAxisValue(position, axis);
    const moveTo = (s: number) => setPosition(withVoxelAxis(position, axis, Math.min(count - 1, Math.max(0, s))));
    const images = ['original', ...alternates.map((a) => a.name)];
    switch (action) {
      case 'sliceNext':
        moveTo(slice + 1);
        break;
      case 'slicePrevious':
        moveTo(slice - 1);
        break;
      case 'pageNext':
        moveTo(slice + 10);
        break;
      case 'pagePrevious':
        moveTo(slice - 10);
        break;
      case 'sliceFirst':
        moveTo(0);
        break;
      case 'sliceLast':
        moveTo(count - 1);
        break;
      case 'windowSeries':
        setWindow(seriesWindow ?? activeAlt?.window ?? originalDefault);
        break;
      case 'windowBrain':
        setWindow(WINDOW_PRESETS.brain);
        break;
      case 'windowSubdural':
        setWindow(WINDOW_PRESETS.subdural);
        break;
      case 'windowStroke':
        setWindow(WINDOW_PRESETS.stroke);
        break;
      case 'windowBone':
        setWindow(WINDOW_PRESETS.bone);
        break;
      case 'reset':
        reset();
        break;
      case 'toggleOverlays':
        updateDisplay({ overlaysVisible: !display.overlaysVisible });
        break;
      case 'toggleScore':
        updateDisplay({ showScore: !display.showScore, overlaysVisible: true });
        break;
      case 'toggleLabels':
        updateDisplay({ showLabels: !display.showLabels, overlaysVisible: true });
        break;
      case 'toggleLabelStyle':
        updateDisplay({ labelStyle: display.labelStyle === 'outline' ? 'filled' : 'outline' });
        break;
      case 'toggleBrainMask':
        updateDisplay({ showBrainMask: !display.showBrainMask, overlaysVisible: true });
        break;
      case 'flickImage':
        if (alternates.length === 0) return false;
        updateDisplay({ image: imageName !== 'original' ? 'original' : lastAlternate.current && images.includes(lastAlternate.current) ? lastAlternate.current : images[1] });
        break;
      case 'cycleImage':
        if (alternates.length === 0) return false;
        updateDisplay({ image: images[(images.indexOf(imageName) + 1) % images.length] });
        break;
      case 'toolCrosshair':
        setTool('crosshair');
        break;
      case 'toolWindow':
        setTool('window');
        break;
      case 'toolPan':
        setTool('pan');
        break;
      case 'toolZoom':
        setTool('zoom');
        break;
      case 'toolMeasure':
        setTool('measure');
        break;
      case 'toolRoi':
        setTool('roi');
        break;
      case 'clearMeasurements':
        setMeasurements([]);
        break;
      case 'toggleCrosshair':
        setCrosshairVisible((v) => !v);
        break;
      case 'toggle3d':
        setShow3d((v) => !v);
        break;
      case 'maximise':
        toggleMaximise(activeView);
        break;
      case 'help':
        setHelpOpen((v) => !v);
        break;
      case 'escape':
        if (helpOpen) setHelpOpen(false);
        else if (maximised) setMaximised(null);
        else if (tool === 'measure' || tool === 'roi') setTool('window');
        else return false;
        break;
    }
    return true;
  };
  const runRef = useRef(run);
  runRef.current = run;

  const globalKeys = props.globalShortcuts !== false;
  useEffect(() => {
    const target: HTMLElement | Window = globalKeys ? window : rootRef.current!;
    const onKey = (ev: Event) => {
      const e = ev as KeyboardEvent;
      if (e.defaultPrevented || wantsKey(e.target, e.key)) return;
      // Enter and Space on a focused button press that button.
      if ((e.key === 'Enter' || e.key === ' ') && e.target instanceof HTMLButtonElement) return;
      const action = shortcutFor(e);
      if (action && runRef.current(action)) e.preventDefault();
    };
    target.addEventListener('keydown', onKey);
    return () => target.removeEventListener('keydown', onKey);
  }, [globalKeys]);

  // ---- layout -----------------------------------------------------------------------------------
  const visible = (v: ViewId) => (maximised ? maximised === v : v !== 'volume' || show3d);
  const layout = maximised ? 'layout-single' : show3d ? 'layout-quad' : 'layout-mpr';
  const seriesLabel = [detail.modality, detail.description || (detail.seriesNumber !== null ? `Series ${detail.seriesNumber}` : '')].filter(Boolean).join(' · ');
  const valueUnit = detail.intensityUnit === 'HU' ? 'HU' : '';

  return (
    <div className="viewer" ref={rootRef} tabIndex={-1} data-testid="viewer" data-state="ready" data-position={`${position.i},${position.j},${position.k}`}
      data-tool={props.externalTool ? 'external' : tool}
      data-measurements={measurements
        .filter((m) => m.kind === 'distance')
        .map((m) => distanceMm(m.a, m.b).toFixed(2))
        .join(',')}
      data-rois={measurements
        .filter((m) => m.roi)
        .map((m) => `${m.roi!.mean.toFixed(1)}/${m.roi!.sd.toFixed(1)}/${m.roi!.voxels}`)
        .join(',')}
    >
      <Toolbar
        images={['original', ...alternates.map((a) => a.name)]}
        display={{ ...display, image: imageName }}
        onDisplay={updateDisplay}
        window={currentWindow}
        seriesWindow={seriesWindow}
        onWindow={setWindow}
        tool={tool}
        onTool={setTool}
        score={scoreMap}
        hasLabels={labelMask !== undefined}
        hasBrainMask={brainMask !== undefined}
        show3d={show3d}
        onToggle3d={() => {
          setShow3d((v) => !v);
          setMaximised(null);
        }}
        volumePreset={volumePreset}
        onVolumePreset={setVolumePreset}
        maximised={maximised !== null}
        onToggleLayout={() => toggleMaximise(activeView)}
        measurementCount={measurements.length}
        onClearMeasurements={() => setMeasurements([])}
        onReset={reset}
        onHelp={() => setHelpOpen(true)}
      />
      {(problems.length > 0 || detail.warnings.length > 0) && (
        <div className="viewer-notes" data-testid="viewer-notes">
          {problems.map((m, n) => (
            <span key={`p${n}`} className="error-text">
              {m}
            </span>
          ))}
          {detail.warnings.map((w, n) => (
            <span key={`w${n}`} className="warn" title={w.code}>
              ⚠ {w.message}
            </span>
          ))}
        </div>
      )}
      <div className={`viewer-grid ${layout}`}>
        {SLICE_VIEWS.map((view) => (
          <SliceView
            key={view}
            view={view}
            grid={grid}
            axes={allAxes[view]}
            allAxes={allAxes}
            baseImage={baseImage}
            imageName={imageName}
            window={currentWindow}
            scoreImage={scoreImage}
            scoreStyle={scoreStyle}
            labels={showLabels ? labelMask! : null}
            labelStyle={display.labelStyle}
            labelSlotColors={labelSlotColors}
            labelOpacity={display.labelOpacity}
            brainMask={showBrain ? brainMask! : null}
            brainOpacity={display.brainMaskOpacity}
            overlayNames={overlayNames}
            position={position}
            camera={cameras[view]}
            tool={props.externalTool ? 'external' : tool}
            crosshairVisible={crosshairVisible}
            measurements={measurements}
            active={activeView === view}
            cursor={cursor?.view === view ? cursor : null}
            valueUnit={valueUnit}
            alternateUnit={activeAlt ? (activeAlt.unit ?? 'HU') : null}
            seriesLabel={seriesLabel}
            hidden={!visible(view)}
            onPosition={setPosition}
            onCamera={onCamera}
            onWindowDrag={onWindowDrag}
            onHover={onHover}
            onMeasure={onMeasure}
            onActivate={activate}
            onToggleMaximise={toggleMaximise}
          />
        ))}
        {show3d && (
          <VolumeView
            grid={grid}
            data={data}
            allAxes={allAxes}
            labels={showLabels ? labelMask! : null}
            colorOf={colorOf}
            position={position}
            preset={volumePreset}
            planesVisible={crosshairVisible}
            active={activeView === 'volume'}
            hidden={!visible('volume')}
            onActivate={() => activate('volume')}
            onToggleMaximise={() => toggleMaximise('volume')}
          />
        )}
      </div>
      {helpOpen && <HelpOverlay onClose={() => setHelpOpen(false)} />}
    </div>
  );
}

/** Whether the focused element wants this key for itself (text fields, sliders' arrows). */
function wantsKey(target: EventTarget | null, key: string): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  const type = (target as HTMLInputElement).type;
  // A focused slider keeps the keys it uses itself; every other shortcut still works.
  if (type === 'range') return SLIDER_KEYS.has(key);
  return !(type === 'checkbox' || type === 'button' || type === 'radio');
}

const SLIDER_KEYS = new Set(['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown', 'Home', 'End']);
