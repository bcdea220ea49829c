import { createHash } from 'node:crypto';
import type { Volume, VolumeMeta } from './volume';

/**
 * A UID that cannot be traced back to the original but stays stable, so the series of one
 * study still group together after de-identification (2.25 root: UUID-derived decimal UIDs).
 */
export function pseudonymousUid(uid: string, salt = 'inpaint-ct'): string {
  const hex = createHash('sha256').update(`${salt}\u0000${uid}`).digest('hex').slice(0, 30);
  return `2.25.${BigInt('0x' + hex).toString(10)}`;
}

/**
 * Strip names, IDs, dates and free text that can identify a patient; keep geometry, modality
 * and the display window. UIDs are replaced by stable pseudonyms. The result says it was
 * de-identified so reports and exports can show that.
 */
export function deidentifyMeta(meta: VolumeMeta): VolumeMeta {
  const pseudo = meta.patientId || meta.patientName ? `ANON-${createHash('sha256').update(`${meta.patientId ?? ''}\u0000${meta.patientName ?? ''}`).digest('hex').slice(0, 8).toUpperCase()}` : 'ANON';
  return {
    modality: meta.modality,
    patientName: pseudo,
    patientId: pseudo,
    studyInstanceUid: meta.studyInstanceUid ? pseudonymousUid(meta.studyInstanceUid) : undefined,
    seriesInstanceUid: meta.seriesInstanceUid ? pseudonymousUid(meta.seriesInstanceUid) : undefined,
    frameOfReferenceUid: meta.frameOfReferenceUid ? pseudonymousUid(meta.frameOfReferenceUid) : undefined,
    sopInstanceUids: meta.sopInstanceUids?.map((u) => pseudonymousUid(u)),
    sopClassUid: meta.sopClassUid,
    seriesNumber: meta.seriesNumber,
    seriesDescription: meta.seriesDescription,
    studyDescription: meta.studyDescription,
    windowCenter: meta.windowCenter,
    windowWidth: meta.windowWidth,
    source: meta.source,
    deidentified: true,
  };
}

export function deidentifyVolume(vol: Volume): Volume {
  return { ...vol, meta: deidentifyMeta(vol.meta) };
}
