import type { Migration } from './types';

/** The study library, imports with per-file results, jobs and settings. */
export const migration0001: Migration = {
  version: 1,
  name: 'initial',
  up: `
    CREATE TABLE patients (
      id TEXT PRIMARY KEY,
      patient_key TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL DEFAULT '',
      identifier TEXT NOT NULL DEFAULT '',
      birth_date TEXT NOT NULL DEFAULT '',
      sex TEXT NOT NULL DEFAULT '',
      created_at TEXT NOT NULL
    );
    CREATE TABLE studies (
      id TEXT PRIMARY KEY,
      patient_id TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
      study_key TEXT NOT NULL UNIQUE,
      study_instance_uid TEXT NOT NULL DEFAULT '',
      study_date TEXT NOT NULL DEFAULT '',
      description TEXT NOT NULL DEFAULT '',
      accession_number TEXT NOT NULL DEFAULT '',
      created_at TEXT NOT NULL
    );
    CREATE INDEX studies_patient ON studies(patient_id);
    CREATE TABLE series (
      id TEXT PRIMARY KEY,
      study_id TEXT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
      content_key TEXT NOT NULL UNIQUE,
      series_instance_uid TEXT NOT NULL DEFAULT '',
      modality TEXT NOT NULL DEFAULT '',
      description TEXT NOT NULL DEFAULT '',
      series_number INTEGER,
      dims_json TEXT NOT NULL,
      spacing_json TEXT NOT NULL,
      origin_json TEXT NOT NULL,
      direction_json TEXT NOT NULL,
      intensity_unit TEXT NOT NULL,
      window_center REAL,
      window_width REAL,
      source TEXT NOT NULL,
      deidentified INTEGER NOT NULL DEFAULT 0,
      warnings_json TEXT NOT NULL DEFAULT '[]',
      meta_json TEXT NOT NULL DEFAULT '{}',
      voxels_file TEXT NOT NULL,
      thumbnail_file TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX series_study ON series(study_id);
    CREATE TABLE jobs (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      title TEXT NOT NULL,
      status TEXT NOT NULL,
      stage TEXT NOT NULL DEFAULT '',
      done INTEGER NOT NULL DEFAULT 0,
      total INTEGER NOT NULL DEFAULT 0,
      message TEXT NOT NULL DEFAULT '',
      params_json TEXT NOT NULL,
      result_json TEXT,
      error_json TEXT,
      resumable INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      started_at TEXT,
      finished_at TEXT
    );
    CREATE INDEX jobs_created ON jobs(created_at);
    CREATE TABLE imports (
      id TEXT PRIMARY KEY,
      job_id TEXT NOT NULL,
      paths_json TEXT NOT NULL,
      deidentify INTEGER NOT NULL,
      status TEXT NOT NULL,
      created_at TEXT NOT NULL,
      finished_at TEXT
    );
    CREATE TABLE import_files (
      import_id TEXT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
      file TEXT NOT NULL,
      status TEXT NOT NULL,
      code TEXT,
      message TEXT,
      series_id TEXT
    );
    CREATE INDEX import_files_import ON import_files(import_id);
    CREATE TABLE settings (
      key TEXT PRIMARY KEY,
      value_json TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
  `,
};
