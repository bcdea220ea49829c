/** How report values read, shared by the PDF and the CLI so both show the same numbers. */
import type { LesionSign } from '../scoring/lesions';
import type { RunProvenance } from '../pipeline/analyze';

export function formatVolumeMl(ml: number): string {
  return ml >= 0.095 ? ml.toFixed(2) : ml.toFixed(3);
}

export function formatScore(s: number): string {
  return s.toFixed(3);
}

export function formatHu(hu: number | null): string {
  return hu === null || !Number.isFinite(hu) ? '—' : hu.toFixed(0);
}

/** 1-based slice numbers, inferior to superior, as the viewer shows them. */
export function formatSlices(range: readonly [number, number]): string {
  return range[0] === range[1] ? `${range[0] + 1}` : `${range[0] + 1}–${range[1] + 1}`;
}

export function formatLps(p: readonly number[]): string {
  return p.map((c) => c.toFixed(1)).join(', ');
}

export function signLabel(sign: LesionSign): string {
  return sign === 'hyper' ? 'hyperdense' : sign === 'hypo' ? 'hypodense' : 'mixed/unknown';
}

/** DICOM DA (YYYYMMDD) as YYYY-MM-DD; other text unchanged. */
export function formatDicomDate(da: string | undefined): string {
  if (!da) return '';
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(da.trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}` : da;
}

/** DICOM PN (Family^Given^Middle^Prefix^Suffix) as "Family, Given Middle". */
export function formatPersonName(pn: string | undefined): string {
  if (!pn) return '';
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = pn.split('=')[0].split('^').map((s) => s.trim());
  const first = [prefix, given, middle].filter(Boolean).join(' ');
  return [family, first].filter(Boolean).join(', ') + (suffix ? ` ${suffix}` : '');
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatSeconds(ms: number): string {
  return ms >= 100_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`;
}

export function describeInpainter(p: RunProvenance): string {
  if (p.inpainter.kind === 'classical') return `Classical ${p.inpainter.method} inpainting (no diffusion model)`;
  const m = p.model;
  return `Diffusion model ${m?.id ?? p.inpainter.modelId}${m?.version ? ` v${m.version}` : ''}, ${p.inpainter.preset} preset`;
}

