/**
 * Turning a drop, a folder picker or a file input into import sources. Chrome's
 * `DataTransferItem.getAsFileSystemHandle()` and `webkitGetAsEntry()` only work during the drop
 * event, so {@link collectDrop} calls them synchronously for every item before anything awaits.
 */
import type { ImportSource, LooseFile } from '../../../worker/dataset_protocol.ts';

interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  file?(ok: (f: File) => void, err: (e: unknown) => void): void;
  createReader?(): { readEntries(ok: (entries: EntryLike[]) => void, err: (e: unknown) => void): void };
}

interface HandleLike {
  kind: 'file' | 'directory';
  name: string;
  getFile?(): Promise<File>;
}

/** What was captured synchronously from one drop. */
export interface CapturedDrop {
  handles: Array<Promise<HandleLike | null> | null>;
  entries: Array<EntryLike | null>;
  files: File[];
}

/** Captures every item of a drop. Call synchronously inside the `drop` handler. */
export function collectDrop(dt: DataTransfer): CapturedDrop {
  const items = [...dt.items].filter((i) => i.kind === 'file');
  const handles = items.map((i) => {
    const get = (i as DataTransferItem & { getAsFileSystemHandle?: () => Promise<HandleLike | null> }).getAsFileSystemHandle;
    if (typeof get !== 'function') return null;
    try {
      return get.call(i).catch(() => null);
    } catch {
      return null;
    }
  });
  const entries = items.map((i) => {
    try {
      return (i.webkitGetAsEntry?.() as unknown as EntryLike | null) ?? null;
    } catch {
      return null;
    }
  });
  return { handles, entries, files: [...dt.files] };
}

async function readAllEntries(dir: EntryLike): Promise<EntryLike[]> {
  const reader = dir.createReader!();
  const out: EntryLike[] = [];
  for (;;) {
    const batch = await new Promise<EntryLike[]>((ok, err) => reader.readEntries(ok, err));
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

async function walkEntry(entry: EntryLike, prefix: string, out: LooseFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((ok, err) => entry.file!(ok, err));
    out.push({ path: prefix + entry.name, file });
  } else if (entry.isDirectory) {
    for (const child of await readAllEntries(entry)) await walkEntry(child, `${prefix}${entry.name}/`, out);
  }
}

const isZip = (name: string): boolean => /\.zip$/i.test(name);

/**
 * Resolves a captured drop into import sources: one folder with a handle → read in place or copied
 * (the user's choice); a `.zip` → archive; anything else (several folders, the `webkitGetAsEntry`
 * fallback, loose files) → one set of loose files, copied into OPFS.
 */
export async function resolveDrop(drop: CapturedDrop): Promise<ImportSource[]> {
  const handles = await Promise.all(drop.handles.map((p) => p ?? Promise.resolve(null)));
  const n = Math.max(handles.length, drop.entries.length, drop.files.length);
  const out: ImportSource[] = [];
  const loose: LooseFile[] = [];
  const names: string[] = [];
  const dirHandles = handles.filter((h) => h?.kind === 'directory');
  for (let i = 0; i < n; i++) {
    const h = handles[i] ?? null;
    const e = drop.entries[i] ?? null;
    const f = drop.files[i] ?? null;
    if (h?.kind === 'directory' && dirHandles.length === 1) {
      out.push({ kind: 'handle', handle: h, name: h.name });
    } else if (h?.kind === 'file' && isZip(h.name) && h.getFile) {
      out.push({ kind: 'zip', file: await h.getFile(), name: h.name });
    } else if (e?.isDirectory) {
      await walkEntry(e, '', loose);
      names.push(e.name);
    } else if (f && isZip(f.name)) {
      out.push({ kind: 'zip', file: f, name: f.name });
    } else if (f) {
      loose.push({ path: f.name, file: f });
      names.push(f.name);
    }
  }
  if (loose.length > 0) out.push({ kind: 'files', files: loose, name: names.length === 1 ? names[0]! : `${names.length} dropped items` });
  return out;
}

/** Files of an `<input webkitdirectory>` as loose files (paths from `webkitRelativePath`). */
export function sourceFromInput(files: FileList | File[]): ImportSource | null {
  const list = [...files];
  if (list.length === 0) return null;
  if (list.length === 1 && isZip(list[0]!.name)) return { kind: 'zip', file: list[0]!, name: list[0]!.name };
  const loose = list.map((f) => ({ path: f.webkitRelativePath || f.name, file: f as Blob }));
  const top = loose[0]!.path.split('/')[0]!;
  return { kind: 'files', files: loose, name: loose.every((l) => l.path.startsWith(`${top}/`)) ? top : `${loose.length} files` };
}

/** Opens the folder picker where it exists (Chromium), else null. */
export async function pickFolder(): Promise<ImportSource | null> {
  const picker = (window as Window & { showDirectoryPicker?: (o?: { mode?: string; id?: string }) => Promise<HandleLike> }).showDirectoryPicker;
  if (!picker) return null;
  try {
    const handle = await picker({ mode: 'read', id: 'detstudio-dataset' });
    return { kind: 'handle', handle, name: handle.name };
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') return null;
    throw err;
  }
}

/** True where `showDirectoryPicker` exists. */
export function hasFolderPicker(): boolean {
  return typeof (window as Window & { showDirectoryPicker?: unknown }).showDirectoryPicker === 'function';
}
