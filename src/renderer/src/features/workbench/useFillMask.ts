import { useCallback, useEffect, useRef, useState } from 'react';
import { forEachBrushVoxel, type VoxelGrid } from '../../../../shared/brush';

export interface FillMaskSnapshot {
  /** A copy of the mask for the viewer (a new array on every change, so it redraws). */
  mask: Uint8Array | null;
  maskedVoxels: number;
  undoDepth: number;
  redoDepth: number;
}

export interface FillMaskEditor extends FillMaskSnapshot {
  beginStroke(): void;
  paint(center: readonly [number, number, number], radiusMm: number, sphere: boolean, erase: boolean, sliceAxis?: 0 | 1 | 2): void;
  endStroke(): void;
  undo(): void;
  redo(): void;
  clear(): void;
  replace(mask: Uint8Array): void;
  /** The current mask itself (not a copy), for sending. */
  current(): Uint8Array | null;
}

interface Edit {
  indices: Uint32Array;
  before: Uint8Array;
}

/**
 * The workbench's fill mask, drawn in the renderer: strokes change a working array and are kept
 * as voxel-level edits for undo, and the viewer gets a fresh copy at most once per frame while
 * the brush moves.
 */
export function useFillMask(grid: VoxelGrid): FillMaskEditor {
  const voxels = grid.dims[0] * grid.dims[1] * grid.dims[2];
  const work = useRef<Uint8Array | null>(null);
  const count = useRef(0);
  const history = useRef<Edit[]>([]);
  const undone = useRef<Edit[]>([]);
  const stroke = useRef<{ indices: number[]; before: number[] } | null>(null);
  const frame = useRef<number | null>(null);
  const [snapshot, setSnapshot] = useState<FillMaskSnapshot>({ mask: null, maskedVoxels: 0, undoDepth: 0, redoDepth: 0 });

  const publishNow = useCallback(() => {
    frame.current = null;
    setSnapshot({ mask: work.current && count.current > 0 ? work.current.slice() : null, maskedVoxels: count.current, undoDepth: history.current.length, redoDepth: undone.current.length });
  }, []);
  const publish = useCallback(() => {
    if (frame.current === null) frame.current = requestAnimationFrame(publishNow);
  }, [publishNow]);
  useEffect(() => () => void (frame.current !== null && cancelAnimationFrame(frame.current)), []);

  const record = (edit: Edit) => {
    if (edit.indices.length === 0) return;
    // A new edit forks the history: what was undone can no longer be redone.
    undone.current = [];
    history.current.push(edit);
    // Bounded: a long session of strokes must not grow without limit.
    if (history.current.length > 200) history.current.shift();
  };

  const set = (p: number, value: number, into: { indices: number[]; before: number[] } | null) => {
    const m = work.current!;
    if (m[p] === value) return;
    into?.indices.push(p);
    into?.before.push(m[p]);
    count.current += value ? 1 : -1;
    m[p] = value;
  };

  return {
    ...snapshot,
    beginStroke() {
      stroke.current = { indices: [], before: [] };
    },
    paint(center, radiusMm, sphere, erase, sliceAxis = 2) {
      if (!work.current) work.current = new Uint8Array(voxels);
      const own = stroke.current === null;
      const edit = stroke.current ?? { indices: [], before: [] };
      forEachBrushVoxel(grid, center, radiusMm, sphere, (p) => set(p, erase ? 0 : 1, edit), sliceAxis);
      if (own) record({ indices: Uint32Array.from(edit.indices), before: Uint8Array.from(edit.before) });
      publish();
    },
    endStroke() {
      const s = stroke.current;
      stroke.current = null;
      if (s) record({ indices: Uint32Array.from(s.indices), before: Uint8Array.from(s.before) });
      publish();
    },
    undo() {
      const edit = history.current.pop();
      if (!edit || !work.current) return;
      const after = Uint8Array.from(edit.indices, (p) => work.current![p]);
      for (let t = edit.indices.length - 1; t >= 0; t--) set(edit.indices[t], edit.before[t], null);
      // Stored as the edit that redoes it: `before` holds the values to put back.
      undone.current.push({ indices: edit.indices, before: after });
      publishNow();
    },
    redo() {
      const edit = undone.current.pop();
      if (!edit || !work.current) return;
      const previous = Uint8Array.from(edit.indices, (p) => work.current![p]);
      for (let t = 0; t < edit.indices.length; t++) set(edit.indices[t], edit.before[t], null);
      history.current.push({ indices: edit.indices, before: previous });
      publishNow();
    },
    clear() {
      if (!work.current) return;
      const edit = { indices: [] as number[], before: [] as number[] };
      for (let p = 0; p < voxels; p++) if (work.current[p]) set(p, 0, edit);
      record({ indices: Uint32Array.from(edit.indices), before: Uint8Array.from(edit.before) });
      publishNow();
    },
    replace(mask) {
      if (mask.length !== voxels) throw new Error(`The mask has ${mask.length} voxels; the series has ${voxels}.`);
      if (!work.current) work.current = new Uint8Array(voxels);
      const edit = { indices: [] as number[], before: [] as number[] };
      for (let p = 0; p < voxels; p++) set(p, mask[p] ? 1 : 0, edit);
      record({ indices: Uint32Array.from(edit.indices), before: Uint8Array.from(edit.before) });
      publishNow();
    },
    current() {
      return work.current;
    },
  };
}
