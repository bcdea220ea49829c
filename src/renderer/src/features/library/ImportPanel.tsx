import { useRef, useState, type DragEvent } from 'react';
import { useApi } from '../../api/context';
import { SynthDialog } from './SynthDialog';

interface DroppedFile {
  file: File;
  relativePath: string;
}

/** Walk dropped folders (webkitGetAsEntry) so a whole DICOM study can be dropped at once. */
async function collectDropped(e: DragEvent): Promise<DroppedFile[]> {
  const out: DroppedFile[] = [];
  const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean) as FileSystemEntry[];
  async function walk(entry: FileSystemEntry, prefix: string): Promise<void> {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      out.push({ file, relativePath: prefix + entry.name });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  }
  if (entries.length) for (const en of entries) await walk(en, '');
  else for (const f of e.dataTransfer.files) out.push({ file: f, relativePath: f.name });
  return out;
}

/** What the user dropped or chose, in words: the one folder's name, the one file's, or a count. */
function uploadLabel(files: DroppedFile[]): string {
  const tops = new Set(files.map((f) => (f.relativePath || f.file.name).split('/')[0]));
  if (tops.size === 1) return [...tops][0];
  return `${files.length} files`;
}

export function ImportPanel() {
  const api = useApi();
  const [deidentify, setDeidentify] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [path, setPath] = useState('');
  const [synthOpen, setSynthOpen] = useState(false);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  async function importPaths(paths: string[], label?: string) {
    if (paths.length === 0) return;
    setError(null);
    try {
      await api.call('imports.start', { paths, deidentify, ...(label ? { label } : {}) });
      setStatus('Import started — see progress below.');
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function uploadAndImport(files: DroppedFile[]) {
    if (!api.uploadFiles || files.length === 0) return;
    setError(null);
    try {
      const paths = await api.uploadFiles(files, (done, total) => setStatus(`Copying files ${done}/${total}…`));
      await importPaths(paths, uploadLabel(files));
    } catch (e) {
      setError((e as Error).message);
    }
  }

  const fromInput = (list: FileList | null) =>
    [...(list ?? [])].map((file) => ({ file, relativePath: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name }));

  return (
    <div
      className={`import-panel${dragging ? ' dragging' : ''}`}
      data-testid="import-panel"
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={async (e) => {
        e.preventDefault();
        setDragging(false);
        await uploadAndImport(await collectDropped(e));
      }}
    >
      <div className="import-title">Import</div>
      {api.choosePaths ? (
        <div className="row">
          <button onClick={async () => importPaths(await api.choosePaths!('folder'))}>Folder…</button>
          <button onClick={async () => importPaths(await api.choosePaths!('files'))}>Files…</button>
        </div>
      ) : (
        <>
          <div className="row">
            <button onClick={() => folderInput.current?.click()}>Folder…</button>
            <button onClick={() => filesInput.current?.click()}>Files…</button>
            <input ref={folderInput} type="file" hidden multiple {...({ webkitdirectory: '' } as object)} onChange={(e) => void uploadAndImport(fromInput(e.target.files))} />
            <input ref={filesInput} type="file" hidden multiple onChange={(e) => void uploadAndImport(fromInput(e.target.files))} />
          </div>
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              void importPaths(path.split('\n').map((p) => p.trim()).filter(Boolean));
            }}
          >
            <input aria-label="Path on the server computer" placeholder="or a path on this computer" value={path} onChange={(e) => setPath(e.target.value)} data-testid="import-path" />
            <button type="submit" data-testid="import-path-submit">Import</button>
          </form>
        </>
      )}
      <label className="small">
        <input type="checkbox" checked={deidentify} onChange={(e) => setDeidentify(e.target.checked)} /> De-identify (strip names, IDs, dates)
      </label>
      <div className="muted small">Drop DICOM folders, NIfTI or PNG files here.</div>
      <button onClick={() => setSynthOpen(true)} data-testid="synth-open">
        New synthetic case…
      </button>
      {synthOpen && <SynthDialog onClose={() => setSynthOpen(false)} />}
      {status && <div className="small">{status}</div>}
      {error && <div className="error-text small" role="alert">{error}</div>}
    </div>
  );
}
