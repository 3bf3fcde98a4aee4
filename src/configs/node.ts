/**
 * The built-in MMDetection config tree on disk (Node): a {@link ConfigFS} serving the `.py` files of
 * this folder under a virtual root (default `/builtin/configs`), so `mmdet::` and the studio's file
 * tree use the same paths in Node and in the browser.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigFS } from '../config/fs.ts';
import { normalizePath } from '../config/fs.ts';

/** Virtual root the built-in tree is mounted at. */
export const BUILTIN_ROOT = '/builtin/configs';

/** Absolute path of this folder (`src/configs`) on disk. */
export const BUILTIN_DIR = dirname(fileURLToPath(import.meta.url));

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.py')) out.push(relative(BUILTIN_DIR, p).split('\\').join('/'));
  }
}

/** Relative paths of the built-in config files (`_base_/models/mask-rcnn_r50_fpn.py`, …), sorted. */
export function listBuiltinConfigs(): string[] {
  const out: string[] = [];
  walk(BUILTIN_DIR, out);
  return out;
}

/** Serves the built-in tree at `root`; paths outside `root` are not found. */
export class BuiltinNodeFS implements ConfigFS {
  constructor(readonly root: string = BUILTIN_ROOT) {}
  read(path: string): string | undefined {
    const p = normalizePath(path);
    const prefix = this.root.endsWith('/') ? this.root : `${this.root}/`;
    if (!p.startsWith(prefix)) return undefined;
    const rel = p.slice(prefix.length);
    if (!rel.endsWith('.py') && !rel.endsWith('.json')) return undefined;
    try {
      return readFileSync(join(BUILTIN_DIR, ...rel.split('/')), 'utf8');
    } catch {
      return undefined;
    }
  }
}
