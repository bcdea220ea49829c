import type { ReactNode } from 'react';

/** What the brush tools edit; the review and the workbench each keep more beside it. */
export interface BrushToolState {
  active: boolean;
  mode: 'paint' | 'erase';
  radiusMm: number;
  sphere: boolean;
}

/**
 * Brush and eraser toggles, radius in mm and the 3D (sphere) switch, shared by the review and the
 * inpainting workbench so both brushes look and behave the same. `children` sit after the eraser.
 */
export function BrushTools(props: {
  brush: BrushToolState;
  onChange: (patch: Partial<BrushToolState>) => void;
  /** Prefix of the test ids: `<prefix>-paint`, `<prefix>-erase`, `<prefix>-radius`. */
  testIdPrefix: string;
  /** Radius used when the field is cleared or not a number. */
  defaultRadiusMm: number;
  children?: ReactNode;
}) {
  const { brush: b, onChange, testIdPrefix: id } = props;
  const toggle = (mode: BrushToolState['mode']) => onChange({ active: !(b.active && b.mode === mode), mode });
  return (
    <div className="row wrap">
      <button aria-pressed={b.active && b.mode === 'paint'} onClick={() => toggle('paint')} data-testid={`${id}-paint`} title="Paint where you drag in a slice view">
        Brush
      </button>
      <button aria-pressed={b.active && b.mode === 'erase'} onClick={() => toggle('erase')} data-testid={`${id}-erase`} title="Erase where you drag in a slice view">
        Eraser
      </button>
      {props.children}
      <label className="small">
        <input
          type="number"
          min={0.5}
          max={30}
          step={0.5}
          value={b.radiusMm}
          onChange={(e) => onChange({ radiusMm: Math.min(30, Math.max(0.5, Number(e.target.value) || props.defaultRadiusMm)) })}
          style={{ width: 52 }}
          aria-label="Brush radius in mm"
          data-testid={`${id}-radius`}
        />{' '}
        mm
      </label>
      <label className="small" title="A sphere through neighbouring slices instead of a disc in the slice painted in">
        <input type="checkbox" checked={b.sphere} onChange={(e) => onChange({ sphere: e.target.checked })} /> 3D
      </label>
    </div>
  );
}
