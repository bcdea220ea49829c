import type { Transport } from './api/transport';

/** Save a file the services wrote (export, report) through the browser's download. */
export async function downloadFile(api: Transport, downloadPath: string, fileName: string): Promise<void> {
  const bytes = await api.fetchBinary(downloadPath);
  const url = URL.createObjectURL(new Blob([bytes]));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
