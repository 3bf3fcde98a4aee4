/**
 * Downloaded pretrained weights (`load_from = 'https://download.openmmlab.com/…pth'`), fetched once
 * with progress, checked against the sha256 prefix in their file name, and cached so the same URL
 * is never downloaded twice (MMEngine's `load_from_http` → torch.hub `load_url` keeps such files in
 * `~/.cache/torch/hub/checkpoints`; the studio keeps them in IndexedDB, the CLI in
 * `~/.cache/detstudio/checkpoints`, see weights_cache_node.ts).
 *
 * {@link fetchWeights} is the entry point; a {@link WeightsCache} stores the bytes. The IndexedDB
 * cache here writes an entry's chunks first and its row last, in the row's own transaction, so a
 * reader never sees a half-written entry; chunks no row points at are swept on open.
 *
 * Pure TypeScript (fetch, streams, WebCrypto, idb): runs in a Web Worker, a page and Node 20.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import { checkpointFileName, hashPrefixFromName, sha256Hex } from '../checkpoint/hash_name.ts';
import { AbortedError, DetStudioError } from '../core/errors.ts';
import { StorageQuotaError } from './checkpoint_db.ts';

/** Name of the IndexedDB database holding downloaded weights. */
export const WEIGHTS_DB_NAME = 'detstudio-weights';

/** Largest chunk stored in one IndexedDB value (32 MiB). */
export const WEIGHTS_CHUNK_BYTES = 32 * 1024 * 1024;

/** A cached download, as listed for the UI. */
export interface WeightsCacheEntry {
  /** The URL it was downloaded from (the cache key), normalised by `new URL(url).href`. */
  url: string;
  /** Last segment of the URL's path (`…_20200504_163245-42aa3d00.pth`). */
  fileName: string;
  /** Size in bytes. */
  size: number;
  /** Full sha256 (hex) of the bytes; null for a file placed in the Node cache by hand. */
  sha256: string | null;
  /** ISO date it was stored. */
  date: string;
}

/** Where downloaded weights are kept. Implementations: {@link IndexedDbWeightsCache}, `NodeWeightsCache`. */
export interface WeightsCache {
  /** The complete bytes stored for `url`, or null (never a partial entry). */
  get(url: string): Promise<Uint8Array | null>;
  /** Stores `bytes` for `url`, replacing any previous entry; visible to `get` only once complete. */
  put(url: string, bytes: Uint8Array, info: { sha256: string }): Promise<WeightsCacheEntry>;
  /** Every stored entry, newest first. */
  list(): Promise<WeightsCacheEntry[]>;
  /** Deletes the entry for `url` (a {@link WeightsCacheEntry.url}); false when there was none. */
  delete(url: string): Promise<boolean>;
}

/** One progress report of {@link fetchWeights}. */
export interface WeightsProgress {
  /**
   * `cached`: served from the cache, no request made (one event, then `done`);
   * `download`: bytes arriving; `verify`: hashing; `store`: writing the cache; `done`: finished.
   */
  phase: 'cached' | 'download' | 'verify' | 'store' | 'done';
  url: string;
  fileName: string;
  /** Bytes received so far (the whole size from `verify` on). */
  received: number;
  /** Expected size from Content-Length, or null when the server did not say. */
  total: number | null;
  /** Recent download rate in bytes per second (0 until it can be measured). */
  bytesPerSecond: number;
  /** Seconds left at the recent rate, or null when unknown; 0 on the last `download` event. */
  etaSeconds: number | null;
}

/** The subset of `fetch` that {@link fetchWeights} uses. */
export type FetchLike = (url: string, init: { signal?: AbortSignal }) => Promise<Response>;

/** Options of {@link fetchWeights}. */
export interface FetchWeightsOptions {
  /** Where to look first and store after; null or absent: download and verify only. */
  cache?: WeightsCache | null;
  /** Progress callback (throttled to `progressIntervalMs`; first, last and phase changes always sent). */
  onProgress?: (p: WeightsProgress) => void;
  /** Cancels the download; the promise then rejects with `AbortError` and nothing is cached. */
  signal?: AbortSignal;
  /** `fetch` to use (default `globalThis.fetch`). */
  fetchImpl?: FetchLike;
  /** Least milliseconds between two `download` events (default 200; 0 reports every chunk). */
  progressIntervalMs?: number;
  /** Clock in milliseconds (default `performance.now()`). */
  now?: () => number;
  /** Told when the download succeeded but could not be cached (it is still returned). */
  onWarning?: (message: string) => void;
}

/** A download could not be made or completed (bad URL, HTTP status, network, truncated body). */
export class WeightsDownloadError extends DetStudioError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('WeightsDownloadError', message, details);
  }
}

/** The downloaded bytes do not match the sha256 prefix in the file name. Nothing was cached. */
export class WeightsHashError extends DetStudioError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('WeightsHashError', message, details);
  }
}

const DROP_HINT = 'download the file yourself (e.g. in a browser) and drop it onto the studio, or set load_from to the local file';

/**
 * Normalises a weights URL; throws {@link WeightsDownloadError} for anything but http(s).
 *
 * @param url The `load_from` value.
 * @returns `new URL(url).href`.
 */
export function weightsUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WeightsDownloadError(`'${url}' is not an http(s) URL; a local checkpoint must be dropped onto the studio or given as a file path`, { url });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new WeightsDownloadError(`'${url}' is not an http(s) URL (scheme ${parsed.protocol}); only http:// and https:// weights can be downloaded`, { url });
  }
  return parsed.href;
}

/** Collects the body: one preallocated buffer when the size is known, else a list of chunks. */
class ByteSink {
  private buffer: Uint8Array | null;
  private chunks: Uint8Array[] = [];
  length = 0;

  constructor(expected: number | null) {
    this.buffer = expected !== null && expected > 0 ? new Uint8Array(expected) : null;
  }

  push(chunk: Uint8Array): void {
    if (this.buffer && this.length + chunk.length <= this.buffer.length) {
      this.buffer.set(chunk, this.length);
    } else {
      if (this.buffer) {
        // More bytes than Content-Length said: fall back to a chunk list (the size check reports it).
        this.chunks.push(this.buffer.subarray(0, this.length));
        this.buffer = null;
      }
      this.chunks.push(chunk);
    }
    this.length += chunk.length;
  }

  bytes(): Uint8Array {
    if (this.buffer) return this.length === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.length);
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** Download rate over the last few seconds. */
class RateMeter {
  private samples: Array<[number, number]> = [];

  constructor(private readonly windowMs = 5000) {}

  add(t: number, received: number): number {
    this.samples.push([t, received]);
    while (this.samples.length > 2 && t - this.samples[1]![0] >= this.windowMs) this.samples.shift();
    const [t0, r0] = this.samples[0]!;
    return t > t0 ? ((received - r0) * 1000) / (t - t0) : 0;
  }
}

function contentLength(res: Response): number | null {
  const enc = res.headers.get('content-encoding');
  if (enc && enc.toLowerCase() !== 'identity') return null; // fetch hands over decoded bytes
  const n = Number(res.headers.get('content-length'));
  return res.headers.has('content-length') && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

function errorText(e: unknown): string {
  const err = e as { message?: string; cause?: { message?: string; code?: string } } | null;
  const cause = err?.cause?.code ?? err?.cause?.message;
  return `${err?.message ?? String(e)}${cause ? ` (${cause})` : ''}`;
}

function aborted(url: string): AbortedError {
  return new AbortedError(`Download of ${url} was cancelled; nothing was cached.`);
}

/**
 * Returns the bytes of pretrained weights at `url`: from the cache when present (no request is
 * made), else streamed with progress, checked against the sha256 prefix in the file name when it
 * has one, stored in the cache, and returned. Calls for the same URL and cache made while one is
 * under way share its download: each gets the progress events and the same `Uint8Array` (do not
 * modify it), and the download stops only when every caller has aborted.
 *
 * @param url An http(s) URL, e.g. the tutorial's `load_from`.
 * @param opts Cache, progress callback, abort signal, fetch implementation.
 * @returns The file's bytes.
 * @throws WeightsDownloadError for a non-http(s) URL, an HTTP error status, a network failure or a
 *   truncated body; WeightsHashError when the content does not match its name; AbortedError
 *   (`name === 'AbortError'`) when `signal` aborts. Nothing is cached in any of these cases.
 */
export async function fetchWeights(url: string, opts: FetchWeightsOptions = {}): Promise<Uint8Array> {
  const href = weightsUrl(url);
  if (opts.signal?.aborted) throw aborted(href);
  const { cache } = opts;
  if (!cache) return loadWeights(href, { ...opts, onProgress: throttled(opts) });
  let byUrl = flights.get(cache);
  if (!byUrl) flights.set(cache, (byUrl = new Map()));
  let flight = byUrl.get(href);
  if (!flight) {
    const ctrl = new AbortController();
    const listeners = new Set<(p: WeightsProgress) => void>();
    const started: Flight = {
      ctrl,
      listeners,
      users: 0,
      promise: loadWeights(href, {
        ...opts,
        signal: ctrl.signal,
        onProgress: (p) => {
          for (const l of listeners) l(p);
        },
      }).finally(() => {
        if (byUrl.get(href) === started) byUrl.delete(href);
      }),
    };
    byUrl.set(href, started);
    flight = started;
  }
  return joinFlight(byUrl, href, flight, opts);
}

/** One download in progress, shared by every caller asking for the same URL and cache. */
interface Flight {
  promise: Promise<Uint8Array>;
  /** Aborted when the last caller still waiting aborts. */
  ctrl: AbortController;
  listeners: Set<(p: WeightsProgress) => void>;
  users: number;
}

const flights = new WeakMap<WeightsCache, Map<string, Flight>>();

function joinFlight(byUrl: Map<string, Flight>, href: string, flight: Flight, opts: FetchWeightsOptions): Promise<Uint8Array> {
  const { signal } = opts;
  flight.users++;
  const listener = throttled(opts);
  if (listener) flight.listeners.add(listener);
  return new Promise<Uint8Array>((resolve, reject) => {
    let left = false;
    const leave = (): boolean => {
      if (left) return false;
      left = true;
      if (listener) flight.listeners.delete(listener);
      signal?.removeEventListener('abort', onAbort);
      flight.users--;
      return true;
    };
    const onAbort = (): void => {
      if (!leave()) return;
      if (flight.users === 0) {
        // Nobody waits any more: stop the download, and let a new caller start afresh.
        if (byUrl.get(href) === flight) byUrl.delete(href);
        flight.ctrl.abort();
      }
      reject(aborted(href));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    flight.promise.then(
      (bytes) => leave() && resolve(bytes),
      (e: unknown) => leave() && reject(e),
    );
  });
}

/**
 * A caller's progress callback limited to one `download` event per `progressIntervalMs`; the first
 * and the last `download` event (`etaSeconds === 0`) and every other phase always pass.
 */
function throttled(opts: FetchWeightsOptions): ((p: WeightsProgress) => void) | undefined {
  const { onProgress } = opts;
  if (!onProgress) return undefined;
  const interval = opts.progressIntervalMs ?? 200;
  const now = opts.now ?? (() => performance.now());
  let last = -Infinity;
  return (p) => {
    if (p.phase === 'download' && p.received > 0 && p.etaSeconds !== 0) {
      const t = now();
      if (t - last < interval) return;
      last = t;
    } else if (p.phase === 'download') {
      last = now();
    }
    onProgress(p);
  };
}

/** {@link fetchWeights} for one caller (events unthrottled): cache look-up, download, verification, store. */
async function loadWeights(href: string, opts: FetchWeightsOptions): Promise<Uint8Array> {
  const fileName = checkpointFileName(href);
  const { cache, onProgress, signal } = opts;
  const now = opts.now ?? (() => performance.now());
  const report = (phase: WeightsProgress['phase'], received: number, total: number | null, bytesPerSecond = 0, etaSeconds: number | null = null): void =>
    onProgress?.({ phase, url: href, fileName, received, total, bytesPerSecond, etaSeconds });

  if (signal?.aborted) throw aborted(href);
  const hit = cache ? await cache.get(href) : null;
  if (hit) {
    report('cached', hit.length, hit.length);
    report('done', hit.length, hit.length);
    return hit;
  }

  const fetchImpl: FetchLike = opts.fetchImpl ?? ((u, init) => globalThis.fetch(u, init));
  let res: Response;
  try {
    res = await fetchImpl(href, signal ? { signal } : {});
  } catch (e) {
    if (signal?.aborted) throw aborted(href);
    throw new WeightsDownloadError(
      `Cannot download ${href}: ${errorText(e)}. The network may be offline, or the server may refuse downloads from this page (CORS); ${DROP_HINT}.`,
      { url: href },
    );
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new WeightsDownloadError(`Cannot download ${href}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}. Check the URL; ${DROP_HINT}.`, {
      url: href,
      status: res.status,
    });
  }

  const total = contentLength(res);
  const sink = new ByteSink(total);
  const meter = new RateMeter();
  const start = now();
  let rate = 0;
  const eta = (): number | null => (total !== null && rate > 0 ? Math.max(0, total - sink.length) / rate : null);
  meter.add(start, 0);
  report('download', 0, total);

  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        if (signal?.aborted) throw aborted(href);
        chunk = await reader.read();
      } catch (e) {
        await reader.cancel().catch(() => undefined);
        if (signal?.aborted) throw aborted(href);
        throw new WeightsDownloadError(
          `Download of ${href} broke off after ${sink.length}${total !== null ? ` of ${total}` : ''} bytes: ${errorText(e)}. Try again, or ${DROP_HINT}.`,
          { url: href, received: sink.length, total },
        );
      }
      if (chunk.done) break;
      sink.push(chunk.value);
      const t = now();
      rate = meter.add(t, sink.length);
      report('download', sink.length, total, rate, eta());
    }
  } else {
    // A fetch without streams: no intermediate progress, but the same checks.
    try {
      sink.push(new Uint8Array(await res.arrayBuffer()));
    } catch (e) {
      if (signal?.aborted) throw aborted(href);
      throw new WeightsDownloadError(`Download of ${href} failed: ${errorText(e)}. Try again, or ${DROP_HINT}.`, { url: href });
    }
  }
  if (signal?.aborted) throw aborted(href);
  const elapsed = (now() - start) / 1000;
  const avg = elapsed > 0 ? sink.length / elapsed : rate;
  report('download', sink.length, total, avg, 0);
  if (total !== null && sink.length !== total) {
    throw new WeightsDownloadError(`Download of ${href} is incomplete: got ${sink.length} of ${total} bytes. Try again, or ${DROP_HINT}.`, {
      url: href,
      received: sink.length,
      total,
    });
  }
  const bytes = sink.bytes();

  report('verify', bytes.length, total);
  const expectedPrefix = hashPrefixFromName(fileName);
  const sha256 = await sha256Hex(bytes);
  if (expectedPrefix !== null && !sha256.startsWith(expectedPrefix)) {
    throw new WeightsHashError(
      `${fileName} does not match the hash in its name: its sha256 starts with ${sha256.slice(0, expectedPrefix.length)}, the name says ${expectedPrefix}. ` +
        `The download is corrupt or the server sent another file; nothing was cached. Try again, or ${DROP_HINT}.`,
      { url: href, expectedPrefix, actual: sha256 },
    );
  }
  if (signal?.aborted) throw aborted(href);

  if (cache) {
    report('store', bytes.length, total);
    try {
      await cache.put(href, bytes, { sha256 });
    } catch (e) {
      opts.onWarning?.(`${fileName} was downloaded but could not be cached (${errorText(e)}); it will be downloaded again next time.`);
    }
  }
  report('done', bytes.length, total, avg, 0);
  return bytes;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function formatSeconds(s: number): string {
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * One line describing a progress event, for a terminal or a status bar, e.g.
 * `Downloading w-42aa3d00.pth  45% 80.1/178.0 MiB  12.3 MiB/s  ETA 0:08`.
 *
 * @param p A {@link WeightsProgress} event.
 */
export function formatWeightsProgress(p: WeightsProgress): string {
  switch (p.phase) {
    case 'cached':
      return `Using cached ${p.fileName} (${formatBytes(p.received)})`;
    case 'verify':
      return `Verifying ${p.fileName} (sha256)`;
    case 'store':
      return `Caching ${p.fileName}`;
    case 'done':
      return `Loaded ${p.fileName} (${formatBytes(p.received)})`;
    case 'download': {
      const size = p.total !== null ? `${p.total > 0 ? Math.floor((100 * p.received) / p.total) : 100}% ${formatBytes(p.received)}/${formatBytes(p.total)}` : formatBytes(p.received);
      const rate = p.bytesPerSecond > 0 ? `  ${formatBytes(Math.round(p.bytesPerSecond))}/s` : '';
      const eta = p.etaSeconds !== null && p.etaSeconds > 0 ? `  ETA ${formatSeconds(p.etaSeconds)}` : '';
      return `Downloading ${p.fileName}  ${size}${rate}${eta}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// IndexedDB cache

/** A stored entry's row; its chunks are keyed `${url}#${writeId}#${index}`. Written last. */
interface WeightsRow extends WeightsCacheEntry {
  /** Identifies this write's chunks, so a replaced or interrupted write never mixes with it. */
  writeId: string;
  chunkCount: number;
  /** Schema version the row was written with. */
  schema: number;
}

interface WeightsChunk {
  url: string;
  writeId: string;
  index: number;
  bytes: ArrayBuffer;
}

/** idb typing of the `detstudio-weights` database. */
interface WeightsDbSchema extends DBSchema {
  entries: { key: string; value: WeightsRow };
  chunks: { key: string; value: WeightsChunk; indexes: { url: string } };
}

const WEIGHTS_SCHEMA_VERSION = 1;

function chunkKey(url: string, writeId: string, index: number): string {
  return `${url}#${writeId}#${index}`;
}

function newWriteId(): string {
  const c = globalThis.crypto;
  return typeof c?.randomUUID === 'function' ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function isQuotaError(e: unknown): boolean {
  const n = (e as { name?: string } | null)?.name;
  return n === 'QuotaExceededError' || n === 'NS_ERROR_DOM_QUOTA_REACHED';
}

function publicEntry(row: WeightsRow): WeightsCacheEntry {
  return { url: row.url, fileName: row.fileName, size: row.size, sha256: row.sha256, date: row.date };
}

/**
 * {@link WeightsCache} in IndexedDB (database `detstudio-weights`): rows `{url, fileName, size,
 * sha256, date}` keyed by URL, bytes as ≤ 32 MiB ArrayBuffer chunks. Chunks are written first, each
 * in its own transaction; the row that makes them visible is written last, in one transaction that
 * also checks every chunk is present and drops the chunks of the entry it replaces.
 */
export class IndexedDbWeightsCache implements WeightsCache {
  private constructor(
    private readonly db: IDBPDatabase<WeightsDbSchema>,
    private readonly chunkBytes: number,
  ) {}

  /**
   * Opens (creating) the database and sweeps chunks no row references (an interrupted write).
   *
   * @param name Database name (tests use their own).
   * @param chunkBytes Chunk size (default {@link WEIGHTS_CHUNK_BYTES}; tests use small ones).
   */
  static async open(name = WEIGHTS_DB_NAME, chunkBytes = WEIGHTS_CHUNK_BYTES): Promise<IndexedDbWeightsCache> {
    if (!(chunkBytes > 0 && chunkBytes <= WEIGHTS_CHUNK_BYTES)) throw new RangeError(`chunkBytes must be in (0, ${WEIGHTS_CHUNK_BYTES}], got ${chunkBytes}`);
    const db = await openDB<WeightsDbSchema>(name, WEIGHTS_SCHEMA_VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          database.createObjectStore('entries', { keyPath: 'url' });
          database.createObjectStore('chunks').createIndex('url', 'url');
        }
      },
    });
    const cache = new IndexedDbWeightsCache(db, chunkBytes);
    await cache.sweepOrphans();
    return cache;
  }

  /** Closes the connection. */
  close(): void {
    this.db.close();
  }

  /** Deletes chunks that belong to no stored row. Returns how many were deleted. */
  async sweepOrphans(): Promise<number> {
    const tx = this.db.transaction(['entries', 'chunks'], 'readwrite');
    const live = new Map((await tx.objectStore('entries').getAll()).map((r) => [r.url, r.writeId]));
    let n = 0;
    let cursor = await tx.objectStore('chunks').openCursor();
    while (cursor) {
      if (live.get(cursor.value.url) !== cursor.value.writeId) {
        await cursor.delete();
        n++;
      }
      cursor = await cursor.continue();
    }
    await tx.done;
    return n;
  }

  async get(url: string): Promise<Uint8Array | null> {
    const tx = this.db.transaction(['entries', 'chunks'], 'readonly');
    const row = await tx.objectStore('entries').get(url);
    if (!row) {
      await tx.done;
      return null;
    }
    const out = new Uint8Array(row.size);
    let offset = 0;
    const chunks = tx.objectStore('chunks');
    for (let i = 0; i < row.chunkCount; i++) {
      const c = await chunks.get(chunkKey(url, row.writeId, i));
      if (!c || offset + c.bytes.byteLength > row.size) {
        await tx.done.catch(() => undefined);
        return null;
      }
      out.set(new Uint8Array(c.bytes), offset);
      offset += c.bytes.byteLength;
    }
    await tx.done;
    return offset === row.size ? out : null;
  }

  async put(url: string, bytes: Uint8Array, info: { sha256: string }): Promise<WeightsCacheEntry> {
    const writeId = newWriteId();
    const chunkCount = Math.ceil(bytes.length / this.chunkBytes);
    try {
      for (let i = 0; i < chunkCount; i++) {
        const part = bytes.slice(i * this.chunkBytes, Math.min(bytes.length, (i + 1) * this.chunkBytes));
        await this.db.put('chunks', { url, writeId, index: i, bytes: part.buffer }, chunkKey(url, writeId, i));
      }
      const row: WeightsRow = {
        url,
        fileName: checkpointFileName(url),
        size: bytes.length,
        sha256: info.sha256,
        date: new Date().toISOString(),
        writeId,
        chunkCount,
        schema: WEIGHTS_SCHEMA_VERSION,
      };
      const tx = this.db.transaction(['entries', 'chunks'], 'readwrite');
      const chunks = tx.objectStore('chunks');
      for (let i = 0; i < chunkCount; i++) {
        if ((await chunks.getKey(chunkKey(url, writeId, i))) === undefined) {
          tx.abort();
          await tx.done.catch(() => undefined);
          throw new Error(`chunk ${i} of ${url} vanished before the entry was written (another tab swept it); not cached`);
        }
      }
      await tx.objectStore('entries').put(row);
      let cursor = await chunks.index('url').openCursor(IDBKeyRange.only(url));
      while (cursor) {
        if (cursor.value.writeId !== writeId) await cursor.delete();
        cursor = await cursor.continue();
      }
      await tx.done;
      return publicEntry(row);
    } catch (e) {
      await this.deleteChunks(url, writeId).catch(() => undefined);
      if (isQuotaError(e)) throw new StorageQuotaError(`Browser storage is full: ${checkpointFileName(url)} (${bytes.length} bytes) could not be cached.`);
      throw e;
    }
  }

  async list(): Promise<WeightsCacheEntry[]> {
    const rows = await this.db.getAll('entries');
    return rows.map(publicEntry).sort((a, b) => b.date.localeCompare(a.date));
  }

  async delete(url: string): Promise<boolean> {
    const tx = this.db.transaction(['entries', 'chunks'], 'readwrite');
    const existed = (await tx.objectStore('entries').getKey(url)) !== undefined;
    await tx.objectStore('entries').delete(url);
    let cursor = await tx.objectStore('chunks').index('url').openCursor(IDBKeyRange.only(url));
    while (cursor) {
      await cursor.delete();
      cursor = await cursor.continue();
    }
    await tx.done;
    return existed;
  }

  private async deleteChunks(url: string, writeId: string): Promise<void> {
    const tx = this.db.transaction('chunks', 'readwrite');
    let cursor = await tx.store.index('url').openCursor(IDBKeyRange.only(url));
    while (cursor) {
      if (cursor.value.writeId === writeId) await cursor.delete();
      cursor = await cursor.continue();
    }
    await tx.done;
  }
}
