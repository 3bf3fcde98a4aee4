import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDB } from 'idb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  IndexedDbWeightsCache,
  WeightsDownloadError,
  WeightsHashError,
  type WeightsProgress,
  fetchWeights,
  formatWeightsProgress,
  weightsUrl,
} from './weights_cache.ts';
import { NodeWeightsCache, cacheFileName, defaultWeightsCacheDir } from './weights_cache_node.ts';

// A generated "checkpoint" (deterministic bytes) served under its own hashed name.
const SIZE = 200_000;
const CONTENT = new Uint8Array(SIZE);
{
  let x = 0x12345678;
  for (let i = 0; i < SIZE; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    CONTENT[i] = x & 255;
  }
}
const SHA = createHash('sha256').update(CONTENT).digest('hex');
const GOOD = `mask_rcnn_tiny_coco_20200504_163245-${SHA.slice(0, 8)}.pth`;
const WRONG_PREFIX = (SHA[0] === 'a' ? 'b' : 'a') + SHA.slice(1, 8);
const BAD = `mask_rcnn_tiny_coco-${WRONG_PREFIX}.pth`;
const PIECE = 16 * 1024;

/** Requests seen per path. */
const hits = new Map<string, number>();
let server: Server;
let base = '';
/** Set when the server sees a /slow response closed before it finished. */
let slowClosedEarly: Promise<void> = Promise.resolve();

function count(path: string): number {
  return hits.get(path) ?? 0;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, count(path) + 1);
    const [, route] = path.split('/');
    if (route === 'w' || route === 'chunked') {
      // Whole file in 16 KiB pieces, with (w) or without (chunked) a Content-Length.
      res.writeHead(200, route === 'w' ? { 'content-length': String(SIZE) } : {});
      let o = 0;
      const next = (): void => {
        if (o >= SIZE) return void res.end();
        res.write(CONTENT.subarray(o, o + PIECE));
        o += PIECE;
        setImmediate(next);
      };
      next();
    } else if (route === 'slow') {
      // Sends a quarter, then stalls until the client goes away (or 10 s, the bound).
      res.writeHead(200, { 'content-length': String(SIZE) });
      res.write(CONTENT.subarray(0, SIZE / 4));
      const bound = setTimeout(() => res.destroy(), 10_000);
      slowClosedEarly = new Promise((resolve) => res.on('close', () => (clearTimeout(bound), resolve())));
    } else if (route === 'cut') {
      // Promises the whole file, sends half, then drops the connection.
      res.writeHead(200, { 'content-length': String(SIZE) });
      res.write(CONTENT.subarray(0, SIZE / 2), () => setTimeout(() => res.socket?.destroy(), 20));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let dbSeq = 0;
const openCaches: IndexedDbWeightsCache[] = [];
async function freshIdb(chunkBytes?: number): Promise<{ cache: IndexedDbWeightsCache; name: string }> {
  const name = `weights-test-${++dbSeq}`;
  const cache = await IndexedDbWeightsCache.open(name, chunkBytes);
  openCaches.push(cache);
  return { cache, name };
}
const tmpDirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'detstudio-weights-'));
  tmpDirs.push(d);
  return d;
}
afterEach(() => {
  for (const c of openCaches.splice(0)) c.close();
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('fetchWeights with the IndexedDB cache', () => {
  it('downloads once: the second call makes no request', async () => {
    const { cache } = await freshIdb(50_000);
    const url = `${base}/w/${GOOD}`;
    const a = await fetchWeights(url, { cache });
    expect(count(`/w/${GOOD}`)).toBe(1);
    expect(Buffer.from(a).equals(Buffer.from(CONTENT))).toBe(true);

    const events: WeightsProgress[] = [];
    const b = await fetchWeights(url, { cache, onProgress: (p) => events.push(p) });
    expect(count(`/w/${GOOD}`)).toBe(1);
    expect(Buffer.from(b).equals(Buffer.from(CONTENT))).toBe(true);
    expect(events.map((e) => e.phase)).toEqual(['cached', 'done']);

    expect(await cache.list()).toEqual([{ url, fileName: GOOD, size: SIZE, sha256: SHA, date: expect.any(String) }]);
  });

  it('reports monotone, complete progress with rate and ETA', async () => {
    const { cache } = await freshIdb();
    const events: WeightsProgress[] = [];
    let t = 0;
    await fetchWeights(`${base}/w/p/${GOOD}`, { cache, onProgress: (p) => events.push(p), progressIntervalMs: 0, now: () => (t += 10) });
    const dl = events.filter((e) => e.phase === 'download');
    expect(dl.length).toBeGreaterThan(SIZE / PIECE / 2);
    expect(dl[0]!.received).toBe(0);
    for (let i = 1; i < dl.length; i++) expect(dl[i]!.received).toBeGreaterThanOrEqual(dl[i - 1]!.received);
    expect(dl.at(-1)!.received).toBe(SIZE);
    expect(dl.at(-1)!.etaSeconds).toBe(0);
    expect(events.every((e) => e.total === SIZE && e.fileName === GOOD)).toBe(true);
    const mid = dl.find((e) => e.received > 0 && e.received < SIZE)!;
    expect(mid.bytesPerSecond).toBeGreaterThan(0);
    expect(mid.etaSeconds).toBeCloseTo((SIZE - mid.received) / mid.bytesPerSecond, 6);
    expect(events.slice(dl.length).map((e) => e.phase)).toEqual(['verify', 'store', 'done']);
    expect(events.at(-1)!.received).toBe(SIZE);
  });

  it('handles a body without Content-Length (total unknown)', async () => {
    const { cache } = await freshIdb();
    const events: WeightsProgress[] = [];
    const bytes = await fetchWeights(`${base}/chunked/${GOOD}`, { cache, onProgress: (p) => events.push(p), progressIntervalMs: 0 });
    expect(Buffer.from(bytes).equals(Buffer.from(CONTENT))).toBe(true);
    expect(events.every((e) => e.total === null)).toBe(true);
    expect(events.filter((e) => e.phase === 'download' && e.received > 0 && e.received < SIZE).every((e) => e.etaSeconds === null)).toBe(true);
  });

  it('rejects content that does not match the hash in its name, and caches nothing', async () => {
    const { cache } = await freshIdb();
    const url = `${base}/w/${BAD}`;
    const err = await fetchWeights(url, { cache }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightsHashError);
    expect((err as Error).message).toContain(WRONG_PREFIX);
    expect((err as Error).message).toContain(SHA.slice(0, 8));
    expect((err as WeightsHashError).details).toMatchObject({ expectedPrefix: WRONG_PREFIX, actual: SHA });
    expect(await cache.get(weightsUrl(url))).toBeNull();
    expect(await cache.list()).toEqual([]);
    // Not cached, so a retry asks the server again.
    await fetchWeights(url, { cache }).catch(() => undefined);
    expect(count(`/w/${BAD}`)).toBe(2);
  });

  it('abort mid-download rejects with AbortError, closes the connection and leaves no entry', async () => {
    const { cache, name } = await freshIdb();
    const ac = new AbortController();
    const seen: number[] = [];
    const err = await fetchWeights(`${base}/slow/${GOOD}`, {
      cache,
      signal: ac.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        seen.push(p.received);
        if (p.received > 0) setTimeout(() => ac.abort(), 5);
      },
    }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(Math.max(...seen)).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBeLessThan(SIZE);
    await Promise.race([slowClosedEarly, new Promise((_, reject) => setTimeout(() => reject(new Error('server connection still open')), 3000))]);
    expect(await cache.list()).toEqual([]);
    cache.close();
    const again = await IndexedDbWeightsCache.open(name);
    openCaches.push(again);
    expect(await again.sweepOrphans()).toBe(0);
    expect(await again.list()).toEqual([]);
  });

  it('concurrent calls share one download; one caller aborting does not stop the others', async () => {
    const { cache } = await freshIdb();
    const url = `${base}/w/shared/${GOOD}`;
    const seenA: WeightsProgress[] = [];
    const seenB: WeightsProgress[] = [];
    const ac = new AbortController();
    const a = fetchWeights(url, { cache, onProgress: (p) => seenA.push(p), progressIntervalMs: 0 });
    const b = fetchWeights(url, { cache, onProgress: (p) => seenB.push(p) });
    const c = fetchWeights(url, { cache, signal: ac.signal });
    ac.abort();
    await expect(c).rejects.toMatchObject({ name: 'AbortError' });
    const [ba, bb] = await Promise.all([a, b]);
    expect(count(`/w/shared/${GOOD}`)).toBe(1);
    expect(ba).toBe(bb);
    expect(Buffer.from(ba).equals(Buffer.from(CONTENT))).toBe(true);
    expect(seenB.at(-1)).toMatchObject({ phase: 'done', received: SIZE });
    // Each caller's own throttle: A asked for every chunk, B for the default 200 ms.
    expect(seenA.filter((e) => e.phase === 'download').length).toBeGreaterThan(SIZE / PIECE / 2);
    expect(seenA.at(-1)).toMatchObject({ phase: 'done', received: SIZE });
    expect(seenB.filter((e) => e.phase === 'download').at(-1)).toMatchObject({ received: SIZE, etaSeconds: 0 });
  });

  it('when every caller aborts, the shared download stops and a later call starts afresh', async () => {
    const { cache } = await freshIdb();
    const url = `${base}/slow/shared/${GOOD}`;
    const a1 = new AbortController();
    const a2 = new AbortController();
    const p1 = fetchWeights(url, { cache, signal: a1.signal });
    const p2 = fetchWeights(url, { cache, signal: a2.signal, progressIntervalMs: 0, onProgress: (p) => p.received > 0 && a1.abort() });
    await expect(p1).rejects.toMatchObject({ name: 'AbortError' });
    expect(count(`/slow/shared/${GOOD}`)).toBe(1);
    a2.abort();
    await expect(p2).rejects.toMatchObject({ name: 'AbortError' });
    await Promise.race([slowClosedEarly, new Promise((_, reject) => setTimeout(() => reject(new Error('server connection still open')), 3000))]);
    const a3 = new AbortController();
    const p3 = fetchWeights(url, { cache, signal: a3.signal, progressIntervalMs: 0, onProgress: (p) => p.received > 0 && a3.abort() });
    await expect(p3).rejects.toMatchObject({ name: 'AbortError' });
    expect(count(`/slow/shared/${GOOD}`)).toBe(2);
    expect(await cache.list()).toEqual([]);
  });

  it('an already-aborted signal makes no request', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(fetchWeights(`${base}/w/never-${SHA.slice(0, 8)}.pth`, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(count(`/w/never-${SHA.slice(0, 8)}.pth`)).toBe(0);
  });

  it('gives clear errors for HTTP status, network failure, a cut body and non-http URLs', async () => {
    const { cache } = await freshIdb();
    const e404 = await fetchWeights(`${base}/missing/${GOOD}`, { cache }).catch((e: unknown) => e);
    expect(e404).toBeInstanceOf(WeightsDownloadError);
    expect((e404 as Error).message).toMatch(/HTTP 404 Not Found/);
    expect((e404 as WeightsDownloadError).details).toMatchObject({ status: 404 });

    // A port nobody listens on (bound, then closed).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const eNet = await fetchWeights(`http://127.0.0.1:${deadPort}/${GOOD}`, { cache }).catch((e: unknown) => e);
    expect(eNet).toBeInstanceOf(WeightsDownloadError);
    expect((eNet as Error).message).toMatch(/Cannot download .*ECONNREFUSED.*download the file yourself/);

    const eCut = await fetchWeights(`${base}/cut/${GOOD}`, { cache }).catch((e: unknown) => e);
    expect(eCut).toBeInstanceOf(WeightsDownloadError);
    expect((eCut as Error).message).toMatch(/(broke off after|incomplete: got) \d+ of 200000 bytes/);

    for (const bad of ['ftp://h/x.pth', 'weights://x.pth', 'checkpoints/x.pth', 'file:///tmp/x.pth']) {
      await expect(fetchWeights(bad, { cache }), bad).rejects.toThrow(/not an http\(s\) URL/);
    }
    expect(await cache.list()).toEqual([]);
  });
});

describe('IndexedDbWeightsCache', () => {
  const url = 'https://download.example/m/w-00000000.pth';

  it('stores ≤ chunkBytes chunks, replaces entries without leaving chunks, deletes', async () => {
    const { cache, name } = await freshIdb(30_000);
    await cache.put(url, CONTENT, { sha256: SHA });
    const raw = await openDB(name);
    const chunks = await raw.getAll('chunks');
    expect(chunks.length).toBe(Math.ceil(SIZE / 30_000));
    expect(chunks.every((c: { bytes: ArrayBuffer }) => c.bytes.byteLength <= 30_000)).toBe(true);
    raw.close();
    expect(Buffer.from((await cache.get(url))!).equals(Buffer.from(CONTENT))).toBe(true);

    const smaller = CONTENT.subarray(0, 1000);
    await cache.put(url, smaller, { sha256: 'x' });
    expect(await cache.get(url)).toEqual(smaller.slice());
    expect(await cache.sweepOrphans()).toBe(0);
    expect((await cache.list()).map((e) => e.size)).toEqual([1000]);

    expect(await cache.delete(url)).toBe(true);
    expect(await cache.delete(url)).toBe(false);
    expect(await cache.get(url)).toBeNull();
    const raw2 = await openDB(name);
    expect(await raw2.count('chunks')).toBe(0);
    raw2.close();
  });

  it('never returns a half-written entry: chunks without a row are swept, a row missing a chunk reads as absent', async () => {
    const { cache, name } = await freshIdb(50_000);
    cache.close();
    // Simulate a write killed after its chunks: chunks exist, no row.
    const raw = await openDB(name);
    await raw.put('chunks', { url, writeId: 'w1', index: 0, bytes: CONTENT.slice(0, 50_000).buffer }, `${url}#w1#0`);
    raw.close();
    const reopened = await IndexedDbWeightsCache.open(name, 50_000);
    openCaches.push(reopened);
    expect(await reopened.get(url)).toBeNull();
    expect(await reopened.list()).toEqual([]);
    expect(await reopened.sweepOrphans()).toBe(0); // already swept by open

    await reopened.put(url, CONTENT, { sha256: SHA });
    const raw2 = await openDB(name);
    const key = (await raw2.getAllKeys('chunks'))[1]!;
    await raw2.delete('chunks', key);
    raw2.close();
    expect(await reopened.get(url)).toBeNull();
  });
});

describe('NodeWeightsCache', () => {
  it('caches under <dir>/<file name> via .part + rename; second call makes no request', async () => {
    const dir = join(tmp(), 'checkpoints');
    const cache = new NodeWeightsCache(dir);
    const url = `${base}/w/node/${GOOD}`;
    const a = await fetchWeights(url, { cache });
    expect(count(`/w/node/${GOOD}`)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([GOOD, `${GOOD}.detstudio.json`]);
    expect(Buffer.from(readFileSync(join(dir, GOOD))).equals(Buffer.from(CONTENT))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(CONTENT))).toBe(true);

    const b = await fetchWeights(url, { cache: new NodeWeightsCache(dir) });
    expect(count(`/w/node/${GOOD}`)).toBe(1);
    expect(Buffer.from(b).equals(Buffer.from(CONTENT))).toBe(true);
    expect(await cache.list()).toEqual([{ url, fileName: GOOD, size: SIZE, sha256: SHA, date: expect.any(String) }]);
    expect(await cache.delete(url)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('hash mismatch or abort leaves no file', async () => {
    const dir = join(tmp(), 'checkpoints');
    const cache = new NodeWeightsCache(dir);
    await expect(fetchWeights(`${base}/w/node/${BAD}`, { cache })).rejects.toBeInstanceOf(WeightsHashError);
    const ac = new AbortController();
    const p = fetchWeights(`${base}/slow/node/${GOOD}`, { cache, signal: ac.signal, progressIntervalMs: 0, onProgress: (e) => e.received > 0 && ac.abort() });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('uses ~/.cache/detstudio/checkpoints (or $XDG_CACHE_HOME), accepts a file placed by hand', async () => {
    const home = tmp();
    expect(defaultWeightsCacheDir({ HOME: home })).toBe(join(home, '.cache', 'detstudio', 'checkpoints'));
    expect(defaultWeightsCacheDir({ HOME: home, XDG_CACHE_HOME: join(home, 'xdg') })).toBe(join(home, 'xdg', 'detstudio', 'checkpoints'));

    const cache = new NodeWeightsCache(defaultWeightsCacheDir({ HOME: home }));
    const url = `${base}/w/byhand/${GOOD}`;
    await cache.put('https://elsewhere.example/unrelated.pth', new Uint8Array(3), { sha256: 'x' }); // creates the folder
    writeFileSync(cache.pathFor(url), CONTENT);
    const bytes = await fetchWeights(url, { cache });
    expect(count(`/w/byhand/${GOOD}`)).toBe(0);
    expect(bytes.length).toBe(SIZE);
    const listed = await cache.list();
    const byHand = listed.find((e) => e.fileName === GOOD)!;
    expect(byHand).toMatchObject({ url: cache.pathFor(url), size: SIZE, sha256: null });
    expect(await cache.delete(byHand.url)).toBe(true);
    expect((await cache.list()).map((e) => e.fileName)).toEqual(['unrelated.pth']);
  });

  it('a URL with the same file name as another entry is not served the other bytes', async () => {
    const cache = new NodeWeightsCache(tmp());
    await cache.put('https://a.example/x/w.pth', new Uint8Array([1, 2, 3]), { sha256: 'x' });
    expect(await cache.get('https://b.example/y/w.pth')).toBeNull();
    expect(() => cacheFileName('https://a.example/dir/')).toThrow(/names no file/);
    expect(cacheFileName('https://a.example/a%20b%2F..%2Fc.pth')).toBe('a_b_.._c.pth');
  });

  it('when the cache cannot be written, the download is still returned with a warning', async () => {
    const root = tmp();
    const notADir = join(root, 'file');
    writeFileSync(notADir, 'x');
    const warnings: string[] = [];
    const bytes = await fetchWeights(`${base}/w/warn/${GOOD}`, { cache: new NodeWeightsCache(join(notADir, 'sub')), onWarning: (m) => warnings.push(m) });
    expect(bytes.length).toBe(SIZE);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/could not be cached/);
  });
});

describe('formatWeightsProgress', () => {
  const ev = { url: 'https://h/w-42aa3d00.pth', fileName: 'w-42aa3d00.pth' };
  it('describes each phase', () => {
    const MiB = 1024 * 1024;
    expect(formatWeightsProgress({ ...ev, phase: 'download', received: 80 * MiB, total: 178 * MiB, bytesPerSecond: 12.5 * MiB, etaSeconds: 7.84 })).toBe(
      'Downloading w-42aa3d00.pth  44% 80.0 MiB/178.0 MiB  12.5 MiB/s  ETA 0:08',
    );
    expect(formatWeightsProgress({ ...ev, phase: 'download', received: 500, total: null, bytesPerSecond: 0, etaSeconds: null })).toBe('Downloading w-42aa3d00.pth  500 B');
    expect(formatWeightsProgress({ ...ev, phase: 'download', received: 2048, total: 4096, bytesPerSecond: 1, etaSeconds: 3725 })).toBe(
      'Downloading w-42aa3d00.pth  50% 2.0 KiB/4.0 KiB  1 B/s  ETA 1:02:05',
    );
    expect(formatWeightsProgress({ ...ev, phase: 'cached', received: 3 * MiB, total: 3 * MiB, bytesPerSecond: 0, etaSeconds: null })).toBe('Using cached w-42aa3d00.pth (3.0 MiB)');
    expect(formatWeightsProgress({ ...ev, phase: 'verify', received: 1, total: 1, bytesPerSecond: 0, etaSeconds: null })).toMatch(/^Verifying/);
  });
});
