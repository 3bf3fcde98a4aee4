/**
 * Editor services over the config language: diagnostics (parse, evaluation and merge errors at their
 * exact range, plus fine-tuning lint), completion of keys valid at the cursor and of registry `type`
 * names, hover with the inherited value and its file, and a diff of the resolved config against the
 * merged bases. Pure functions of (text, path, fs); the Monaco adapter lives in the UI.
 */
import type { SyntaxNode } from '@lezer/common';
import { formatConfigError, type ConfigError } from './errors.ts';
import { MemoryFS, OverlayFS, basename, normalizePath, type ConfigFS } from './fs.ts';
import { lintConfig } from './lint.ts';
import { resolveConfig, type Origin, type ResolveOptions, type ResolveResult, type ResolvedConfig } from './loader.ts';
import { children, decodeString } from './parser.ts';
import { parseCached } from './loader.ts';
import { formatValue } from './pretty.ts';
import { PyDict, PyTuple, getPath, pyEquals, type PyValue } from './values.ts';

/** A one-click edit that fixes a diagnostic. */
export interface QuickFix {
  title: string;
  from: number;
  to: number;
  /** Text replacing `from..to`. */
  insert: string;
}

/** A problem in the edited text. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  from: number;
  to: number;
  /** `SyntaxError`, `KeyError`… for errors; the lint rule id for warnings. */
  code?: string;
  quickFix?: QuickFix;
}

/** Options shared by the editor services. */
export interface EditorOptions extends ResolveOptions {
  /** Registered `type` names offered when completing `type='...'`. */
  typeNames?: readonly string[];
}

/** Resolves `text` as the content of `path` (overlaying `fs`). */
export function resolveText(text: string, path: string, fs: ConfigFS, opts: ResolveOptions = {}): ResolveResult {
  const overlay = new OverlayFS([new MemoryFS({ [normalizePath(path)]: text }), fs]);
  return resolveConfig(path, overlay, opts);
}

function widen(text: string, from: number, to: number): { from: number; to: number } {
  if (to > from) return { from, to };
  if (from < text.length && text[from] !== '\n') return { from, to: from + 1 };
  return { from: Math.max(0, from - 1), to: from };
}

/** The error as a diagnostic in the entry file (errors inside a base show at the `_base_` entry). */
export function errorDiagnostic(err: ConfigError, text: string, path: string): Diagnostic {
  const entry = normalizePath(path);
  if (err.file === entry) {
    return { severity: 'error', message: `${err.name}: ${err.message}`, ...widen(text, err.from, err.to), code: err.name };
  }
  if (err.via && err.via.file === entry) {
    return {
      severity: 'error',
      message: `${err.name} in ${basename(err.file)} (${err.file}:${err.line}:${err.col}): ${err.message}`,
      ...widen(text, err.via.from, err.via.to),
      code: err.name,
    };
  }
  return { severity: 'error', message: formatConfigError(err), from: 0, to: Math.min(1, text.length), code: err.name };
}

/** Parse, evaluation, merge errors and fine-tuning lint warnings of a config being edited. */
export function diagnostics(text: string, path: string, fs: ConfigFS, opts: EditorOptions = {}): Diagnostic[] {
  const res = resolveText(text, path, fs, opts);
  if (!res.ok) return [errorDiagnostic(res.error, text, path)];
  return lintConfig(text, path, res);
}

// ------------------------------------------------------------------ cursor context

/** Where the cursor is in terms of config keys. */
export interface KeyContext {
  /** Path of the dict the cursor is in (`[]` = top level). */
  path: (string | number)[];
  /** Keys already written in that dict. */
  present: string[];
  /** The key under / before the cursor, if the cursor is on a key or its value. */
  key?: string;
  /** Range of that key's name. */
  keyFrom?: number;
  keyTo?: number;
  /** True when the cursor is inside the string value of `type=`. */
  inTypeValue: boolean;
  /** True when the cursor is on a value (not a key position). */
  onValue: boolean;
}

function text(src: string, n: SyntaxNode): string {
  return src.slice(n.from, n.to);
}

function isDictCall(src: string, call: SyntaxNode): boolean {
  return call.name === 'CallExpression' && call.firstChild?.name === 'VariableName' && text(src, call.firstChild) === 'dict';
}

/** Key of `node` (a value) inside its container, and the container. */
function keyOfValue(src: string, node: SyntaxNode): { key?: string | number; container?: SyntaxNode; keyNode?: SyntaxNode } {
  const p = node.parent;
  if (!p) return {};
  const sibs = children(p);
  const i = sibs.findIndex((s) => s.from === node.from && s.to === node.to);
  if (p.name === 'ArgList') {
    if (i >= 2 && sibs[i - 1].name === 'AssignOp' && sibs[i - 2].name === 'VariableName') return { key: text(src, sibs[i - 2]), container: p.parent!, keyNode: sibs[i - 2] };
    return {};
  }
  if (p.name === 'DictionaryExpression') {
    if (i >= 2 && sibs[i - 1].name === ':' && sibs[i - 2].name === 'String') return { key: decodeString(text(src, sibs[i - 2])).value, container: p, keyNode: sibs[i - 2] };
    return {};
  }
  if (p.name === 'ArrayExpression' || p.name === 'TupleExpression') {
    const items = sibs.slice(1, -1).filter((s) => s.name !== ',');
    const j = items.findIndex((s) => s.from === node.from);
    return { key: j, container: p };
  }
  if (p.name === 'AssignStatement' && p.parent?.name === 'Script') {
    const first = sibs[0];
    if (first.name === 'VariableName' && i === sibs.length - 1) return { key: text(src, first), container: p, keyNode: first };
  }
  return {};
}

/** Path of a container node (dict call / dict literal / list) from the top level. */
function containerPath(src: string, node: SyntaxNode): (string | number)[] | undefined {
  const out: (string | number)[] = [];
  let cur: SyntaxNode = node;
  for (let guard = 0; guard < 200; guard++) {
    const { key, container } = keyOfValue(src, cur);
    if (key === undefined || !container) return undefined;
    out.unshift(key);
    if (container.name === 'AssignStatement') return out;
    cur = container;
  }
  return undefined;
}

function presentKeys(src: string, container: SyntaxNode): string[] {
  if (container.name === 'CallExpression') {
    const args = container.lastChild;
    if (!args) return [];
    const c = children(args);
    return c.filter((x, i) => x.name === 'VariableName' && c[i + 1]?.name === 'AssignOp').map((x) => text(src, x));
  }
  if (container.name === 'DictionaryExpression') {
    const c = children(container);
    return c.filter((x, i) => x.name === 'String' && c[i + 1]?.name === ':').map((x) => decodeString(text(src, x)).value);
  }
  if (container.name === 'Script') {
    return children(container)
      .filter((s) => s.name === 'AssignStatement' && s.firstChild?.name === 'VariableName')
      .map((s) => text(src, s.firstChild!));
  }
  return [];
}

/** Computes the key context at `offset` in `src`. */
export function keyContextAt(src: string, offset: number): KeyContext {
  const tree = parseCached(src).tree;
  let node: SyntaxNode | null = tree.resolveInner(offset, -1);
  let inTypeValue = false;
  let onValue = false;
  let key: string | undefined;
  let keyFrom: number | undefined;
  let keyTo: number | undefined;
  // the key or value under the cursor
  for (let n: SyntaxNode | null = node; n; n = n.parent) {
    if (n.name === 'VariableName' && n.parent?.name === 'ArgList' && n.nextSibling?.name === 'AssignOp') {
      key = text(src, n);
      keyFrom = n.from;
      keyTo = n.to;
      break;
    }
    const k = keyOfValue(src, n);
    if (typeof k.key === 'string' && k.container && k.container.name !== 'AssignStatement') {
      key = k.key;
      keyFrom = k.keyNode?.from;
      keyTo = k.keyNode?.to;
      onValue = true;
      if (key === 'type' && (n.name === 'String' || n.type.isError)) inTypeValue = true;
      break;
    }
    if (n.name === 'ArgList' || n.name === 'DictionaryExpression' || n.name === 'Script') break;
  }
  // the innermost dict container around the cursor
  let container: SyntaxNode | null = null;
  for (let n: SyntaxNode | null = node; n; n = n.parent) {
    if (n.name === 'ArgList' && n.parent && isDictCall(src, n.parent) && offset > n.from) {
      if (onValue && keyFrom !== undefined && keyFrom >= n.from && keyFrom < n.to) {
        container = n.parent;
        break;
      }
      if (!onValue) {
        container = n.parent;
        break;
      }
    }
    if (n.name === 'DictionaryExpression' && offset > n.from) {
      container = n;
      break;
    }
  }
  node = null;
  if (!container) {
    const script = tree.topNode;
    return { path: [], present: presentKeys(src, script), key, keyFrom, keyTo, inTypeValue, onValue };
  }
  const path = containerPath(src, container) ?? [];
  return { path, present: presentKeys(src, container), key, keyFrom, keyTo, inTypeValue, onValue };
}

// ------------------------------------------------------------------ completion

/** A completion proposal. */
export interface CompletionItem {
  label: string;
  kind: 'key' | 'type';
  /** The inherited value (keys) or the registry (types). */
  detail?: string;
  /** Text to insert (`num_classes=` for keys). */
  insertText: string;
}

/** Only the `_base_ = ...` statement (or the read_base imports) of a text that may not parse as a whole. */
export function basesOnlyText(text: string): string | undefined {
  const top = children(parseCached(text).tree.topNode);
  const keep = top.filter(
    (s) =>
      (s.name === 'AssignStatement' && s.firstChild?.name === 'VariableName' && text.slice(s.firstChild.from, s.firstChild.to) === '_base_') ||
      (s.name === 'WithStatement' && /^with\s+read_base\s*\(/.test(text.slice(s.from, s.to))) ||
      (s.name === 'ImportStatement' && /read_base/.test(text.slice(s.from, s.to))),
  );
  if (!keep.length) return undefined;
  return keep.map((s) => text.slice(s.from, s.to)).join('\n') + '\n';
}

function short(s: string, n = 80): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/**
 * Keys valid at the cursor given the merged bases (and the resolved config), or registry `type` names
 * when the cursor is in a `type='...'` string.
 *
 * @param typeNames registered type names (model/transform/hook registries)
 */
export function completionsAt(text: string, offset: number, path: string, fs: ConfigFS, typeNames: readonly string[] = [], opts: ResolveOptions = {}): CompletionItem[] {
  const ctx = keyContextAt(text, offset);
  if (ctx.inTypeValue) return [...typeNames].sort().map((t) => ({ label: t, kind: 'type', insertText: t }));
  if (ctx.onValue) return [];
  const res = resolveText(text, path, fs, opts);
  let sources: PyValue[] = [];
  if (res.ok) sources = [getPath(res.baseCfg, ctx.path) ?? null, getPath(res.cfg, ctx.path) ?? null];
  else {
    // fall back to the bases alone: the `_base_` assignment (or read_base block) of the edited text
    const basesText = basesOnlyText(text);
    if (basesText) {
      const r2 = resolveText(basesText, path, fs, opts);
      if (r2.ok) sources = [getPath(r2.cfg, ctx.path) ?? null];
    }
  }
  const seen = new Set(ctx.present);
  const out: CompletionItem[] = [];
  for (const src of sources) {
    if (!(src instanceof PyDict)) continue;
    for (const [k, v] of src.map) {
      const label = String(k);
      if (seen.has(label)) continue;
      seen.add(label);
      out.push({ label, kind: 'key', detail: short(formatValue(v)), insertText: ctx.path.length || true ? `${label}=` : label });
    }
  }
  if (ctx.path.length === 0) for (const it of out) it.insertText = `${it.label} = `;
  return out;
}

// ------------------------------------------------------------------ hover

/** Hover information for a key. */
export interface HoverInfo {
  from: number;
  to: number;
  /** Dotted key path. */
  path: string;
  /** The resolved value (one line of Python). */
  value?: string;
  /** The value the bases give (undefined: the key is new in this file). */
  inherited?: string;
  /** Where the inherited value is written. */
  inheritedFrom?: Origin;
  /** Where the resolved value is written. */
  origin?: Origin;
  /** Markdown text for the hover. */
  markdown: string;
}

/** Hover for the key under the cursor: its resolved value, the inherited value and the file it comes from. */
export function hoverAt(text: string, offset: number, path: string, fs: ConfigFS, opts: ResolveOptions = {}): HoverInfo | undefined {
  const src = text;
  const tree = parseCached(src).tree;
  const node = tree.resolveInner(offset, 1);
  let keyNode: SyntaxNode | undefined;
  let container: SyntaxNode | undefined;
  if (node.name === 'VariableName' && node.parent?.name === 'ArgList' && node.nextSibling?.name === 'AssignOp' && node.parent.parent && isDictCall(src, node.parent.parent)) {
    keyNode = node;
    container = node.parent.parent;
  } else if (node.name === 'VariableName' && node.parent?.name === 'AssignStatement' && node.parent.parent?.name === 'Script' && node.nextSibling?.name === 'AssignOp') {
    keyNode = node;
  } else if (node.name === 'String' && node.parent?.name === 'DictionaryExpression' && node.nextSibling?.name === ':') {
    keyNode = node;
    container = node.parent;
  }
  if (!keyNode) return baseEntryHover(text, offset, path, fs, opts);
  const key = keyNode.name === 'String' ? decodeString(text.slice(keyNode.from, keyNode.to)).value : text.slice(keyNode.from, keyNode.to);
  const prefix = container ? containerPath(src, container) : [];
  if (!prefix) return undefined;
  const full = [...prefix, key];
  const dotted = full.join('.');
  const res = resolveText(text, path, fs, opts);
  if (!res.ok) return { from: keyNode.from, to: keyNode.to, path: dotted, markdown: `**${dotted}**\n\n(the config does not resolve: ${res.error.name}: ${res.error.message})` };
  const v = getPath(res.cfg, full.map(String));
  const b = getPath(res.baseCfg, full.map(String));
  const inheritedFrom = b !== undefined ? nearestOrigin(res.baseProvenance, full) : undefined;
  const origin = nearestOrigin(res.provenance, full);
  const value = v !== undefined ? formatValue(v) : undefined;
  const inherited = b !== undefined ? formatValue(b) : undefined;
  const lines = [`**${dotted}**`, '', '```python', `${key} = ${short(value ?? '(not in the resolved config)', 400)}`, '```'];
  if (inherited !== undefined) {
    lines.push('', `Inherited: \`${short(inherited, 300)}\``, `from ${inheritedFrom ? `${inheritedFrom.file}:${inheritedFrom.line}` : 'the bases'}`);
    if (v !== undefined && b !== undefined && pyEquals(v, b)) lines.push('', '(same value as the bases)');
  } else lines.push('', 'New key (not in the bases).');
  return { from: keyNode.from, to: keyNode.to, path: dotted, value, inherited, inheritedFrom, origin, markdown: lines.join('\n') };
}

/** Hover on a `_base_` entry: the file it resolves to and the top-level keys it defines. */
function baseEntryHover(text: string, offset: number, path: string, fs: ConfigFS, opts: ResolveOptions): HoverInfo | undefined {
  const res = resolveText(text, path, fs, opts);
  if (!res.ok) return undefined;
  const b = res.bases.find((x) => offset >= x.from && offset <= x.to);
  if (!b) return undefined;
  const base = resolveConfig(b.path, new OverlayFS([new MemoryFS({ [normalizePath(path)]: text }), fs]), opts);
  const keys = base.ok ? base.cfg.keys().map((k) => `\`${String(k)}\``).join(', ') : '';
  return { from: b.from, to: b.to, path: '_base_', markdown: `**_base_** → \`${b.path}\`${keys ? `\n\nDefines: ${keys}` : ''}` };
}

function nearestOrigin(prov: Map<string, Origin>, path: (string | number)[]): Origin | undefined {
  for (let i = path.length; i > 0; i--) {
    const o = prov.get(path.slice(0, i).join('.'));
    if (o) return o;
  }
  return undefined;
}

// ------------------------------------------------------------------ diff

/** One difference between the merged bases and the resolved config. */
export interface DiffEntry {
  /** Dotted key path. */
  path: string;
  kind: 'added' | 'changed' | 'removed';
  /** The bases' value (one line of Python). */
  before?: string;
  /** The resolved value. */
  after?: string;
  /** Where the resolved value is written. */
  origin?: Origin;
}

/** What the child changes relative to its merged bases, key by key (dicts are descended). */
export function diffAgainstBases(text: string, path: string, fs: ConfigFS, opts: ResolveOptions = {}): DiffEntry[] | ConfigError {
  const res = resolveText(text, path, fs, opts);
  if (!res.ok) return res.error;
  return diffResolved(res);
}

/** {@link diffAgainstBases} for an already resolved config (no second resolve). */
export function diffResolved(res: ResolvedConfig): DiffEntry[] {
  const out: DiffEntry[] = [];
  const walk = (a: PyValue | undefined, b: PyValue | undefined, p: string[]): void => {
    if (a instanceof PyDict && b instanceof PyDict) {
      for (const [k, v] of b.map) walk(a.has(k) ? a.get(k) : undefined, v, [...p, String(k)]);
      for (const [k, v] of a.map) if (!b.has(k)) out.push({ path: [...p, String(k)].join('.'), kind: 'removed', before: formatValue(v) });
      return;
    }
    const dotted = p.join('.');
    if (a === undefined) {
      out.push({ path: dotted, kind: 'added', after: formatValue(b ?? null), origin: res.provenance.get(dotted) });
      return;
    }
    if (b === undefined) return;
    const sameKind = (a instanceof PyTuple) === (b instanceof PyTuple) && Array.isArray(a) === Array.isArray(b);
    if (!sameKind || !pyEquals(a, b)) out.push({ path: dotted, kind: 'changed', before: formatValue(a), after: formatValue(b), origin: nearestOrigin(res.provenance, p) });
  };
  walk(res.baseCfg, res.cfg, []);
  return out;
}
