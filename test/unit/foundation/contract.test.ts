import { describe, expect, it } from 'vitest';
import { validateRequest, METHOD_NAMES, contract } from '../../../src/shared/contract';
import { AppError } from '../../../src/shared/errors';

function rejects(method: unknown, params: unknown): AppError {
  try {
    validateRequest(method, params);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected the request to be rejected');
}

describe('API contract validation', () => {
  it('rejects an unknown method with a clear message', () => {
    const e = rejects('studies.drop', {});
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toBe('Unknown request "studies.drop".');
  });

  it('rejects a missing required field, naming it', () => {
    const e = rejects('series.get', {});
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/^Invalid request series\.get: seriesId: /);
  });

  it('rejects wrong types and unknown fields', () => {
    expect(rejects('jobs.list', { limit: 'ten' }).message).toMatch(/limit/);
    expect(rejects('jobs.list', { limit: 5, extra: 1 }).message).toMatch(/extra|Unrecognized/i);
    expect(rejects('studies.delete', { studyId: '../../etc/passwd' }).message).toMatch(/studyId/);
  });

  it('rejects an import without paths with a sentence a user understands', () => {
    expect(rejects('imports.start', { paths: [] }).message).toContain('Choose at least one file or folder to import.');
  });

  it('fills defaults on valid requests', () => {
    expect(validateRequest('jobs.list', {}).params).toEqual({ limit: 50 });
    expect(validateRequest('imports.start', { paths: ['/x'] }).params).toEqual({ paths: ['/x'], deidentify: false });
  });

  it('declares every method with a summary and a kind', () => {
    for (const m of METHOD_NAMES) {
      expect(contract[m].summary.length).toBeGreaterThan(5);
      expect(['query', 'command', 'job']).toContain(contract[m].kind);
    }
  });
});
