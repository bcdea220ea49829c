/**
 * DICOM Segmentation Storage (PS3.3 A.51) of a report's final lesion mask, BINARY, one frame per
 * segment and slice that holds any of its voxels.
 *
 * Segments: one per lesion by default, numbered in the report's order and labelled with the
 * lesion number of the report, the viewer and the NIfTI/CSV exports. A reader's decisions are per
 * lesion (type, accepted/edited/added), and per-lesion segments carry them into 3D Slicer and
 * OHIF: each lesion can be shown, hidden and measured on its own, with its own coded type and
 * algorithm type (AUTOMATIC as detected, SEMIAUTOMATIC when the reader edited its voxels, MANUAL
 * when drawn by the reader). `segments: 'single'` writes one "Anomaly" segment instead for tools
 * that want a plain binary mask.
 *
 * The SEG joins the source study (same Study Instance UID, Frame of Reference UID) and references
 * the source images per frame and in the Referenced Series Sequence, so viewers overlay it on the
 * series it was computed from. Series without DICOM identifiers (NIfTI, PNG) get generated UIDs
 * that are stable per analysis run, and no image references.
 */
import { writeFile } from 'node:fs/promises';
import dcmjs from 'dcmjs';
import { AppError } from '../../../shared/errors';
import { APP_VERSION } from '../../../shared/version';
import { CT_IMAGE_STORAGE, formatDS } from '../io/dicom-write';
import { isValidDicomUid, newDicomUid } from '../io/uid';
import { pseudonymousUid } from '../deidentify';
import { voxelToLps, type Vec3 } from '../volume';
import type { CaseReport, Grid, ReportLesion } from '../report/case';
import { statusLabel } from '../report/case';
import { describeLesionType, LESION_CONCEPT, type CodedConcept } from '../report/review';
import { formatDateTime, formatVolumeMl, provenanceRows, signLabel } from '../report/format';

const { DicomDict, DicomMessage, DicomMetaDictionary } = dcmjs.data;

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const IMPLEMENTATION_CLASS_UID = '2.25.255616385004315330233373812460950306513';

const MORPHOLOGICALLY_ABNORMAL_STRUCTURE: CodedConcept = { codeValue: '49755003', codingSchemeDesignator: 'SCT', codeMeaning: 'Morphologically Abnormal Structure' };
const BRAIN: CodedConcept = { codeValue: '12738006', codingSchemeDesignator: 'SCT', codeMeaning: 'Brain' };
const SOURCE_IMAGE_PURPOSE: CodedConcept = { codeValue: '121322', codingSchemeDesignator: 'DCM', codeMeaning: 'Source image for image processing operation' };
const SEGMENTATION_DERIVATION: CodedConcept = { codeValue: '113076', codingSchemeDesignator: 'DCM', codeMeaning: 'Segmentation' };
// Algorithm families (CID 7162): the diffusion model is a trained network; a classical fill
// repaints each square from the values around it.
const ARTIFICIAL_INTELLIGENCE: CodedConcept = { codeValue: '123110', codingSchemeDesignator: 'DCM', codeMeaning: 'Artificial Intelligence' };
const NEIGHBORHOOD_ANALYSIS: CodedConcept = { codeValue: '123101', codingSchemeDesignator: 'DCM', codeMeaning: 'Neighborhood Analysis' };
/** Longest value of a DICOM LT (Long Text). */
const LT_MAX = 10240;

// Attribute tags used as dimension pointers.
const TAG_REFERENCED_SEGMENT_NUMBER = 0x0062000b;
const TAG_SEGMENT_IDENTIFICATION_SEQUENCE = 0x0062000a;
const TAG_IMAGE_POSITION_PATIENT = 0x00200032;
const TAG_PLANE_POSITION_SEQUENCE = 0x00209113;

export type SegmentAlgorithmType = 'AUTOMATIC' | 'SEMIAUTOMATIC' | 'MANUAL';

export interface SegSegment {
  number: number;
  label: string;
  description: string;
  /** The report's lesion number, null for the single "Anomaly" segment. */
  lesionLabel: number | null;
  algorithmType: SegmentAlgorithmType;
  propertyType: CodedConcept;
  voxelCount: number;
}

export interface DicomSegOptions {
  /** One segment per lesion (default) or one "Anomaly" segment. */
  segments?: 'per-lesion' | 'single';
  seriesNumber?: number;
  seriesDescription?: string;
  /** Content creator (PN), e.g. the reviewer; default the last reviewer or empty. */
  contentCreator?: string;
  now?: Date;
}

export interface DicomSegResult {
  bytes: Uint8Array;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  frameOfReferenceUid: string;
  frames: number;
  segments: SegSegment[];
  /** True when the frames reference the source images. */
  referencesSource: boolean;
  warnings: string[];
}

function code(c: CodedConcept): Record<string, string> {
  return { CodeValue: c.codeValue, CodingSchemeDesignator: c.codingSchemeDesignator, CodeMeaning: c.codeMeaning };
}

function dicomDateTime(t: Date): { date: string; time: string } {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return { date: `${t.getUTCFullYear()}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}`, time: `${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}` };
}

/** sRGB (0-255) to DICOM's scaled CIELab (D65), as RecommendedDisplayCIELabValue wants. */
export function rgbToDicomLab(rgb: readonly [number, number, number]): [number, number, number] {
  const lin = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const x = (0.4124564 * lin[0] + 0.3575761 * lin[1] + 0.1804375 * lin[2]) / 0.95047;
  const y = 0.2126729 * lin[0] + 0.7151522 * lin[1] + 0.072175 * lin[2];
  const z = (0.0193339 * lin[0] + 0.119192 * lin[1] + 0.9503041 * lin[2]) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const L = 116 * f(y) - 16;
  const a = 500 * (f(x) - f(y));
  const b = 200 * (f(y) - f(z));
  const clamp = (v: number) => Math.max(0, Math.min(65535, Math.round(v)));
  return [clamp((L * 65535) / 100), clamp(((a + 128) * 65535) / 255), clamp(((b + 128) * 65535) / 255)];
}

const SEGMENT_COLOURS: readonly (readonly [number, number, number])[] = [
  [255, 214, 10],
  [90, 200, 250],
  [255, 95, 87],
  [52, 199, 89],
  [191, 90, 242],
  [255, 159, 10],
  [100, 210, 255],
  [255, 55, 95],
];

function algorithmTypeOf(l: ReportLesion): SegmentAlgorithmType {
  return l.status === 'added' ? 'MANUAL' : l.status === 'edited' ? 'SEMIAUTOMATIC' : 'AUTOMATIC';
}

/** Valid references to the source images in k order, or null (with the reason in `warnings`). */
function sourceReferences(report: CaseReport, warnings: string[]): { sopClassUid: string; sopInstanceUids: string[]; multiFrame: boolean } | null {
  const m = report.meta;
  const uids = m.sopInstanceUids ?? [];
  const nz = report.grid.dims[2];
  if (!m.studyInstanceUid || !m.seriesInstanceUid || uids.length === 0) {
    const why = !report.metaKnown
      ? 'The analysis folder does not record the DICOM identifiers of its scan (export from the library, or give the source series)'
      : `The scan was not read from DICOM (${m.source ?? 'source unknown'})`;
    warnings.push(`${why}, so the SEG has synthetic study and frame-of-reference UIDs and references no source images: viewers will not show it over the original series on their own.`);
    return null;
  }
  if (uids.length !== nz || uids.some((u) => !isValidDicomUid(u))) {
    warnings.push('The source series does not list a valid SOP Instance UID for every slice, so the SEG references the study and series but no individual images.');
    return null;
  }
  const multiFrame = new Set(uids).size === 1 && nz > 1;
  if (multiFrame) warnings.push('The source is one multi-frame image; frames reference that image as a whole (frame numbers are not recorded).');
  return { sopClassUid: m.sopClassUid || CT_IMAGE_STORAGE, sopInstanceUids: uids, multiFrame };
}

interface SegmentPlan {
  segment: SegSegment;
  /** Label values in finalLabels that belong to this segment. */
  labels: Set<number>;
  colour: readonly [number, number, number];
  /** SegmentAlgorithmName: app, model and preset, whole words within the 64 characters of a DICOM LO. */
  algorithmName: string;
}

/**
 * Words joined until the next would pass `limit` characters (a DICOM LO holds 64): later, less
 * essential words are dropped whole instead of cutting one ("...fast preset" lost as "...fas").
 */
export function fitWords(words: readonly string[], limit = 64): string {
  let out = '';
  for (const w of words) {
    const next = out ? `${out} ${w}` : w;
    if (next.length > limit) break;
    out = next;
  }
  return out || words.join(' ').slice(0, limit);
}

/** What produced a segment, for SegmentAlgorithmName: "Inpaint CT 0.1.0 healthy-brain-ddpm 1.3.0 fast". */
function algorithmName(p: CaseReport['run']['provenance']): string {
  const how = p.inpainter.kind === 'classical' ? [p.inpainter.method, 'inpainting'] : [p.model?.id ?? p.inpainter.modelId, ...(p.model?.version ? [p.model.version] : []), p.inpainter.preset];
  return fitWords(['Inpaint CT', APP_VERSION, ...how]);
}

/**
 * Segmentation Algorithm Identification (PS3.3 C.8.20.2, Algorithm Identification Macro): the
 * app and model by name and version, and in Algorithm Parameters the run's whole provenance as
 * the PDF report lists it (model SHA-256, preset, seed, cut, the healthy reference the cut read
 * with its full SHA-256, reading settings), so a SEG that travels without its report still
 * says what produced it.
 */
export function algorithmIdentification(report: CaseReport): Record<string, unknown> {
  const p = report.run.provenance;
  const inpainter = p.inpainter;
  const classical = inpainter.kind === 'classical';
  const name = classical ? ['Inpaint CT', inpainter.method, 'inpainting'] : ['Inpaint CT', p.model?.id ?? inpainter.modelId, inpainter.preset, 'preset'];
  const version = [`Inpaint CT ${p.appVersion}`, ...(classical || !p.model?.version ? [] : [`model ${p.model.version}`])].join(', ');
  const lines = [`${report.researchUseOnly}`, ...provenanceRows(report, { formatDate: formatDateTime, sha256Length: 64 }).map((row) => `${row.label}: ${row.value}`)];
  // Whole lines within the LT limit (CR LF between them, as DICOM text separates lines).
  let parameters = '';
  for (const line of lines) {
    const next = parameters ? `${parameters}\r\n${line}` : line;
    if (next.length > LT_MAX) break;
    parameters = next;
  }
  return {
    AlgorithmFamilyCodeSequence: [code(classical ? NEIGHBORHOOD_ANALYSIS : ARTIFICIAL_INTELLIGENCE)],
    AlgorithmName: fitWords(name),
    AlgorithmVersion: fitWords(version.split(' ')),
    AlgorithmParameters: parameters,
    AlgorithmSource: 'Inpaint CT (research use only)',
  };
}

function planSegments(report: CaseReport, mode: 'per-lesion' | 'single'): SegmentPlan[] {
  const included = report.lesions.filter((l) => l.included);
  const method = algorithmName(report.run.provenance);
  if (mode === 'single') {
    const reviewed = report.lesions.some((l) => l.status !== 'automatic' && l.status !== 'accepted');
    const added = included.length > 0 && included.every((l) => l.status === 'added');
    return [
      {
        segment: {
          number: 1,
          label: 'Anomaly',
          description: `${included.length} lesion${included.length === 1 ? '' : 's'}, ${formatVolumeMl(report.totals.includedVolumeMl)} mL; threshold ${report.run.threshold.description}`,
          lesionLabel: null,
          algorithmType: added ? 'MANUAL' : reviewed ? 'SEMIAUTOMATIC' : 'AUTOMATIC',
          propertyType: LESION_CONCEPT,
          voxelCount: included.reduce((s, l) => s + l.stats.voxelCount, 0),
        },
        labels: new Set(included.map((l) => l.label)),
        colour: SEGMENT_COLOURS[0],
        algorithmName: method,
      },
    ];
  }
  return included.map((l, i) => {
    const type = describeLesionType(l.type);
    const details = [statusLabel(l), `${formatVolumeMl(l.stats.volumeMl)} mL`, signLabel(l.stats.sign), l.note ? `note: ${l.note}` : ''].filter(Boolean).join('; ');
    return {
      segment: {
        number: i + 1,
        label: `Lesion ${l.label}${type ? ` ${type.label}` : ''}`.slice(0, 64),
        description: details,
        lesionLabel: l.label,
        algorithmType: algorithmTypeOf(l),
        propertyType: type?.concept ?? LESION_CONCEPT,
        voxelCount: l.stats.voxelCount,
      },
      labels: new Set([l.label]),
      colour: SEGMENT_COLOURS[i % SEGMENT_COLOURS.length],
      algorithmName: method,
    };
  });
}

/** Slices (k) holding voxels of each segment, ascending. */
function slicesPerSegment(labels: Int32Array, grid: Grid, plans: SegmentPlan[]): number[][] {
  const [nx, ny, nz] = grid.dims;
  const plane = nx * ny;
  const segmentOf = new Map<number, number>();
  plans.forEach((p, s) => p.labels.forEach((l) => segmentOf.set(l, s)));
  const seen = plans.map(() => new Uint8Array(nz));
  for (let p = 0; p < labels.length; p++) {
    const l = labels[p];
    if (l <= 0) continue;
    const s = segmentOf.get(l);
    if (s !== undefined) seen[s][Math.floor(p / plane)] = 1;
  }
  return seen.map((ks) => [...ks.keys()].filter((k) => ks[k]));
}

export function encodeDicomSeg(report: CaseReport, options: DicomSegOptions = {}): DicomSegResult {
  const warnings: string[] = [];
  const grid = report.grid;
  const [nx, ny] = grid.dims;
  const plane = nx * ny;
  const plans = planSegments(report, options.segments ?? 'per-lesion');
  if (plans.length === 0 || plans.every((p) => p.segment.voxelCount === 0)) {
    throw new AppError('BAD_REQUEST', 'There is no lesion in the final mask, so there is nothing to put in a DICOM SEG (every lesion was rejected or none was found).');
  }
  const refs = sourceReferences(report, warnings);
  const m = report.meta;
  // Without DICOM identifiers, UIDs derive from the run so that repeated exports group together.
  const runSeed = `${report.runId}|${report.run.provenance.createdAt}`;
  const studyInstanceUid = refs || (m.studyInstanceUid && isValidDicomUid(m.studyInstanceUid)) ? m.studyInstanceUid! : pseudonymousUid(runSeed, 'inpaint-ct-study');
  const frameOfReferenceUid = m.frameOfReferenceUid && isValidDicomUid(m.frameOfReferenceUid) ? m.frameOfReferenceUid : pseudonymousUid(runSeed, 'inpaint-ct-frame-of-reference');
  if (refs && !(m.frameOfReferenceUid && isValidDicomUid(m.frameOfReferenceUid))) warnings.push('The source series has no Frame of Reference UID; the SEG declares a new one.');
  const seriesInstanceUid = newDicomUid();
  const sopInstanceUid = newDicomUid();
  const now = dicomDateTime(options.now ?? new Date(report.generatedAt));
  const d = grid.direction;
  const orientation = [d[0], d[1], d[2], d[3], d[4], d[5]].map(formatDS);

  const slices = slicesPerSegment(report.finalLabels, grid, plans);
  const frames: { segment: number; k: number }[] = [];
  plans.forEach((p, s) => slices[s].forEach((k) => frames.push({ segment: p.segment.number, k })));
  // BINARY frames are bit-packed back to back (PS3.5 8.1.1), first pixel in the low bit.
  const packed = new Uint8Array(Math.ceil((frames.length * plane) / 8 / 2) * 2);
  frames.forEach((f, index) => {
    const labels = plans[f.segment - 1].labels;
    const src = f.k * plane;
    const bitBase = index * plane;
    for (let p = 0; p < plane; p++) {
      if (labels.has(report.finalLabels[src + p])) {
        const bit = bitBase + p;
        packed[bit >> 3] |= 1 << (bit & 7);
      }
    }
  });

  const dimensionOrganizationUid = newDicomUid();
  const perFrame = frames.map((f) => {
    const item: Record<string, unknown> = {
      FrameContentSequence: [{ DimensionIndexValues: [f.segment, f.k + 1] }],
      PlanePositionSequence: [{ ImagePositionPatient: voxelToLps(grid, 0, 0, f.k).map(formatDS) }],
      SegmentIdentificationSequence: [{ ReferencedSegmentNumber: f.segment }],
    };
    if (refs) {
      item.DerivationImageSequence = [
        {
          SourceImageSequence: [{ ReferencedSOPClassUID: refs.sopClassUid, ReferencedSOPInstanceUID: refs.sopInstanceUids[f.k], PurposeOfReferenceCodeSequence: [code(SOURCE_IMAGE_PURPOSE)] }],
          DerivationCodeSequence: [code(SEGMENTATION_DERIVATION)],
        },
      ];
    }
    return item;
  });

  const creator = options.contentCreator ?? report.review?.reviewers.at(-1) ?? '';
  const algorithm = algorithmIdentification(report);
  const ds: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: now.date,
    InstanceCreationTime: now.time,
    // Patient
    PatientName: m.patientName ?? '',
    PatientID: m.patientId ?? '',
    PatientBirthDate: report.deidentified ? '' : (m.patientBirthDate ?? ''),
    PatientSex: report.deidentified ? '' : (m.patientSex ?? ''),
    ...(report.deidentified ? { PatientIdentityRemoved: 'YES', DeidentificationMethod: 'Inpaint CT: pseudonyms, no dates, UIDs pseudonymised' } : {}),
    // General Study
    StudyInstanceUID: studyInstanceUid,
    StudyDate: report.deidentified ? '' : (m.studyDate ?? ''),
    StudyTime: '',
    ReferringPhysicianName: '',
    StudyID: '',
    AccessionNumber: report.deidentified ? '' : (m.accessionNumber ?? ''),
    StudyDescription: m.studyDescription ?? '',
    // General Series + Segmentation Series
    Modality: 'SEG',
    SeriesInstanceUID: seriesInstanceUid,
    SeriesNumber: String(options.seriesNumber ?? (m.seriesNumber ?? 0) + 1000),
    SeriesDate: now.date,
    SeriesTime: now.time,
    SeriesDescription: (options.seriesDescription ?? `Inpaint CT anomalies${m.seriesDescription ? ` (${m.seriesDescription})` : ''} - research use only`).slice(0, 64),
    // Frame of Reference
    FrameOfReferenceUID: frameOfReferenceUid,
    PositionReferenceIndicator: '',
    // General + Enhanced General Equipment
    Manufacturer: 'Inpaint CT',
    ManufacturerModelName: 'inpaint-ct',
    DeviceSerialNumber: 'none',
    SoftwareVersions: APP_VERSION,
    // General Image + Segmentation Image
    InstanceNumber: '1',
    ContentDate: now.date,
    ContentTime: now.time,
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentLabel: 'ANOMALY',
    ContentDescription: 'Inpaint CT anomaly mask - research use only, not for diagnosis',
    ContentCreatorName: creator,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: ny,
    Columns: nx,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    SegmentsOverlap: 'NO',
    SegmentSequence: plans.map((p) => ({
      SegmentNumber: p.segment.number,
      SegmentLabel: p.segment.label,
      SegmentDescription: p.segment.description.slice(0, 1024),
      SegmentAlgorithmType: p.segment.algorithmType,
      ...(p.segment.algorithmType !== 'MANUAL' ? { SegmentAlgorithmName: p.algorithmName, SegmentationAlgorithmIdentificationSequence: [algorithm] } : {}),
      SegmentedPropertyCategoryCodeSequence: [code(MORPHOLOGICALLY_ABNORMAL_STRUCTURE)],
      SegmentedPropertyTypeCodeSequence: [code(p.segment.propertyType)],
      AnatomicRegionSequence: [code(BRAIN)],
      RecommendedDisplayCIELabValue: rgbToDicomLab(p.colour),
    })),
    // Multi-frame Functional Groups + Dimensions
    NumberOfFrames: String(frames.length),
    SharedFunctionalGroupsSequence: [
      {
        PlaneOrientationSequence: [{ ImageOrientationPatient: orientation }],
        PixelMeasuresSequence: [{ PixelSpacing: [formatDS(grid.spacing[1]), formatDS(grid.spacing[0])], SliceThickness: formatDS(grid.spacing[2]), SpacingBetweenSlices: formatDS(grid.spacing[2]) }],
      },
    ],
    PerFrameFunctionalGroupsSequence: perFrame,
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUid }],
    DimensionOrganizationType: '3D',
    DimensionIndexSequence: [
      { DimensionOrganizationUID: dimensionOrganizationUid, DimensionIndexPointer: TAG_REFERENCED_SEGMENT_NUMBER, FunctionalGroupPointer: TAG_SEGMENT_IDENTIFICATION_SEQUENCE, DimensionDescriptionLabel: 'Segment Number' },
      { DimensionOrganizationUID: dimensionOrganizationUid, DimensionIndexPointer: TAG_IMAGE_POSITION_PATIENT, FunctionalGroupPointer: TAG_PLANE_POSITION_SEQUENCE, DimensionDescriptionLabel: 'Image Position Patient' },
    ],
    // Common Instance Reference
    ...(refs
      ? {
          ReferencedSeriesSequence: [
            {
              SeriesInstanceUID: m.seriesInstanceUid,
              ReferencedInstanceSequence: [...new Set(refs.sopInstanceUids)].map((uid) => ({ ReferencedSOPClassUID: refs.sopClassUid, ReferencedSOPInstanceUID: uid })),
            },
          ],
        }
      : {}),
    PixelData: [packed.buffer],
    _vrMap: { PixelData: 'OB' },
  };

  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: SEGMENTATION_STORAGE,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: `INPAINTCT_${APP_VERSION}`.slice(0, 16),
  });
  const file = new DicomDict(meta);
  file.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  return {
    bytes: new Uint8Array(file.write()),
    sopInstanceUid,
    seriesInstanceUid,
    studyInstanceUid,
    frameOfReferenceUid,
    frames: frames.length,
    segments: plans.map((p) => p.segment),
    referencesSource: !!refs,
    warnings,
  };
}

export async function writeDicomSeg(report: CaseReport, path: string, options: DicomSegOptions = {}): Promise<Omit<DicomSegResult, 'bytes'> & { path: string; bytes: number }> {
  const result = encodeDicomSeg(report, options);
  await writeFile(path, result.bytes);
  return { ...result, path, bytes: result.bytes.byteLength };
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface DicomSegMask {
  /** The grid the mask is on: the one given, or the one the frames span. */
  grid: Grid;
  /** 1 where any segment is present. */
  mask: Uint8Array;
  /** Segment number per voxel (0 = none; the later frame wins where segments overlap). */
  segmentNumbers: Uint16Array;
  segments: { number: number; label: string; description: string; algorithmType: string; propertyType: CodedConcept | null; voxelCount: number }[];
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  patientName: string;
  patientId: string;
  referencedSeriesInstanceUid: string | null;
  /** Source image per frame (null where none is referenced). */
  frameSources: (string | null)[];
}

/* eslint-disable @typescript-eslint/no-explicit-any */
const one = (v: any): any => (Array.isArray(v) ? v[0] : v);
const list = (v: any): any[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const nums = (v: any): number[] => list(v).map(Number);
const text = (v: any): string => (v === undefined || v === null ? '' : typeof v === 'object' && 'Alphabetic' in v ? String(v.Alphabetic) : String(v));

function invert3(m: number[]): number[] | null {
  const [a, b, c, d, e, f, g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (Math.abs(det) < 1e-12) return null;
  return [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det, (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det, (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det];
}

/**
 * Reads a BINARY (or FRACTIONAL, cut at half) DICOM SEG into a mask. With `grid` the frames are
 * placed on it by their positions (it must share the SEG's orientation and in-plane grid);
 * without, on the grid the frames span.
 */
export function readDicomSegMask(bytes: Uint8Array, grid?: Grid): DicomSegMask {
  let ds: any;
  try {
    const dict = DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    ds = DicomMetaDictionary.naturalizeDataset(dict.dict);
  } catch (e) {
    throw new AppError('DICOM_CORRUPT', `The DICOM SEG file could not be read: ${e instanceof Error ? e.message : String(e)}.`);
  }
  if (ds.SOPClassUID !== SEGMENTATION_STORAGE) throw new AppError('UNSUPPORTED_FORMAT', 'This DICOM file is not a Segmentation (its SOP class is different).');
  const type = text(ds.SegmentationType);
  if (type !== 'BINARY' && type !== 'FRACTIONAL') throw new AppError('UNSUPPORTED_FORMAT', `Unsupported segmentation type "${type}".`);
  const rows = Number(ds.Rows);
  const cols = Number(ds.Columns);
  const nFrames = Number(ds.NumberOfFrames ?? 1);
  const framePixels = rows * cols;
  const pixelBuffer = one(ds.PixelData) as ArrayBuffer | undefined;
  if (!pixelBuffer) throw new AppError('DICOM_NO_PIXELS', 'The DICOM SEG has no pixel data.');
  const pixels = new Uint8Array(pixelBuffer);
  const fractionalHalf = Number(ds.MaximumFractionalValue ?? 255) / 2;
  const isSet = type === 'BINARY' ? (f: number, p: number) => (pixels[(f * framePixels + p) >> 3] >> ((f * framePixels + p) & 7)) & 1 : (f: number, p: number) => (pixels[f * framePixels + p] > fractionalHalf ? 1 : 0);
  const needed = type === 'BINARY' ? Math.ceil((nFrames * framePixels) / 8) : nFrames * framePixels;
  if (pixels.length < needed) throw new AppError('FILE_TRUNCATED', 'The DICOM SEG pixel data is shorter than its frames need.');

  const shared = one(ds.SharedFunctionalGroupsSequence) ?? {};
  const perFrame = list(ds.PerFrameFunctionalGroupsSequence);
  const frameInfo = Array.from({ length: nFrames }, (_, f) => {
    const fg = perFrame[f] ?? {};
    const group = (name: string) => one(fg[name]) ?? one(shared[name]);
    const position = nums(one(group('PlanePositionSequence'))?.ImagePositionPatient);
    const orientation = nums(one(group('PlaneOrientationSequence'))?.ImageOrientationPatient);
    const spacing = nums(one(group('PixelMeasuresSequence'))?.PixelSpacing);
    const segment = Number(one(group('SegmentIdentificationSequence'))?.ReferencedSegmentNumber ?? 1);
    const source = one(one(one(fg.DerivationImageSequence)?.SourceImageSequence))?.ReferencedSOPInstanceUID ?? null;
    if (position.length !== 3 || orientation.length !== 6) throw new AppError('UNSUPPORTED_FORMAT', `Frame ${f + 1} of the DICOM SEG has no position or orientation.`);
    return { position, orientation, spacing, segment, source: source ? String(source) : null };
  });
  const o = frameInfo[0].orientation;
  const rowDir = o.slice(0, 3);
  const colDir = o.slice(3, 6);
  const normal: Vec3 = [rowDir[1] * colDir[2] - rowDir[2] * colDir[1], rowDir[2] * colDir[0] - rowDir[0] * colDir[2], rowDir[0] * colDir[1] - rowDir[1] * colDir[0]];
  // Slices run from the feet to the head (k = 0 most inferior), as every reader here orders them.
  if (normal[2] < 0) for (let t = 0; t < 3; t++) normal[t] = -normal[t];
  const along = (p: number[]) => p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2];

  let target: Grid;
  if (grid) {
    if (grid.dims[0] !== cols || grid.dims[1] !== rows) throw new AppError('GEOMETRY_MISMATCH', `The SEG frames are ${cols}x${rows} but the series slices are ${grid.dims[0]}x${grid.dims[1]}.`);
    const gd = grid.direction;
    if (o.some((v, t) => Math.abs(v - gd[t]) > 1e-3)) throw new AppError('GEOMETRY_MISMATCH', 'The SEG is oriented differently from the series.');
    target = grid;
  } else {
    const ps = frameInfo[0].spacing;
    const positions = [...new Set(frameInfo.map((f) => along(f.position)))].sort((a, b) => a - b);
    const declared = Number(one(one(shared.PixelMeasuresSequence)?.SpacingBetweenSlices));
    const gaps = positions.slice(1).map((p, t) => p - positions[t]).filter((g) => g > 1e-3);
    const dz = declared > 0 ? declared : gaps.length ? Math.min(...gaps) : Number(one(one(shared.PixelMeasuresSequence)?.SliceThickness)) || 1;
    const lowest = frameInfo.reduce((best, f) => (along(f.position) < along(best.position) ? f : best), frameInfo[0]);
    const depth = Math.round((positions[positions.length - 1] - positions[0]) / dz) + 1;
    target = { dims: [cols, rows, depth], spacing: [ps[1] ?? 1, ps[0] ?? 1, dz], origin: lowest.position as Vec3, direction: [...rowDir, ...colDir, ...normal] };
  }
  const [tx, ty, tz] = target.dims;
  const td = target.direction;
  const ts = target.spacing;
  const inverse = invert3([td[0] * ts[0], td[1] * ts[0], td[2] * ts[0], td[3] * ts[1], td[4] * ts[1], td[5] * ts[1], td[6] * ts[2], td[7] * ts[2], td[8] * ts[2]]);
  if (!inverse) throw new AppError('GEOMETRY_MISMATCH', 'The grid of the series is degenerate.');
  const mask = new Uint8Array(tx * ty * tz);
  const segmentNumbers = new Uint16Array(tx * ty * tz);
  const counts = new Map<number, number>();
  frameInfo.forEach((f, index) => {
    const off = [f.position[0] - target.origin[0], f.position[1] - target.origin[1], f.position[2] - target.origin[2]];
    // Column-major inverse: voxel = inverse * offset.
    const vi = inverse[0] * off[0] + inverse[3] * off[1] + inverse[6] * off[2];
    const vj = inverse[1] * off[0] + inverse[4] * off[1] + inverse[7] * off[2];
    const vk = inverse[2] * off[0] + inverse[5] * off[1] + inverse[8] * off[2];
    const k = Math.round(vk);
    if (Math.abs(vi) > 0.05 || Math.abs(vj) > 0.05 || Math.abs(vk - k) > 0.05 || k < 0 || k >= tz) {
      throw new AppError('GEOMETRY_MISMATCH', `Frame ${index + 1} of the SEG does not lie on a slice of the series.`);
    }
    const base = k * tx * ty;
    let n = 0;
    for (let p = 0; p < framePixels; p++) {
      if (isSet(index, p)) {
        mask[base + p] = 1;
        segmentNumbers[base + p] = f.segment;
        n++;
      }
    }
    counts.set(f.segment, (counts.get(f.segment) ?? 0) + n);
  });
  const refSeries = one(ds.ReferencedSeriesSequence);
  return {
    grid: target,
    mask,
    segmentNumbers,
    segments: list(ds.SegmentSequence).map((s: any) => {
      const t = one(s.SegmentedPropertyTypeCodeSequence);
      return {
        number: Number(s.SegmentNumber),
        label: text(s.SegmentLabel),
        description: text(s.SegmentDescription),
        algorithmType: text(s.SegmentAlgorithmType),
        propertyType: t ? { codeValue: text(t.CodeValue), codingSchemeDesignator: text(t.CodingSchemeDesignator), codeMeaning: text(t.CodeMeaning) } : null,
        voxelCount: counts.get(Number(s.SegmentNumber)) ?? 0,
      };
    }),
    studyInstanceUid: text(ds.StudyInstanceUID),
    seriesInstanceUid: text(ds.SeriesInstanceUID),
    frameOfReferenceUid: text(ds.FrameOfReferenceUID),
    patientName: text(ds.PatientName),
    patientId: text(ds.PatientID),
    referencedSeriesInstanceUid: refSeries ? text(refSeries.SeriesInstanceUID) : null,
    frameSources: frameInfo.map((f) => f.source),
  };
}
