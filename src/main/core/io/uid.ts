import { randomUUID } from 'node:crypto';

/**
 * A new globally unique DICOM UID in the UUID-derived form of PS3.5 B.2: "2.25." followed by the
 * 128-bit UUID as an unsigned decimal integer (at most 44 characters, within the 64 allowed).
 */
export function newDicomUid(): string {
  const hex = randomUUID().replace(/-/g, '');
  return `2.25.${BigInt(`0x${hex}`).toString(10)}`;
}

/** True when `uid` is syntactically a DICOM UID (PS3.5 9.1): dot-separated numbers, no leading zeros, <= 64 chars. */
export function isValidDicomUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid);
}
