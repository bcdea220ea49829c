import { spawnSync } from 'node:child_process';
import type { ExportSource } from '../../../src/main/core/report/case';
import type { ReviewInput } from '../../../src/main/core/report/review';

export function hasTool(name: string, versionFlag = '-v'): boolean {
  const r = spawnSync(name, [versionFlag], { encoding: 'utf8' });
  return !r.error;
}

/**
 * A review touching every kind of decision on a run: the largest lesion accepted as subdural
 * with a note, the largest hypodense one rejected, the next one edited (its upper half erased),
 * one lesion erased without a decision, and a new lesion drawn by the reader (a 3x3x2 block).
 */
export function sampleReview(source: ExportSource): { review: ReviewInput; accepted: number; rejected: number; edited: number; erased: number; added: number; editedVoxels: number } {
  const lesions = source.table.lesions;
  const accepted = lesions[0].label;
  const rejected = lesions.find((l) => l.sign === 'hypo' && l.label !== accepted)!.label;
  const edited = lesions.find((l) => l.label !== accepted && l.label !== rejected)!.label;
  const erased = lesions.find((l) => ![accepted, rejected, edited].includes(l.label))!.label;
  const labels = Int32Array.from(source.labels);
  const [nx, ny] = source.ct.dims;
  const plane = nx * ny;
  const editedLesion = lesions.find((l) => l.label === edited)!;
  const cutK = Math.floor((editedLesion.sliceRange[0] + editedLesion.sliceRange[1]) / 2);
  let editedVoxels = 0;
  for (let p = 0; p < labels.length; p++) {
    if (labels[p] === edited && Math.floor(p / plane) > cutK) labels[p] = 0;
    if (labels[p] === edited) editedVoxels++;
    if (labels[p] === erased) labels[p] = 0;
  }
  const added = 90;
  // A block in an empty spot near the centre.
  let placed = 0;
  for (let j = Math.floor(ny / 2); j < ny - 3 && !placed; j++) {
    for (let i = Math.floor(nx / 2); i < nx - 3 && !placed; i++) {
      let free = true;
      for (let k = 1; k <= 2; k++) for (let dj = 0; dj < 3; dj++) for (let di = 0; di < 3; di++) if (labels[i + di + (j + dj) * nx + k * plane]) free = false;
      if (!free) continue;
      for (let k = 1; k <= 2; k++) for (let dj = 0; dj < 3; dj++) for (let di = 0; di < 3; di++) labels[i + di + (j + dj) * nx + k * plane] = added;
      placed = 18;
    }
  }
  return {
    review: {
      labels,
      edits: [
        { lesionLabel: accepted, status: 'accepted', type: 'subdural', note: 'Crescent along the right convexity, "acute", agree', author: 'dr.ng', at: '2024-06-12T08:01:00Z' },
        { lesionLabel: rejected, status: 'accepted', type: 'infarct', note: null, author: 'dr.ng', at: '2024-06-12T08:02:00Z' },
        { lesionLabel: rejected, status: 'rejected', type: 'artefact', note: '=beam hardening, not a lesion', author: 'dr.ng', at: '2024-06-12T08:03:00Z' },
        { lesionLabel: edited, status: 'edited', type: 'intraparenchymal', note: 'trimmed to the bleed', author: 'dr.ng', at: '2024-06-12T08:04:00Z' },
        { lesionLabel: added, status: 'edited', type: 'mass', note: 'missed by the algorithm', author: 'dr.ng', at: '2024-06-12T08:05:00Z' },
      ],
    },
    accepted,
    rejected,
    edited,
    erased,
    added,
    editedVoxels,
  };
}
