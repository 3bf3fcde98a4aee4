/**
 * The file-system abstraction the config loader reads through, POSIX path helpers, and an in-memory
 * implementation (the browser's user configs, tests).
 */

/** Read-only access to config files by absolute POSIX-like path (`/builtin/configs/...`). */
export interface ConfigFS {
  /** The file's text, or undefined when it does not exist. */
  read(path: string): string | undefined;
}

/** An in-memory {@link ConfigFS}. */
export class MemoryFS implements ConfigFS {
  private readonly files = new Map<string, string>();
  constructor(files?: Record<string, string> | Iterable<[string, string]>) {
    if (files) {
      const entries = Symbol.iterator in Object(files) ? (files as Iterable<[string, string]>) : Object.entries(files as Record<string, string>);
      for (const [p, t] of entries) this.files.set(normalizePath(p), t);
    }
  }
  read(path: string): string | undefined {
    return this.files.get(normalizePath(path));
  }
  /** Creates or replaces a file. */
  write(path: string, text: string): void {
    this.files.set(normalizePath(path), text);
  }
  /** Removes a file; true when it existed. */
  delete(path: string): boolean {
    return this.files.delete(normalizePath(path));
  }
  /** All paths, sorted. */
  list(): string[] {
    return [...this.files.keys()].sort();
  }
}

/** A {@link ConfigFS} that tries each layer in order (e.g. the user's edits over the built-in tree). */
export class OverlayFS implements ConfigFS {
  constructor(private readonly layers: ConfigFS[]) {}
  read(path: string): string | undefined {
    for (const l of this.layers) {
      const t = l.read(path);
      if (t !== undefined) return t;
    }
    return undefined;
  }
}

/** Resolves `.` and `..` segments of a POSIX path. */
export function normalizePath(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
    } else out.push(seg);
  }
  return (abs ? '/' : '') + out.join('/');
}

/** `os.path.dirname`. */
export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  if (i < 0) return '';
  if (i === 0) return '/';
  return p.slice(0, i);
}

/** `os.path.basename`. */
export function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** `os.path.splitext(...)[1]`. */
export function extname(p: string): string {
  const b = basename(p);
  const i = b.lastIndexOf('.');
  return i > 0 ? b.slice(i) : '';
}

/** `os.path.join(a, b)` (no normalisation; an absolute `b` wins). */
export function joinPath(a: string, b: string): string {
  if (b.startsWith('/')) return b;
  if (!a) return b;
  return a.endsWith('/') ? a + b : `${a}/${b}`;
}
