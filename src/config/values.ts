/**
 * Runtime values of the config language: a faithful model of the Python objects an MMDetection config
 * builds (ordered dicts, lists, tuples, int vs float, strings, None, lazy imported objects).
 *
 * Representation: `None` → `null`, `bool` → `boolean`, `int` → `number` (always integral), `float` →
 * {@link PyFloat}, `str` → `string`, `list` → `PyValue[]`, `tuple` → {@link PyTuple}, `dict` /
 * `ConfigDict` → {@link PyDict} (insertion ordered).
 */

/** A Python `float` (kept apart from `int` so `1.0` stays `1.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A Python `tuple` (kept apart from `list`, as MMEngine does). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** Keys a config dict may have. */
export type DictKey = string | number;

/** A Python `dict` / MMEngine `ConfigDict`, insertion ordered. */
export class PyDict {
  /** Key → value, in insertion order. */
  readonly map: Map<DictKey, PyValue>;
  /** True for a `ConfigDict` (attribute access allowed, recursive `update`, `merge`). */
  configDict: boolean;
  constructor(entries?: Iterable<[DictKey, PyValue]>, configDict = false) {
    this.map = new Map(entries ?? []);
    this.configDict = configDict;
  }
  get size(): number {
    return this.map.size;
  }
  has(k: DictKey): boolean {
    return this.map.has(k);
  }
  get(k: DictKey): PyValue | undefined {
    return this.map.get(k);
  }
  set(k: DictKey, v: PyValue): void {
    this.map.set(k, v);
  }
  delete(k: DictKey): boolean {
    return this.map.delete(k);
  }
  keys(): DictKey[] {
    return [...this.map.keys()];
  }
  entries(): [DictKey, PyValue][] {
    return [...this.map.entries()];
  }
  /** Shallow copy (same flag). */
  copy(): PyDict {
    return new PyDict(this.map, this.configDict);
  }
}

/** A lazily imported object of the pure-Python config style (`to_dict()` writes `'module.Name'`). */
export class PyLazyObject {
  constructor(readonly module: string, readonly name: string) {}
  get dotted(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A callable: a builtin function or a method bound to a value. */
export class PyCallable {
  constructor(
    readonly name: string,
    readonly self: PyValue | undefined,
    readonly kind: 'builtin' | 'method' | 'read_base',
  ) {}
}

/** A lazy `range` object. */
export class PyRange {
  constructor(readonly start: number, readonly stop: number, readonly step: number) {}
  get length(): number {
    const n = this.step > 0 ? Math.ceil((this.stop - this.start) / this.step) : Math.ceil((this.start - this.stop) / -this.step);
    return Math.max(0, n);
  }
  at(i: number): number {
    return this.start + i * this.step;
  }
}

/** Any value the evaluator handles. */
export type PyValue = null | boolean | number | string | PyFloat | PyTuple | PyDict | PyValue[] | PyLazyObject | PyCallable | PyRange;

/** A plain JSON value (the `to_dict()` view of a config). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Python's type name of a value (`'int'`, `'dict'`, `'ConfigDict'`…). */
export function typeName(v: PyValue): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof PyFloat) return 'float';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return v.configDict ? 'ConfigDict' : 'dict';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyLazyObject) return 'LazyObject';
  if (v instanceof PyRange) return 'range';
  return 'builtin_function_or_method';
}

/** `<class 'list'>` as Python's `type(v)` prints it (ConfigDict prints its module path). */
export function typeRepr(v: PyValue): string {
  if (v instanceof PyDict && v.configDict) return "<class 'mmengine.config.config.ConfigDict'>";
  return `<class '${typeName(v)}'>`;
}

/** Whether a value is a `dict` (incl. ConfigDict). */
export function isDict(v: PyValue | undefined): v is PyDict {
  return v instanceof PyDict;
}

/** Whether a value is a `list`. */
export function isList(v: PyValue | undefined): v is PyValue[] {
  return Array.isArray(v);
}

/** Python `repr` of a string. */
export function reprStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += '\\' + q;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + q;
}

/** Python `repr` of a float (shortest round-trip digits, exponent form outside 1e-4 ≤ |x| < 1e16). */
export function reprFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e');
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let body: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    body = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return (neg ? '-' : '') + body;
}

/** Python `repr` of any value (dicts as `{'k': v}`, as `str(dict)` prints them). */
export function repr(v: PyValue, depth = 0): string {
  if (depth > 200) throw new RangeError('maximum recursion depth exceeded while getting the repr of an object');
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return reprStr(v);
  if (v instanceof PyFloat) return reprFloat(v.value);
  if (v instanceof PyTuple) {
    const parts = v.items.map((x) => repr(x, depth + 1));
    return parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(', ')})`;
  }
  if (Array.isArray(v)) return `[${v.map((x) => repr(x, depth + 1)).join(', ')}]`;
  if (v instanceof PyDict) return `{${v.entries().map(([k, x]) => `${repr(k)}: ${repr(x, depth + 1)}`).join(', ')}}`;
  if (v instanceof PyLazyObject) return `<LazyObject '${v.dotted}'>`;
  if (v instanceof PyRange) return v.step === 1 ? `range(${v.start}, ${v.stop})` : `range(${v.start}, ${v.stop}, ${v.step})`;
  return `<built-in function ${v.name}>`;
}

/** Python `str()` of a value. */
export function str(v: PyValue): string {
  return typeof v === 'string' ? v : repr(v);
}

/** Deep copy (dicts, lists, tuples); scalars and lazy objects are shared. */
export function deepCopy(v: PyValue, depth = 0): PyValue {
  if (depth > 500) throw new RangeError('maximum recursion depth exceeded while copying a value');
  if (v instanceof PyDict) {
    const d = new PyDict(undefined, v.configDict);
    for (const [k, x] of v.map) d.map.set(k, deepCopy(x, depth + 1));
    return d;
  }
  if (Array.isArray(v)) return v.map((x) => deepCopy(x, depth + 1));
  if (v instanceof PyTuple) return new PyTuple(v.items.map((x) => deepCopy(x, depth + 1)));
  return v;
}

/** Marks a dict tree (through lists and tuples) as ConfigDicts, in place. */
export function markConfigDict(v: PyValue, depth = 0): void {
  if (depth > 500) return;
  if (v instanceof PyDict) {
    v.configDict = true;
    for (const x of v.map.values()) markConfigDict(x, depth + 1);
  } else if (Array.isArray(v)) for (const x of v) markConfigDict(x, depth + 1);
  else if (v instanceof PyTuple) for (const x of v.items) markConfigDict(x, depth + 1);
}

/** Python `==`. */
export function pyEquals(a: PyValue | undefined, b: PyValue | undefined, depth = 0): boolean {
  if (depth > 500) return false;
  if (a === undefined || b === undefined) return a === b;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return na === nb;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEquals(x, b[i], depth + 1));
  }
  if (a instanceof PyTuple || b instanceof PyTuple) {
    return a instanceof PyTuple && b instanceof PyTuple && a.items.length === b.items.length && a.items.every((x, i) => pyEquals(x, b.items[i], depth + 1));
  }
  if (a instanceof PyDict || b instanceof PyDict) {
    if (!(a instanceof PyDict && b instanceof PyDict) || a.size !== b.size) return false;
    for (const [k, x] of a.map) if (!b.has(k) || !pyEquals(x, b.get(k), depth + 1)) return false;
    return true;
  }
  if (a instanceof PyLazyObject && b instanceof PyLazyObject) return a.dotted === b.dotted;
  return a === b;
}

/** The number behind a bool/int/float, or undefined. */
export function numeric(v: PyValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof PyFloat) return v.value;
  return undefined;
}

/** Python truthiness. */
export function truthy(v: PyValue): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof PyFloat) return v.value !== 0;
  if (v instanceof PyTuple) return v.items.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof PyDict) return v.size > 0;
  if (v instanceof PyRange) return v.length > 0;
  return true;
}

function toJson(v: PyValue, tuples: 'array' | 'marked', depth: number): JsonValue {
  if (depth > 500) throw new RangeError('maximum recursion depth exceeded while converting the config to JSON');
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (v instanceof PyFloat) return v.value;
  if (v instanceof PyTuple) {
    const items = v.items.map((x) => toJson(x, tuples, depth + 1));
    return tuples === 'array' ? items : { __tuple__: items };
  }
  if (Array.isArray(v)) return v.map((x) => toJson(x, tuples, depth + 1));
  if (v instanceof PyDict) {
    const o: { [k: string]: JsonValue } = {};
    for (const [k, x] of v.map) o[String(k)] = toJson(x, tuples, depth + 1);
    return o;
  }
  if (v instanceof PyLazyObject) return v.dotted;
  if (v instanceof PyRange) return Array.from({ length: v.length }, (_, i) => v.at(i));
  return null;
}

/** The config as plain JSON (`to_dict()`), tuples written as arrays, key order kept. */
export function toPlainJSON(v: PyValue): JsonValue {
  return toJson(v, 'array', 0);
}

/** The config as the fixtures write it: tuples as `{"__tuple__": [...]}`, key order kept. */
export function toFixtureJSON(v: PyValue): JsonValue {
  return toJson(v, 'marked', 0);
}

/** Builds a value from JSON (JSON bases: arrays become lists, `{"__tuple__": [...]}` becomes a tuple when `tuples`). */
export function fromJSON(j: unknown, tuples = false): PyValue {
  if (j === null || typeof j === 'boolean' || typeof j === 'string') return j;
  if (typeof j === 'number') return Number.isInteger(j) ? j : new PyFloat(j);
  if (Array.isArray(j)) return j.map((x) => fromJSON(x, tuples));
  if (typeof j === 'object') {
    const o = j as Record<string, unknown>;
    const keys = Object.keys(o);
    if (tuples && keys.length === 1 && keys[0] === '__tuple__' && Array.isArray(o.__tuple__)) {
      return new PyTuple(o.__tuple__.map((x) => fromJSON(x, tuples)));
    }
    return new PyDict(keys.map((k) => [k, fromJSON(o[k], tuples)] as [DictKey, PyValue]));
  }
  return null;
}

/** Reads a value at a dotted path (`'model.roi_head.bbox_head.num_classes'`; digits index lists). */
export function getPath(v: PyValue | undefined, path: string | (string | number)[]): PyValue | undefined {
  const parts = typeof path === 'string' ? (path === '' ? [] : path.split('.')) : path;
  let cur: PyValue | undefined = v;
  for (const p of parts) {
    if (cur instanceof PyDict) {
      cur = cur.has(p) ? cur.get(p) : typeof p === 'string' && /^\d+$/.test(p) ? cur.get(Number(p)) : undefined;
    } else if (Array.isArray(cur) || cur instanceof PyTuple) {
      const arr = Array.isArray(cur) ? cur : cur.items;
      const i = Number(p);
      cur = Number.isInteger(i) ? arr[i] : undefined;
    } else return undefined;
  }
  return cur;
}
