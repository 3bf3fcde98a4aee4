/**
 * MMEngine's `Config._merge_a_into_b` (child into base) and `merge_from_dict` (`--cfg-options`), with
 * the exact exception classes and messages, plus a trace hook used for provenance.
 */
import { PyException } from './errors.ts';
import { parsePyFloat } from './evaluator.ts';
import { PyDict, PyFloat, PyTuple, repr, truthy, typeName, typeRepr, type DictKey, type PyValue } from './values.ts';

/** The key MMEngine uses to replace a base dict wholesale. */
export const DELETE_KEY = '_delete_';

/** Called for every key the child sets; `wholesale` = the value replaced the base value entirely. */
export type MergeTrace = (path: DictKey[], child: PyDict, key: DictKey, wholesale: boolean) => void;

/** Finds the source range of a child key (for error locations). */
export type KeyRangeOf = (child: PyDict, key: DictKey) => { from: number; to: number } | undefined;

/** Options of {@link mergeAIntoB}. */
export interface MergeOptions {
  /** `merge_from_dict(allow_list_keys=True)`: digit keys index into lists. */
  allowListKeys?: boolean;
  trace?: MergeTrace;
  rangeOf?: KeyRangeOf;
}

function fail(name: string, msg: string, child: PyDict | undefined, key: DictKey | undefined, opts: MergeOptions): PyException {
  const r = child !== undefined && key !== undefined ? opts.rangeOf?.(child, key) : undefined;
  return new PyException(name, msg, r?.from, r?.to);
}

function pop(d: PyDict, k: DictKey): PyValue | undefined {
  if (!d.has(k)) return undefined;
  const v = d.get(k)!;
  d.delete(k);
  return v;
}

/** `ConfigDict(v)`: the same mapping as a ConfigDict (a shallow copy). */
function asConfigDict(v: PyDict): PyDict {
  const d = v.copy();
  d.configDict = true;
  return d;
}

/**
 * Merges child `a` into base `b` and returns the merged value (`b` itself is not modified; `_delete_`
 * keys are popped from `a` exactly where MMEngine pops them).
 */
export function mergeAIntoB(a: PyValue, b: PyValue, opts: MergeOptions = {}, path: DictKey[] = []): PyValue {
  const allow = opts.allowListKeys ?? false;
  let out: PyDict | PyValue[];
  if (b instanceof PyDict) out = b.copy();
  else if (Array.isArray(b)) out = [...b];
  else throw new PyException('AttributeError', `'${typeName(b)}' object has no attribute 'copy'`);
  if (!(a instanceof PyDict)) throw new PyException('AttributeError', `'${typeName(a)}' object has no attribute 'items'`);
  for (const [k, v] of a.entries()) {
    const k0 = k;
    if (allow && typeof k === 'string' && /^\d+$/.test(k) && Array.isArray(out)) {
      const i = Number(k);
      if (out.length <= i) throw fail('KeyError', repr(`Index ${i} exceeds the length of list ${repr(out)}`), a, k0, opts);
      try {
        out[i] = mergeAIntoB(v, out[i], opts, [...path, i]);
      } catch (e) {
        throw locateAt(e, a, k0, opts);
      }
      opts.trace?.([...path, i], a, k0, false);
      continue;
    }
    if (Array.isArray(out)) {
      // `k in b` on a list, then `b[k] = ...` with a str index
      throw fail('TypeError', `list indices must be integers or slices, not ${typeName(k)}`, a, k0, opts);
    }
    if (v instanceof PyDict) {
      if (out.has(k) && !truthy(pop(v, DELETE_KEY) ?? false)) {
        const cur = out.get(k)!;
        const ok = cur instanceof PyDict || (allow && Array.isArray(cur));
        if (!ok) {
          throw fail(
            'TypeError',
            `${k}=${repr(v)} in child config cannot inherit from base because ${k} is a dict in the child config but is of type ${typeRepr(cur)} in base config. You may set \`${DELETE_KEY}=True\` to ignore the base config.`,
            a,
            k0,
            opts,
          );
        }
        try {
          out.set(k, mergeAIntoB(v, cur, opts, [...path, k]));
        } catch (e) {
          throw locateAt(e, a, k0, opts);
        }
        opts.trace?.([...path, k], a, k0, false);
      } else {
        out.set(k, asConfigDict(v));
        opts.trace?.([...path, k], a, k0, true);
      }
    } else {
      out.set(k, v);
      opts.trace?.([...path, k], a, k0, true);
    }
  }
  return out;
}

function locateAt(e: unknown, a: PyDict, k: DictKey, opts: MergeOptions): unknown {
  if (e instanceof PyException && e.from === undefined) {
    const r = opts.rangeOf?.(a, k);
    if (r) {
      e.from = r.from;
      e.to = r.to;
    }
  }
  return e;
}

// ------------------------------------------------------------------ --cfg-options

function parseIntFloatBool(val: string): PyValue {
  const s = val.trim();
  if (/^[+-]?\d+(_\d+)*$/.test(s)) return Number(s.replace(/_/g, ''));
  const f = parsePyFloat(val);
  if (f !== undefined) return new PyFloat(f);
  if (val.toLowerCase() === 'true' || val.toLowerCase() === 'false') return val.toLowerCase() === 'true';
  if (val === 'None') return null;
  return val;
}

function count(s: string, c: string): number {
  return s.split(c).length - 1;
}

function findNextComma(s: string): number {
  if (count(s, '(') !== count(s, ')') || count(s, '[') !== count(s, ']')) {
    throw new PyException('AssertionError', `Imbalanced brackets exist in ${s}`);
  }
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) return i;
  }
  return s.length;
}

function stripQuotes(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === "'" || s[a] === '"')) a++;
  while (b > a && (s[b - 1] === "'" || s[b - 1] === '"')) b--;
  return s.slice(a, b);
}

/** MMEngine `DictAction._parse_iterable`: one `--cfg-options` value. */
export function parseCfgOptionValue(raw: string): PyValue {
  let val = stripQuotes(raw).replace(/ /g, '');
  let isTuple = false;
  if (val.startsWith('(') && val.endsWith(')')) {
    isTuple = true;
    val = val.slice(1, -1);
  } else if (val.startsWith('[') && val.endsWith(']')) {
    val = val.slice(1, -1);
  } else if (!val.includes(',')) {
    return parseIntFloatBool(val);
  }
  const values: PyValue[] = [];
  while (val.length > 0) {
    const i = findNextComma(val);
    values.push(parseCfgOptionValue(val.slice(0, i)));
    val = val.slice(i + 1);
  }
  return isTuple ? new PyTuple(values) : values;
}

/** Parses `KEY=VALUE` strings (split at the first `=`) into an ordered option map. */
export function parseCfgOptions(items: string[]): Map<string, PyValue> {
  const out = new Map<string, PyValue>();
  for (const kv of items) {
    const i = kv.indexOf('=');
    if (i < 0) throw new PyException('ValueError', 'not enough values to unpack (expected 2, got 1)');
    out.set(kv.slice(0, i), parseCfgOptionValue(kv.slice(i + 1)));
  }
  return out;
}

/** `Config.merge_from_dict(options, allow_list_keys=True)`: returns the new config dict. */
export function mergeFromDict(cfg: PyDict, options: Map<string, PyValue>, trace?: MergeTrace): PyDict {
  const opt = new PyDict(undefined, true);
  for (const [full, v] of options) {
    let d = opt;
    const keys = full.split('.');
    for (const sub of keys.slice(0, -1)) {
      if (!d.has(sub)) d.set(sub, new PyDict(undefined, true));
      const next = d.get(sub);
      if (!(next instanceof PyDict)) throw new PyException('TypeError', `'${typeName(next ?? null)}' object does not support item assignment`);
      d = next;
    }
    d.set(keys[keys.length - 1], v);
  }
  return mergeAIntoB(opt, cfg, { allowListKeys: true, trace }) as PyDict;
}
