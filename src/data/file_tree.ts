/**
 * Read-only file trees the importers work on, with no I/O of their own: a dropped folder (the UI wraps
 * `FileSystemDirectoryHandle`s), a `.zip` read lazily through random access (a `File`/`Blob` slice in
 * the browser), an in-memory map (tests, generators), or `node:fs` (`node_file_tree.ts`).
 */
import { inflateSync } from 'fflate';

/** A tree of files addressed by relative POSIX paths (`leftImg8bit/train/aachen/x.png`). */
export interface FileTree {
  /** Every file's relative path (no directories, no leading `./` or `/`). */
  list(): string[];
  /** The bytes of one listed file; rejects for an unknown path. */
  read(path: string): Promise<Uint8Array>;
}

/** Raised when a path is not in a tree. */
export class FileNotFoundError extends Error {
  constructor(readonly path: string) {
    super(`no such file: ${path}`);
    this.name = 'FileNotFoundError';
  }
}

/** Normalises a path to the relative POSIX form trees use. */
export function normalizePath(p: string): string {
  let s = p.replace(/\\/g, '/');
  while (s.startsWith('./')) s = s.slice(2);
  s = s.replace(/^\/+/, '').replace(/\/{2,}/g, '/');
  return s;
}

/** A tree held in memory (a `Map` from path to bytes). */
export class MemoryFileTree implements FileTree {
  private readonly files: Map<string, Uint8Array>;

  constructor(files: Iterable<[string, Uint8Array]> = []) {
    this.files = new Map();
    for (const [p, b] of files) this.files.set(normalizePath(p), b);
  }

  /** Adds or replaces one file. */
  set(path: string, bytes: Uint8Array): void {
    this.files.set(normalizePath(path), bytes);
  }

  /** Removes one file. */
  delete(path: string): void {
    this.files.delete(normalizePath(path));
  }

  list(): string[] {
    return [...this.files.keys()];
  }

  async read(path: string): Promise<Uint8Array> {
    const b = this.files.get(normalizePath(path));
    if (!b) throw new FileNotFoundError(path);
    return b;
  }
}

/** A view of the files of `tree` under `prefix/` (paths relative to it). */
export class SubFileTree implements FileTree {
  private readonly prefix: string;

  constructor(
    private readonly tree: FileTree,
    prefix: string,
  ) {
    const p = normalizePath(prefix);
    this.prefix = p === '' || p.endsWith('/') ? p : `${p}/`;
  }

  list(): string[] {
    return this.tree
      .list()
      .filter((p) => p.startsWith(this.prefix))
      .map((p) => p.slice(this.prefix.length));
  }

  read(path: string): Promise<Uint8Array> {
    return this.tree.read(this.prefix + normalizePath(path));
  }
}

/** Random access to a byte source (a `Blob`/`File`, a buffer, a file handle). */
export interface RandomAccessSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Reads `length` bytes at `offset` (fewer only at the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A {@link RandomAccessSource} over bytes in memory. */
export function bytesSource(bytes: Uint8Array): RandomAccessSource {
  return { size: bytes.length, read: async (o, n) => bytes.subarray(o, Math.min(bytes.length, o + n)) };
}

/** A {@link RandomAccessSource} over a `Blob` or `File` (browser, worker, Node ≥ 20), read by slices. */
export function blobSource(blob: Blob): RandomAccessSource {
  return { size: blob.size, read: async (o, n) => new Uint8Array(await blob.slice(o, o + n).arrayBuffer()) };
}

/** The zip archive is malformed or uses a feature this reader does not support. */
export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

interface ZipEntry {
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  flags: number;
}

const u16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, o: number): number => u32(b, o) + u32(b, o + 4) * 2 ** 32;

/**
 * A `.zip` archive (stored or deflated entries, Zip64 included) read lazily: only the central directory
 * is read up front; each `read` fetches and inflates (fflate) that one entry, so a multi-gigabyte
 * Cityscapes archive is never held in memory. Open with {@link ZipFileTree.open}.
 */
export class ZipFileTree implements FileTree {
  private constructor(
    private readonly source: RandomAccessSource,
    private readonly entries: Map<string, ZipEntry>,
  ) {}

  /** Reads the central directory of `source`. Directory entries and `__MACOSX/` metadata are skipped. */
  static async open(source: RandomAccessSource): Promise<ZipFileTree> {
    const tailLen = Math.min(source.size, 65_557);
    const tailStart = source.size - tailLen;
    const tail = await source.read(tailStart, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (u32(tail, i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipFormatError('not a zip archive (no end-of-central-directory record)');
    let count = u16(tail, eocd + 10);
    let cdSize = u32(tail, eocd + 12);
    let cdOffset = u32(tail, eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || u32(tail, loc) !== 0x07064b50) throw new ZipFormatError('Zip64 locator missing');
      const z64Offset = u64(tail, loc + 8);
      const z64 = await source.read(z64Offset, 56);
      if (u32(z64, 0) !== 0x06064b50) throw new ZipFormatError('Zip64 end-of-central-directory record missing');
      count = u64(z64, 32);
      cdSize = u64(z64, 40);
      cdOffset = u64(z64, 48);
    }
    const cd = await source.read(cdOffset, cdSize);
    const entries = new Map<string, ZipEntry>();
    const decoder = new TextDecoder();
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || u32(cd, p) !== 0x02014b50) throw new ZipFormatError('corrupt central directory');
      const flags = u16(cd, p + 8);
      const method = u16(cd, p + 10);
      let compressedSize = u32(cd, p + 20);
      let size = u32(cd, p + 24);
      const nameLen = u16(cd, p + 28);
      const extraLen = u16(cd, p + 30);
      const commentLen = u16(cd, p + 32);
      let localOffset = u32(cd, p + 42);
      const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLen));
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = u16(cd, e);
        const len = u16(cd, e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) (size = u64(cd, q)), (q += 8);
          if (compressedSize === 0xffffffff) (compressedSize = u64(cd, q)), (q += 8);
          if (localOffset === 0xffffffff) localOffset = u64(cd, q);
        }
        e += 4 + len;
      }
      p = extraEnd + commentLen;
      const path = normalizePath(name);
      if (path === '' || path.endsWith('/') || path.startsWith('__MACOSX/')) continue;
      entries.set(path, { method, compressedSize, size, localOffset, flags });
    }
    return new ZipFileTree(source, entries);
  }

  list(): string[] {
    return [...this.entries.keys()];
  }

  async read(path: string): Promise<Uint8Array> {
    const entry = this.entries.get(normalizePath(path));
    if (!entry) throw new FileNotFoundError(path);
    if (entry.flags & 1) throw new ZipFormatError(`${path}: encrypted zip entries are not supported`);
    const head = await this.source.read(entry.localOffset, 30);
    if (head.length < 30 || u32(head, 0) !== 0x04034b50) throw new ZipFormatError(`${path}: bad local header`);
    const dataStart = entry.localOffset + 30 + u16(head, 26) + u16(head, 28);
    const data = await this.source.read(dataStart, entry.compressedSize);
    if (data.length < entry.compressedSize) throw new ZipFormatError(`${path}: truncated entry`);
    if (entry.method === 0) return data;
    if (entry.method === 8) {
      try {
        return inflateSync(data, { out: new Uint8Array(entry.size) });
      } catch (err) {
        throw new ZipFormatError(`${path}: corrupt deflate data (${(err as Error).message})`);
      }
    }
    throw new ZipFormatError(`${path}: compression method ${entry.method} is not supported (only stored and deflate)`);
  }
}

/** A tree over `Blob`s/`File`s (e.g. from `<input webkitdirectory>` or a drop), read on demand. */
export class BlobFileTree implements FileTree {
  private readonly files = new Map<string, Blob>();

  /** @param entries `[relativePath, blob]` pairs (for a `File` list: `[file.webkitRelativePath, file]`). */
  constructor(entries: Iterable<[string, Blob]>) {
    for (const [p, b] of entries) this.files.set(normalizePath(p), b);
  }

  list(): string[] {
    return [...this.files.keys()];
  }

  async read(path: string): Promise<Uint8Array> {
    const b = this.files.get(normalizePath(path));
    if (!b) throw new FileNotFoundError(path);
    return new Uint8Array(await b.arrayBuffer());
  }
}

/** The parts of the File System Access API's directory handle that {@link DirectoryHandleTree} uses. */
export interface DirectoryHandleLike {
  kind: 'directory';
  name: string;
  values(): AsyncIterable<DirectoryHandleLike | FileHandleLike>;
}

/** The parts of a `FileSystemFileHandle` that {@link DirectoryHandleTree} uses. */
export interface FileHandleLike {
  kind: 'file';
  name: string;
  getFile(): Promise<Blob>;
}

/**
 * A tree over a `FileSystemDirectoryHandle` (drop via `getAsFileSystemHandle()`, or
 * `showDirectoryPicker()`), walked once by {@link DirectoryHandleTree.open}; files are read on demand.
 */
export class DirectoryHandleTree implements FileTree {
  private constructor(private readonly handles: Map<string, FileHandleLike>) {}

  /** Walks `dir` recursively (cancellable); paths are relative to `dir`. */
  static async open(dir: DirectoryHandleLike, signal?: AbortSignal): Promise<DirectoryHandleTree> {
    const handles = new Map<string, FileHandleLike>();
    const walk = async (d: DirectoryHandleLike, prefix: string): Promise<void> => {
      for await (const entry of d.values()) {
        if (signal?.aborted) {
          const err = new Error('The folder scan was cancelled.');
          err.name = 'AbortError';
          throw err;
        }
        if (entry.kind === 'directory') await walk(entry, `${prefix}${entry.name}/`);
        else handles.set(`${prefix}${entry.name}`, entry);
      }
    };
    await walk(dir, '');
    return new DirectoryHandleTree(handles);
  }

  list(): string[] {
    return [...this.handles.keys()];
  }

  async read(path: string): Promise<Uint8Array> {
    const h = this.handles.get(normalizePath(path));
    if (!h) throw new FileNotFoundError(path);
    return new Uint8Array(await (await h.getFile()).arrayBuffer());
  }
}
