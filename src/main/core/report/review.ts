/**
 * A reader's corrections of an analysis, as reports and exports receive them: an optional edited
 * lesion label volume (same grid as the run, lesion numbers as in lesions.json plus any the reader
 * drew) and the history of per-lesion decisions. The annotation service owns how these are stored;
 * here they are only read.
 */

/** 'pending': looked at (type or note given) but neither accepted nor rejected. */
export type ReviewStatus = 'accepted' | 'rejected' | 'edited' | 'pending';

export interface ReviewEdit {
  /** Lesion number in the (edited) label volume. */
  lesionLabel: number;
  status: ReviewStatus;
  /** Lesion type chosen by the reader (see LESION_TYPES), or free text. */
  type?: string | null;
  note?: string | null;
  author: string;
  /** ISO 8601 time of the decision. */
  at: string;
}

export interface ReviewHistoryEntry {
  summary: string;
  author: string;
  at: string;
  undone?: boolean;
}

export interface ReviewInput {
  /** Edited lesion labels (0 = none), x-fastest on the run's native grid. Absent: the run's own labels. */
  labels?: ArrayLike<number> | null;
  /** Every decision in any order; the latest per lesion (by `at`) is the current one. */
  edits: ReviewEdit[];
  /** The editor's own log of actions (brush strokes included), shown in the report when given. */
  history?: ReviewHistoryEntry[];
}

/** A lesion as the review service keeps it (structurally `ReviewLesion` of shared/types). */
export interface ReviewedLesionState {
  label: number;
  status: string;
  type: string;
  note: string;
  origin: 'detected' | 'drawn';
  updatedBy: string;
  updatedAt: string;
}

/**
 * The review service's state as report input: one decision per lesion that the reader touched
 * (a status other than pending, a type or a note, or drawn by the reader).
 */
export function reviewFromLesionStates(state: { labels: ArrayLike<number>; lesions: readonly ReviewedLesionState[]; history?: ReviewHistoryEntry[] }): ReviewInput {
  const edits: ReviewEdit[] = [];
  for (const l of state.lesions) {
    const status: ReviewStatus = l.status === 'accepted' || l.status === 'rejected' ? l.status : 'pending';
    if (status === 'pending' && !l.type && !l.note && l.origin !== 'drawn') continue;
    edits.push({ lesionLabel: l.label, status, type: l.type || null, note: l.note || null, author: l.updatedBy, at: l.updatedAt });
  }
  return { labels: state.labels, edits, history: state.history };
}

/** The lesion types the annotation UI offers, with how they are coded in DICOM SEG. */
export const LESION_TYPES = ['epidural', 'subdural', 'subarachnoid', 'intraparenchymal', 'intraventricular', 'infarct', 'mass', 'artefact', 'other'] as const;
export type LesionType = (typeof LESION_TYPES)[number];

export interface CodedConcept {
  codeValue: string;
  codingSchemeDesignator: string;
  codeMeaning: string;
}

// SNOMED CT morphologic abnormalities of DICOM CID 7159 (Lesion Segmentation Type), plus Infarct.
const HEMORRHAGE: CodedConcept = { codeValue: '50960005', codingSchemeDesignator: 'SCT', codeMeaning: 'Hemorrhage' };
const INFARCT: CodedConcept = { codeValue: '55641003', codingSchemeDesignator: 'SCT', codeMeaning: 'Infarct' };
const MASS: CodedConcept = { codeValue: '4147007', codingSchemeDesignator: 'SCT', codeMeaning: 'Mass' };
export const LESION_CONCEPT: CodedConcept = { codeValue: '52988006', codingSchemeDesignator: 'SCT', codeMeaning: 'Lesion' };

export interface LesionTypeInfo {
  label: string;
  /** For narrow table cells. */
  short: string;
  concept: CodedConcept;
}

const TYPE_INFO: Record<LesionType, LesionTypeInfo> = {
  epidural: { label: 'Epidural hemorrhage', short: 'Epidural (EDH)', concept: HEMORRHAGE },
  subdural: { label: 'Subdural hemorrhage', short: 'Subdural (SDH)', concept: HEMORRHAGE },
  subarachnoid: { label: 'Subarachnoid hemorrhage', short: 'Subarachnoid (SAH)', concept: HEMORRHAGE },
  intraparenchymal: { label: 'Intraparenchymal hemorrhage', short: 'Intraparench. (IPH)', concept: HEMORRHAGE },
  intraventricular: { label: 'Intraventricular hemorrhage', short: 'Intraventric. (IVH)', concept: HEMORRHAGE },
  infarct: { label: 'Infarct', short: 'Infarct', concept: INFARCT },
  mass: { label: 'Mass', short: 'Mass', concept: MASS },
  artefact: { label: 'Artefact', short: 'Artefact', concept: LESION_CONCEPT },
  other: { label: 'Other', short: 'Other', concept: LESION_CONCEPT },
};

const ABBREVIATIONS: Record<string, LesionType> = { edh: 'epidural', sdh: 'subdural', sah: 'subarachnoid', iph: 'intraparenchymal', ich: 'intraparenchymal', ivh: 'intraventricular' };

/** Display names and DICOM concept of a reader's lesion type; unknown free text is kept verbatim. */
export function describeLesionType(type: string | null | undefined): LesionTypeInfo | null {
  if (!type || !type.trim()) return null;
  const text = type.trim();
  const key = text.toLowerCase();
  // Display labels ("Subdural hemorrhage") start with their key, so they map back too.
  const known = ABBREVIATIONS[key] ?? (LESION_TYPES as readonly string[]).find((t) => key === t || key.startsWith(t) || (t === 'artefact' && key.startsWith('artifact')));
  if (known) return TYPE_INFO[known as LesionType];
  const concept = /h(a)?emorrhage|bleed|hematoma|haematoma/.test(key) ? HEMORRHAGE : LESION_CONCEPT;
  return { label: text, short: text, concept };
}

/** The current decision per lesion: the latest edit by time (ties: the later in the list). */
export function latestEdits(edits: readonly ReviewEdit[]): Map<number, ReviewEdit> {
  const out = new Map<number, ReviewEdit>();
  edits.forEach((e) => {
    const prev = out.get(e.lesionLabel);
    if (!prev || Date.parse(e.at) >= Date.parse(prev.at) || Number.isNaN(Date.parse(prev.at))) out.set(e.lesionLabel, e);
  });
  return out;
}
