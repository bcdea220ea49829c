/**
 * Loads a series for viewing through the transport: geometry from `series.get`, then the Int16
 * HU voxels (little endian, x-fastest) from the binary endpoint.
 */
import { useEffect, useRef, useState } from 'react';
import type { SeriesDetail } from '../../../shared/types';
import type { Transport } from '../api/transport';
import type { Grid, Vec3 } from './geometry';
import { makeImage, deleteImage, type ScalarArray, type VtkImageData } from './vtk/common';

export interface LoadedSeries {
  detail: SeriesDetail;
  data: Int16Array;
  grid: Grid;
}

export type SeriesLoad = { status: 'loading'; detail: SeriesDetail | null } | { status: 'error'; message: string } | { status: 'ready'; series: LoadedSeries };

export function useSeriesVolume(api: Transport, seriesId: string): SeriesLoad {
  const [state, setState] = useState<SeriesLoad>({ status: 'loading', detail: null });
  useEffect(() => {
    let alive = true;
    setState({ status: 'loading', detail: null });
    (async () => {
      const detail = await api.call('series.get', { seriesId });
      if (!alive) return;
      setState({ status: 'loading', detail });
      const bytes = await api.fetchBinary(detail.voxelsPath);
      if (!alive) return;
      const [nx, ny, nz] = detail.dims;
      const expected = nx * ny * nz * 2;
      if (bytes.byteLength !== expected) {
        throw new Error(`The image data of this series is incomplete (${bytes.byteLength} of ${expected} bytes). Import the series again.`);
      }
      const grid: Grid = { dims: [nx, ny, nz], spacing: [...detail.spacing] as Vec3, origin: [...detail.origin] as Vec3, direction: detail.direction.slice() };
      setState({ status: 'ready', series: { detail, data: new Int16Array(bytes), grid } });
    })().catch((e: Error) => alive && setState({ status: 'error', message: e.message || 'The series could not be loaded.' }));
    return () => {
      alive = false;
    };
  }, [api, seriesId]);
  return state;
}

let nextArrayId = 1;
const arrayIds = new WeakMap<object, number>();
function arrayId(a: object): number {
  let id = arrayIds.get(a);
  if (!id) {
    id = nextArrayId++;
    arrayIds.set(a, id);
  }
  return id;
}

/**
 * vtk image data wrapping each array (no copy), alive while the arrays are. During the render
 * in which the arrays change, the old images are already withheld (null), so no view can draw
 * a deleted image.
 */
export function useVtkImages(arrays: readonly (ScalarArray | null | undefined)[], grid: Grid): (VtkImageData | null)[] {
  const key = `${arrays.map((a) => (a ? arrayId(a) : 0)).join(',')}|${grid.dims.join('x')}|${grid.spacing.join('x')}`;
  const [state, setState] = useState<{ key: string; images: (VtkImageData | null)[] }>({ key: '', images: [] });
  const arraysRef = useRef(arrays);
  arraysRef.current = arrays;
  useEffect(() => {
    const images = arraysRef.current.map((a) => (a ? makeImage(a, grid.dims, grid.spacing) : null));
    setState({ key, images });
    return () => {
      for (const img of images) if (img) deleteImage(img);
    };
    // `key` identifies the arrays and the grid.
  }, [key]);
  return state.key === key ? state.images : arrays.map(() => null);
}
