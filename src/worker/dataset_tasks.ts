/**
 * What the dataset worker does, as plain code with its browser pieces injected (`DatasetEnv`), so it
 * runs and is tested in Node: file trees over `FileSystemDirectoryHandle`s (dropped folders, OPFS),
 * over loose `File`s and over same-origin URLs; importing (the data module's `importDataset`) with a
 * copy into OPFS when asked; the index of an opened dataset (classes, statistics, what the training
 * filter drops); instance overlays in the palette with crowd regions hatched; config binding checks.
 */
import { checkDatasetBinding } from '../data/binding.ts';
import {
  CITYSCAPES_METAINFO,
  datasetStatistics,
  filterData,
  joinPath,
  loadDataList,
  type DatasetMetainfo,
  type FilterCfg,
} from '../data/coco_dataset.ts';
import type { CocoAnnotation, CocoJson } from '../data/coco_types.ts';
import { FileNotFoundError, ZipFileTree, blobSource, normalizePath, type FileTree } from '../data/file_tree.ts';
import { importDataset } from '../data/import_dataset.ts';
import { throwIfAborted, type ImportProgress } from '../data/import_report.ts';
import { fillPolygon } from '../data/polygon_raster.ts';
import { countsOf } from '../eval/mask.ts';
import { MemoryFS, formatConfigError, getPath, resolveText, toPlainJSON, type PyValue } from '../config/index.ts';
import { summarizeDataset, type DatasetDb, type DatasetRecord, type DatasetSource, type DatasetSummary } from '../storage/dataset_db.ts';
import {
  DEMO_DATASET_ID,
  type BindingReport,
  type BindingSection,
  type DatasetIndex,
  type ImageEntry,
  type ImportResult,
  type ImportSource,
  type SplitInfo,
  type StorageInfo,
  type StorageMode,
  type ViewInstance,
} from './dataset_protocol.ts';

// ---------------------------------------------------------------------------------------------
// File-system handles (structural, so Node tests can use an in-memory fake)
// ---------------------------------------------------------------------------------------------

/** What is used of a `FileSystemFileHandle`. */
export interface FileHandleLike {
  readonly kind: 'file';
  readonly name: string;
  getFile(): Promise<Blob>;
  createWritable?(): Promise<{ write(data: Uint8Array | Blob): Promise<void>; close(): Promise<void> }>;
  /** OPFS files in a dedicated worker (synchronous, fastest). */
  createSyncAccessHandle?(): Promise<{ truncate(n: number): void; write(d: Uint8Array, o: { at: number }): number; flush(): void; close(): void }>;
}

/** What is used of a `FileSystemDirectoryHandle`. */
export interface DirHandleLike {
  readonly kind: 'directory';
  readonly name: string;
  values(): AsyncIterable<FileHandleLike | DirHandleLike>;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<DirHandleLike>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<FileHandleLike>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  queryPermission?(descriptor: { mode: 'read' | 'readwrite' }): Promise<'granted' | 'denied' | 'prompt'>;
}

const readBlob = async (b: Blob): Promise<Uint8Array> => new Uint8Array(await b.arrayBuffer());

/**
 * A {@link FileTree} over a directory handle, listed once by walking it (paths relative to the
 * handle, sorted); reads go through the cached file handles.
 */
export class HandleFileTree implements FileTree {
  private constructor(private readonly files: Map<string, FileHandleLike>) {}

  /** Walks `dir` recursively. `onCount` is told the number of files found so far (every 256). */
  static async open(dir: DirHandleLike, options: { signal?: AbortSignal; onCount?: (n: number) => void } = {}): Promise<HandleFileTree> {
    const files = new Map<string, FileHandleLike>();
    const walk = async (d: DirHandleLike, prefix: string): Promise<void> => {
      throwIfAborted(options.signal);
      const subdirs: Array<[DirHandleLike, string]> = [];
      for await (const entry of d.values()) {
        if (entry.kind === 'file') {
          files.set(prefix + entry.name, entry);
          if (files.size % 256 === 0) options.onCount?.(files.size);
        } else subdirs.push([entry, `${prefix}${entry.name}/`]);
      }
      for (const [sub, p] of subdirs) await walk(sub, p);
    };
    await walk(dir, '');
    options.onCount?.(files.size);
    return new HandleFileTree(new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  }

  list(): string[] {
    return [...this.files.keys()];
  }

  async read(path: string): Promise<Uint8Array> {
    const h = this.files.get(normalizePath(path));
    if (!h) throw new FileNotFoundError(path);
    return readBlob(await h.getFile());
  }
}

/** A {@link FileTree} that resolves each path through a directory handle on demand (no listing). */
export class LazyHandleTree implements FileTree {
  constructor(private readonly dir: DirHandleLike) {}

  list(): string[] {
    return [];
  }

  async read(path: string): Promise<Uint8Array> {
    const parts = normalizePath(path).split('/');
    let d = this.dir;
    try {
      for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p);
      const f = await d.getFileHandle(parts[parts.length - 1]!);
      return readBlob(await f.getFile());
    } catch (err) {
      if ((err as Error)?.name === 'NotFoundError' || (err as Error)?.name === 'TypeMismatchError') throw new FileNotFoundError(path);
      throw err;
    }
  }
}

/** A {@link FileTree} over loose files (a dropped folder read through `webkitGetAsEntry`, or `<input webkitdirectory>`). */
export class BlobFileTree implements FileTree {
  private readonly files = new Map<string, Blob>();

  constructor(files: Iterable<{ path: string; file: Blob }>) {
    for (const { path, file } of files) this.files.set(normalizePath(path), file);
  }

  list(): string[] {
    return [...this.files.keys()].sort();
  }

  async read(path: string): Promise<Uint8Array> {
    const f = this.files.get(normalizePath(path));
    if (!f) throw new FileNotFoundError(path);
    return readBlob(f);
  }
}

/** A read-only {@link FileTree} of same-origin static files (`baseUrl` + path), read with `fetch`. */
export class UrlFileTree implements FileTree {
  constructor(
    private readonly baseUrl: string,
    private readonly paths: readonly string[],
    private readonly fetchFn: typeof fetch,
  ) {}

  list(): string[] {
    return [...this.paths];
  }

  async read(path: string): Promise<Uint8Array> {
    const res = await this.fetchFn(new URL(normalizePath(path), this.baseUrl).href);
    if (!res.ok) {
      if (res.status === 404) throw new FileNotFoundError(path);
      throw new Error(`${path}: HTTP ${res.status}`);
    }
    return new Uint8Array(await res.arrayBuffer());
  }
}

/** Writes `data` to `dir/path`, creating folders. */
export async function writeFileAt(dir: DirHandleLike, path: string, data: Uint8Array | Blob): Promise<void> {
  const parts = normalizePath(path).split('/');
  let d = dir;
  for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create: true });
  const f = await d.getFileHandle(parts[parts.length - 1]!, { create: true });
  if (f.createSyncAccessHandle) {
    const h = await f.createSyncAccessHandle();
    try {
      h.truncate(0);
      if (data instanceof Uint8Array) h.write(data, { at: 0 });
      else {
        const CHUNK = 8 << 20;
        for (let at = 0; at < data.size; at += CHUNK) h.write(await readBlob(data.slice(at, at + CHUNK)), { at });
      }
      h.flush();
    } finally {
      h.close();
    }
    return;
  }
  if (!f.createWritable) throw new Error('this browser cannot write to the origin private file system from a worker');
  const w = await f.createWritable();
  await w.write(data);
  await w.close();
}

// ---------------------------------------------------------------------------------------------
// Demo manifest
// ---------------------------------------------------------------------------------------------

/** `public/demo/manifest.json` (written by `scripts/make_demo_manifest.ts`). */
export interface DemoManifest {
  version: 1;
  datasets: Array<{
    id: string;
    name: string;
    format: 'cityscapes' | 'coco';
    /** Folder under `demo/` acting as `data_root`, ending in `/`. */
    root: string;
    splits: Array<{ name: string; annFile: string; imgPrefix: string; images: number; annotations: number }>;
    /** Every file relative to `root`. */
    files: string[];
  }>;
}

// ---------------------------------------------------------------------------------------------
// Overlay rendering (pure)
// ---------------------------------------------------------------------------------------------

/** Period and width (pixels) of the diagonal hatching of crowd regions. */
export const HATCH_PERIOD = 8;
const HATCH_WIDTH = 3;

/**
 * Renders the instances of one image as RGBA (`w*h*4`): each non-crowd mask filled with its class
 * colour at ~45 % opacity (later annotations over earlier ones), crowd masks as diagonal stripes
 * (opaque on the stripes, faint between), so crowd is distinct at a glance. Masks are COCO RLE
 * (compressed or not, column-major) or polygons; an annotation without a mask gets its box filled.
 */
export function renderInstanceOverlay(
  anns: readonly CocoAnnotation[],
  width: number,
  height: number,
  colorOf: (ann: CocoAnnotation) => readonly [number, number, number],
): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  const order = [...anns].sort((a, b) => (a.iscrowd ? 0 : 1) - (b.iscrowd ? 0 : 1)); // crowd below instances
  for (const ann of order) {
    const [r, g, b] = colorOf(ann);
    const crowd = Boolean(ann.iscrowd);
    const paint = (i: number, x: number, y: number): void => {
      const a = crowd ? ((x + y) % HATCH_PERIOD < HATCH_WIDTH ? 230 : 50) : 115;
      const o = i * 4;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = a;
    };
    const seg = ann.segmentation;
    if (seg && !Array.isArray(seg) && 'counts' in seg) {
      const [h, w] = seg.size;
      if (h !== height || w !== width) continue;
      const cnts = countsOf(seg as Parameters<typeof countsOf>[0]);
      let pos = 0;
      for (let j = 0; j < cnts.length; j++) {
        const c = cnts[j]!;
        if (j & 1) {
          for (let p = pos; p < pos + c; p++) {
            const x = Math.floor(p / h);
            const y = p - x * h;
            paint(y * w + x, x, y);
          }
        }
        pos += c;
      }
    } else {
      const raster = { width, height, data: new Uint8Array(width * height) };
      if (Array.isArray(seg) && seg.length > 0) {
        for (const poly of seg) {
          const pts: Array<[number, number]> = [];
          for (let k = 0; k + 1 < poly.length; k += 2) pts.push([Math.round(poly[k]!), Math.round(poly[k + 1]!)]);
          if (pts.length >= 3) fillPolygon(raster, pts, 1);
        }
      } else {
        const [x, y, w, h] = ann.bbox;
        for (let yy = Math.max(0, Math.floor(y)); yy < Math.min(height, Math.ceil(y + h)); yy++) {
          raster.data.fill(1, yy * width + Math.max(0, Math.floor(x)), yy * width + Math.min(width, Math.ceil(x + w)));
        }
      }
      for (let i = 0; i < raster.data.length; i++) if (raster.data[i]) paint(i, i % width, Math.floor(i / width));
    }
  }
  return out;
}

/** A distinct colour per class for datasets without a palette (golden-angle hues). */
export function generatedPalette(n: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < n; i++) {
    const h = (i * 137.508) % 360;
    const s = 0.7;
    const l = 0.55;
    const f = (k: number): number => {
      const kk = (k + h / 30) % 12;
      return Math.round(255 * (l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(kk - 3, 9 - kk, 1))));
    };
    out.push([f(0), f(8), f(4)]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

/** Browser pieces the service needs (injected; Node tests pass fakes). */
export interface DatasetEnv {
  db(): Promise<DatasetDb>;
  /** The OPFS root, or null where there is none. */
  opfsRoot(): Promise<DirHandleLike | null>;
  fetch: typeof fetch;
  /** Decodes an image to a bitmap of width `size` (keeping the aspect ratio). */
  decodeThumbnail(bytes: Uint8Array, size: number): Promise<ImageBitmap>;
  /** Decodes an image at full size. */
  decodeImage(bytes: Uint8Array): Promise<ImageBitmap>;
  /** Turns RGBA pixels into a bitmap. */
  rgbaToBitmap(rgba: Uint8ClampedArray, width: number, height: number): Promise<ImageBitmap>;
  estimate(): Promise<StorageInfo | null>;
  now(): number;
}

/**
 * The file tree of a stored dataset (same-origin URL, a granted folder handle, or its OPFS copy).
 * Shared by the dataset worker and the training worker. A handle whose read permission is not
 * granted raises {@link PermissionNeededError} (grant it in the Dataset pane).
 */
export async function openRecordTree(
  r: DatasetRecord,
  env: { opfsRoot(): Promise<DirHandleLike | null>; fetch: typeof fetch },
  liveHandle?: DirHandleLike,
): Promise<FileTree> {
  const s = r.source;
  if (s.kind === 'url') return new UrlFileTree(s.baseUrl, r.paths, env.fetch);
  if (s.kind === 'handle') {
    const h = liveHandle ?? (s.handle as DirHandleLike);
    if (typeof h?.getDirectoryHandle !== 'function') throw new Error(`The stored folder handle of '${r.name}' is not usable; import the folder again.`);
    const perm = h.queryPermission ? await h.queryPermission({ mode: 'read' }) : 'granted';
    if (perm !== 'granted') throw new PermissionNeededError(s.folderName);
    return new LazyHandleTree(h);
  }
  const root = await env.opfsRoot();
  if (!root) throw new Error('The origin private file system is not available.');
  let dir = root;
  for (const p of s.dir.split('/')) dir = await dir.getDirectoryHandle(p);
  if (s.zip) return ZipFileTree.open(blobSource(await (await dir.getFileHandle(s.zip)).getFile()));
  return new LazyHandleTree(dir);
}

/** OPFS folder holding the copies of imported datasets. */
export const OPFS_DATASETS_DIR = 'datasets';
/** The training filter the browser applies when no config says otherwise (the Cityscapes config's). */
export const DEFAULT_FILTER_CFG: FilterCfg = { filter_empty_gt: true, min_size: 32 };

/** Thrown when a dataset's folder handle needs the user to grant read access again. */
export class PermissionNeededError extends Error {
  constructor(readonly folderName: string) {
    super(`Read access to the folder '${folderName}' must be granted again (browsers forget it after a reload).`);
    this.name = 'PermissionNeededError';
  }
}

/** The dataset worker's state and operations. */
export class DatasetService {
  private demo: DatasetRecord | null = null;
  private readonly open = new Map<string, { record: DatasetRecord; tree: FileTree; meta: DatasetMetainfo }>();
  /** Folder handles imported in this session (after a reload they come back from IndexedDB). */
  private readonly liveHandles = new Map<string, DirHandleLike>();

  constructor(private readonly env: DatasetEnv) {}

  private async manifest(demoBaseUrl: string): Promise<DemoManifest | null> {
    try {
      const res = await this.env.fetch(new URL('manifest.json', demoBaseUrl).href);
      if (!res.ok) return null;
      return (await res.json()) as DemoManifest;
    } catch {
      return null;
    }
  }

  /** The demo dataset as a record (annotations fetched once). */
  async demoRecord(demoBaseUrl: string): Promise<DatasetRecord | null> {
    if (this.demo) return this.demo;
    const m = await this.manifest(demoBaseUrl);
    const d = m?.datasets.find((x) => x.id === DEMO_DATASET_ID);
    if (!d) return null;
    const base = new URL(d.root, demoBaseUrl).href;
    const splits = await Promise.all(
      d.splits.map(async (s) => {
        const res = await this.env.fetch(new URL(s.annFile, base).href);
        if (!res.ok) throw new Error(`demo annotations ${s.annFile}: HTTP ${res.status}`);
        return { name: s.name, annFile: s.annFile, imgPrefix: s.imgPrefix, coco: (await res.json()) as CocoJson };
      }),
    );
    this.demo = {
      id: DEMO_DATASET_ID,
      name: d.name,
      format: d.format,
      root: '',
      fingerprint: 'demo',
      createdAt: 0,
      source: { kind: 'url', baseUrl: base },
      splits,
      issues: [],
      paths: d.files,
    };
    return this.demo;
  }

  /** The demo (first, when its manifest is there) and every stored dataset. */
  async list(demoBaseUrl: string): Promise<DatasetSummary[]> {
    const out: DatasetSummary[] = [];
    const m = await this.manifest(demoBaseUrl);
    for (const d of m?.datasets ?? []) {
      out.push({
        id: d.id,
        name: d.name,
        format: d.format,
        createdAt: 0,
        sourceKind: 'url',
        images: d.splits.reduce((n, s) => n + s.images, 0),
        annotations: d.splits.reduce((n, s) => n + s.annotations, 0),
        splits: d.splits.map((s) => s.name),
        issues: 0,
      });
    }
    out.push(...(await (await this.env.db()).list()));
    return out;
  }

  /**
   * Imports `source`. Folders with a handle are read in place (`mode: 'handle'`) or copied into
   * OPFS; loose files are always copied; a zip is copied as one archive. Only the images the
   * annotations use are copied. Bad inputs go to the report; the rest imports.
   */
  async importSource(
    source: ImportSource,
    mode: StorageMode,
    options: { signal?: AbortSignal; onProgress?: (p: ImportProgress) => void } = {},
  ): Promise<ImportResult> {
    const t0 = this.env.now();
    const { signal, onProgress } = options;
    let tree: FileTree;
    if (source.kind === 'handle') {
      onProgress?.({ phase: 'scan folder', done: 0, total: 0, rate: 0, etaSeconds: Infinity });
      tree = await HandleFileTree.open(source.handle as DirHandleLike, {
        signal,
        onCount: (n) => onProgress?.({ phase: 'scan folder', done: n, total: 0, rate: 0, etaSeconds: Infinity }),
      });
    } else if (source.kind === 'files') tree = new BlobFileTree(source.files);
    else tree = await ZipFileTree.open(blobSource(source.file));
    const imported = await importDataset(tree, { signal, onProgress, now: () => this.env.now() });
    const imageCount = imported.splits.reduce((n, s) => n + s.coco.images.length, 0);
    if (imported.splits.length === 0 || imageCount === 0) {
      return { summary: null, issues: imported.issues, replaced: false, ms: this.env.now() - t0 };
    }
    const db = await this.env.db();
    const previous = await db.findByFingerprint(imported.fingerprint);
    const id = previous?.id ?? `ds-${imported.fingerprint}-${Math.floor(this.env.now()).toString(36)}`;
    let storage: DatasetSource;
    if (source.kind === 'handle' && mode === 'handle') {
      storage = { kind: 'handle', handle: source.handle, folderName: source.name };
    } else {
      const root = await this.env.opfsRoot();
      if (!root) throw new Error('This browser has no origin private file system (OPFS) to copy the images into; import a folder with "read in place".');
      const datasets = await root.getDirectoryHandle(OPFS_DATASETS_DIR, { create: true });
      // A fresh folder per import: a re-import replaces the old copy only once it has succeeded.
      const dirName = `${id}-${Math.floor(Date.now()).toString(36)}`;
      const dir = await datasets.getDirectoryHandle(dirName, { create: true });
      try {
        if (source.kind === 'zip') {
          onProgress?.({ phase: 'copy archive', done: 0, total: 1, rate: 0, etaSeconds: Infinity });
          await writeFileAt(dir, 'source.zip', source.file);
          onProgress?.({ phase: 'copy archive', done: 1, total: 1, rate: 0, etaSeconds: 0 });
          storage = { kind: 'opfs', dir: `${OPFS_DATASETS_DIR}/${dirName}`, zip: 'source.zip' };
        } else {
          const wanted = imported.splits.flatMap((s) => s.coco.images.map((im) => joinPath(imported.root + s.imgPrefix, im.file_name)));
          const start = this.env.now();
          for (let i = 0; i < wanted.length; i++) {
            throwIfAborted(signal);
            await writeFileAt(dir, wanted[i]!, await tree.read(wanted[i]!));
            const el = (this.env.now() - start) / 1000;
            const rate = el > 0 ? (i + 1) / el : 0;
            onProgress?.({ phase: 'copy images', done: i + 1, total: wanted.length, rate, etaSeconds: rate > 0 ? (wanted.length - i - 1) / rate : Infinity, path: wanted[i] });
          }
          storage = { kind: 'opfs', dir: `${OPFS_DATASETS_DIR}/${dirName}` };
        }
      } catch (err) {
        // A cancelled or failed copy leaves nothing behind; an earlier import of the same folder stays intact.
        await datasets.removeEntry(dirName, { recursive: true }).catch(() => undefined);
        throw err;
      }
    }
    const rootLen = imported.root.length;
    const record: DatasetRecord = {
      id,
      name: source.name,
      format: imported.format,
      root: imported.root,
      fingerprint: imported.fingerprint,
      createdAt: Date.now(),
      source: storage,
      splits: imported.splits.map((s) => ({ name: s.name, annFile: s.annFile, imgPrefix: s.imgPrefix, coco: s.coco })),
      issues: imported.issues,
      paths: [
        ...tree.list().filter((p) => p.startsWith(imported.root)).map((p) => p.slice(rootLen)),
        ...imported.splits.map((s) => s.annFile),
      ],
    };
    const put = await db.put(record);
    this.open.delete(put.record.id);
    if (put.replaced) await this.removeOpfsCopy(put.replaced, storage);
    if (storage.kind === 'handle' && source.kind === 'handle') this.liveHandles.set(put.record.id, source.handle as DirHandleLike);
    return { summary: summarizeDataset(put.record), issues: imported.issues, replaced: put.replaced !== null, ms: this.env.now() - t0 };
  }

  private async record(id: string, demoBaseUrl = ''): Promise<DatasetRecord> {
    const r = id === DEMO_DATASET_ID ? await this.demoRecord(demoBaseUrl) : await (await this.env.db()).get(id);
    if (!r) throw new Error(`No dataset '${id}'.`);
    return r;
  }

  private async treeOf(r: DatasetRecord): Promise<FileTree> {
    return openRecordTree(r, { opfsRoot: () => this.env.opfsRoot(), fetch: this.env.fetch }, this.liveHandles.get(r.id));
  }

  /** Opens a dataset: its image list, classes, statistics, dropped images and report. */
  async openDataset(id: string, demoBaseUrl: string, filterCfg: FilterCfg = DEFAULT_FILTER_CFG): Promise<DatasetIndex> {
    const r = await this.record(id, demoBaseUrl);
    const meta = metainfoOf(r);
    let needsPermission: string | null = null;
    let permissionHandle: unknown = null;
    try {
      this.open.set(id, { record: r, tree: await this.treeOf(r), meta });
    } catch (err) {
      if (err instanceof PermissionNeededError) {
        needsPermission = err.folderName;
        permissionHandle = r.source.kind === 'handle' ? (this.liveHandles.get(r.id) ?? r.source.handle) : null;
      }
      else throw err;
    }
    const nameToLabel = new Map(meta.classes.map((c, i) => [c, i]));
    const images: ImageEntry[] = [];
    const splits: SplitInfo[] = [];
    const all: CocoJson = { images: [], categories: r.splits[0]?.coco.categories ?? [], annotations: [] };
    r.splits.forEach((s, si) => {
      const catLabel = new Map(s.coco.categories.map((c) => [c.id, nameToLabel.get(c.name) ?? -1]));
      const byImg = new Map<number, CocoAnnotation[]>();
      for (const a of s.coco.annotations ?? []) {
        if (!byImg.has(a.image_id)) byImg.set(a.image_id, []);
        byImg.get(a.image_id)!.push(a);
      }
      for (const im of s.coco.images) {
        const anns = byImg.get(im.id) ?? [];
        const labels = new Set<number>();
        let crowd = 0;
        for (const a of anns) {
          if (a.iscrowd) crowd++;
          else if ((catLabel.get(a.category_id) ?? -1) >= 0) labels.add(catLabel.get(a.category_id)!);
        }
        images.push({
          key: `${si}:${im.id}`,
          split: s.name,
          id: im.id,
          fileName: im.file_name,
          width: im.width,
          height: im.height,
          labels: [...labels].sort((a, b) => a - b),
          instances: anns.length - crowd,
          crowd,
        });
      }
      const loaded = loadDataList(s.coco, meta, s.imgPrefix);
      const isTrain = /train/i.test(s.name);
      const dropped = isTrain ? filterData(loaded, filterCfg, { kind: r.format === 'cityscapes' ? 'cityscapes' : 'coco' }).dropped : [];
      splits.push({ name: s.name, annFile: s.annFile, imgPrefix: s.imgPrefix, images: s.coco.images.length, stats: datasetStatistics(s.coco, meta), dropped });
      // Merged json for overall statistics (ids made unique per split).
      const off = (si + 1) * 1e9;
      for (const im of s.coco.images) all.images.push({ ...im, id: im.id + off });
      for (const a of s.coco.annotations ?? []) {
        const name = s.coco.categories.find((c) => c.id === a.category_id)?.name;
        const cat = all.categories.find((c) => c.name === name);
        if (cat) all.annotations!.push({ ...a, image_id: a.image_id + off, category_id: cat.id });
      }
    });
    return {
      id: r.id,
      name: r.name,
      format: r.format,
      sourceKind: r.source.kind,
      needsPermission,
      permissionHandle,
      classes: [...meta.classes],
      palette: (meta.palette ?? generatedPalette(meta.classes.length)).map((c) => [c[0], c[1], c[2]]),
      splits,
      images,
      stats: datasetStatistics(all, meta),
      issues: r.issues,
    };
  }

  private async opened(id: string) {
    const o = this.open.get(id);
    if (!o) throw new Error(`Dataset '${id}' is not open (or its folder needs permission).`);
    return o;
  }

  private locate(o: { record: DatasetRecord }, key: string) {
    const [si, imgId] = key.split(':').map(Number) as [number, number];
    const split = o.record.splits[si];
    const image = split?.coco.images.find((im) => im.id === imgId);
    if (!split || !image) throw new Error(`No image '${key}'.`);
    return { split, image, path: joinPath(o.record.root + split.imgPrefix, image.file_name) };
  }

  /** Reads the bytes of one image. */
  async imageBytes(id: string, key: string): Promise<Uint8Array> {
    const o = await this.opened(id);
    return o.tree.read(this.locate(o, key).path);
  }

  /** Thumbnails of width `size`; null for an image that cannot be read or decoded. */
  async thumbnails(id: string, keys: readonly string[], size: number, signal?: AbortSignal): Promise<Array<ImageBitmap | null>> {
    const o = await this.opened(id);
    const out: Array<ImageBitmap | null> = new Array(keys.length).fill(null);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) {
        const i = next++;
        if (signal?.aborted) return;
        try {
          out[i] = await this.env.decodeThumbnail(await o.tree.read(this.locate(o, keys[i]!).path), size);
        } catch {
          out[i] = null;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(6, keys.length) }, worker));
    return out;
  }

  /** One image with its instances and a rendered overlay. */
  async imageView(id: string, key: string) {
    const o = await this.opened(id);
    const { split, image, path } = this.locate(o, key);
    const nameToLabel = new Map(o.meta.classes.map((c, i) => [c, i]));
    const catName = new Map(split.coco.categories.map((c) => [c.id, c.name]));
    const palette = o.meta.palette ?? generatedPalette(o.meta.classes.length);
    const anns = (split.coco.annotations ?? []).filter((a) => a.image_id === image.id);
    const labelOf = (a: CocoAnnotation): number => nameToLabel.get(catName.get(a.category_id) ?? '') ?? -1;
    const colorOf = (a: CocoAnnotation): readonly [number, number, number] => palette[labelOf(a)] ?? [200, 200, 200];
    const bitmap = await this.env.decodeImage(await o.tree.read(path));
    const rgba = renderInstanceOverlay(anns, image.width, image.height, colorOf);
    const overlay = await this.env.rgbaToBitmap(rgba, image.width, image.height);
    const instances: ViewInstance[] = anns.map((a) => ({
      label: labelOf(a),
      name: catName.get(a.category_id) ?? String(a.category_id),
      bbox: [...a.bbox] as [number, number, number, number],
      area: a.area,
      crowd: Boolean(a.iscrowd),
    }));
    return { key, fileName: image.file_name, width: image.width, height: image.height, image: bitmap, overlay, instances };
  }

  /** Deletes a stored dataset and its OPFS copy. */
  async deleteDataset(id: string): Promise<void> {
    if (id === DEMO_DATASET_ID) throw new Error('The bundled demo dataset cannot be deleted.');
    const r = await (await this.env.db()).delete(id);
    this.open.delete(id);
    this.liveHandles.delete(id);
    if (r) await this.removeOpfsCopy(r, null);
  }

  /** Removes the OPFS folder of `r` unless `keep` uses the same folder. */
  private async removeOpfsCopy(r: DatasetRecord, keep: DatasetSource | null): Promise<void> {
    if (r.source.kind !== 'opfs' || (keep?.kind === 'opfs' && keep.dir === r.source.dir)) return;
    const root = await this.env.opfsRoot();
    if (!root) return;
    const parts = r.source.dir.split('/');
    let dir = root;
    try {
      for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p);
      await dir.removeEntry(parts[parts.length - 1]!, { recursive: true });
    } catch {
      /* already gone */
    }
  }

  /**
   * Resolves `configPath` (built-in tree + the user's files) and checks each dataset section
   * (`train/val/test_dataloader.dataset`) against the dataset with `checkDatasetBinding`.
   */
  async binding(id: string, configPath: string, builtins: Readonly<Record<string, string>>, userFiles: Record<string, string>, demoBaseUrl = ''): Promise<BindingReport> {
    const r = await this.record(id, demoBaseUrl);
    const root = '/builtin/configs';
    const files: Record<string, string> = {};
    for (const [p, t] of Object.entries(builtins)) files[`${root}/${p}`] = t;
    for (const [p, t] of Object.entries(userFiles)) files[`${root}/${p}`] = t;
    const abs = `${root}/${configPath}`;
    const text = files[abs];
    if (text === undefined) return { configPath, error: `No config '${configPath}'.`, sections: [] };
    const res = resolveText(text, abs, new MemoryFS(files));
    if (!res.ok) return { configPath, error: formatConfigError(res.error).split(`${root}/`).join(''), sections: [] };
    const ds = { paths: r.paths, annotations: new Map(r.splits.map((s) => [s.annFile, s.coco])) };
    const sections: BindingSection[] = [];
    for (const loader of ['train_dataloader', 'val_dataloader', 'test_dataloader']) {
      const v = getPath(res.cfg, `${loader}.dataset`) as PyValue | undefined;
      if (v === undefined || v === null) continue;
      const cfg = toPlainJSON(v) as Record<string, unknown>;
      if (!cfg || typeof cfg !== 'object') continue;
      const inner = (cfg.type === 'RepeatDataset' || cfg.type === 'ClassBalancedDataset' ? cfg.dataset : cfg) as Record<string, unknown>;
      const annFile = typeof inner?.ann_file === 'string' ? inner.ann_file : '';
      const prefix = (inner?.data_prefix ?? {}) as Record<string, unknown>;
      sections.push({
        key: `${loader}.dataset`,
        type: String(cfg.type ?? ''),
        dataRoot: typeof inner?.data_root === 'string' ? inner.data_root : '',
        annFile,
        imgPrefix: typeof prefix.img === 'string' ? prefix.img : '',
        matches: ds.annotations.has(annFile.replace(/^\.\//, '')),
        diagnostics: checkDatasetBinding(cfg, `${loader}.dataset`, ds),
      });
    }
    return { configPath, error: null, sections };
  }

  /** Storage used / quota. */
  storage(): Promise<StorageInfo | null> {
    return this.env.estimate();
  }
}

/** The metainfo the browser uses: Cityscapes' for Cityscapes imports, the json's categories for COCO. */
export function metainfoOf(r: DatasetRecord): DatasetMetainfo {
  if (r.format === 'cityscapes') return CITYSCAPES_METAINFO;
  const names: string[] = [];
  for (const s of r.splits) for (const c of s.coco.categories) if (!names.includes(c.name)) names.push(c.name);
  return { classes: names };
}
