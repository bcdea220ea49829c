// vtk.js ships no typings for these modules; only what the viewer uses is declared.
declare module '@kitware/vtk.js/Filters/General/ImageMarchingCubes' {
  import type { vtkImageData } from '@kitware/vtk.js/Common/DataModel/ImageData';
  import type { vtkPolyData } from '@kitware/vtk.js/Common/DataModel/PolyData';

  export interface vtkImageMarchingCubes {
    setInputData(image: vtkImageData): void;
    getOutputData(): vtkPolyData;
    setContourValue(value: number): boolean;
    delete(): void;
  }
  export function newInstance(initialValues?: { contourValue?: number; computeNormals?: boolean; mergePoints?: boolean }): vtkImageMarchingCubes;
  declare const vtkImageMarchingCubes: { newInstance: typeof newInstance };
  export default vtkImageMarchingCubes;
}

declare module '@kitware/vtk.js/Rendering/OpenGL/Profiles/Volume';
declare module '@kitware/vtk.js/Rendering/OpenGL/Profiles/Geometry';
