/** The keyboard shortcut sheet (key ?), generated from the same table the key handler uses. */
import { SHORTCUTS, type Shortcut } from './shortcuts';

const GROUPS: Shortcut['group'][] = ['Navigate', 'Window', 'Overlays', 'Tools', 'Layout'];

export function HelpOverlay({ onClose }: { onClose(): void }) {
  return (
    <div className="help-backdrop" onClick={onClose} data-testid="help-overlay">
      <div className="help-sheet" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" onClick={(e) => e.stopPropagation()}>
        <div className="help-head">
          <h2>Keyboard shortcuts</h2>
          <button onClick={onClose} aria-label="Close">
            Close
          </button>
        </div>
        <div className="help-columns">
          {GROUPS.map((g) => (
            <section key={g}>
              <h3>{g}</h3>
              <dl>
                {SHORTCUTS.filter((s) => s.group === g).map((s) => (
                  <div key={s.action} className="help-row">
                    <dt>
                      <kbd>{s.display}</kbd>
                    </dt>
                    <dd>{s.label}</dd>
                  </div>
                ))}
              </dl>
            </section>
          ))}
          <section>
            <h3>Mouse</h3>
            <dl>
              <div className="help-row"><dt><kbd>Click</kbd></dt><dd>Move the crosshair there (all views follow)</dd></div>
              <div className="help-row"><dt><kbd>Left-drag</kbd></dt><dd>The selected tool (window/level by default)</dd></div>
              <div className="help-row"><dt><kbd>Middle-drag</kbd></dt><dd>Pan</dd></div>
              <div className="help-row"><dt><kbd>Right-drag</kbd></dt><dd>Zoom</dd></div>
              <div className="help-row"><dt><kbd>Wheel</kbd></dt><dd>Scroll slices (Shift: 5 at a time, Ctrl: zoom)</dd></div>
              <div className="help-row"><dt><kbd>3D drag</kbd></dt><dd>Rotate (Shift: pan, wheel: zoom)</dd></div>
            </dl>
          </section>
        </div>
      </div>
    </div>
  );
}
