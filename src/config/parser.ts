/**
 * Python parsing for configs: the real Python grammar of @lezer/python, plus CPython-compatible syntax
 * error messages (bracket errors as the tokenizer reports them, otherwise `invalid syntax`) and literal
 * decoding (numbers, strings with prefixes and escapes).
 */
import type { SyntaxNode, Tree } from '@lezer/common';
import { parser } from '@lezer/python';
import { PyFloat } from './values.ts';

/** A syntax error located in the parsed text. */
export interface SyntaxErrorInfo {
  /** Message without the `(<unknown>, line N)` suffix. */
  msg: string;
  /** Exception class when not `SyntaxError`. */
  pyName?: string;
  /** 1-based line Python reports. */
  line: number;
  from: number;
  to: number;
}

/** A parsed file. */
export interface ParsedPython {
  tree: Tree;
  text: string;
  /** The first syntax error, if any. */
  syntaxError?: SyntaxErrorInfo;
}

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSE: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Finds bracket errors the way CPython's tokenizer reports them (strings and comments skipped). */
export function bracketError(text: string): SyntaxErrorInfo | undefined {
  const stack: { ch: string; at: number }[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      const q = triple ? c.repeat(3) : c;
      // raw prefix: a backslash still escapes the quote for tokenizing purposes
      i += q.length;
      while (i < n) {
        if (text[i] === '\\') {
          i += 2;
          continue;
        }
        if (text.startsWith(q, i)) {
          i += q.length;
          break;
        }
        if (!triple && text[i] === '\n') break;
        i++;
      }
      continue;
    }
    if (OPEN[c]) stack.push({ ch: c, at: i });
    else if (CLOSE[c]) {
      const top = stack.pop();
      if (!top) return { msg: `unmatched '${c}'`, line: lineOf(text, i), from: i, to: i + 1 };
      if (top.ch !== CLOSE[c]) {
        const lo = lineOf(text, top.at);
        const lc = lineOf(text, i);
        const where = lo !== lc ? ` on line ${lo}` : '';
        return { msg: `closing parenthesis '${c}' does not match opening parenthesis '${top.ch}'${where}`, line: lc, from: i, to: i + 1 };
      }
    }
    i++;
  }
  if (stack.length) {
    const top = stack[stack.length - 1];
    return { msg: `'${top.ch}' was never closed`, line: lineOf(text, top.at), from: top.at, to: top.at + 1 };
  }
  return undefined;
}

/**
 * @lezer/python reads `0.` (a float with a trailing dot, common in mmdet configs: `target_means=[0., 0.]`)
 * as a member access with a missing property; this recognises that shape.
 */
export function isTrailingDotFloat(err: SyntaxNode, text: string): boolean {
  const p = err.parent;
  if (!p || p.name !== 'MemberExpression' || err.from !== err.to) return false;
  const num = p.firstChild;
  const dot = num?.nextSibling;
  return !!num && num.name === 'Number' && !!dot && dot.name === '.' && dot.from === num.to && /^\d[\d_]*$/.test(text.slice(num.from, num.to));
}

function firstErrorNode(tree: Tree, text: string): { from: number; to: number } | undefined {
  let found: { from: number; to: number } | undefined;
  tree.iterate({
    enter(n) {
      if (found) return false;
      if (n.type.isError && !isTrailingDotFloat(n.node, text)) {
        found = { from: n.from, to: n.to };
        return false;
      }
      return undefined;
    },
  });
  return found;
}

/** CPython's tokenizer limit on bracket nesting (MAXLEVEL). */
const MAX_BRACKET_DEPTH = 200;
/** Longest run of unary operators accepted (deeper nesting makes the parser slow; Python code never needs it). */
const MAX_UNARY_RUN = 200;

/** Inputs that would make the parser slow: over-nested brackets or unary operator chains. */
function tooComplex(text: string): SyntaxErrorInfo | undefined {
  let depth = 0;
  let q: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '\\') i++;
      else if (c === q || (c === '\n' && q.length === 1)) q = null;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      q = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      if (q.length === 3) {
        const end = text.indexOf(q, i + 3);
        i = end < 0 ? text.length : end + 2;
        q = null;
      }
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      if (++depth > MAX_BRACKET_DEPTH) return { msg: 'too many nested parentheses', line: lineOf(text, i), from: i, to: i + 1 };
    } else if (c === ')' || c === ']' || c === '}') depth--;
  }
  const m = new RegExp(`(?:[-+~]\\s*){${MAX_UNARY_RUN},}`).exec(text);
  if (m) return { msg: 'too many nested unary operators', line: lineOf(text, m.index), from: m.index, to: m.index + m[0].length };
  return undefined;
}

/** Parses Python text; `syntaxError` is set when the text is not valid Python. */
export function parsePython(text: string): ParsedPython {
  const complex = tooComplex(text);
  if (complex) return { tree: parser.parse(''), text, syntaxError: complex };
  const tree = parser.parse(text);
  const err = firstErrorNode(tree, text);
  if (!err) return { tree, text };
  const br = bracketError(text);
  if (br) return { tree, text, syntaxError: br };
  let maxDepth = 0;
  let d = 0;
  tree.iterate({
    enter() {
      maxDepth = Math.max(maxDepth, ++d);
    },
    leave() {
      d--;
    },
  });
  if (maxDepth > 300) {
    // the parser's own nesting limit (e.g. a chain of thousands of `+`): CPython's compiler gives up too
    return { tree, text, syntaxError: { msg: 'maximum recursion depth exceeded during compilation', line: lineOf(text, err.from), from: err.from, to: err.from + 1, pyName: 'RecursionError' } };
  }
  // CPython points at the offending token: the error node, or the token right after it when empty.
  let from = err.from;
  while (from < text.length && (text[from] === ' ' || text[from] === '\t')) from++;
  let to = Math.max(err.to, from + 1);
  if (to > text.length) {
    from = Math.max(0, text.length - 1);
    to = text.length;
  }
  return { tree, text, syntaxError: { msg: 'invalid syntax', line: lineOf(text, from), from, to } };
}

/** Children of a node, comments skipped. */
export function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) if (c.name !== 'Comment') out.push(c);
  return out;
}

/** Decodes a Python number literal: `int` → number, `float` → PyFloat; undefined for complex. */
export function decodeNumber(raw: string): number | PyFloat | undefined {
  const s = raw.replace(/_/g, '');
  if (/[jJ]$/.test(s)) return undefined;
  if (/^0[xX]/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[oO]/.test(s)) return parseInt(s.slice(2), 8);
  if (/^0[bB]/.test(s)) return parseInt(s.slice(2), 2);
  if (/[.eE]/.test(s)) return new PyFloat(Number(s));
  return Number(s);
}

function decodeEscapes(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\' || i + 1 >= body.length) {
      out += c;
      continue;
    }
    const d = body[++i];
    switch (d) {
      case '\n':
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        const m = /^[0-7]{1,3}/.exec(body.slice(i))![0];
        out += String.fromCharCode(parseInt(m, 8));
        i += m.length - 1;
        break;
      }
      case 'x':
        out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case 'u':
        out += String.fromCharCode(parseInt(body.slice(i + 1, i + 5), 16));
        i += 4;
        break;
      case 'U':
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16));
        i += 8;
        break;
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
      case "'":
      case '"':
        out += d;
        break;
      default:
        out += '\\' + d;
    }
  }
  return out;
}

/** Splits a string literal into prefix, quote and body. */
export function splitStringLiteral(raw: string): { prefix: string; quote: string; body: string } {
  const m = /^([a-zA-Z]*)('''|"""|'|")/.exec(raw);
  if (!m) return { prefix: '', quote: '', body: raw };
  const quote = m[2];
  const body = raw.slice(m[0].length, raw.length - quote.length);
  return { prefix: m[1].toLowerCase(), quote, body };
}

/** Decodes a (non-f) string literal; `bytes` is set for b'' literals. */
export function decodeString(raw: string): { value: string; bytes: boolean } {
  const { prefix, body } = splitStringLiteral(raw);
  const isRaw = prefix.includes('r');
  return { value: isRaw ? body : decodeEscapes(body), bytes: prefix.includes('b') };
}

/** Decodes a literal text piece of an f-string (escapes and `{{` / `}}`). */
export function decodeFStringPiece(piece: string, isRaw: boolean): string {
  const s = piece.replace(/\{\{/g, '{').replace(/\}\}/g, '}');
  return isRaw ? s : decodeEscapes(s);
}
