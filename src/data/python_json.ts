/**
 * `json.dumps(obj)` with Python's defaults (`separators=(', ', ': ')`, `ensure_ascii=True`, no indent),
 * byte-for-byte, so files match what MMDetection writes with `mmengine.dump(obj, 'x.json')`.
 *
 * JavaScript has one number type; Python writes `1.0` for a float and `1` for an int. Numbers are
 * written as ints when integral unless they sit under a key listed in `floatKeys` (then always in
 * Python's float `repr`), or are non-integral.
 */

/** Options of {@link pythonJsonDumps}. */
export interface PythonJsonOptions {
  /** Object keys whose numeric values (also inside arrays) are Python floats, e.g. `bbox`. */
  floatKeys?: ReadonlySet<string>;
}

/** Python `repr(float)`: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const exp = x.toExponential(); // shortest digits, e.g. "-1.2345e+2"
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp);
  if (!m) throw new Error(`unexpected number format ${exp}`);
  const sign = m[1]!;
  const digits = m[2]! + (m[3] ?? '');
  const e = Number(m[4]);
  if (e >= -5 && e < 16) {
    // Python's repr uses fixed notation when -4 <= exponent < 16.
    if (e < -4) return formatExp(sign, digits, e);
    if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
    if (digits.length <= e + 1) return `${sign}${digits}${'0'.repeat(e + 1 - digits.length)}.0`;
    return `${sign}${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`;
  }
  return formatExp(sign, digits, e);
}

function formatExp(sign: string, digits: string, e: number): string {
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const es = Math.abs(e).toString().padStart(2, '0');
  return `${sign}${mant}e${e < 0 ? '-' : '+'}${es}`;
}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** Python's `json` string encoding with `ensure_ascii=True`. */
export function pythonJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    const esc = ESCAPES[ch];
    if (esc !== undefined) out += esc;
    else if (code < 0x20 || code > 0x7e) out += '\\u' + code.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** Serialises `value` exactly like Python's `json.dumps(value)`. */
export function pythonJsonDumps(value: unknown, options: PythonJsonOptions = {}): string {
  const floatKeys = options.floatKeys ?? new Set<string>();
  const parts: string[] = [];
  const write = (v: unknown, asFloat: boolean): void => {
    if (v === null || v === undefined) parts.push('null');
    else if (typeof v === 'boolean') parts.push(v ? 'true' : 'false');
    else if (typeof v === 'number') {
      parts.push(asFloat || !Number.isInteger(v) ? pythonFloatRepr(v) : String(v));
    } else if (typeof v === 'string') parts.push(pythonJsonString(v));
    else if (Array.isArray(v)) {
      parts.push('[');
      v.forEach((item, i) => {
        if (i > 0) parts.push(', ');
        write(item, asFloat);
      });
      parts.push(']');
    } else if (typeof v === 'object') {
      parts.push('{');
      let first = true;
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        if (item === undefined) continue;
        if (!first) parts.push(', ');
        first = false;
        parts.push(pythonJsonString(k), ': ');
        write(item, floatKeys.has(k));
      }
      parts.push('}');
    } else throw new TypeError(`cannot serialise ${typeof v} as JSON`);
  };
  write(value, false);
  return parts.join('');
}
