/**
 * A {@link FileTree} over a folder on disk (Node only: imports `node:fs`; everything else in
 * `src/data` stays pure and runs in a Web Worker).
 */
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileNotFoundError, normalizePath, type FileTree } from './file_tree.ts';

/** A folder on disk as a {@link FileTree}; the listing is taken once, at construction. */
export class NodeFileTree implements FileTree {
  private readonly paths: string[];
  private readonly known: Set<string>;

  /** @param root Folder whose files (recursively, following no symlinked folders twice) are listed. */
  constructor(readonly root: string) {
    if (!statSync(root).isDirectory()) throw new Error(`not a folder: ${root}`);
    this.paths = [];
    const walk = (dir: string, rel: string): void => {
      for (const ent of readdirSync(dir, { withFileTypes: true })) {
        const r = rel ? `${rel}/${ent.name}` : ent.name;
        const full = join(dir, ent.name);
        if (ent.isDirectory()) walk(full, r);
        else if (ent.isFile()) this.paths.push(r);
        else if (ent.isSymbolicLink()) {
          const st = statSync(full, { throwIfNoEntry: false });
          if (st?.isFile()) this.paths.push(r);
        }
      }
    };
    walk(root, '');
    this.known = new Set(this.paths);
  }

  list(): string[] {
    return [...this.paths];
  }

  async read(path: string): Promise<Uint8Array> {
    const p = normalizePath(path);
    if (!this.known.has(p)) throw new FileNotFoundError(path);
    const buf = await readFile(join(this.root, ...p.split('/')));
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
}

