/** The viewer's toolbar: image switcher, windows, tools, overlay controls, layout and 3D. */
import { useEffect, useRef } from 'react';
import { WINDOW_PRESETS, WINDOW_PRESET_IDS, type CtWindow } from '../../../shared/windows';
import { COLORMAPS, COLORMAP_IDS, colormapAt, cssRgb } from './colormaps';
import { TOOLS, windowKey, type ToolId } from './model';
import { VOLUME_PRESET_LABELS } from './vtk/volumeScene';
import type { ColormapId, OverlayDisplay, ScoreMapLayer, VolumePresetId } from './types';

export interface ToolbarProps {
  images: readonly string[];
  display: OverlayDisplay;
  onDisplay(patch: Partial<OverlayDisplay>): void;
  window: CtWindow;
  seriesWindow: CtWindow | null;
  onWindow(w: CtWindow): void;
  tool: ToolId;
  onTool(t: ToolId): void;
  score: ScoreMapLayer | undefined;
  hasLabels: boolean;
  hasBrainMask: boolean;
  show3d: boolean;
  onToggle3d(): void;
  volumePreset: VolumePresetId;
  onVolumePreset(p: VolumePresetId): void;
  maximised: boolean;
  onToggleLayout(): void;
  measurementCount: number;
  onClearMeasurements(): void;
  onReset(): void;
  onHelp(): void;
}

export function Toolbar(p: ToolbarProps) {
  const d = p.display;
  const sameWindow = (w: CtWindow) => windowKey(w) === windowKey(p.window);
  return (
    <div
      className="viewer-toolbar"
      role="toolbar"
      aria-label="Viewer tools"
      // A clicked button keeps no focus, so Space and Enter go on to the viewer's shortcuts.
      onMouseDown={(e) => {
        if ((e.target as HTMLElement).closest('button')) e.preventDefault();
      }}
    >
      {p.images.length > 1 && (
        <div className="tb-group" role="group" aria-label="Image">
          {p.images.map((name) => (
            <button key={name} aria-pressed={d.image === name} onClick={() => p.onDisplay({ image: name })} data-testid={`image-${name}`}>
              {name === 'original' ? 'Original' : name}
            </button>
          ))}
        </div>
      )}
      <div className="tb-group" role="group" aria-label="Window">
        {p.seriesWindow && (
          <button aria-pressed={sameWindow(p.seriesWindow)} onClick={() => p.onWindow(p.seriesWindow!)} data-testid="preset-series" title={`The series' own window (${windowKey(p.seriesWindow)}) · key 0`}>
            Series
          </button>
        )}
        {WINDOW_PRESET_IDS.map((id, n) => {
          const w = WINDOW_PRESETS[id];
          return (
            <button key={id} aria-pressed={sameWindow(w)} onClick={() => p.onWindow(w)} data-testid={`preset-${id}`} title={`${w.label}: centre ${w.centerHu}, width ${w.widthHu} HU · key ${n + 1}`}>
              {w.label}
            </button>
          );
        })}
      </div>
      <div className="tb-group" role="group" aria-label="Mouse tool">
        {TOOLS.map((t) => (
          <button key={t.id} aria-pressed={p.tool === t.id} onClick={() => p.onTool(t.id)} data-testid={`tool-${t.id}`} title={`${t.label} · key ${t.key}`}>
            {t.label}
          </button>
        ))}
        {p.measurementCount > 0 && (
          <button onClick={p.onClearMeasurements} title="Remove the measurements · Delete" data-testid="clear-measurements">
            Clear {p.measurementCount}
          </button>
        )}
      </div>
      <div className="tb-group tb-right" role="group" aria-label="Layout">
        <button aria-pressed={p.show3d} onClick={p.onToggle3d} data-testid="toggle-3d" title="3D view · key V">
          3D
        </button>
        {p.show3d && (
          <select value={p.volumePreset} onChange={(e) => p.onVolumePreset(e.target.value as VolumePresetId)} aria-label="3D rendering" data-testid="volume-preset">
            {(Object.keys(VOLUME_PRESET_LABELS) as VolumePresetId[]).map((id) => (
              <option key={id} value={id}>
                {VOLUME_PRESET_LABELS[id]}
              </option>
            ))}
          </select>
        )}
        <button aria-pressed={p.maximised} onClick={p.onToggleLayout} data-testid="layout-toggle" title="Enlarge the active view · Enter or double-click">
          1×1
        </button>
        <button onClick={p.onReset} data-testid="reset-view" title="Reset zoom, pan and window · key R">
          Reset
        </button>
        <button onClick={p.onHelp} data-testid="help-button" title="Keyboard shortcuts · key ?" aria-label="Keyboard shortcuts">
          ?
        </button>
      </div>
      {(p.score || p.hasLabels || p.hasBrainMask) && (
        <div className="tb-group overlays" role="group" aria-label="Overlays">
          <button aria-pressed={d.overlaysVisible} onClick={() => p.onDisplay({ overlaysVisible: !d.overlaysVisible })} data-testid="toggle-overlays" title="All overlays · key O">
            Overlays
          </button>
          {p.score && (
            <span className="tb-overlay">
              <label>
                <input type="checkbox" checked={d.showScore} onChange={(e) => p.onDisplay({ showScore: e.target.checked })} data-testid="toggle-score" /> Heatmap
              </label>
              <Opacity value={d.scoreOpacity} onChange={(v) => p.onDisplay({ scoreOpacity: v })} label="Heatmap opacity" />
              <select value={d.colormap} onChange={(e) => p.onDisplay({ colormap: e.target.value as ColormapId })} aria-label="Colormap" data-testid="colormap">
                {COLORMAP_IDS.map((id) => (
                  <option key={id} value={id}>
                    {COLORMAPS[id].label}
                  </option>
                ))}
              </select>
              <ColorBar colormap={d.colormap} range={p.score.range} caption={p.score.label ?? 'Anomaly score'} />
            </span>
          )}
          {p.hasLabels && (
            <span className="tb-overlay">
              <label>
                <input type="checkbox" checked={d.showLabels} onChange={(e) => p.onDisplay({ showLabels: e.target.checked })} data-testid="toggle-labels" /> Lesions
              </label>
              <Opacity value={d.labelOpacity} onChange={(v) => p.onDisplay({ labelOpacity: v })} label="Lesion opacity" />
              <button onClick={() => p.onDisplay({ labelStyle: d.labelStyle === 'outline' ? 'filled' : 'outline' })} data-testid="label-style" title="Filled or outline · key F">
                {d.labelStyle === 'outline' ? 'Outline' : 'Filled'}
              </button>
            </span>
          )}
          {p.hasBrainMask && (
            <span className="tb-overlay">
              <label>
                <input type="checkbox" checked={d.showBrainMask} onChange={(e) => p.onDisplay({ showBrainMask: e.target.checked })} data-testid="toggle-brain" /> Brain
              </label>
              <Opacity value={d.brainMaskOpacity} onChange={(v) => p.onDisplay({ brainMaskOpacity: v })} label="Brain contour opacity" />
            </span>
          )}
        </div>
      )}
    </div>
  );
}

function Opacity({ value, onChange, label }: { value: number; onChange(v: number): void; label: string }) {
  return <input className="opacity" type="range" min={0} max={1} step={0.05} value={value} onChange={(e) => onChange(Number(e.target.value))} aria-label={label} title={`${label}: ${Math.round(value * 100)}%`} />;
}

/** The heatmap's colour scale with its range, drawn from the same stops as the vtk transfer function. */
export function ColorBar({ colormap, range, caption }: { colormap: ColormapId; range: readonly [number, number]; caption: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    for (let x = 0; x < c.width; x++) {
      ctx.fillStyle = cssRgb(colormapAt(colormap, x / (c.width - 1)));
      ctx.fillRect(x, 0, 1, c.height);
    }
  }, [colormap]);
  return (
    <span className="colorbar" data-testid="colorbar" title={caption}>
      <span className="colorbar-value">{formatTick(range[0])}</span>
      <canvas ref={ref} width={96} height={10} aria-label={`${caption} colour scale`} />
      <span className="colorbar-value">{formatTick(range[1])}</span>
    </span>
  );
}

function formatTick(v: number): string {
  const a = Math.abs(v);
  return a >= 100 || a === 0 ? v.toFixed(0) : a >= 1 ? v.toFixed(1) : v.toPrecision(2);
}
