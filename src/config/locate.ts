/**
 * Where the editor shows a problem about a key of the resolved config: at the value as written in
 * the edited file (down to one string of a list when the problem is about that string), or, when
 * the value comes from a base file, at the `_base_` entry that pulls that file in, the way
 * {@link errorDiagnostic} shows errors inside bases.
 */
import type { SyntaxNode } from '@lezer/common';
import { MemoryFS, OverlayFS, normalizePath, type ConfigFS } from './fs.ts';
import { parseCached, resolveConfig, type BaseRef, type Origin, type ResolveOptions, type ResolvedConfig } from './loader.ts';
import { children, decodeString } from './parser.ts';

/** A range of the edited text for a resolved key. */
export interface KeyLocation {
  from: number;
  to: number;
  /** Where the key's value is written (undefined: nowhere, e.g. a default). */
  origin?: Origin;
  /** Set when the value comes from a base: the `_base_` entry shown instead. */
  base?: BaseRef;
}

/**
 * Locates the dotted key `key` of a resolved config in the text of its entry file.
 *
 * Args:
 *   text: the entry file's (edited) text.
 *   path: its absolute path.
 *   res: the resolved config of that text.
 *   fs: the files the config was resolved from (needed only to find which base pulls in a deeper file).
 *   key: dotted key path, e.g. `train_dataloader.dataset.dataset.metainfo.classes`.
 *   subject: a string value to point at inside the key's value (e.g. one class name of a tuple).
 *
 * Returns:
 *   The range of the value (or of `subject` in it) when the edited file writes the key, else the
 *   range of the `_base_` entry the value comes through, else the key's top-level assignment, else
 *   the first character.
 */
export function locateKey(text: string, path: string, res: ResolvedConfig, fs: ConfigFS, key: string, subject?: string, opts: ResolveOptions = {}): KeyLocation {
  const entry = normalizePath(path);
  const parts = key.split('.');
  let origin: Origin | undefined;
  for (let i = parts.length; i > 0 && !origin; i--) origin = res.provenance.get(parts.slice(0, i).join('.'));
  if (origin && origin.file === entry) {
    const r = valueRange(text, origin.from, subject);
    return { ...r, origin };
  }
  if (origin) {
    const base = baseThrough(origin.file, path, text, res, fs, opts);
    if (base) return { from: base.from, to: base.to, origin, base };
  }
  const top = res.assignRanges.get(parts[0]!);
  if (top) return { from: top.from, to: top.to, origin };
  return { from: 0, to: Math.min(1, text.length), origin };
}

/** The `_base_` entry of the entry file through which `file` is read. */
function baseThrough(file: string, path: string, text: string, res: ResolvedConfig, fs: ConfigFS, opts: ResolveOptions): BaseRef | undefined {
  const direct = res.bases.find((b) => b.path === file);
  if (direct) return direct;
  const overlay = new OverlayFS([new MemoryFS({ [normalizePath(path)]: text }), fs]);
  for (const b of res.bases) {
    const r = resolveConfig(b.path, overlay, opts);
    if (r.files.includes(file)) return b;
  }
  return undefined;
}

/** The value written for the key whose name starts at `keyFrom` (following a top-level variable it names). */
function valueRange(text: string, keyFrom: number, subject?: string): { from: number; to: number } {
  const tree = parseCached(text).tree;
  const keyNode = tree.resolveInner(keyFrom, 1);
  let value: SyntaxNode | null = null;
  if ((keyNode.name === 'VariableName' && keyNode.nextSibling?.name === 'AssignOp') || (keyNode.name === 'String' && keyNode.nextSibling?.name === ':')) {
    value = keyNode.nextSibling!.nextSibling;
  }
  if (!value) return { from: keyNode.from, to: Math.max(keyNode.to, keyNode.from + 1) };
  if (value.name === 'VariableName') {
    const name = text.slice(value.from, value.to);
    // the last top-level assignment before the use is the one it reads
    const assigns = children(tree.topNode).filter(
      (s) => s.name === 'AssignStatement' && s.firstChild?.name === 'VariableName' && text.slice(s.firstChild.from, s.firstChild.to) === name && s.to <= keyFrom,
    );
    const last = assigns[assigns.length - 1];
    if (last?.lastChild) value = last.lastChild;
  }
  if (subject !== undefined) {
    const hit = findString(text, value, subject);
    if (hit) return { from: hit.from, to: hit.to };
  }
  return { from: value.from, to: value.to };
}

function findString(text: string, node: SyntaxNode, subject: string): SyntaxNode | undefined {
  if (node.name === 'String') {
    try {
      if (decodeString(text.slice(node.from, node.to)).value === subject) return node;
    } catch {
      return undefined;
    }
    return undefined;
  }
  for (const c of children(node)) {
    const hit = findString(text, c, subject);
    if (hit) return hit;
  }
  return undefined;
}
