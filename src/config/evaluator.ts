/**
 * Evaluates (never executes) the Python subset MMDetection configs use, on a @lezer/python tree:
 * literals, `dict(...)`, `{}`, lists, tuples, names, attribute and subscript access, arithmetic,
 * comparison, boolean and string operators, slicing, comprehensions, f-strings, conditional
 * expressions, simple `if`/`for` statements, and the pure-Python `with read_base(): from .x import *`
 * style. Calls are limited to `dict` and a few pure builtins plus pure methods of values. Everything
 * is bounded: a value-size budget, a step budget and a nesting-depth limit.
 */
import type { SyntaxNode } from '@lezer/common';
import { PyException } from './errors.ts';
import { children, decodeFStringPiece, decodeNumber, decodeString, isTrailingDotFloat, splitStringLiteral, type ParsedPython } from './parser.ts';
import {
  PyCallable,
  PyDict,
  PyFloat,
  PyLazyObject,
  PyRange,
  PyTuple,
  deepCopy,
  numeric,
  pyEquals,
  repr,
  str,
  truthy,
  typeName,
  type DictKey,
  type PyValue,
} from './values.ts';

/** A source range in the evaluated text. */
export interface Range {
  from: number;
  to: number;
}

/** Limits that keep evaluation bounded. */
export interface Budget {
  /** Max total list/tuple/dict/string elements created. */
  maxCells: number;
  /** Max evaluation steps (expression nodes + loop iterations). */
  maxSteps: number;
  /** Max expression nesting depth. */
  maxDepth: number;
  cells: number;
  steps: number;
}

/** A fresh budget (defaults: 1M cells, 200k steps, depth 500; the Cityscapes config needs ~550 steps). */
export function newBudget(maxCells = 1_000_000, maxSteps = 200_000, maxDepth = 500): Budget {
  return { maxCells, maxSteps, maxDepth, cells: 0, steps: 0 };
}

/** How the names of a `with read_base(): from X import ...` line are resolved (lazy-import style). */
export type ImportBase = (module: string, level: number, node: SyntaxNode) => Map<string, PyValue>;

/** Options of {@link evaluateModule}. */
export interface EvalContext {
  /** `classic` (`_base_ = ...` style) or `lazy` (pure-Python `read_base` style). */
  mode: 'classic' | 'lazy';
  budget: Budget;
  /** Resolves read_base imports (lazy mode). */
  importBase?: ImportBase;
  /** Records where each dict key was written (dict → key → range of `key=` / `'key':`). */
  keyRanges?: WeakMap<PyDict, Map<DictKey, Range>>;
  /** Statements to skip (e.g. the `_base_ = ...` assignment). */
  skip?: Set<number>;
}

/** What evaluating a module gives. */
export interface ModuleResult {
  /** Globals in first-assignment order. */
  globals: Map<string, PyValue>;
  /** Range of the last assignment target of each top-level name. */
  assignRanges: Map<string, Range>;
  /** Range of the whole last assignment statement of each top-level name. */
  statementRanges: Map<string, Range>;
  /** Names left out of the config (imports, `read_base`). */
  excluded: Set<string>;
}

/** Builtins a config may call. */
export const ALLOWED_BUILTINS = [
  'dict', 'list', 'tuple', 'len', 'range', 'min', 'max', 'sum', 'int', 'float', 'str', 'bool', 'abs', 'round', 'sorted', 'zip', 'enumerate',
] as const;

const KNOWN_PYTHON_BUILTINS = new Set([
  'open', 'eval', 'exec', '__import__', 'print', 'getattr', 'setattr', 'delattr', 'type', 'isinstance', 'issubclass', 'input', 'compile',
  'globals', 'locals', 'vars', 'dir', 'hasattr', 'map', 'filter', 'set', 'frozenset', 'any', 'all', 'reversed', 'ord', 'chr', 'hex', 'oct',
  'bin', 'pow', 'divmod', 'id', 'hash', 'iter', 'next', 'object', 'super', 'property', 'format', 'repr', 'breakpoint', 'exit', 'quit',
  'memoryview', 'bytearray', 'bytes', 'callable', 'classmethod', 'staticmethod', 'slice', 'complex', 'help',
]);

const DICT_METHODS = new Set(['keys', 'values', 'items', 'get', 'copy', 'update', 'pop', 'setdefault']);
const CONFIGDICT_METHODS = new Set(['merge', 'to_dict']);
const LIST_METHODS = new Set(['append', 'extend', 'insert', 'pop', 'index', 'count', 'copy', 'remove', 'reverse', 'sort']);
const TUPLE_METHODS = new Set(['index', 'count']);
const STR_METHODS = new Set([
  'format', 'join', 'replace', 'split', 'rsplit', 'strip', 'lstrip', 'rstrip', 'upper', 'lower', 'startswith', 'endswith', 'title',
  'capitalize', 'zfill', 'find', 'count',
]);

/** Error class for constructs outside the evaluated subset. */
export const SUBSET_ERROR = 'ConfigSubsetError';

interface CallArgs {
  pos: PyValue[];
  kw: [string, PyValue][];
}

type Scope = Map<string, PyValue>;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

class Evaluator {
  private readonly globals: Map<string, PyValue>;
  private readonly scopes: Scope[] = [];
  private depth = 0;
  readonly assignRanges = new Map<string, Range>();
  readonly statementRanges = new Map<string, Range>();
  readonly excluded = new Set<string>();

  constructor(
    private readonly src: string,
    private readonly ctx: EvalContext,
    initial: Map<string, PyValue>,
  ) {
    this.globals = new Map(initial);
  }

  // ---------------------------------------------------------------- helpers

  private text(n: SyntaxNode): string {
    return this.src.slice(n.from, n.to);
  }

  private err(name: string, msg: string, n?: SyntaxNode | Range): PyException {
    return new PyException(name, msg, n?.from, n?.to);
  }

  private step(n: SyntaxNode): void {
    const b = this.ctx.budget;
    if (++b.steps > b.maxSteps) {
      throw this.err('MemoryError', `the config takes more than ${b.maxSteps} evaluation steps (DetStudio's limit); is a loop or comprehension too large?`, n);
    }
  }

  private alloc(count: number, n: SyntaxNode | Range): void {
    const b = this.ctx.budget;
    if (!(count <= b.maxCells) || b.cells + count > b.maxCells) {
      throw this.err('MemoryError', `the config builds values of more than ${b.maxCells} elements (DetStudio's limit)`, n);
    }
    b.cells += count;
  }

  private newDict(): PyDict {
    return new PyDict(undefined, this.ctx.mode === 'lazy');
  }

  private recordKey(d: PyDict, k: DictKey, r: Range): void {
    const kr = this.ctx.keyRanges;
    if (!kr) return;
    let m = kr.get(d);
    if (!m) kr.set(d, (m = new Map()));
    m.set(k, r);
  }

  // ---------------------------------------------------------------- statements

  run(script: SyntaxNode): ModuleResult {
    this.runBody(children(script), true);
    return { globals: this.globals, assignRanges: this.assignRanges, statementRanges: this.statementRanges, excluded: this.excluded };
  }

  private runBody(stmts: SyntaxNode[], top: boolean): void {
    for (const s of stmts) {
      if (top && this.ctx.skip?.has(s.from)) continue;
      this.stmt(s, top);
    }
  }

  private stmt(s: SyntaxNode, top: boolean): void {
    this.step(s);
    switch (s.name) {
      case 'AssignStatement':
        return this.assignStmt(s, top);
      case 'UpdateStatement':
        return this.updateStmt(s);
      case 'ExpressionStatement': {
        const c = children(s);
        this.exprGroup(c, s);
        return;
      }
      case 'PassStatement':
        return;
      case 'ImportStatement':
        return this.importStmt(s, false);
      case 'WithStatement':
        return this.withStmt(s);
      case 'IfStatement':
        return this.ifStmt(s);
      case 'ForStatement':
        return this.forStmt(s);
      case 'Body':
        return this.runBody(children(s).filter((c) => c.name !== ':'), false);
      default: {
        if (s.type.isError) throw this.err('SyntaxError', 'invalid syntax', s);
        const what = s.name.replace(/Statement$|Definition$/, '').toLowerCase();
        throw this.err(SUBSET_ERROR, `'${what}' statements are not supported in a config (DetStudio evaluates the MMEngine config subset; it never executes Python)`, s);
      }
    }
  }

  private splitGroups(nodes: SyntaxNode[], sep: string): SyntaxNode[][] {
    const groups: SyntaxNode[][] = [[]];
    for (const n of nodes) {
      if (n.name === sep) groups.push([]);
      else groups[groups.length - 1].push(n);
    }
    return groups;
  }

  private assignStmt(s: SyntaxNode, top: boolean): void {
    const parts = this.splitGroups(children(s).filter((c) => c.name !== 'TypeDef'), 'AssignOp');
    const valueNodes = parts[parts.length - 1];
    const value = this.exprGroup(valueNodes, s);
    for (let i = 0; i < parts.length - 1; i++) this.assignTarget(parts[i], value, s, top);
  }

  /** Evaluates `a` or `a, b, c` (a bare tuple when commas are present). */
  private exprGroup(nodes: SyntaxNode[], at: SyntaxNode): PyValue {
    const items = this.splitGroups(nodes, ',');
    if (items.length === 1) {
      if (items[0].length !== 1) throw this.err('SyntaxError', 'invalid syntax', items[0][1] ?? at);
      return this.expr(items[0][0]);
    }
    if (items[items.length - 1].length === 0) items.pop();
    const vals: PyValue[] = [];
    for (const it of items) this.pushItem(it, vals, at);
    this.alloc(vals.length, at);
    return new PyTuple(vals);
  }

  private pushItem(it: SyntaxNode[], out: PyValue[], at: SyntaxNode): void {
    if (it.length === 2 && it[0].name === '*') out.push(...this.iterate(this.expr(it[1]), it[1]));
    else if (it.length === 1) out.push(this.expr(it[0]));
    else throw this.err('SyntaxError', 'invalid syntax', it[0] ?? at);
  }

  private assignTarget(target: SyntaxNode[], value: PyValue, stmt: SyntaxNode, top: boolean): void {
    const items = this.splitGroups(target, ',');
    if (items.length > 1) {
      if (items[items.length - 1].length === 0) items.pop();
      return this.unpack(items.map((g) => g[0]), value, target[0]);
    }
    const t = items[0][0];
    this.assignOne(t, value, stmt, top);
  }

  private unpack(targets: SyntaxNode[], value: PyValue, at: SyntaxNode): void {
    const vals = this.iterate(value, at);
    if (vals.length !== targets.length) {
      throw this.err('ValueError', vals.length > targets.length ? `too many values to unpack (expected ${targets.length})` : `not enough values to unpack (expected ${targets.length}, got ${vals.length})`, at);
    }
    targets.forEach((t, i) => this.assignOne(t, vals[i], undefined, false));
  }

  private assignOne(t: SyntaxNode, value: PyValue, stmt: SyntaxNode | undefined, top: boolean): void {
    switch (t.name) {
      case 'VariableName': {
        const name = this.text(t);
        if (this.scopes.length) this.scopes[this.scopes.length - 1].set(name, value);
        else {
          this.globals.set(name, value);
          this.excluded.delete(name);
          if (top) {
            this.assignRanges.set(name, { from: t.from, to: t.to });
            if (stmt) this.statementRanges.set(name, { from: stmt.from, to: stmt.to });
          }
        }
        return;
      }
      case 'TupleExpression':
      case 'ArrayExpression':
      case 'ParenthesizedExpression': {
        const inner = children(t).slice(1, -1);
        const groups = this.splitGroups(inner, ',').filter((g) => g.length);
        if (t.name === 'ParenthesizedExpression' && groups.length === 1) return this.assignOne(groups[0][0], value, stmt, top);
        return this.unpack(groups.map((g) => g[0]), value, t);
      }
      case 'MemberExpression': {
        const c = children(t);
        const obj = this.expr(c[0]);
        if (c[1].name === '.') {
          const attr = this.text(c[2]);
          if (obj instanceof PyDict && obj.configDict) {
            obj.set(attr, value);
            return;
          }
          throw this.err('AttributeError', `'${typeName(obj)}' object has no attribute '${attr}'`, c[2]);
        }
        const key = this.subscriptKey(c.slice(2, -1), t);
        if (key instanceof SliceSpec) throw this.err(SUBSET_ERROR, 'slice assignment is not supported in a config', t);
        this.setItem(obj, key, value, t);
        return;
      }
      default:
        throw this.err('SyntaxError', 'cannot assign to expression', t);
    }
  }

  private setItem(obj: PyValue, key: PyValue, value: PyValue, at: SyntaxNode): void {
    if (obj instanceof PyDict) {
      obj.set(this.dictKey(key, at), value);
      return;
    }
    if (Array.isArray(obj)) {
      const i = this.index(key, obj.length, 'list assignment', at);
      obj[i] = value;
      return;
    }
    throw this.err('TypeError', `'${typeName(obj)}' object does not support item assignment`, at);
  }

  private updateStmt(s: SyntaxNode): void {
    const c = children(s);
    const opNode = c.find((x) => x.name === 'UpdateOp')!;
    const i = c.indexOf(opNode);
    const target = c.slice(0, i);
    const value = this.exprGroup(c.slice(i + 1), s);
    if (target.length !== 1) throw this.err('SyntaxError', "'tuple' is an illegal expression for augmented assignment", s);
    const op = this.text(opNode).slice(0, -1);
    const cur = this.expr(target[0]);
    if (op === '+' && Array.isArray(cur)) {
      const add = this.iterate(value, s);
      this.alloc(add.length, s);
      cur.push(...add);
      return;
    }
    if (cur instanceof PyDict && op === '|' && value instanceof PyDict) {
      for (const [k, v] of value.map) cur.set(k, v);
      return;
    }
    this.assignOne(target[0], this.binop(op, cur, value, s), undefined, false);
  }

  private ifStmt(s: SyntaxNode): void {
    const c = children(s);
    for (let i = 0; i < c.length; i++) {
      const kw = c[i].name;
      if (kw === 'if' || kw === 'elif') {
        const cond = this.expr(c[i + 1]);
        if (truthy(cond)) return this.stmt(c[i + 2], false);
        i += 2;
      } else if (kw === 'else') return this.stmt(c[i + 1], false);
    }
  }

  private forStmt(s: SyntaxNode): void {
    const c = children(s);
    const inIdx = c.findIndex((x) => x.name === 'in');
    const targets = c.slice(1, inIdx);
    const body = c.find((x) => x.name === 'Body');
    if (!body || c.some((x) => x.name === 'else')) throw this.err(SUBSET_ERROR, "'for ... else' is not supported in a config", s);
    const iter = this.exprGroup(c.slice(inIdx + 1, c.indexOf(body)), s);
    for (const v of this.iterate(iter, s)) {
      this.step(s);
      this.assignTarget(targets, v, s, false);
      this.stmt(body, false);
    }
  }

  private dottedModule(nodes: SyntaxNode[]): { level: number; module: string } {
    let level = 0;
    let module = '';
    for (const n of nodes) {
      if (n.name === '.') {
        if (module) module += '.';
        else level++;
      } else if (n.name === 'Ellipsis') level += 3;
      else module += this.text(n);
    }
    return { level, module };
  }

  private importStmt(s: SyntaxNode, inReadBase: boolean): void {
    const c = children(s);
    if (c[0].name !== 'from') {
      if (this.ctx.mode === 'lazy') {
        // `import a.b as c`: a lazy module object, left out of the config.
        const groups = this.splitGroups(c.slice(1), ',');
        for (const g of groups) {
          const asIdx = g.findIndex((x) => x.name === 'as');
          const names = (asIdx >= 0 ? g.slice(0, asIdx) : g).filter((x) => x.name === 'VariableName').map((x) => this.text(x));
          const bind = asIdx >= 0 ? this.text(g[asIdx + 1]) : names[0];
          const full = names.join('.');
          const dot = full.lastIndexOf('.');
          this.globals.set(bind, new PyLazyObject(dot >= 0 ? full.slice(0, dot) : '', dot >= 0 ? full.slice(dot + 1) : full));
          this.excluded.add(bind);
        }
        return;
      }
      throw this.err('ImportError', `import statements are not allowed in a config (only the pure-Python style 'with read_base(): from .x import *' imports): ${this.text(s)}`, s);
    }
    const impIdx = c.findIndex((x) => x.name === 'import');
    const { level, module } = this.dottedModule(c.slice(1, impIdx));
    const rest = c.slice(impIdx + 1).filter((x) => x.name !== '(' && x.name !== ')');
    const star = rest.length === 1 && rest[0].name === '*';
    const pairs: [string, string][] = [];
    if (!star) {
      for (const g of this.splitGroups(rest, ',')) {
        if (!g.length) continue;
        const name = this.text(g[0]);
        pairs.push([name, g.length === 3 && g[1].name === 'as' ? this.text(g[2]) : name]);
      }
    }
    if (inReadBase) {
      if (!this.ctx.importBase) throw this.err(SUBSET_ERROR, 'read_base imports are not available here', s);
      const names = this.ctx.importBase(module, level, s);
      if (star) {
        for (const [k, v] of names) if (!k.startsWith('_')) this.bindImported(k, v, s);
      } else {
        for (const [name, bind] of pairs) {
          if (!names.has(name)) throw this.err('ImportError', `cannot import name '${name}' from '${'.'.repeat(level)}${module}'`, s);
          this.bindImported(bind, names.get(name)!, s);
        }
      }
      return;
    }
    if (module === 'mmengine.config' || module === 'mmengine') {
      for (const [name, bind] of pairs) {
        if (name === 'read_base') {
          this.globals.set(bind, new PyCallable('read_base', undefined, 'read_base'));
          this.excluded.add(bind);
        } else throw this.err('ImportError', `only 'read_base' may be imported from ${module} in a config`, s);
      }
      return;
    }
    if (this.ctx.mode !== 'lazy' || level > 0 || star) {
      throw this.err('ImportError', `import statements are not allowed in a config (only the pure-Python style 'with read_base(): from .x import *' imports): ${this.text(s)}`, s);
    }
    for (const [name, bind] of pairs) {
      this.globals.set(bind, new PyLazyObject(module, name));
      this.excluded.add(bind);
    }
  }

  private bindImported(name: string, v: PyValue, s: SyntaxNode): void {
    this.globals.set(name, v);
    this.excluded.delete(name);
    this.assignRanges.set(name, { from: s.from, to: s.to });
    this.statementRanges.set(name, { from: s.from, to: s.to });
  }

  private withStmt(s: SyntaxNode): void {
    const c = children(s);
    const call = c[1];
    const body = c.find((x) => x.name === 'Body');
    const callee = call?.name === 'CallExpression' ? this.text(children(call)[0]) : '';
    const fn = this.globals.get(callee);
    if (!(fn instanceof PyCallable && fn.kind === 'read_base') || !body) {
      throw this.err('ConfigParsingError', 'Only `read_base` context manager can be used in the config', s);
    }
    for (const st of children(body)) {
      if (st.name === ':') continue;
      if (st.name !== 'ImportStatement' || children(st)[0].name !== 'from') {
        throw this.err('ConfigParsingError', 'Only `from ... import ...` statements are allowed inside a `with read_base():` block', st);
      }
      this.importStmt(st, true);
    }
  }

  // ---------------------------------------------------------------- expressions

  expr(n: SyntaxNode): PyValue {
    this.step(n);
    if (++this.depth > this.ctx.budget.maxDepth) {
      this.depth = 0;
      throw this.err('RecursionError', 'maximum recursion depth exceeded (the config nests expressions too deeply)', n);
    }
    try {
      return this.exprInner(n);
    } finally {
      this.depth--;
    }
  }

  private exprInner(n: SyntaxNode): PyValue {
    switch (n.name) {
      case 'Number': {
        const v = decodeNumber(this.text(n));
        if (v === undefined) throw this.err(SUBSET_ERROR, 'complex numbers are not supported in a config', n);
        return v;
      }
      case 'String': {
        const { value, bytes } = decodeString(this.text(n));
        if (bytes) throw this.err(SUBSET_ERROR, 'bytes literals are not supported in a config', n);
        this.alloc(Math.floor(value.length / 16), n);
        return value;
      }
      case 'ContinuedString': {
        let s = '';
        for (const c of children(n)) s += str(this.expr(c));
        return s;
      }
      case 'FormatString':
        return this.fstring(n);
      case 'Boolean':
        return this.text(n) === 'True';
      case 'None':
        return null;
      case 'VariableName':
        return this.lookup(this.text(n), n);
      case 'ParenthesizedExpression': {
        const inner = children(n).slice(1, -1);
        if (inner.length !== 1) throw this.err('SyntaxError', 'invalid syntax', n);
        return this.expr(inner[0]);
      }
      case 'TupleExpression': {
        const inner = children(n).slice(1, -1);
        const vals: PyValue[] = [];
        for (const g of this.splitGroups(inner, ',')) if (g.length) this.pushItem(g, vals, n);
        this.alloc(vals.length, n);
        return new PyTuple(vals);
      }
      case 'ArrayExpression': {
        const inner = children(n).slice(1, -1);
        const vals: PyValue[] = [];
        for (const g of this.splitGroups(inner, ',')) if (g.length) this.pushItem(g, vals, n);
        this.alloc(vals.length, n);
        return vals;
      }
      case 'DictionaryExpression':
        return this.dictLiteral(n);
      case 'ArrayComprehensionExpression':
      case 'ComprehensionExpression': {
        const out: PyValue[] = [];
        const c = children(n).slice(1, -1);
        const forIdx = c.findIndex((x) => x.name === 'for');
        this.comprehension(c.slice(forIdx), () => {
          out.push(this.expr(c[0]));
          this.alloc(1, n);
        });
        return n.name === 'ComprehensionExpression' ? new PyTuple(out) : out;
      }
      case 'DictionaryComprehensionExpression': {
        const d = this.newDict();
        const c = children(n).slice(1, -1);
        const forIdx = c.findIndex((x) => x.name === 'for');
        this.comprehension(c.slice(forIdx), () => {
          const k = this.dictKey(this.expr(c[0]), c[0]);
          d.set(k, this.expr(c[2]));
          this.alloc(1, n);
        });
        return d;
      }
      case 'CallExpression':
        return this.call(n);
      case 'MemberExpression':
        return this.member(n);
      case 'UnaryExpression': {
        const [op, arg] = children(n);
        const v = this.expr(arg);
        const o = this.text(op);
        if (o === 'not') return !truthy(v);
        return this.unary(o, v, n);
      }
      case 'BinaryExpression':
        return this.binary(n);
      case 'ConditionalExpression': {
        const c = children(n);
        const ifI = c.findIndex((x) => x.name === 'if');
        const elseI = c.findIndex((x) => x.name === 'else');
        return truthy(this.expr(c[ifI + 1])) ? this.expr(c[0]) : this.expr(c[elseI + 1]);
      }
      case 'SetExpression':
      case 'SetComprehensionExpression':
        throw this.err(SUBSET_ERROR, 'sets are not supported in a config (MMEngine cannot dump them either); use a list or tuple', n);
      case 'LambdaExpression':
        throw this.err(SUBSET_ERROR, 'lambda functions are not supported in a config', n);
      default:
        if (n.type.isError) throw this.err('SyntaxError', 'invalid syntax', n);
        throw this.err(SUBSET_ERROR, `${n.name.replace(/Expression$/, ' expressions')} are not supported in a config`, n);
    }
  }

  private lookup(name: string, n: SyntaxNode): PyValue {
    for (let i = this.scopes.length - 1; i >= 0; i--) if (this.scopes[i].has(name)) return this.scopes[i].get(name)!;
    if (this.globals.has(name)) return this.globals.get(name)!;
    if ((ALLOWED_BUILTINS as readonly string[]).includes(name)) return new PyCallable(name, undefined, 'builtin');
    if (KNOWN_PYTHON_BUILTINS.has(name)) {
      throw this.err(SUBSET_ERROR, `'${name}' is not available in a config: only dict() and the pure builtins ${ALLOWED_BUILTINS.slice(1).join(', ')} may be called`, n);
    }
    throw this.err('NameError', `name '${name}' is not defined`, n);
  }

  private fstring(n: SyntaxNode): string {
    const raw = this.text(n);
    const { prefix, quote } = splitStringLiteral(raw);
    const isRaw = prefix.includes('r');
    const bodyStart = n.from + prefix.length + quote.length;
    const bodyEnd = n.to - quote.length;
    let out = '';
    let pos = bodyStart;
    for (const rep of children(n)) {
      if (rep.name !== 'FormatReplacement') continue;
      out += decodeFStringPiece(this.src.slice(pos, rep.from), isRaw);
      const rc = children(rep).filter((x) => x.name !== '{' && x.name !== '}');
      let conv = '';
      let spec = '';
      const exprNodes: SyntaxNode[] = [];
      for (const x of rc) {
        if (x.name === 'FormatConversion') conv = this.text(x).slice(1);
        else if (x.name === 'FormatSpec') spec = this.text(x).slice(1);
        else if (x.name === 'FormatSelfDoc') continue;
        else exprNodes.push(x);
      }
      let v = this.exprGroup(exprNodes, rep);
      if (conv === 'r') v = repr(v);
      else if (conv === 's') v = str(v);
      out += formatValue(v, spec, (m) => this.err('ValueError', m, rep));
      pos = rep.to;
    }
    out += decodeFStringPiece(this.src.slice(pos, bodyEnd), isRaw);
    this.alloc(Math.floor(out.length / 16), n);
    return out;
  }

  private dictLiteral(n: SyntaxNode): PyDict {
    const d = this.newDict();
    const inner = children(n).slice(1, -1);
    for (const g of this.splitGroups(inner, ',')) {
      if (!g.length) continue;
      if (g[0].name === '**') {
        const other = this.expr(g[1]);
        if (!(other instanceof PyDict)) throw this.err('TypeError', `'${typeName(other)}' object is not a mapping`, g[1]);
        for (const [k, v] of other.map) d.set(k, v);
        continue;
      }
      if (g.length !== 3 || g[1].name !== ':') throw this.err('SyntaxError', 'invalid syntax', g[0]);
      const k = this.dictKey(this.expr(g[0]), g[0]);
      d.set(k, this.expr(g[2]));
      this.recordKey(d, k, { from: g[0].from, to: g[0].to });
    }
    this.alloc(d.size, n);
    return d;
  }

  private dictKey(k: PyValue, at: SyntaxNode | Range): DictKey {
    if (typeof k === 'string' || typeof k === 'number') return k;
    if (typeof k === 'boolean') return k ? 1 : 0;
    if (k instanceof PyFloat && Number.isInteger(k.value)) return k.value;
    if (Array.isArray(k) || k instanceof PyDict) throw this.err('TypeError', `unhashable type: '${typeName(k)}'`, at);
    throw this.err(SUBSET_ERROR, `dict keys of type '${typeName(k)}' are not supported in a config`, at);
  }

  private comprehension(clauses: SyntaxNode[], emit: () => void): void {
    // clauses: for T in ITER [if C]* [for ...]*
    const scope: Scope = new Map();
    this.scopes.push(scope);
    try {
      const loop = (i: number): void => {
        if (i >= clauses.length) {
          emit();
          return;
        }
        const kw = clauses[i].name;
        if (kw === 'if') {
          // the condition runs to the next 'for' / 'if'
          let j = i + 1;
          while (j < clauses.length && clauses[j].name !== 'for' && clauses[j].name !== 'if') j++;
          if (truthy(this.exprGroup(clauses.slice(i + 1, j), clauses[i]))) loop(j);
          return;
        }
        if (kw !== 'for') throw this.err('SyntaxError', 'invalid syntax', clauses[i]);
        const inIdx = clauses.findIndex((x, k) => k > i && x.name === 'in');
        const targets = clauses.slice(i + 1, inIdx);
        let j = inIdx + 1;
        while (j < clauses.length && clauses[j].name !== 'for' && clauses[j].name !== 'if') j++;
        const iter = this.exprGroup(clauses.slice(inIdx + 1, j), clauses[i]);
        for (const v of this.iterate(iter, clauses[i])) {
          this.step(clauses[i]);
          this.assignTarget(targets, v, clauses[i], false);
          loop(j);
        }
      };
      loop(0);
    } finally {
      this.scopes.pop();
    }
  }

  // ---------------------------------------------------------------- operators

  private unary(o: string, v: PyValue, n: SyntaxNode): PyValue {
    const x = numeric(v);
    if (x === undefined) throw this.err('TypeError', `bad operand type for unary ${o}: '${typeName(v)}'`, n);
    const isFloat = v instanceof PyFloat;
    if (o === '-') return isFloat ? new PyFloat(-x) : -x || 0;
    if (o === '+') return isFloat ? new PyFloat(x) : x;
    if (o === '~' && !isFloat) return ~x;
    throw this.err('TypeError', `bad operand type for unary ${o}: '${typeName(v)}'`, n);
  }

  private binary(n: SyntaxNode): PyValue {
    const c = children(n);
    const left = c[0];
    const ops = c.slice(1, -1);
    const right = c[c.length - 1];
    const op = ops.map((x) => this.text(x)).join(' ');
    if (op === 'and') {
      const l = this.expr(left);
      return truthy(l) ? this.expr(right) : l;
    }
    if (op === 'or') {
      const l = this.expr(left);
      return truthy(l) ? l : this.expr(right);
    }
    if (ops.length === 1 && ops[0].name === 'CompareOp' || ['in', 'not in', 'is', 'is not'].includes(op)) {
      // Python chains comparisons: a < b < c == (a < b) and (b < c)
      if (left.name === 'BinaryExpression' && this.isCompare(left) && this.src[left.from] !== '(') {
        const lc = children(left);
        const l = this.binary(left);
        if (!truthy(l)) return l;
        const mid = this.expr(lc[lc.length - 1]);
        return this.compare(op, mid, this.expr(right), n);
      }
      return this.compare(op, this.expr(left), this.expr(right), n);
    }
    return this.binop(op, this.expr(left), this.expr(right), n);
  }

  private isCompare(n: SyntaxNode): boolean {
    const c = children(n).slice(1, -1);
    const op = c.map((x) => this.text(x)).join(' ');
    return (c.length === 1 && c[0].name === 'CompareOp') || ['in', 'not in', 'is', 'is not'].includes(op);
  }

  private compare(op: string, a: PyValue, b: PyValue, n: SyntaxNode | Range): boolean {
    switch (op) {
      case '==':
        return pyEquals(a, b);
      case '!=':
        return !pyEquals(a, b);
      case 'is':
        return a === b || (a instanceof PyFloat && b instanceof PyFloat && a === b);
      case 'is not':
        return !(a === b);
      case 'in':
        return this.contains(b, a, n);
      case 'not in':
        return !this.contains(b, a, n);
      default: {
        const c = this.order(a, b, op, n);
        if (op === '<') return c < 0;
        if (op === '<=') return c <= 0;
        if (op === '>') return c > 0;
        if (op === '>=') return c >= 0;
        throw this.err(SUBSET_ERROR, `operator '${op}' is not supported`, n);
      }
    }
  }

  private order(a: PyValue, b: PyValue, op: string, n: SyntaxNode | Range): number {
    const x = numeric(a);
    const y = numeric(b);
    if (x !== undefined && y !== undefined) return x < y ? -1 : x > y ? 1 : 0;
    if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
    const seqA = Array.isArray(a) ? a : a instanceof PyTuple ? a.items : undefined;
    const seqB = Array.isArray(b) ? b : b instanceof PyTuple ? b.items : undefined;
    if (seqA && seqB && Array.isArray(a) === Array.isArray(b)) {
      for (let i = 0; i < Math.min(seqA.length, seqB.length); i++) {
        if (!pyEquals(seqA[i], seqB[i])) return this.order(seqA[i], seqB[i], op, n);
      }
      return seqA.length - seqB.length;
    }
    throw this.err('TypeError', `'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`, n);
  }

  private contains(container: PyValue, item: PyValue, n: SyntaxNode | Range): boolean {
    if (typeof container === 'string') {
      if (typeof item !== 'string') throw this.err('TypeError', `'in <string>' requires string as left operand, not ${typeName(item)}`, n);
      return container.includes(item);
    }
    if (Array.isArray(container)) return container.some((x) => pyEquals(x, item));
    if (container instanceof PyTuple) return container.items.some((x) => pyEquals(x, item));
    if (container instanceof PyDict) {
      if (typeof item === 'string' || typeof item === 'number') return container.has(item);
      return false;
    }
    if (container instanceof PyRange) {
      const x = numeric(item);
      if (x === undefined || !Number.isInteger(x)) return false;
      const i = (x - container.start) / container.step;
      return Number.isInteger(i) && i >= 0 && i < container.length;
    }
    throw this.err('TypeError', `argument of type '${typeName(container)}' is not iterable`, n);
  }

  private intResult(r: number, n: SyntaxNode | Range): number {
    if (!Number.isFinite(r) || Math.abs(r) > MAX_SAFE) {
      throw this.err('OverflowError', 'integer result too large for a config value (beyond 2**53)', n);
    }
    return r;
  }

  private repeat<T>(seq: T[], times: number, n: SyntaxNode | Range): T[] {
    const k = Math.max(0, times);
    this.alloc(seq.length * k, n);
    const out: T[] = [];
    for (let i = 0; i < k; i++) out.push(...seq);
    return out;
  }

  binop(op: string, a: PyValue, b: PyValue, n: SyntaxNode | Range): PyValue {
    const x = numeric(a);
    const y = numeric(b);
    const bothInt = x !== undefined && y !== undefined && !(a instanceof PyFloat) && !(b instanceof PyFloat);
    if (x !== undefined && y !== undefined) {
      switch (op) {
        case '+':
          return bothInt ? this.intResult(x + y, n) : new PyFloat(x + y);
        case '-':
          return bothInt ? this.intResult(x - y, n) : new PyFloat(x - y);
        case '*':
          return bothInt ? this.intResult(x * y, n) : new PyFloat(x * y);
        case '/':
          if (y === 0) throw this.err('ZeroDivisionError', bothInt ? 'division by zero' : 'float division by zero', n);
          return new PyFloat(x / y);
        case '//':
          if (y === 0) throw this.err('ZeroDivisionError', bothInt ? 'integer division or modulo by zero' : 'float floor division by zero', n);
          return bothInt ? Math.floor(x / y) : new PyFloat(Math.floor(x / y));
        case '%': {
          if (y === 0) throw this.err('ZeroDivisionError', bothInt ? 'integer division or modulo by zero' : 'float modulo', n);
          const m = x - y * Math.floor(x / y);
          return bothInt ? m : new PyFloat(m);
        }
        case '**': {
          if (bothInt && y >= 0) {
            if (Math.abs(x) > 1 && y * Math.log2(Math.abs(x)) > 53) throw this.err('OverflowError', 'integer result too large for a config value (beyond 2**53)', n);
            return this.intResult(x ** y, n);
          }
          if (x === 0 && y < 0) throw this.err('ZeroDivisionError', '0.0 cannot be raised to a negative power', n);
          return new PyFloat(x ** y);
        }
        case '&':
        case '|':
        case '^':
        case '<<':
        case '>>':
          if (!bothInt) break;
          if (typeof a === 'boolean' && typeof b === 'boolean' && op !== '<<' && op !== '>>') {
            return op === '&' ? a && b : op === '|' ? a || b : a !== b;
          }
          if (op === '&') return x & y;
          if (op === '|') return x | y;
          if (op === '^') return x ^ y;
          if (op === '<<') return this.intResult(x * 2 ** y, n);
          return Math.floor(x / 2 ** y);
        default:
          break;
      }
    }
    if (op === '+') {
      if (typeof a === 'string' && typeof b === 'string') {
        this.alloc(Math.floor((a.length + b.length) / 16), n);
        return a + b;
      }
      if (Array.isArray(a) && Array.isArray(b)) {
        this.alloc(a.length + b.length, n);
        return [...a, ...b];
      }
      if (a instanceof PyTuple && b instanceof PyTuple) {
        this.alloc(a.items.length + b.items.length, n);
        return new PyTuple([...a.items, ...b.items]);
      }
      if (typeof a === 'string') throw this.err('TypeError', `can only concatenate str (not "${typeName(b)}") to str`, n);
      if (Array.isArray(a)) throw this.err('TypeError', `can only concatenate list (not "${typeName(b)}") to list`, n);
      if (a instanceof PyTuple) throw this.err('TypeError', `can only concatenate tuple (not "${typeName(b)}") to tuple`, n);
    }
    if (op === '*') {
      const [seq, k] = y !== undefined && !(b instanceof PyFloat) ? [a, y] : x !== undefined && !(a instanceof PyFloat) ? [b, x] : [undefined, 0];
      if (typeof seq === 'string') {
        this.alloc(Math.floor((seq.length * Math.max(0, k)) / 16), n);
        return seq.repeat(Math.max(0, k));
      }
      if (Array.isArray(seq)) return this.repeat(seq, k, n);
      if (seq instanceof PyTuple) return new PyTuple(this.repeat(seq.items, k, n));
      if (seq !== undefined && y !== undefined && b instanceof PyFloat) {
        throw this.err('TypeError', `can't multiply sequence by non-int of type 'float'`, n);
      }
    }
    if (op === '%' && typeof a === 'string') return this.percentFormat(a, b, n);
    if (op === '|' && a instanceof PyDict && b instanceof PyDict) {
      const d = a.copy();
      for (const [k, v] of b.map) d.set(k, v);
      return d;
    }
    throw this.err('TypeError', `unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`, n);
  }

  private percentFormat(fmt: string, args: PyValue, n: SyntaxNode | Range): string {
    const list = args instanceof PyTuple ? args.items : [args];
    let i = 0;
    const out = fmt.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdirfgexXo%])/g, (_m, flags: string, width: string, prec: string, conv: string) => {
      if (conv === '%') return '%';
      if (i >= list.length) throw this.err('TypeError', 'not enough arguments for format string', n);
      const v = list[i++];
      const spec = `${flags.includes('-') ? '<' : ''}${flags.includes('0') ? '0' : ''}${width}${prec ? '.' + prec : ''}${conv === 's' || conv === 'r' ? '' : conv === 'i' ? 'd' : conv}`;
      const val = conv === 's' ? str(v) : conv === 'r' ? repr(v) : v;
      return formatValue(val, spec, (m) => this.err('TypeError', m, n));
    });
    if (i < list.length && args instanceof PyTuple) throw this.err('TypeError', 'not all arguments converted during string formatting', n);
    return out;
  }

  // ---------------------------------------------------------------- access

  private index(key: PyValue, len: number, what: string, at: SyntaxNode | Range): number {
    const i = numeric(key);
    if (i === undefined || key instanceof PyFloat) throw this.err('TypeError', `${what.split(' ')[0]} indices must be integers or slices, not ${typeName(key)}`, at);
    const j = i < 0 ? i + len : i;
    if (j < 0 || j >= len) throw this.err('IndexError', `${what} index out of range`, at);
    return j;
  }

  private subscriptKey(nodes: SyntaxNode[], at: SyntaxNode): PyValue | SliceSpec {
    if (nodes.some((x) => x.name === ':')) {
      const parts: (SyntaxNode | undefined)[] = [undefined, undefined, undefined];
      let k = 0;
      for (const x of nodes) {
        if (x.name === ':') k++;
        else if (x.name === ',') throw this.err(SUBSET_ERROR, 'multi-dimensional slicing is not supported in a config', at);
        else parts[k] = x;
      }
      const val = (x?: SyntaxNode): number | undefined => {
        if (!x) return undefined;
        const v = this.expr(x);
        if (v === null) return undefined;
        const i = numeric(v);
        if (i === undefined || v instanceof PyFloat) throw this.err('TypeError', 'slice indices must be integers or None or have an __index__ method', x);
        return i;
      };
      return new SliceSpec(val(parts[0]), val(parts[1]), val(parts[2]));
    }
    return this.exprGroup(nodes, at);
  }

  private member(n: SyntaxNode): PyValue {
    const c = children(n);
    if (c.length === 3 && c[2].type.isError && isTrailingDotFloat(c[2], this.src)) {
      return new PyFloat(Number(this.text(c[0]).replace(/_/g, '')));
    }
    const obj = this.expr(c[0]);
    if (c[1].name === '.') return this.getAttr(obj, this.text(c[2]), c[2]);
    const key = this.subscriptKey(c.slice(2, -1), n);
    return this.getItem(obj, key, n);
  }

  private getItem(obj: PyValue, key: PyValue | SliceSpec, n: SyntaxNode): PyValue {
    if (key instanceof SliceSpec) {
      if (typeof obj === 'string') return key.apply([...obj], n).join('');
      if (Array.isArray(obj)) return key.apply(obj, n);
      if (obj instanceof PyTuple) return new PyTuple(key.apply(obj.items, n));
      if (obj instanceof PyRange) return key.apply(this.iterate(obj, n), n);
      throw this.err('TypeError', `'${typeName(obj)}' object is not subscriptable`, n);
    }
    if (obj instanceof PyDict) {
      const k = this.dictKey(key, n);
      if (!obj.has(k)) throw this.err('KeyError', repr(k), n);
      return obj.get(k)!;
    }
    if (Array.isArray(obj)) return obj[this.index(key, obj.length, 'list', n)];
    if (obj instanceof PyTuple) return obj.items[this.index(key, obj.items.length, 'tuple', n)];
    if (typeof obj === 'string') return obj[this.index(key, obj.length, 'string', n)];
    if (obj instanceof PyRange) return obj.at(this.index(key, obj.length, 'range object', n));
    throw this.err('TypeError', `'${typeName(obj)}' object is not subscriptable`, n);
  }

  private getAttr(obj: PyValue, attr: string, n: SyntaxNode): PyValue {
    if (obj instanceof PyDict) {
      if (DICT_METHODS.has(attr) || (obj.configDict && CONFIGDICT_METHODS.has(attr))) return new PyCallable(attr, obj, 'method');
      if (obj.configDict) {
        if (obj.has(attr)) return obj.get(attr)!;
        throw this.err('AttributeError', `'ConfigDict' object has no attribute '${attr}'`, n);
      }
    } else if (Array.isArray(obj)) {
      if (LIST_METHODS.has(attr)) return new PyCallable(attr, obj, 'method');
    } else if (obj instanceof PyTuple) {
      if (TUPLE_METHODS.has(attr)) return new PyCallable(attr, obj, 'method');
    } else if (typeof obj === 'string') {
      if (STR_METHODS.has(attr)) return new PyCallable(attr, obj, 'method');
    } else if (obj instanceof PyLazyObject) {
      return new PyLazyObject(obj.dotted, attr);
    }
    throw this.err('AttributeError', `'${typeName(obj)}' object has no attribute '${attr}'`, n);
  }

  // ---------------------------------------------------------------- calls

  private callArgs(argList: SyntaxNode): CallArgs {
    const inner = children(argList).slice(1, -1);
    const out: CallArgs = { pos: [], kw: [] };
    const forIdx = inner.findIndex((x) => x.name === 'for');
    if (forIdx > 0) {
      // a bare generator argument: f(x for x in y)
      const vals: PyValue[] = [];
      this.comprehension(inner.slice(forIdx), () => {
        vals.push(this.exprGroup(inner.slice(0, forIdx), argList));
        this.alloc(1, argList);
      });
      out.pos.push(vals);
      return out;
    }
    for (const g of this.splitGroups(inner, ',')) {
      if (!g.length) continue;
      if (g[0].name === '**') {
        const d = this.expr(g[1]);
        if (!(d instanceof PyDict)) throw this.err('TypeError', `argument after ** must be a mapping, not ${typeName(d)}`, g[1]);
        for (const [k, v] of d.map) out.kw.push([String(k), v]);
      } else if (g[0].name === '*') out.pos.push(...this.iterate(this.expr(g[1]), g[1]));
      else if (g.length === 3 && g[1].name === 'AssignOp') {
        const k = this.text(g[0]);
        if (out.kw.some(([x]) => x === k)) throw this.err('SyntaxError', `keyword argument repeated: ${k}`, g[0]);
        out.kw.push([k, this.expr(g[2])]);
      } else if (g.length === 1) {
        if (out.kw.length) throw this.err('SyntaxError', 'positional argument follows keyword argument', g[0]);
        out.pos.push(this.expr(g[0]));
      } else throw this.err('SyntaxError', 'invalid syntax', g[0]);
    }
    return out;
  }

  private call(n: SyntaxNode): PyValue {
    const c = children(n);
    const fn = this.expr(c[0]);
    const argList = c[1];
    if (!(fn instanceof PyCallable)) {
      if (fn instanceof PyLazyObject) throw this.err(SUBSET_ERROR, `calling the imported object '${fn.dotted}' is not supported in a config`, n);
      throw this.err('TypeError', `'${typeName(fn)}' object is not callable`, n);
    }
    const args = this.callArgs(argList);
    if (fn.kind === 'builtin') {
      if (fn.name === 'dict') return this.makeDict(args, n, argList);
      return this.builtin(fn.name, args, n);
    }
    if (fn.kind === 'method') return this.method(fn.self!, fn.name, args, n);
    throw this.err(SUBSET_ERROR, "read_base() may only be used as 'with read_base():'", n);
  }

  private makeDict(args: CallArgs, n: SyntaxNode, argList: SyntaxNode): PyDict {
    const d = this.newDict();
    if (args.pos.length > 1) throw this.err('TypeError', `dict expected at most 1 argument, got ${args.pos.length}`, n);
    if (args.pos.length === 1) {
      const src = args.pos[0];
      if (src instanceof PyDict) for (const [k, v] of src.map) d.set(k, v);
      else {
        for (const item of this.iterate(src, n)) {
          const pair = this.iterate(item, n);
          if (pair.length !== 2) throw this.err('ValueError', `dictionary update sequence element has length ${pair.length}; 2 is required`, n);
          d.set(this.dictKey(pair[0], n), pair[1]);
        }
      }
    }
    for (const [k, v] of args.kw) d.set(k, v);
    if (this.ctx.keyRanges) {
      for (const g of this.splitGroups(children(argList).slice(1, -1), ',')) {
        if (g.length === 3 && g[1].name === 'AssignOp') this.recordKey(d, this.text(g[0]), { from: g[0].from, to: g[0].to });
      }
    }
    this.alloc(d.size, n);
    return d;
  }

  /** Materialises an iterable. */
  iterate(v: PyValue, at: SyntaxNode | Range): PyValue[] {
    if (Array.isArray(v)) return v;
    if (v instanceof PyTuple) return v.items;
    if (typeof v === 'string') {
      this.alloc(v.length, at);
      return [...v];
    }
    if (v instanceof PyDict) return v.keys();
    if (v instanceof PyRange) {
      const len = v.length;
      this.alloc(len, at);
      const out: number[] = new Array(len);
      for (let i = 0; i < len; i++) out[i] = v.at(i);
      return out;
    }
    throw this.err('TypeError', `'${typeName(v)}' object is not iterable`, at);
  }

  private noKw(name: string, args: CallArgs, n: SyntaxNode, allowed: string[] = []): Map<string, PyValue> {
    const m = new Map<string, PyValue>();
    for (const [k, v] of args.kw) {
      if (!allowed.includes(k)) throw this.err('TypeError', `${name}() got an unexpected keyword argument '${k}'`, n);
      m.set(k, v);
    }
    return m;
  }

  private arity(name: string, args: CallArgs, min: number, max: number, n: SyntaxNode): void {
    const k = args.pos.length;
    if (k < min || k > max) {
      throw this.err('TypeError', max === min ? `${name}() takes exactly ${min} argument${min === 1 ? '' : 's'} (${k} given)` : `${name} expected at most ${max} arguments, got ${k}`, n);
    }
  }

  private builtin(name: string, args: CallArgs, n: SyntaxNode): PyValue {
    const { pos } = args;
    switch (name) {
      case 'list': {
        this.noKw(name, args, n);
        this.arity(name, args, 0, 1, n);
        const items = pos.length ? [...this.iterate(pos[0], n)] : [];
        this.alloc(items.length, n);
        return items;
      }
      case 'tuple': {
        this.noKw(name, args, n);
        this.arity(name, args, 0, 1, n);
        const items = pos.length ? [...this.iterate(pos[0], n)] : [];
        this.alloc(items.length, n);
        return new PyTuple(items);
      }
      case 'len': {
        this.noKw(name, args, n);
        this.arity(name, args, 1, 1, n);
        const v = pos[0];
        if (typeof v === 'string') return [...v].length;
        if (Array.isArray(v)) return v.length;
        if (v instanceof PyTuple) return v.items.length;
        if (v instanceof PyDict) return v.size;
        if (v instanceof PyRange) return v.length;
        throw this.err('TypeError', `object of type '${typeName(v)}' has no len()`, n);
      }
      case 'range': {
        this.noKw(name, args, n);
        if (pos.length < 1 || pos.length > 3) throw this.err('TypeError', `range expected at least 1 argument, got ${pos.length}`, n);
        const ints = pos.map((v) => {
          if (typeof v !== 'number' && typeof v !== 'boolean') throw this.err('TypeError', `'${typeName(v)}' object cannot be interpreted as an integer`, n);
          return numeric(v)!;
        });
        const [start, stop, step] = ints.length === 1 ? [0, ints[0], 1] : [ints[0], ints[1], ints[2] ?? 1];
        if (step === 0) throw this.err('ValueError', 'range() arg 3 must not be zero', n);
        return new PyRange(start, stop, step);
      }
      case 'min':
      case 'max': {
        const kw = this.noKw(name, args, n, ['default']);
        const items = pos.length === 1 ? this.iterate(pos[0], n) : pos;
        if (!items.length) {
          if (kw.has('default')) return kw.get('default')!;
          throw this.err('ValueError', `${name}() arg is an empty sequence`, n);
        }
        let best = items[0];
        for (const x of items.slice(1)) {
          const c = this.order(x, best, name === 'min' ? '<' : '>', n);
          if (name === 'min' ? c < 0 : c > 0) best = x;
        }
        return best;
      }
      case 'sum': {
        const kw = this.noKw(name, args, n, ['start']);
        this.arity(name, args, 1, 2, n);
        let acc: PyValue = pos[1] ?? kw.get('start') ?? 0;
        if (typeof acc === 'string') throw this.err('TypeError', "sum() can't sum strings [use ''.join(seq) instead]", n);
        for (const x of this.iterate(pos[0], n)) acc = this.binop('+', acc, x, n);
        return acc;
      }
      case 'int': {
        this.noKw(name, args, n, []);
        this.arity(name, args, 0, 2, n);
        if (!pos.length) return 0;
        const v = pos[0];
        if (typeof v === 'string') {
          const base = pos.length > 1 ? numeric(pos[1])! : 10;
          const s = v.trim().replace(/_/g, '');
          const ok = base === 10 ? /^[+-]?\d+$/.test(s) : base === 16 ? /^[+-]?(0[xX])?[0-9a-fA-F]+$/.test(s) : /^[+-]?[0-9a-zA-Z]+$/.test(s);
          const r = ok ? parseInt(s, base) : NaN;
          if (Number.isNaN(r)) throw this.err('ValueError', `invalid literal for int() with base ${base}: ${repr(v)}`, n);
          return this.intResult(r, n);
        }
        const x = numeric(v);
        if (x === undefined) throw this.err('TypeError', `int() argument must be a string, a bytes-like object or a real number, not '${typeName(v)}'`, n);
        if (!Number.isFinite(x)) throw this.err(Number.isNaN(x) ? 'ValueError' : 'OverflowError', Number.isNaN(x) ? 'cannot convert float NaN to integer' : 'cannot convert float infinity to integer', n);
        return this.intResult(Math.trunc(x), n);
      }
      case 'float': {
        this.noKw(name, args, n);
        this.arity(name, args, 0, 1, n);
        if (!pos.length) return new PyFloat(0);
        const v = pos[0];
        if (typeof v === 'string') {
          const r = parsePyFloat(v);
          if (r === undefined) throw this.err('ValueError', `could not convert string to float: ${repr(v)}`, n);
          return new PyFloat(r);
        }
        const x = numeric(v);
        if (x === undefined) throw this.err('TypeError', `float() argument must be a string or a real number, not '${typeName(v)}'`, n);
        return new PyFloat(x);
      }
      case 'str':
        this.noKw(name, args, n);
        this.arity(name, args, 0, 1, n);
        return pos.length ? str(pos[0]) : '';
      case 'bool':
        this.noKw(name, args, n);
        this.arity(name, args, 0, 1, n);
        return pos.length ? truthy(pos[0]) : false;
      case 'abs': {
        this.noKw(name, args, n);
        this.arity(name, args, 1, 1, n);
        const x = numeric(pos[0]);
        if (x === undefined) throw this.err('TypeError', `bad operand type for abs(): '${typeName(pos[0])}'`, n);
        return pos[0] instanceof PyFloat ? new PyFloat(Math.abs(x)) : Math.abs(x);
      }
      case 'round': {
        const kw = this.noKw(name, args, n, ['ndigits']);
        this.arity(name, args, 1, 2, n);
        const x = numeric(pos[0]);
        if (x === undefined) throw this.err('TypeError', `type ${typeName(pos[0])} doesn't define __round__ method`, n);
        const nd = pos[1] ?? kw.get('ndigits') ?? null;
        if (nd === null) return roundHalfEven(x);
        const d = numeric(nd)!;
        const f = 10 ** d;
        const r = roundHalfEven(x * f) / f;
        return pos[0] instanceof PyFloat ? new PyFloat(Number(r.toFixed(Math.max(0, d)))) : r;
      }
      case 'sorted': {
        const kw = this.noKw(name, args, n, ['reverse']);
        this.arity(name, args, 1, 1, n);
        const items = [...this.iterate(pos[0], n)];
        this.alloc(items.length, n);
        items.sort((a, b) => this.order(a, b, '<', n));
        if (truthy(kw.get('reverse') ?? false)) items.reverse();
        return items;
      }
      case 'zip': {
        this.noKw(name, args, n);
        const its = pos.map((v) => this.iterate(v, n));
        const len = its.length ? Math.min(...its.map((x) => x.length)) : 0;
        this.alloc(len * (its.length + 1), n);
        const out: PyValue[] = [];
        for (let i = 0; i < len; i++) out.push(new PyTuple(its.map((x) => x[i])));
        return out;
      }
      case 'enumerate': {
        const kw = this.noKw(name, args, n, ['start']);
        this.arity(name, args, 1, 2, n);
        const start = numeric(pos[1] ?? kw.get('start') ?? 0) ?? 0;
        const items = this.iterate(pos[0], n);
        this.alloc(items.length * 3, n);
        return items.map((x, i) => new PyTuple([start + i, x]));
      }
      default:
        throw this.err(SUBSET_ERROR, `'${name}' cannot be called in a config`, n);
    }
  }

  private method(self: PyValue, name: string, args: CallArgs, n: SyntaxNode): PyValue {
    const { pos } = args;
    if (self instanceof PyDict) return this.dictMethod(self, name, args, n);
    if (Array.isArray(self)) {
      this.noKw(name, args, n, name === 'sort' ? ['reverse'] : []);
      switch (name) {
        case 'append':
          this.arity('list.append', args, 1, 1, n);
          this.alloc(1, n);
          self.push(pos[0]);
          return null;
        case 'extend': {
          this.arity('list.extend', args, 1, 1, n);
          const items = this.iterate(pos[0], n);
          this.alloc(items.length, n);
          self.push(...items);
          return null;
        }
        case 'insert': {
          this.arity('list.insert', args, 2, 2, n);
          let i = numeric(pos[0]) ?? 0;
          if (i < 0) i = Math.max(0, i + self.length);
          self.splice(Math.min(i, self.length), 0, pos[1]);
          return null;
        }
        case 'pop': {
          if (!self.length) throw this.err('IndexError', 'pop from empty list', n);
          const i = pos.length ? this.index(pos[0], self.length, 'pop', n) : self.length - 1;
          return self.splice(i, 1)[0];
        }
        case 'index': {
          const i = self.findIndex((x) => pyEquals(x, pos[0]));
          if (i < 0) throw this.err('ValueError', `${repr(pos[0])} is not in list`, n);
          return i;
        }
        case 'count':
          return self.filter((x) => pyEquals(x, pos[0])).length;
        case 'copy':
          this.alloc(self.length, n);
          return [...self];
        case 'remove': {
          const i = self.findIndex((x) => pyEquals(x, pos[0]));
          if (i < 0) throw this.err('ValueError', 'list.remove(x): x not in list', n);
          self.splice(i, 1);
          return null;
        }
        case 'reverse':
          self.reverse();
          return null;
        case 'sort': {
          self.sort((a, b) => this.order(a, b, '<', n));
          if (truthy(args.kw.find(([k]) => k === 'reverse')?.[1] ?? false)) self.reverse();
          return null;
        }
      }
    }
    if (self instanceof PyTuple) {
      if (name === 'count') return self.items.filter((x) => pyEquals(x, pos[0])).length;
      const i = self.items.findIndex((x) => pyEquals(x, pos[0]));
      if (i < 0) throw this.err('ValueError', 'tuple.index(x): x not in tuple', n);
      return i;
    }
    if (typeof self === 'string') return this.strMethod(self, name, args, n);
    throw this.err(SUBSET_ERROR, `method '${name}' cannot be called in a config`, n);
  }

  private strMethod(s: string, name: string, args: CallArgs, n: SyntaxNode): PyValue {
    const { pos } = args;
    const sArg = (i: number): string => {
      const v = pos[i];
      if (typeof v !== 'string') throw this.err('TypeError', `${name}() argument must be str, not ${typeName(v ?? null)}`, n);
      return v;
    };
    const strip = (chars: PyValue | undefined, left: boolean, right: boolean): string => {
      const set = chars === undefined || chars === null ? ' \t\n\r\x0b\x0c' : String(chars);
      let a = 0;
      let b = s.length;
      if (left) while (a < b && set.includes(s[a])) a++;
      if (right) while (b > a && set.includes(s[b - 1])) b--;
      return s.slice(a, b);
    };
    switch (name) {
      case 'format': {
        let auto = 0;
        const kw = new Map(args.kw);
        const out = s.replace(/\{\{|\}\}|\{([^{}!:]*)(?:!([rs]))?(?::([^{}]*))?\}/g, (m, field: string | undefined, conv: string | undefined, spec: string | undefined) => {
          if (m === '{{') return '{';
          if (m === '}}') return '}';
          const f = field ?? '';
          const [head, ...rest] = f.split('.');
          let v: PyValue | undefined = head === '' ? pos[auto++] : /^\d+$/.test(head) ? pos[Number(head)] : kw.get(head);
          if (v === undefined) throw this.err(head === '' || /^\d+$/.test(head) ? 'IndexError' : 'KeyError', head === '' || /^\d+$/.test(head) ? 'Replacement index out of range for positional args tuple' : repr(head), n);
          for (const a of rest) v = this.getAttr(v, a, n);
          if (conv === 'r') v = repr(v);
          else if (conv === 's') v = str(v);
          return formatValue(v, spec ?? '', (msg) => this.err('ValueError', msg, n));
        });
        this.alloc(Math.floor(out.length / 16), n);
        return out;
      }
      case 'join': {
        const items = this.iterate(pos[0] ?? null, n);
        for (const x of items) if (typeof x !== 'string') throw this.err('TypeError', `sequence item: expected str instance, ${typeName(x)} found`, n);
        return (items as string[]).join(s);
      }
      case 'replace':
        return s.split(sArg(0)).join(sArg(1));
      case 'split':
      case 'rsplit': {
        const sep = pos[0] ?? null;
        const parts = sep === null ? s.trim().split(/\s+/).filter((x) => x) : s.split(String(sep));
        this.alloc(parts.length, n);
        return parts;
      }
      case 'strip':
        return strip(pos[0], true, true);
      case 'lstrip':
        return strip(pos[0], true, false);
      case 'rstrip':
        return strip(pos[0], false, true);
      case 'upper':
        return s.toUpperCase();
      case 'lower':
        return s.toLowerCase();
      case 'title':
        return s.replace(/[A-Za-z]+/g, (w) => w[0].toUpperCase() + w.slice(1).toLowerCase());
      case 'capitalize':
        return s ? s[0].toUpperCase() + s.slice(1).toLowerCase() : s;
      case 'startswith':
      case 'endswith': {
        const p = pos[0];
        const cands = p instanceof PyTuple ? p.items : [p];
        return cands.some((c) => (name === 'startswith' ? s.startsWith(String(c)) : s.endsWith(String(c))));
      }
      case 'zfill': {
        const w = numeric(pos[0] ?? 0) ?? 0;
        const sign = s[0] === '-' || s[0] === '+' ? s[0] : '';
        return sign + s.slice(sign.length).padStart(w - sign.length, '0');
      }
      case 'find':
        return s.indexOf(sArg(0));
      case 'count':
        return s.split(sArg(0)).length - 1;
    }
    throw this.err(SUBSET_ERROR, `method '${name}' cannot be called in a config`, n);
  }

  private dictMethod(d: PyDict, name: string, args: CallArgs, n: SyntaxNode): PyValue {
    const { pos } = args;
    switch (name) {
      case 'keys':
        return d.keys();
      case 'values':
        return [...d.map.values()];
      case 'items':
        this.alloc(d.size * 3, n);
        return d.entries().map(([k, v]) => new PyTuple([k, v]));
      case 'get': {
        const k = this.dictKey(pos[0] ?? null, n);
        return d.has(k) ? d.get(k)! : (pos[1] ?? null);
      }
      case 'copy':
        this.alloc(d.size, n);
        return d.copy();
      case 'pop': {
        const k = this.dictKey(pos[0] ?? null, n);
        if (d.has(k)) {
          const v = d.get(k)!;
          d.delete(k);
          return v;
        }
        if (pos.length > 1) return pos[1];
        throw this.err('KeyError', repr(k), n);
      }
      case 'setdefault': {
        const k = this.dictKey(pos[0] ?? null, n);
        if (!d.has(k)) d.set(k, pos[1] ?? null);
        return d.get(k)!;
      }
      case 'update': {
        const other = new PyDict();
        if (pos.length) {
          if (!(pos[0] instanceof PyDict)) throw this.err('TypeError', `'${typeName(pos[0])}' object is not a mapping`, n);
          for (const [k, v] of pos[0].map) other.set(k, v);
        }
        for (const [k, v] of args.kw) other.set(k, v);
        if (d.configDict) configDictUpdate(d, other);
        else for (const [k, v] of other.map) d.set(k, v);
        return null;
      }
      case 'merge': {
        const other = pos[0];
        if (!(other instanceof PyDict)) throw this.err('TypeError', `merge() expects a dict, not '${typeName(other ?? null)}'`, n);
        configDictMerge(d, other);
        return null;
      }
      case 'to_dict':
        return deepCopy(d);
    }
    throw this.err(SUBSET_ERROR, `method '${name}' cannot be called in a config`, n);
  }
}

/** `ConfigDict.update`: recursive for dict values, `_delete_` not handled. */
function configDictUpdate(self: PyDict, other: PyDict): void {
  for (const [k, v] of other.map) {
    const cur = self.get(k);
    if (!self.has(k) || !(cur instanceof PyDict) || !(v instanceof PyDict)) {
      if (v instanceof PyDict) v.configDict = true;
      self.set(k, v);
    } else configDictUpdate(cur, v);
  }
}

/** `ConfigDict.merge`: recursive, honours `_delete_` (in place). */
function configDictMerge(b: PyDict, a: PyDict): void {
  if (a.has('_delete_')) {
    const del = truthy(a.get('_delete_')!);
    a.delete('_delete_');
    if (del) b.map.clear();
  }
  for (const [k, v] of a.map) {
    const cur = b.get(k);
    if (v instanceof PyDict && cur instanceof PyDict) configDictMerge(cur, v);
    else {
      if (v instanceof PyDict) {
        v.delete('_delete_');
        v.configDict = true;
      }
      b.set(k, v);
    }
  }
}

/** A `start:stop:step` slice. */
class SliceSpec {
  constructor(readonly start?: number, readonly stop?: number, readonly step?: number) {}
  apply<T>(seq: T[], at: SyntaxNode): T[] {
    const len = seq.length;
    const step = this.step ?? 1;
    if (step === 0) throw new PyException('ValueError', 'slice step cannot be zero', at.from, at.to);
    const norm = (v: number | undefined, def: number, lo: number, hi: number): number => {
      if (v === undefined) return def;
      const x = v < 0 ? v + len : v;
      return Math.min(Math.max(x, lo), hi);
    };
    const out: T[] = [];
    if (step > 0) {
      const a = norm(this.start, 0, 0, len);
      const b = norm(this.stop, len, 0, len);
      for (let i = a; i < b; i += step) out.push(seq[i]);
    } else {
      const a = norm(this.start, len - 1, -1, len - 1);
      const b = norm(this.stop, -1, -1, len - 1);
      for (let i = a; i > b; i += step) out.push(seq[i]);
    }
    return out;
  }
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Python `float(str)` parsing; undefined when invalid. */
export function parsePyFloat(v: string): number | undefined {
  const s = v.trim().replace(/(\d)_(?=\d)/g, '$1');
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return NaN;
  if (!/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(s)) return undefined;
  return Number(s);
}

/** Python's format-spec mini-language for ints, floats and strings (`>3`, `.2f`, `03d`, `,`, `e`, `%`). */
export function formatValue(v: PyValue, spec: string, fail: (msg: string) => Error): string {
  if (!spec) return str(v);
  const m = /^(?:(.)?([<>^=]))?([+\- ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/.exec(spec);
  if (!m) throw fail(`Invalid format specifier '${spec}'`);
  const [, fillCh, align, sign, , zero, widthS, group, precS, type] = m;
  const width = widthS ? Number(widthS) : 0;
  const prec = precS !== undefined ? Number(precS) : undefined;
  let body: string;
  let numericVal = false;
  const x = numeric(v);
  if (typeof v === 'string') {
    if (type && type !== 's') throw fail(`Unknown format code '${type}' for object of type 'str'`);
    body = prec !== undefined ? v.slice(0, prec) : v;
  } else if (x !== undefined && typeof v !== 'boolean' || (typeof v === 'boolean' && type)) {
    numericVal = true;
    const isFloat = v instanceof PyFloat;
    const t = type ?? (isFloat ? (prec !== undefined ? 'g' : '') : 'd');
    const ax = Math.abs(x!);
    switch (t) {
      case 'd':
        if (isFloat) throw fail("Unknown format code 'd' for object of type 'float'");
        body = String(ax);
        break;
      case 'f':
      case 'F':
        body = ax.toFixed(prec ?? 6);
        break;
      case 'e':
      case 'E': {
        const [mm, ee] = ax.toExponential(prec ?? 6).split('e');
        body = `${mm}e${ee[0]}${ee.slice(1).padStart(2, '0')}`;
        if (t === 'E') body = body.toUpperCase();
        break;
      }
      case '%':
        body = (ax * 100).toFixed(prec ?? 6) + '%';
        break;
      case 'g':
      case 'G': {
        const p = prec === 0 ? 1 : (prec ?? 6);
        const exp = ax === 0 ? 0 : Math.floor(Math.log10(ax));
        if (exp < -4 || exp >= p) {
          const [mm, ee] = ax.toExponential(p - 1).split('e');
          body = `${mm.includes('.') ? mm.replace(/\.?0+$/, '') : mm}e${ee[0]}${ee.slice(1).padStart(2, '0')}`;
        } else {
          body = ax.toFixed(Math.max(0, p - 1 - exp));
          if (body.includes('.')) body = body.replace(/\.?0+$/, '');
        }
        break;
      }
      case 'x':
        body = ax.toString(16);
        break;
      case 'X':
        body = ax.toString(16).toUpperCase();
        break;
      case 'o':
        body = ax.toString(8);
        break;
      case 'b':
        body = ax.toString(2);
        break;
      default:
        body = str(isFloat ? new PyFloat(ax) : ax);
    }
    if (group) {
      const [ip, fp] = body.split('.');
      body = ip.replace(/\B(?=(\d{3})+(?!\d))/g, group) + (fp !== undefined ? '.' + fp : '');
    }
    const neg = x! < 0 || Object.is(x, -0);
    const signStr = neg ? '-' : sign === '+' ? '+' : sign === ' ' ? ' ' : '';
    if (zero && !align && width > body.length + signStr.length) body = body.padStart(width - signStr.length, '0');
    body = signStr + body;
  } else {
    body = str(v);
  }
  const fill = fillCh ?? (zero && !align ? '0' : ' ');
  const al = align ?? (numericVal ? '>' : '<');
  if (body.length >= width) return body;
  const pad = width - body.length;
  if (al === '<') return body + fill.repeat(pad);
  if (al === '>') return fill.repeat(pad) + body;
  if (al === '^') return fill.repeat(Math.floor(pad / 2)) + body + fill.repeat(pad - Math.floor(pad / 2));
  const sgn = /^[+\- ]/.test(body) ? body[0] : '';
  return sgn + fill.repeat(pad) + body.slice(sgn.length);
}

/**
 * Evaluates a parsed module. Throws {@link PyException} (with the range in `parsed.text`) on errors.
 *
 * @param parsed the parsed text (must have no syntax error)
 * @param ctx mode, budget, import resolver
 * @param initial predefined globals (e.g. `_base_`)
 */
export function evaluateModule(parsed: ParsedPython, ctx: EvalContext, initial: Map<string, PyValue> = new Map()): ModuleResult {
  const ev = new Evaluator(parsed.text, ctx, initial);
  return ev.run(parsed.tree.topNode);
}
