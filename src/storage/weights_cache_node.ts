/**
 * {@link WeightsCache} on the filesystem for the `detstudio` CLI: `~/.cache/detstudio/checkpoints/<file name>`
 * (`$XDG_CACHE_HOME/detstudio/checkpoints` when set), like torch.hub's `~/.cache/torch/hub/checkpoints`.
 *
 * The bytes are written to a `.part` file and renamed into place, so the final name only ever holds
 * a complete file; a sidecar `<file name>.detstudio.json` ({url, size, sha256, date}) is written
 * after it. As with torch.hub, a file found under the right name without a sidecar (placed there
 * by hand) counts as cached.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkpointFileName } from '../checkpoint/hash_name.ts';
import type { WeightsCache, WeightsCacheEntry } from './weights_cache.ts';

const META_SUFFIX = '.detstudio.json';
const PART_SUFFIX = '.part';

/**
 * The default cache folder: `$XDG_CACHE_HOME/detstudio/checkpoints`, else `~/.cache/detstudio/checkpoints`.
 *
 * @param env Environment to read (default `process.env`).
 */
export function defaultWeightsCacheDir(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'detstudio', 'checkpoints');
}

/**
 * The file name a URL is cached under: its last path segment with characters outside
 * `[A-Za-z0-9._-]` replaced by `_`.
 *
 * @throws Error when the URL names no file (`https://host/dir/`).
 */
export function cacheFileName(url: string): string {
  const name = checkpointFileName(url).replace(/[^A-Za-z0-9._-]/g, '_');
  if (name === '' || /^\.+$/.test(name)) throw new Error(`${url} names no file to cache (its path must end with a file name)`);
  return name;
}

function isMissing(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** {@link WeightsCache} in a folder (default {@link defaultWeightsCacheDir}). */
export class NodeWeightsCache implements WeightsCache {
  /** @param dir The cache folder; created on the first write. */
  constructor(readonly dir: string = defaultWeightsCacheDir()) {}

  /** Where the bytes for `url` are (or would be) stored. */
  pathFor(url: string): string {
    return join(this.dir, cacheFileName(url));
  }

  private async readMeta(file: string): Promise<WeightsCacheEntry | null> {
    try {
      return JSON.parse(await readFile(`${file}${META_SUFFIX}`, 'utf8')) as WeightsCacheEntry;
    } catch (e) {
      if (isMissing(e) || e instanceof SyntaxError) return null;
      throw e;
    }
  }

  async get(url: string): Promise<Uint8Array | null> {
    const file = this.pathFor(url);
    let bytes: Uint8Array;
    try {
      const buf = await readFile(file);
      bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
    const meta = await this.readMeta(file);
    if (meta) {
      // Another URL with the same file name, or a file changed behind our back: not this entry.
      if (meta.url !== url || meta.size !== bytes.length) return null;
    }
    return bytes;
  }

  async put(url: string, bytes: Uint8Array, info: { sha256: string }): Promise<WeightsCacheEntry> {
    const file = this.pathFor(url);
    await mkdir(this.dir, { recursive: true });
    const tag = randomUUID();
    const part = `${file}.${tag}${PART_SUFFIX}`;
    const entry: WeightsCacheEntry = { url, fileName: cacheFileName(url), size: bytes.length, sha256: info.sha256, date: new Date().toISOString() };
    try {
      await rm(`${file}${META_SUFFIX}`, { force: true });
      await writeFile(part, bytes);
      await rename(part, file);
      const metaPart = `${file}${META_SUFFIX}.${tag}${PART_SUFFIX}`;
      await writeFile(metaPart, `${JSON.stringify(entry, null, 2)}\n`);
      await rename(metaPart, `${file}${META_SUFFIX}`);
    } catch (e) {
      await rm(part, { force: true }).catch(() => undefined);
      await rm(`${file}${META_SUFFIX}.${tag}${PART_SUFFIX}`, { force: true }).catch(() => undefined);
      throw e;
    }
    return entry;
  }

  async list(): Promise<WeightsCacheEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
    const out: WeightsCacheEntry[] = [];
    for (const name of names) {
      if (name.endsWith(PART_SUFFIX) || name.endsWith(META_SUFFIX)) continue;
      const file = join(this.dir, name);
      const st = await stat(file).catch(() => null);
      if (!st?.isFile()) continue;
      const meta = await this.readMeta(file);
      out.push(meta && meta.size === st.size ? meta : { url: file, fileName: name, size: st.size, sha256: null, date: st.mtime.toISOString() });
    }
    return out.sort((a, b) => b.date.localeCompare(a.date));
  }

  async delete(url: string): Promise<boolean> {
    const file = this.pathFor(url);
    const existed = (await stat(file).catch(() => null)) !== null;
    await rm(file, { force: true });
    await rm(`${file}${META_SUFFIX}`, { force: true });
    return existed;
  }
}
