/** Small React helpers shared by the viewports. */
import { useEffect, useLayoutEffect, useState, type RefObject } from 'react';

/** CSS size of an element, updated on resize (unchanged object for sub-pixel jitter). */
export function useElementSize(ref: RefObject<HTMLElement | null>): { w: number; h: number } {
  const [size, setSize] = useState({ w: 0, h: 0 });
  useLayoutEffect(() => {
    const el = ref.current!;
    const ro = new ResizeObserver(() => {
      const r = el.getBoundingClientRect();
      setSize((old) => (Math.abs(old.w - r.width) < 0.5 && Math.abs(old.h - r.height) < 0.5 ? old : { w: r.width, h: r.height }));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return size;
}

/**
 * An object built once on the element (a vtk scene) and disposed with the component; null until
 * the element exists. `beforeDispose` runs first (e.g. to cancel a pending frame).
 */
export function useOwned<T extends { dispose(): void }>(ref: RefObject<HTMLElement | null>, create: (el: HTMLElement) => T, beforeDispose?: () => void): T | null {
  const [owned, setOwned] = useState<T | null>(null);
  useEffect(() => {
    const o = create(ref.current!);
    setOwned(o);
    return () => {
      beforeDispose?.();
      o.dispose();
    };
    // Built once per mount: `create` and `beforeDispose` are fixed for the component's life.
  }, [ref]);
  return owned;
}
