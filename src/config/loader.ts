/**
 * `Config.fromfile` for DetStudio: reads a config and its `_base_` chain through a {@link ConfigFS},
 * substitutes `{{fileDirname}}`-style and `{{_base_.x}}` text, evaluates each file (classic or
 * pure-Python `read_base` style), merges children into bases with MMEngine's rules, applies
 * `--cfg-options`, and records where every key came from.
 *
 * @see mmengine/config/config.py (MMEngine 0.11) — semantics re-implemented, not ported.
 */
import type { SyntaxNode } from '@lezer/common';
import { PyException, locate, type ConfigError, type SourceLocation } from './errors.ts';
import { SUBSET_ERROR, evaluateModule, newBudget, type Budget, type Range } from './evaluator.ts';
import { basename, dirname, extname, joinPath, normalizePath, type ConfigFS } from './fs.ts';
import { mergeAIntoB, mergeFromDict, parseCfgOptions, type MergeTrace } from './merge.ts';
import { children, parsePython, type ParsedPython } from './parser.ts';
import { PyCallable, PyDict, PyTuple, deepCopy, fromJSON, markConfigDict, repr, typeName, type DictKey, type PyValue } from './values.ts';

/** Where a key of the resolved config was last written. */
export interface Origin extends SourceLocation {}

/** Options of {@link resolveConfig}. */
export interface ResolveOptions {
  /** `--cfg-options` as `KEY=VALUE` strings (parsed like MMEngine's DictAction) or already parsed values. */
  cfgOptions?: string[] | Map<string, PyValue>;
  /** Folder `mmdet::` paths resolve into (default `/builtin/configs`). */
  builtinRoot?: string;
  /** Evaluation limits (default {@link newBudget}). */
  budget?: Budget;
  /** Environment for `{{$NAME:default}}` (the CLI passes `process.env`; the browser has none). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A `_base_` entry of the entry file. */
export interface BaseRef {
  /** The entry as written. */
  entry: string;
  /** Resolved, normalised path. */
  path: string;
  /** Range of the entry's string in the entry file. */
  from: number;
  to: number;
}

/** A successful resolve. */
export interface ResolvedConfig {
  ok: true;
  /** The resolved config (`Config._cfg_dict`), ordered, tuples kept. */
  cfg: PyDict;
  /** Dotted key path (`'model.roi_head.bbox_head.num_classes'`) → where it was last written. */
  provenance: Map<string, Origin>;
  /** The merged bases of the entry file (what the child inherits), before the child is merged. */
  baseCfg: PyDict;
  /** Provenance inside {@link baseCfg}. */
  baseProvenance: Map<string, Origin>;
  /** The entry file's `_base_` entries (or `read_base` imports). */
  bases: BaseRef[];
  /** Every file read, entry first. */
  files: string[];
  /** Top-level names the entry file assigns → range of the assignment target. */
  assignRanges: Map<string, Range>;
  /** Evaluation mode of the entry file. */
  mode: 'classic' | 'lazy';
}

/** A failed resolve. */
export interface ResolveFailure {
  ok: false;
  error: ConfigError;
  /** Every file read before the failure. */
  files: string[];
}

/** Result of {@link resolveConfig}. */
export type ResolveResult = ResolvedConfig | ResolveFailure;

/** Top-level keys `Config` refuses. */
export const RESERVED_KEYS = ['filename', 'text', 'pretty_text', 'env_variables'];

const PREDEFINED = /\{\{\s*(fileDirname|fileBasename|fileBasenameNoExtension|fileExtname)\s*\}\}/g;
const ENV_VAR = /\{\{['"]?\s*\$(\w+)\s*:\s*(\S*?)\s*['"]?\}\}/g;
const BASE_VAR = /\{\{\s*_base_\.([\w.]+)\s*\}\}/g;

interface Edit {
  from: number;
  to: number;
  newFrom: number;
  newTo: number;
}

/** Text after `{{...}}` substitution, with a map back to the original offsets. */
interface SubstText {
  text: string;
  edits: Edit[];
  /** Placeholder string → dotted `_base_` path and original range. */
  placeholders: Map<string, { path: string; from: number; to: number }>;
}

function substitute(orig: string, file: string, env?: Readonly<Record<string, string | undefined>>): SubstText {
  const repl: { from: number; to: number; text: string; base?: string }[] = [];
  const dir = dirname(file);
  const base = basename(file);
  const ext = extname(file);
  const values: Record<string, string> = {
    fileDirname: dir,
    fileBasename: base,
    fileBasenameNoExtension: ext ? base.slice(0, -ext.length) : base,
    fileExtname: ext,
  };
  for (const m of orig.matchAll(PREDEFINED)) repl.push({ from: m.index!, to: m.index! + m[0].length, text: values[m[1]] });
  for (const m of orig.matchAll(ENV_VAR)) {
    const value = env?.[m[1]] ?? m[2];
    if (!value) {
      throw new PyException('KeyError', repr(`\`${m[1]}\` cannot be found in \`os.environ\`. Please set \`${m[1]}\` in environment or give a default value.`), m.index!, m.index! + m[0].length);
    }
    repl.push({ from: m.index!, to: m.index! + m[0].length, text: value });
  }
  let k = 0;
  for (const m of orig.matchAll(BASE_VAR)) repl.push({ from: m.index!, to: m.index! + m[0].length, text: '', base: m[1] });
  repl.sort((a, b) => a.from - b.from);
  const placeholders = new Map<string, { path: string; from: number; to: number }>();
  if (!repl.length) return { text: orig, edits: [], placeholders };
  let out = '';
  let pos = 0;
  const edits: Edit[] = [];
  for (const r of repl) {
    if (r.from < pos) continue;
    out += orig.slice(pos, r.from);
    let text = r.text;
    if (r.base !== undefined) {
      const ph = `_${r.base}_detstudio${(k++).toString(16).padStart(6, '0')}`;
      placeholders.set(ph, { path: r.base, from: r.from, to: r.to });
      text = `"${ph}"`;
    }
    edits.push({ from: r.from, to: r.to, newFrom: out.length, newTo: out.length + text.length });
    out += text;
    pos = r.to;
  }
  out += orig.slice(pos);
  return { text: out, edits, placeholders };
}

function mapBack(s: SubstText, pos: number): number {
  let delta = 0;
  for (const e of s.edits) {
    if (pos < e.newFrom) break;
    if (pos < e.newTo) return e.from;
    delta = e.to - e.newTo;
  }
  return pos + delta;
}

/** What loading one file gives. */
interface FileResult {
  cfg: PyDict;
  prov: Map<string, Origin>;
  mode: 'classic' | 'lazy' | 'json';
}

const PARSE_CACHE_MAX = 64;
const parseCache = new Map<string, ParsedPython>();

/** Parses with a small LRU cache keyed by text (re-resolving while typing re-parses only the edited file). */
export function parseCached(text: string): ParsedPython {
  const hit = parseCache.get(text);
  if (hit) {
    parseCache.delete(text);
    parseCache.set(text, hit);
    return hit;
  }
  const p = parsePython(text);
  parseCache.set(text, p);
  if (parseCache.size > PARSE_CACHE_MAX) parseCache.delete(parseCache.keys().next().value!);
  return p;
}

function pathKey(path: DictKey[]): string {
  return path.join('.');
}

/** Replaces placeholder strings that are whole values by deep copies of the base value. */
function substituteBaseVars(v: PyValue, s: SubstText, base: PyDict): PyValue {
  if (typeof v === 'string') {
    const ph = s.placeholders.get(v);
    if (!ph) return v;
    let cur: PyValue = base;
    for (const key of ph.path.split('.')) {
      if (!(cur instanceof PyDict) || !cur.has(key)) throw new PyException('KeyError', repr(key), ph.from, ph.to);
      cur = cur.get(key)!;
    }
    return deepCopy(cur);
  }
  if (v instanceof PyDict) {
    for (const [k, x] of v.map) v.set(k, substituteBaseVars(x, s, base));
    return v;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = substituteBaseVars(v[i], s, base);
    return v;
  }
  if (v instanceof PyTuple) return new PyTuple(v.items.map((x) => substituteBaseVars(x, s, base)));
  return v;
}

class Loader {
  readonly texts = new Map<string, string>();
  readonly files: string[] = [];
  readonly budget: Budget;
  readonly builtinRoot: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  entryInfo?: { baseCfg: PyDict; baseProv: Map<string, Origin>; bases: BaseRef[]; assignRanges: Map<string, Range>; mode: 'classic' | 'lazy' };

  constructor(
    private readonly fs: ConfigFS,
    opts: ResolveOptions,
  ) {
    this.budget = opts.budget ?? newBudget();
    this.builtinRoot = opts.builtinRoot ?? '/builtin/configs';
    this.env = opts.env;
  }

  private readonly lineStarts = new Map<string, number[]>();

  private origin(file: string, from: number, to: number): Origin {
    let starts = this.lineStarts.get(file);
    if (!starts) {
      const text = this.texts.get(file) ?? '';
      starts = [0];
      for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
      this.lineStarts.set(file, starts);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= from) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, col: from - starts[lo] + 1, from, to };
  }

  /** Resolves a `_base_` entry (or read_base module) to [message path, normalised path]. */
  private resolveEntry(file: string, entry: string, r: Range): [string, string] {
    const scoped = /^(\w+)::(.*)$/.exec(entry);
    if (scoped) {
      if (scoped[1] !== 'mmdet') {
        throw new PyException('ConfigParsingError', `Cannot resolve '${entry}': only the built-in 'mmdet::' config tree is available in DetStudio`, r.from, r.to);
      }
      const p = joinPath(this.builtinRoot, scoped[2]);
      return [p, normalizePath(p)];
    }
    const p = joinPath(dirname(file), entry);
    return [p, normalizePath(p)];
  }

  /** Loads one file; errors are PyExceptions with `file` set. */
  load(path: string, chain: string[], via: SourceLocation | undefined, shown: string): FileResult {
    const text = this.fs.read(path);
    if (text === undefined) throw new PyException('FileNotFoundError', `[Errno 2] No such file or directory: ${repr(shown)}`);
    if (chain.includes(path)) {
      throw new PyException('ConfigParsingError', `Cyclic _base_ inheritance: ${[...chain, path].map((p) => basename(p)).join(' -> ')}`);
    }
    if (chain.length > 32) throw new PyException('RecursionError', 'maximum recursion depth exceeded (the _base_ chain is deeper than 32 files)');
    this.texts.set(path, text);
    if (!this.files.includes(path)) this.files.push(path);
    try {
      const ext = extname(path);
      if (ext === '.json') return this.loadJson(path, text);
      if (ext === '.yaml' || ext === '.yml') throw new PyException(SUBSET_ERROR, 'YAML configs are not supported in DetStudio (use .py or .json)', 0, 0);
      if (ext !== '.py') throw new PyException('OSError', 'Only py/yml/yaml/json type are supported now!', 0, 0);
      return this.loadPy(path, text, [...chain, path], via);
    } catch (e) {
      if (e instanceof PyException && e.file === undefined) {
        e.file = path;
        if (via) e.via = via;
      }
      throw e;
    }
  }

  private loadJson(path: string, text: string): FileResult {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new PyException('JSONDecodeError', (e as Error).message, 0, Math.min(1, text.length));
    }
    const cfg = fromJSON(j);
    if (!(cfg instanceof PyDict)) throw new PyException('TypeError', 'a JSON config must hold an object', 0, text.length);
    markConfigDict(cfg);
    const prov = new Map<string, Origin>();
    const o = this.origin(path, 0, 0);
    const walk = (v: PyValue, p: DictKey[]): void => {
      if (!(v instanceof PyDict)) return;
      for (const [k, x] of v.map) {
        prov.set(pathKey([...p, k]), o);
        walk(x, [...p, k]);
      }
    };
    walk(cfg, []);
    return { cfg, prov, mode: 'json' };
  }

  private loadPy(path: string, orig: string, chain: string[], via: SourceLocation | undefined): FileResult {
    const sub = substitute(orig, path, this.env);
    const back = (e: unknown): unknown => {
      if (e instanceof PyException && e.file === undefined && e.from !== undefined && sub.edits.length) {
        const f = mapBack(sub, e.from);
        e.to = Math.max(f, mapBack(sub, e.to ?? e.from));
        e.from = f;
      }
      return e;
    };
    const parsed = parseCached(sub.text);
    if (parsed.syntaxError) {
      const se = parsed.syntaxError;
      const msg = se.pyName ? se.msg : `${se.msg} (<unknown>, line ${se.line})`;
      throw back(new PyException(se.pyName ?? 'SyntaxError', msg, se.from, se.to));
    }
    const top = children(parsed.tree.topNode);
    const baseStmt = top.find((s) => s.name === 'AssignStatement' && s.firstChild?.name === 'VariableName' && sub.text.slice(s.firstChild.from, s.firstChild.to) === '_base_' && s.firstChild.nextSibling?.name === 'AssignOp');
    const lazy = !baseStmt && top.some((s) => s.name === 'WithStatement' || (s.name === 'ImportStatement' && s.firstChild?.name === 'from'));
    const isEntry = chain.length === 1;
    const keyRanges = new WeakMap<PyDict, Map<DictKey, Range>>();
    try {
      if (lazy) return this.loadLazy(path, parsed, sub, chain, via, keyRanges, isEntry);
      return this.loadClassic(path, parsed, sub, chain, via, baseStmt, keyRanges, isEntry);
    } catch (e) {
      throw back(e);
    }
  }

  private recordChildProv(
    path: string,
    sub: SubstText,
    value: PyValue,
    prefix: DictKey[],
    range: Range,
    keyRanges: WeakMap<PyDict, Map<DictKey, Range>>,
    prov: Map<string, Origin>,
    depth = 0,
  ): void {
    prov.set(pathKey(prefix), this.origin(path, mapBack(sub, range.from), mapBack(sub, range.to)));
    if (!(value instanceof PyDict) || depth > 64) return;
    const kr = keyRanges.get(value);
    for (const [k, x] of value.map) this.recordChildProv(path, sub, x, [...prefix, k], kr?.get(k) ?? range, keyRanges, prov, depth + 1);
  }

  private loadClassic(
    path: string,
    parsed: ParsedPython,
    sub: SubstText,
    chain: string[],
    via: SourceLocation | undefined,
    baseStmt: SyntaxNode | undefined,
    keyRanges: WeakMap<PyDict, Map<DictKey, Range>>,
    isEntry: boolean,
  ): FileResult {
    let baseCfg = new PyDict(undefined, true);
    let baseProv = new Map<string, Origin>();
    const bases: BaseRef[] = [];
    const skip = new Set<number>();
    if (baseStmt) {
      skip.add(baseStmt.from);
      const parts = children(baseStmt);
      const valueNode = parts[parts.length - 1];
      const entries = this.baseEntries(valueNode, parsed.text);
      for (const ent of entries) {
        const [shown, norm] = this.resolveEntry(path, ent.entry, ent);
        const entFrom = mapBack(sub, ent.from);
        const entTo = mapBack(sub, ent.to);
        const entryVia = via ?? (isEntry ? this.origin(path, entFrom, entTo) : undefined);
        bases.push({ entry: ent.entry, path: norm, from: entFrom, to: entTo });
        let res: FileResult;
        try {
          res = this.load(norm, chain, entryVia, shown);
        } catch (e) {
          if (e instanceof PyException && e.file === undefined) {
            e.from = ent.from;
            e.to = ent.to;
          }
          throw e;
        }
        if (res.mode === 'lazy') {
          throw new PyException(
            'RuntimeError',
            `The configuration file type in the inheritance chain must match the current configuration file type, either "lazy_import" or non-"lazy_import". You got this error since you use the syntax like \`with read_base(): ...\` or import non-builtin module in ${norm}. See more information in https://mmengine.readthedocs.io/en/latest/advanced_tutorials/config.html`,
            ent.from,
            ent.to,
          );
        }
        const dup = res.cfg.keys().filter((k) => baseCfg.has(k));
        if (dup.length) {
          throw new PyException('KeyError', repr(`Duplicate key is not allowed among bases. Duplicate keys: {${dup.map((k) => repr(k)).join(', ')}}`), ent.from, ent.to);
        }
        for (const [k, v] of res.cfg.map) baseCfg.set(k, v);
        for (const [k, o] of res.prov) baseProv.set(k, o);
      }
    }
    markConfigDict(baseCfg);
    const initial = new Map<string, PyValue>([['_base_', baseCfg]]);
    const mod = evaluateModule(parsed, { mode: 'classic', budget: this.budget, keyRanges, skip }, initial);
    const child = new PyDict(undefined, true);
    for (const [k, v] of mod.globals) {
      // like MMEngine: `__` names, modules and functions are not config values
      if (k === '_base_' || k.startsWith('__') || mod.excluded.has(k) || v instanceof PyCallable) continue;
      child.set(k, v);
    }
    if (sub.placeholders.size) for (const [k, v] of child.map) child.set(k, substituteBaseVars(v, sub, baseCfg));
    const topRanges = new Map<DictKey, Range>();
    for (const [k, r] of mod.assignRanges) topRanges.set(k, r);
    keyRanges.set(child, topRanges);
    const prov = new Map(baseProv);
    const trace: MergeTrace = (p, d, key, wholesale) => {
      const r = keyRanges.get(d)?.get(key);
      if (!r) return;
      const k = pathKey(p);
      if (wholesale) {
        for (const old of [...prov.keys()]) if (old.startsWith(k + '.')) prov.delete(old);
        this.recordChildProv(path, sub, d.get(key) ?? null, p, r, keyRanges, prov);
      } else prov.set(k, this.origin(path, mapBack(sub, r.from), mapBack(sub, r.to)));
    };
    const merged = mergeAIntoB(child, baseCfg, { trace, rangeOf: (d, k) => keyRanges.get(d)?.get(k) }) as PyDict;
    for (const k of merged.keys()) if (typeof k === 'string' && k.startsWith('__')) merged.delete(k);
    merged.delete('_deprecation_');
    markConfigDict(merged);
    if (isEntry) {
      const ar = new Map<string, Range>();
      for (const [k, r] of mod.assignRanges) ar.set(k, { from: mapBack(sub, r.from), to: mapBack(sub, r.to) });
      this.entryInfo = { baseCfg: deepCopy(baseCfg) as PyDict, baseProv, bases, assignRanges: ar, mode: 'classic' };
    }
    return { cfg: merged, prov, mode: 'classic' };
  }

  private baseEntries(node: SyntaxNode, text: string): { entry: string; from: number; to: number }[] {
    // MMEngine evaluates the right-hand side of `_base_ = ...`: a str or a list of str.
    const rhs = `_base_ = ${text.slice(node.from, node.to)}\n`;
    const mod = evaluateModule(parseCached(rhs), { mode: 'classic', budget: newBudget(10_000, 10_000, 50) });
    const v = mod.globals.get('_base_') ?? null;
    const items = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [v];
    const strNodes: SyntaxNode[] = [];
    if (node.name === 'ArrayExpression') for (const c of children(node)) if (c.name === 'String' || c.name === 'ContinuedString') strNodes.push(c);
    return items.map((it, i) => {
      const at = strNodes[i] ?? node;
      if (typeof it !== 'string') {
        throw new PyException('TypeError', `join() argument must be str, bytes, or os.PathLike object, not '${typeName(it)}'`, at.from, at.to);
      }
      return { entry: it, from: at.from, to: at.to };
    });
  }

  private loadLazy(
    path: string,
    parsed: ParsedPython,
    sub: SubstText,
    chain: string[],
    via: SourceLocation | undefined,
    keyRanges: WeakMap<PyDict, Map<DictKey, Range>>,
    isEntry: boolean,
  ): FileResult {
    const prov = new Map<string, Origin>();
    const bases: BaseRef[] = [];
    const baseCfg = new PyDict(undefined, true);
    const importBase = (module: string, level: number, node: SyntaxNode): Map<string, PyValue> => {
      if (level === 0) {
        throw new PyException(SUBSET_ERROR, `absolute read_base imports ('${module}') are not supported; use a relative import such as 'from .._base_.x import *'`, node.from, node.to);
      }
      let dir = dirname(path);
      for (let i = 1; i < level; i++) dir = dirname(dir);
      const file = `${joinPath(dir, module.split('.').join('/'))}.py`;
      const norm = normalizePath(file);
      const from = mapBack(sub, node.from);
      const to = mapBack(sub, node.to);
      bases.push({ entry: `${'.'.repeat(level)}${module}`, path: norm, from, to });
      const entryVia = via ?? (isEntry ? this.origin(path, from, to) : undefined);
      let res: FileResult;
      try {
        res = this.load(norm, chain, entryVia, file);
      } catch (e) {
        if (e instanceof PyException && e.file === undefined) {
          e.from = node.from;
          e.to = node.to;
          if (e.pyName === 'FileNotFoundError') {
            const m = new PyException('ModuleNotFoundError', `No module named '${module}' (looked for ${file})`, node.from, node.to);
            throw m;
          }
        }
        throw e;
      }
      if (res.mode === 'classic' && this.fs.read(norm)?.match(/^_base_\s*=/m)) {
        throw new PyException(
          'ConfigParsingError',
          'The configuration file type in the inheritance chain must match the current configuration file type, either "lazy_import" or non-"lazy_import". You got this error since you use the syntax like `_base_ = "_base_"` in your config. You should use `with read_base(): ... to` mark the inherited config file. See more information in https://mmengine.readthedocs.io/en/latest/advanced_tutorials/config.html',
          node.from,
          node.to,
        );
      }
      for (const [k, v] of res.cfg.map) baseCfg.set(k, v);
      const names = new Map<string, PyValue>();
      for (const [k, v] of res.cfg.map) if (typeof k === 'string') names.set(k, v);
      for (const [k, o] of res.prov) prov.set(k, o);
      return names;
    };
    const mod = evaluateModule(parsed, { mode: 'lazy', budget: this.budget, keyRanges, importBase }, new Map());
    const cfg = new PyDict(undefined, true);
    for (const [k, v] of mod.globals) {
      if (k.startsWith('__') || mod.excluded.has(k) || v instanceof PyCallable) continue;
      cfg.set(k, v);
    }
    for (const k of [...prov.keys()]) if (!cfg.has(k.split('.')[0])) prov.delete(k);
    for (const [k, r] of mod.assignRanges) {
      if (!cfg.has(k)) continue;
      const stmt = mod.statementRanges.get(k);
      const isImport = stmt && parsed.text.slice(stmt.from, stmt.to).startsWith('from');
      if (isImport) continue;
      for (const old of [...prov.keys()]) if (old === k || old.startsWith(k + '.')) prov.delete(old);
      this.recordChildProv(path, sub, cfg.get(k)!, [k], r, keyRanges, prov);
    }
    cfg.delete('_deprecation_');
    markConfigDict(cfg);
    if (isEntry) {
      const ar = new Map<string, Range>();
      for (const [k, r] of mod.assignRanges) ar.set(k, { from: mapBack(sub, r.from), to: mapBack(sub, r.to) });
      this.entryInfo = { baseCfg: deepCopy(baseCfg) as PyDict, baseProv: new Map(prov), bases, assignRanges: ar, mode: 'lazy' };
    }
    return { cfg, prov, mode: 'lazy' };
  }

  toConfigError(e: unknown, entry: string): ConfigError {
    if (e instanceof PyException) {
      const file = e.file ?? entry;
      const text = this.texts.get(file) ?? '';
      const from = Math.max(0, Math.min(e.from ?? 0, text.length));
      const to = Math.max(from, Math.min(e.to ?? from, text.length));
      const loc = locate(file, text, from, to);
      const err: ConfigError = { name: e.pyName, message: e.message, ...loc };
      if (e.via && file !== entry) err.via = e.via;
      return err;
    }
    if (e instanceof RangeError && /Invalid (string|array) length/.test(e.message)) {
      return { name: 'MemoryError', message: `the config builds a value too large to hold (${e.message})`, ...locate(entry, this.texts.get(entry) ?? '', 0, 0) };
    }
    if (e instanceof RangeError) {
      return { name: 'RecursionError', message: `maximum recursion depth exceeded (${e.message})`, ...locate(entry, this.texts.get(entry) ?? '', 0, 0) };
    }
    // a bug of DetStudio, not of the config: still a diagnostic, never a crash of the editor
    return { name: 'InternalError', message: `DetStudio failed to evaluate this config: ${e instanceof Error ? e.message : String(e)}`, ...locate(entry, this.texts.get(entry) ?? '', 0, 0) };
  }
}

/**
 * Resolves a config file like MMEngine's `Config.fromfile(path)` followed by
 * `cfg.merge_from_dict(cfg_options)` (as MMDetection's tools do).
 *
 * @param path absolute POSIX-like path of the entry file in `fs`
 * @param fs where config files are read from
 * @param opts `cfgOptions`, `builtinRoot` for `mmdet::`, evaluation budget
 * @returns the resolved config and the provenance of every key, or the first error (never throws for
 *   config errors)
 */
export function resolveConfig(path: string, fs: ConfigFS, opts: ResolveOptions = {}): ResolveResult {
  const loader = new Loader(fs, opts);
  const entry = normalizePath(path);
  try {
    const res = loader.load(entry, [], undefined, path);
    let cfg = res.cfg;
    const prov = res.prov;
    for (const k of RESERVED_KEYS) {
      if (cfg.has(k)) {
        const o = prov.get(k);
        throw Object.assign(new PyException('KeyError', repr(`${k} is reserved for config file`), o?.from, o?.to), { file: o?.file ?? entry });
      }
    }
    if (opts.cfgOptions) {
      const options = Array.isArray(opts.cfgOptions) ? parseCfgOptions(opts.cfgOptions) : opts.cfgOptions;
      const origin: Origin = { file: '--cfg-options', line: 1, col: 1, from: 0, to: 0 };
      cfg = mergeFromDict(cfg, options, (p, _d, _k, wholesale) => {
        const k = pathKey(p);
        if (wholesale) for (const old of [...prov.keys()]) if (old.startsWith(k + '.')) prov.delete(old);
        prov.set(k, origin);
      });
      markConfigDict(cfg);
    }
    const info = loader.entryInfo!;
    return {
      ok: true,
      cfg,
      provenance: prov,
      baseCfg: info.baseCfg,
      baseProvenance: info.baseProv,
      bases: info.bases,
      files: loader.files,
      assignRanges: info.assignRanges,
      mode: info.mode,
    };
  } catch (e) {
    if (e instanceof PyException && e.file === undefined && opts.cfgOptions) {
      const err = { name: e.pyName, message: e.message, file: '--cfg-options', line: 1, col: 1, from: 0, to: 0 };
      return { ok: false, error: err, files: loader.files };
    }
    return { ok: false, error: loader.toConfigError(e, entry), files: loader.files };
  }
}
