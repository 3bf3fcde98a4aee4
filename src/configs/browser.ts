/**
 * The built-in MMDetection config tree in the browser: every `.py` file of this folder bundled as text
 * by Vite and served as a {@link ConfigFS} under `/builtin/configs` (the same paths as `node.ts`).
 */
import { MemoryFS } from '../config/fs.ts';

/** Virtual root the built-in tree is mounted at. */
export const BUILTIN_ROOT = '/builtin/configs';

const raw = import.meta.glob('./**/*.py', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

/** Relative path (`_base_/models/mask-rcnn_r50_fpn.py`) → text. */
export const BUILTIN_FILES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(raw)
    .map(([k, v]) => [k.replace(/^\.\//, ''), v] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1)),
);

/** Relative paths of the built-in config files, sorted (for the file tree). */
export function listBuiltinConfigs(): string[] {
  return Object.keys(BUILTIN_FILES);
}

/** A read-only {@link MemoryFS} of the built-in tree mounted at `root`. */
export function builtinFS(root: string = BUILTIN_ROOT): MemoryFS {
  return new MemoryFS(Object.entries(BUILTIN_FILES).map(([k, v]) => [`${root}/${k}`, v] as [string, string]));
}
