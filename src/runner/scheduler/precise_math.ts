/**
 * Correctly rounded cosine for the schedulers. V8's `Math.cos` (an fdlibm port) is accurate to
 * about 1 ulp but not always correctly rounded, while CPython's `math.cos` (glibc) is; MMEngine's
 * chainable cosine schedule multiplies such values thousands of times, so a 1-ulp difference shows
 * up as a different lr. Evaluating the cosine in double-double arithmetic and rounding once gives
 * the correctly rounded double (bit-identical to glibc on every value the fixtures hold).
 */

/** A double-double number hi + lo with |lo| <= ulp(hi)/2. */
type DD = [number, number];

const SPLITTER = 134217729; // 2^27 + 1

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

function split(a: number): DD {
  const t = SPLITTER * a;
  const hi = t - (t - a);
  return [hi, a - hi];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function ddAdd(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  const [t, f] = twoSum(a[1], b[1]);
  let [hi, lo] = quickTwoSum(s, e + t);
  [hi, lo] = quickTwoSum(hi, lo + f);
  return [hi, lo];
}

function ddMul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + (a[0] * b[1] + a[1] * b[0]));
}

function ddDivNum(a: DD, b: number): DD {
  const q1 = a[0] / b;
  const [p, e] = twoProd(q1, b);
  const [s, f] = twoSum(a[0], -p);
  const q2 = (s + (f - e + a[1])) / b;
  return quickTwoSum(q1, q2);
}

// pi/2 as a triple-double.
const PIO2_1 = 1.5707963267948966;
const PIO2_2 = 6.123233995736766e-17;
const PIO2_3 = -1.4973849048591698e-33;

/** x - k*pi/2 in double-double (k integral, |k| small enough that k*PIO2_i is exact-ish). */
function reduce(x: number, k: number): DD {
  let r: DD = twoSum(x, -0);
  r = ddAdd(r, twoProd(-k, PIO2_1));
  r = ddAdd(r, twoProd(-k, PIO2_2));
  r = ddAdd(r, [-k * PIO2_3, 0]);
  return r;
}

/** Taylor series of cos (even = true) or sin around 0 for |r| <= pi/4, in double-double. */
function series(r: DD, even: boolean): DD {
  const r2 = ddMul(r, r);
  let term: DD = even ? [1, 0] : r;
  let sum: DD = term;
  let n = even ? 0 : 1;
  for (let i = 0; i < 30; i++) {
    term = ddDivNum(ddMul(term, r2), -((n + 1) * (n + 2)));
    n += 2;
    sum = ddAdd(sum, term);
    if (Math.abs(term[0]) < 1e-40) break;
  }
  return sum;
}

/**
 * cos(x) rounded to the nearest double (for |x| up to ~1e6; falls back to `Math.cos` beyond, where
 * schedulers never go).
 */
export function preciseCos(x: number): number {
  if (!Number.isFinite(x) || Math.abs(x) > 1e6) return Math.cos(x);
  const k = Math.round(x / PIO2_1);
  const r = reduce(x, k);
  const q = ((k % 4) + 4) % 4;
  let v: DD;
  if (q === 0) v = series(r, true);
  else if (q === 1) v = series(r, false).map((t) => -t) as DD;
  else if (q === 2) v = series(r, true).map((t) => -t) as DD;
  else v = series(r, false);
  return v[0] + v[1];
}
