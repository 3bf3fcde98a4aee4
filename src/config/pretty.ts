/**
 * MMEngine `Config.pretty_text` style output: one `name = value` line per top-level key, keys sorted
 * by `str(key)` at every level, dicts as `dict(k=v)` (or `{'k': v}` when a key is not an identifier),
 * list and tuple items each followed by a comma, strings and floats as Python `repr`. Lines are broken
 * at 79 columns with 4-space indents (yapf's exact choices are not reproduced; compare structurally).
 */
import { PyDict, PyFloat, PyLazyObject, PyTuple, repr, reprFloat, type PyValue } from './values.ts';

const WIDTH = 79;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(['False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield']);

function sortedEntries(d: PyDict): [string | number, PyValue][] {
  return d.entries().sort(([a], [b]) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

function isIdentKey(k: string | number): boolean {
  return typeof k === 'string' && IDENT.test(k) && !KEYWORDS.has(k);
}

function scalar(v: PyValue): string {
  if (v instanceof PyFloat) return reprFloat(v.value);
  if (v instanceof PyLazyObject) return repr(v.dotted);
  return repr(v);
}

/** One-line form. */
function flat(v: PyValue, depth = 0): string {
  if (depth > 200) throw new RangeError('maximum recursion depth exceeded while formatting the config');
  if (v instanceof PyDict) {
    const ents = sortedEntries(v);
    if (ents.every(([k]) => isIdentKey(k))) return `dict(${ents.map(([k, x]) => `${k}=${flat(x, depth + 1)}`).join(', ')})`;
    return `{${ents.map(([k, x]) => `${repr(k)}: ${flat(x, depth + 1)}`).join(', ')}}`;
  }
  if (Array.isArray(v)) return v.length ? `[${v.map((x) => flat(x, depth + 1) + ',').join(' ')}]` : '[]';
  if (v instanceof PyTuple) return v.items.length ? `(${v.items.map((x) => flat(x, depth + 1) + ',').join(' ')})` : '()';
  return scalar(v);
}

/** Multi-line form starting at column `col` with indentation `ind`. */
function block(v: PyValue, ind: number, col: number): string {
  const one = flat(v);
  if (col + one.length <= WIDTH) return one;
  const pad = ' '.repeat(ind + 4);
  if (v instanceof PyDict) {
    const ents = sortedEntries(v);
    const ident = ents.every(([k]) => isIdentKey(k));
    const lines = ents.map(([k, x]) => {
      const head = ident ? `${k}=` : `${repr(k)}: `;
      return pad + head + block(x, ind + 4, ind + 4 + head.length);
    });
    return ident ? `dict(\n${lines.join(',\n')})` : `{\n${lines.join(',\n')}\n${' '.repeat(ind)}}`;
  }
  if (Array.isArray(v) || v instanceof PyTuple) {
    const items = Array.isArray(v) ? v : v.items;
    const [o, c] = Array.isArray(v) ? ['[', ']'] : ['(', ')'];
    const lines = items.map((x) => `${pad}${block(x, ind + 4, ind + 4)},`);
    return `${o}\n${lines.join('\n')}\n${' '.repeat(ind)}${c}`;
  }
  return one;
}

/** The config as MMEngine `pretty_text` style Python text (ends with a newline). */
export function prettyText(cfg: PyDict): string {
  const out: string[] = [];
  for (const [k, v] of sortedEntries(cfg)) {
    const head = `${String(k)} = `;
    out.push(head + block(v, 0, head.length));
  }
  return out.join('\n') + '\n';
}

/** The value as one line of Python (`dict(...)`, lists with trailing commas). */
export function formatValue(v: PyValue): string {
  return flat(v);
}

/** Removes whitespace outside string literals (for structural comparison of pretty text). */
export function normalizePrettyText(text: string): string {
  let out = '';
  let q: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === q) q = null;
    } else if (c === "'" || c === '"') {
      q = c;
      out += c;
    } else if (!/\s/.test(c)) out += c;
    else if (c === '\n') out += '\n';
  }
  // statement boundaries: a newline that is not inside brackets
  let depth = 0;
  let res = '';
  q = null;
  for (let i = 0; i < out.length; i++) {
    const c = out[i];
    if (q) {
      res += c;
      if (c === '\\') res += out[++i] ?? '';
      else if (c === q) q = null;
      continue;
    }
    if (c === "'" || c === '"') q = c;
    if ('([{'.includes(c)) depth++;
    if (')]}'.includes(c)) depth--;
    if (c === '\n') {
      if (depth === 0 && res.length && !res.endsWith('\n')) res += '\n';
      continue;
    }
    res += c;
  }
  return res.trim();
}
