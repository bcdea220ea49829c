import type { Database } from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { FillProvenance, SeriesDetail, SeriesSummary, StudySummary, Vec3, SeriesWarningInfo } from '../../../shared/types';

/** Everything needed to add one imported series; files are already in their final place. */
export interface NewSeriesRecord {
  id: string;
  /** Identity of the voxel content (+ de-identification flag): the same files imported twice give the same key. */
  contentKey: string;
  patient: { key: string; name: string; identifier: string; birthDate: string; sex: string };
  study: { key: string; studyInstanceUid: string; studyDate: string; description: string; accessionNumber: string };
  series: {
    seriesInstanceUid: string;
    modality: string;
    description: string;
    seriesNumber: number | null;
    dims: Vec3;
    spacing: Vec3;
    origin: Vec3;
    direction: number[];
    intensityUnit: 'HU' | 'raw' | 'windowed';
    windowCenter: number | null;
    windowWidth: number | null;
    source: string;
    deidentified: boolean;
    warnings: SeriesWarningInfo[];
    meta: Record<string, unknown>;
    voxelsFile: string;
    thumbnailFile: string;
  };
}

export interface ImportFileResult {
  file: string;
  status: 'ok' | 'error' | 'skipped';
  code?: string;
  message?: string;
  seriesId?: string;
}

interface SeriesRow {
  id: string;
  study_id: string;
  series_instance_uid: string;
  modality: string;
  description: string;
  series_number: number | null;
  dims_json: string;
  spacing_json: string;
  origin_json: string;
  direction_json: string;
  intensity_unit: 'HU' | 'raw' | 'windowed';
  window_center: number | null;
  window_width: number | null;
  source: string;
  deidentified: number;
  warnings_json: string;
  meta_json: string;
  voxels_file: string;
  thumbnail_file: string;
  created_at: string;
}

function toSummary(r: SeriesRow): SeriesSummary {
  return {
    id: r.id,
    studyId: r.study_id,
    modality: r.modality,
    description: r.description,
    seriesNumber: r.series_number,
    dims: JSON.parse(r.dims_json),
    spacing: JSON.parse(r.spacing_json),
    source: r.source,
    deidentified: r.deidentified === 1,
    warnings: JSON.parse(r.warnings_json),
    createdAt: r.created_at,
    date: seriesDate(r.meta_json),
  };
}

function seriesDate(metaJson: string): string {
  try {
    const d = (JSON.parse(metaJson) as { studyDate?: unknown }).studyDate;
    return typeof d === 'string' ? d : '';
  } catch {
    return '';
  }
}

export interface SeriesFiles {
  voxelsFile: string;
  thumbnailFile: string;
}

export class LibraryRepository {
  constructor(private readonly db: Database) {}

  listStudies(): StudySummary[] {
    const studies = this.db
      .prepare(
        `SELECT s.id, s.study_instance_uid, s.study_date, s.description, s.created_at, p.name AS patient_name, p.identifier AS patient_identifier
         FROM studies s JOIN patients p ON p.id = s.patient_id ORDER BY s.created_at DESC, s.rowid DESC`,
      )
      .all() as { id: string; study_instance_uid: string; study_date: string; description: string; created_at: string; patient_name: string; patient_identifier: string }[];
    const series = this.db.prepare(`SELECT * FROM series ORDER BY series_number, created_at`).all() as SeriesRow[];
    const byStudy = new Map<string, SeriesSummary[]>();
    for (const r of series) {
      const list = byStudy.get(r.study_id) ?? [];
      list.push(toSummary(r));
      byStudy.set(r.study_id, list);
    }
    return studies.map((s) => ({
      id: s.id,
      patientName: s.patient_name,
      patientIdentifier: s.patient_identifier,
      studyDate: s.study_date,
      description: s.description,
      studyInstanceUid: s.study_instance_uid,
      createdAt: s.created_at,
      series: byStudy.get(s.id) ?? [],
    }));
  }

  getSeries(id: string): (SeriesDetail & { meta: Record<string, unknown> } & SeriesFiles) | undefined {
    const r = this.db.prepare(`SELECT * FROM series WHERE id = ?`).get(id) as SeriesRow | undefined;
    if (!r) return undefined;
    const meta = JSON.parse(r.meta_json) as Record<string, unknown>;
    const fill = meta.workbenchFill as Omit<FillProvenance, 'maskPath'> | undefined;
    return {
      ...toSummary(r),
      origin: JSON.parse(r.origin_json),
      direction: JSON.parse(r.direction_json),
      intensityUnit: r.intensity_unit,
      windowCenter: r.window_center,
      windowWidth: r.window_width,
      voxelsPath: `series/${r.id}/voxels`,
      thumbnailPath: `series/${r.id}/thumbnail`,
      fill: fill ? { ...fill, maskPath: `series/${r.id}/fill-mask` } : null,
      meta,
      voxelsFile: r.voxels_file,
      thumbnailFile: r.thumbnail_file,
    };
  }

  /** The key that groups imported series into this series' study. */
  studyKeyOfSeries(seriesId: string): string | undefined {
    return (this.db.prepare(`SELECT st.study_key AS key FROM series se JOIN studies st ON st.id = se.study_id WHERE se.id = ?`).get(seriesId) as { key: string } | undefined)?.key;
  }

  seriesIdByContentKey(key: string): string | undefined {
    return (this.db.prepare(`SELECT id FROM series WHERE content_key = ?`).get(key) as { id: string } | undefined)?.id;
  }

  /** Files of every series of a study (to delete after the rows are gone). */
  studyFiles(studyId: string): { seriesId: string; files: SeriesFiles }[] {
    return (this.db.prepare(`SELECT id, voxels_file, thumbnail_file FROM series WHERE study_id = ?`).all(studyId) as { id: string; voxels_file: string; thumbnail_file: string }[]).map((r) => ({
      seriesId: r.id,
      files: { voxelsFile: r.voxels_file, thumbnailFile: r.thumbnail_file },
    }));
  }

  allSeriesIds(): Set<string> {
    return new Set((this.db.prepare(`SELECT id FROM series`).all() as { id: string }[]).map((r) => r.id));
  }

  /**
   * Add the series of one import in a single transaction, so a failed import leaves nothing
   * half-visible. Series whose content is already in the library are not added again
   * (re-import is idempotent); their existing id is returned.
   */
  commitImport(
    imp: { id: string; jobId: string; paths: string[]; deidentify: boolean },
    records: NewSeriesRecord[],
    files: ImportFileResult[],
  ): { added: string[]; existing: { newId: string; existingId: string }[] } {
    const now = new Date().toISOString();
    const added: string[] = [];
    const existing: { newId: string; existingId: string }[] = [];
    const findPatient = this.db.prepare(`SELECT id FROM patients WHERE patient_key = ?`);
    const insPatient = this.db.prepare(`INSERT INTO patients (id, patient_key, name, identifier, birth_date, sex, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    const findStudy = this.db.prepare(`SELECT id FROM studies WHERE study_key = ?`);
    const insStudy = this.db.prepare(
      `INSERT INTO studies (id, patient_id, study_key, study_instance_uid, study_date, description, accession_number, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insSeries = this.db.prepare(
      `INSERT INTO series (id, study_id, content_key, series_instance_uid, modality, description, series_number, dims_json, spacing_json, origin_json, direction_json,
        intensity_unit, window_center, window_width, source, deidentified, warnings_json, meta_json, voxels_file, thumbnail_file, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insImport = this.db.prepare(`INSERT INTO imports (id, job_id, paths_json, deidentify, status, created_at, finished_at) VALUES (?, ?, ?, ?, 'succeeded', ?, ?)`);
    const insFile = this.db.prepare(`INSERT INTO import_files (import_id, file, status, code, message, series_id) VALUES (?, ?, ?, ?, ?, ?)`);

    this.db.transaction(() => {
      insImport.run(imp.id, imp.jobId, JSON.stringify(imp.paths), imp.deidentify ? 1 : 0, now, now);
      for (const rec of records) {
        const dup = this.seriesIdByContentKey(rec.contentKey);
        if (dup) {
          existing.push({ newId: rec.id, existingId: dup });
          continue;
        }
        let patientId = (findPatient.get(rec.patient.key) as { id: string } | undefined)?.id;
        if (!patientId) {
          patientId = randomUUID();
          insPatient.run(patientId, rec.patient.key, rec.patient.name, rec.patient.identifier, rec.patient.birthDate, rec.patient.sex, now);
        }
        let studyId = (findStudy.get(rec.study.key) as { id: string } | undefined)?.id;
        if (!studyId) {
          studyId = randomUUID();
          insStudy.run(studyId, patientId, rec.study.key, rec.study.studyInstanceUid, rec.study.studyDate, rec.study.description, rec.study.accessionNumber, now);
        }
        const s = rec.series;
        insSeries.run(
          rec.id, studyId, rec.contentKey, s.seriesInstanceUid, s.modality, s.description, s.seriesNumber,
          JSON.stringify(s.dims), JSON.stringify(s.spacing), JSON.stringify(s.origin), JSON.stringify(s.direction),
          s.intensityUnit, s.windowCenter, s.windowWidth, s.source, s.deidentified ? 1 : 0,
          JSON.stringify(s.warnings), JSON.stringify(s.meta), s.voxelsFile, s.thumbnailFile, now,
        );
        added.push(rec.id);
      }
      const remap = new Map(existing.map((e) => [e.newId, e.existingId]));
      for (const f of files) insFile.run(imp.id, f.file, f.status, f.code ?? null, f.message ?? null, f.seriesId ? remap.get(f.seriesId) ?? f.seriesId : null);
    })();
    return { added, existing };
  }

  /** Remove a study's rows (series cascade); patients left without studies go too. */
  deleteStudy(studyId: string): boolean {
    return this.db.transaction(() => {
      const row = this.db.prepare(`SELECT patient_id FROM studies WHERE id = ?`).get(studyId) as { patient_id: string } | undefined;
      if (!row) return false;
      this.db.prepare(`DELETE FROM studies WHERE id = ?`).run(studyId);
      this.db.prepare(`DELETE FROM patients WHERE id = ? AND NOT EXISTS (SELECT 1 FROM studies WHERE patient_id = ?)`).run(row.patient_id, row.patient_id);
      return true;
    })();
  }
}
