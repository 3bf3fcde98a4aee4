/**
 * A {@link ConfigFS} over the local disk (Node only): absolute POSIX paths read with node:fs.
 */
import { readFileSync, statSync } from 'node:fs';
import type { ConfigFS } from './fs.ts';

/** Reads config files from disk; `read` returns undefined for a missing file or a folder. */
export class NodeFS implements ConfigFS {
  read(path: string): string | undefined {
    try {
      if (!statSync(path).isFile()) return undefined;
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  }
}
