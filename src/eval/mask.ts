/**
 * Mask run-length encoding (RLE) with pycocotools 2.0.11 semantics: the column-major run codec, the
 * compressed `counts` string (LEB128-like, 6 bits per character), polygon / box rasterisation
 * (`frPyObjects`), `area`, `toBbox`, `merge` and `iou` with the crowd rule.
 *
 * Pure TypeScript: no DOM, no Node imports, so it runs in the training worker, the browser and Node.
 *
 * Run convention (as pycocotools): pixels are visited column by column (Fortran order, index
 * `x * h + y`); `counts[0]` is the length of the first run of zeros (possibly 0), then runs alternate
 * ones / zeros. The counts sum to `h * w`.
 *
 * @see pycocotools `common/maskApi.c` and `PythonAPI/pycocotools/_mask.pyx` (ppwwyyxx/cocoapi, 2.0.11)
 */
import { DetStudioError } from '../core/errors';

/** A COCO RLE: `size` is `[h, w]`; `counts` is the compressed string or the uncompressed run lengths. */
export interface RLE {
  size: [number, number];
  counts: string | number[];
}

/** A compressed COCO RLE (`counts` as pycocotools' string). */
export interface CompressedRLE extends RLE {
  counts: string;
}

/** A box in COCO `[x, y, w, h]` form (absolute pixels, top-left corner). */
export type BoxXYWH = [number, number, number, number] | number[];

/** Error raised for malformed RLE / polygon input; `field` names the offending part. */
export class MaskFormatError extends DetStudioError {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super('MaskFormatError', message, field === undefined ? undefined : { field });
  }
}

// ---------------------------------------------------------------------------------------------
// Run codec

/**
 * Encodes a binary mask stored COLUMN-MAJOR (Fortran order, pixel `(y, x)` at `x * h + y`, as
 * pycocotools' `encode(np.asfortranarray(m))`). Any non-zero byte counts as foreground only where it
 * differs from the previous value, exactly as `rleEncode` (so pass 0/1 masks).
 */
export function encode(mask: Uint8Array, h: number, w: number): CompressedRLE {
  return { size: [h, w], counts: toCompressed(encodeCounts(mask, h, w)) };
}

/** Run lengths (uncompressed counts) of a column-major mask; see {@link encode}. */
export function encodeCounts(mask: Uint8Array, h: number, w: number): Uint32Array {
  const a = h * w;
  if (mask.length < a) throw new MaskFormatError(`mask has ${mask.length} pixels, expected h*w = ${a}`, 'mask');
  const cnts: number[] = [];
  let p = 0;
  let c = 0;
  for (let j = 0; j < a; j++) {
    const v = mask[j];
    if (v !== p) {
      cnts.push(c);
      c = 0;
      p = v;
    }
    c++;
  }
  cnts.push(c);
  return Uint32Array.from(cnts);
}

/**
 * Encodes a ROW-MAJOR `h x w` binary mask (pixel `(y, x)` at `y * w + x`, the layout of image
 * bitmaps and canvases). Same result as pycocotools' `encode(np.asfortranarray(mask))`. Non-zero
 * means foreground.
 */
export function encodeRowMajor(mask: Uint8Array, h: number, w: number): CompressedRLE {
  return { size: [h, w], counts: toCompressed(encodeRowMajorCounts(mask, h, w)) };
}

/** Run lengths of a row-major mask (non-zero = foreground); see {@link encodeRowMajor}. */
export function encodeRowMajorCounts(mask: ArrayLike<number>, h: number, w: number): Uint32Array {
  if (mask.length < h * w) throw new MaskFormatError(`mask has ${mask.length} pixels, expected h*w = ${h * w}`, 'mask');
  const cnts: number[] = [];
  let p = 0;
  let c = 0;
  for (let x = 0; x < w; x++) {
    for (let i = x, e = x + h * w; i < e; i += w) {
      const v = mask[i] !== 0 ? 1 : 0;
      if (v !== p) {
        cnts.push(c);
        c = 0;
        p = v;
      }
      c++;
    }
  }
  cnts.push(c);
  return Uint32Array.from(cnts);
}

/**
 * A binary mask given only inside a window of an `imageH x imageW` image: `data` is row-major
 * `h x w` (non-zero = foreground) with its top-left pixel at `(x, y)`; everything outside is 0.
 * This is what pasting a 28x28 mask into its box produces, without a full-image bitmap.
 */
export interface MaskPatch {
  data: Uint8Array;
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Run lengths of a {@link MaskPatch} in an `imageH x imageW` image; equal to
 * {@link encodeRowMajorCounts} of the full bitmap, in time proportional to the patch. Parts of the
 * window outside the image are clipped.
 */
export function encodePatchCounts(patch: MaskPatch, imageH: number, imageW: number): Uint32Array {
  const { data, x: px, y: py, w: pw, h: ph } = patch;
  if (![px, py, pw, ph].every(Number.isInteger) || pw < 0 || ph < 0) {
    throw new MaskFormatError(`mask patch window must be integers with w, h >= 0, got x=${px} y=${py} w=${pw} h=${ph}`, 'patch');
  }
  if (data.length < pw * ph) throw new MaskFormatError(`mask patch has ${data.length} pixels, expected w*h = ${pw * ph}`, 'patch');
  const cnts: number[] = [];
  let p = 0; // current value
  let c = 0; // length of the current run
  const x0 = Math.max(0, px);
  const x1 = Math.min(imageW, px + pw);
  const y0 = Math.max(0, py);
  const y1 = Math.min(imageH, py + ph);
  if (x0 >= x1 || y0 >= y1) return Uint32Array.of(imageH * imageW);
  c = x0 * imageH; // columns left of the window
  for (let x = x0; x < x1; x++) {
    c += y0; // rows above the window
    for (let y = y0; y < y1; y++) {
      const v = data[(y - py) * pw + (x - px)] !== 0 ? 1 : 0;
      if (v !== p) {
        cnts.push(c);
        c = 0;
        p = v;
      }
      c++;
    }
    // rows below the window are background
    const below = imageH - y1;
    if (below > 0) {
      if (p !== 0) {
        cnts.push(c);
        c = 0;
        p = 0;
      }
      c += below;
    }
    // the next column starts with rows above the window (background)
    if (y0 > 0 && p !== 0 && x + 1 < x1) {
      cnts.push(c);
      c = 0;
      p = 0;
    }
  }
  // columns right of the window
  const right = (imageW - x1) * imageH;
  if (right > 0) {
    if (p !== 0) {
      cnts.push(c);
      c = 0;
      p = 0;
    }
    c += right;
  }
  cnts.push(c);
  return Uint32Array.from(cnts);
}

/** Decodes an RLE (compressed or not) to a COLUMN-MAJOR 0/1 mask of `h * w` bytes. */
export function decode(rle: RLE): Uint8Array {
  const [h, w] = rle.size;
  const cnts = countsOf(rle);
  const out = new Uint8Array(h * w);
  let pos = 0;
  let v = 0;
  for (let j = 0; j < cnts.length; j++) {
    const c = cnts[j];
    if (pos + c > out.length) throw new MaskFormatError('Invalid RLE mask representation: counts exceed h*w', 'counts');
    if (v) out.fill(1, pos, pos + c);
    pos += c;
    v ^= 1;
  }
  return out;
}

/** Decodes an RLE to a ROW-MAJOR `h x w` 0/1 mask (pixel `(y, x)` at `y * w + x`). */
export function decodeRowMajor(rle: RLE): Uint8Array {
  const [h, w] = rle.size;
  const cnts = countsOf(rle);
  const out = new Uint8Array(h * w);
  let pos = 0;
  let v = 0;
  for (let j = 0; j < cnts.length; j++) {
    const c = cnts[j];
    if (pos + c > h * w) throw new MaskFormatError('Invalid RLE mask representation: counts exceed h*w', 'counts');
    if (v) {
      for (let q = pos, e = pos + c; q < e; q++) {
        const x = (q / h) | 0;
        out[(q - x * h) * w + x] = 1;
      }
    }
    pos += c;
    v ^= 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Compressed string codec

/**
 * Compresses run lengths to pycocotools' `counts` string (`rleToString`): each count (after the
 * second, as a difference to the count two places back) is written 5 bits per character with a
 * continuation bit, characters offset by 48.
 */
export function toCompressed(counts: ArrayLike<number>): string {
  const m = counts.length;
  const chars: number[] = [];
  for (let i = 0; i < m; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      // arithmetic shift on a (possibly negative) integer, safe beyond 32 bits
      let c = x - Math.floor(x / 32) * 32;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      chars.push(c + 48);
    }
  }
  let s = '';
  for (let i = 0; i < chars.length; i += 8192) s += String.fromCharCode(...chars.slice(i, i + 8192));
  return s;
}

/** Decompresses a pycocotools `counts` string to run lengths (`rleFrString`), as uint32 values. */
export function fromCompressedU32(s: string): Uint32Array {
  const n = s.length;
  const out = new Uint32Array(n);
  let m = 0;
  let p = 0;
  while (p < n) {
    // fast path: up to 6 characters (30 bits) in 32-bit integer arithmetic
    const first = p;
    let x = 0;
    let k = 0;
    let c = 0;
    let wide = false;
    for (;;) {
      if (p >= n) throw new MaskFormatError(`truncated RLE counts string at character ${p}`, 'counts');
      c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) {
        throw new MaskFormatError(`invalid character ${JSON.stringify(s[p])} at position ${p} of the RLE counts string`, 'counts');
      }
      p++;
      if (k === 6) {
        wide = true;
        break;
      }
      x |= (c & 0x1f) << (5 * k);
      k++;
      if (!(c & 0x20)) break;
    }
    if (wide) {
      // 7 characters or more: redo this value in float arithmetic (beyond 32 bits)
      p = first;
      x = 0;
      let scale = 1;
      do {
        if (p >= n) throw new MaskFormatError(`truncated RLE counts string at character ${p}`, 'counts');
        c = s.charCodeAt(p) - 48;
        if (c < 0 || c > 63) {
          throw new MaskFormatError(`invalid character ${JSON.stringify(s[p])} at position ${p} of the RLE counts string`, 'counts');
        }
        p++;
        x += (c & 0x1f) * scale;
        scale *= 32;
      } while (c & 0x20);
      if (c & 0x10) x -= scale; // sign-extend
    } else if (c & 0x10) {
      x |= -1 << (5 * k); // sign-extend (k <= 6)
    }
    if (m > 2) x += out[m - 2];
    out[m++] = x >>> 0;
  }
  return out.subarray(0, m);
}

/** Decompresses a pycocotools `counts` string to run lengths. */
export function fromCompressed(s: string): number[] {
  return Array.from(fromCompressedU32(s));
}

/** Run lengths of an RLE, decompressing a string `counts`; validates the shape of the record. */
export function countsOf(rle: RLE): Uint32Array {
  if (!rle || typeof rle !== 'object') throw new MaskFormatError('RLE must be an object {size, counts}');
  if (!Array.isArray(rle.size) || rle.size.length !== 2 || !rle.size.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new MaskFormatError(`RLE size must be [h, w] non-negative integers, got ${JSON.stringify(rle.size)}`, 'size');
  }
  if (typeof rle.counts === 'string') return fromCompressedU32(rle.counts);
  if (Array.isArray(rle.counts)) {
    const out = new Uint32Array(rle.counts.length);
    for (let i = 0; i < rle.counts.length; i++) {
      const v = rle.counts[i];
      if (!Number.isInteger(v) || v < 0) throw new MaskFormatError(`RLE counts[${i}] must be a non-negative integer, got ${v}`, `counts[${i}]`);
      out[i] = v;
    }
    return out;
  }
  throw new MaskFormatError('RLE counts must be a string (compressed) or an array of run lengths', 'counts');
}

/** Returns the RLE with its counts compressed to a string (a no-op for compressed input). */
export function compress(rle: RLE): CompressedRLE {
  if (typeof rle.counts === 'string') return { size: [rle.size[0], rle.size[1]], counts: rle.counts };
  return { size: [rle.size[0], rle.size[1]], counts: toCompressed(countsOf(rle)) };
}

// ---------------------------------------------------------------------------------------------
// Measures on run lengths

/** Foreground pixel count of run lengths (sum of the odd-index runs). */
export function countsArea(cnts: ArrayLike<number>): number {
  let a = 0;
  for (let j = 1; j < cnts.length; j += 2) a += cnts[j];
  return a;
}

/** Foreground pixel count of an RLE (`maskUtils.area`). */
export function area(rle: RLE): number {
  return countsArea(countsOf(rle));
}

/**
 * Tight box `[x, y, w, h]` of run lengths, pycocotools 2.0.11 `rleToBbox` (a run crossing a column
 * boundary spans the full height); `[0, 0, 0, 0]` for an empty mask.
 */
export function countsToBbox(cnts: ArrayLike<number>, h: number, w: number): [number, number, number, number] {
  const m = Math.floor(cnts.length / 2) * 2;
  if (m === 0) return [0, 0, 0, 0];
  let xs = w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  for (let j = 0; j < m; j += 2) {
    cc += cnts[j]; // background run
    const len = cnts[j + 1];
    const start = cc;
    cc += len;
    if (len === 0) continue;
    const yStart = start % h;
    const xStart = (start - yStart) / h;
    const yEnd = (cc - 1) % h;
    const xEnd = (cc - 1 - yEnd) / h;
    if (xStart < xs) xs = xStart;
    if (xEnd > xe) xe = xEnd;
    if (xStart < xEnd) {
      ys = 0;
      ye = h - 1;
    } else {
      if (yStart < ys) ys = yStart;
      if (yEnd > ye) ye = yEnd;
    }
  }
  // uint arithmetic as in C: an all-zero-foreground RLE (only empty runs) wraps like pycocotools
  return [xs, ys, (xe - xs + 1) >>> 0, (ye - ys + 1) >>> 0];
}

/** Tight box `[x, y, w, h]` of an RLE (`maskUtils.toBbox`). */
export function toBbox(rle: RLE): [number, number, number, number] {
  return countsToBbox(countsOf(rle), rle.size[0], rle.size[1]);
}

/**
 * Union (or intersection with `intersect`) of run lengths of equal size (`rleMerge`).
 * Zero-length runs are folded as pycocotools does.
 */
export function mergeCounts(list: ArrayLike<number>[], intersect = false): Uint32Array {
  const n = list.length;
  if (n === 0) return new Uint32Array(0);
  if (n === 1) return Uint32Array.from(list[0]);
  let cnts: number[] = Array.from(list[0]);
  for (let i = 1; i < n; i++) {
    const A = cnts;
    const B = list[i];
    const out: number[] = [];
    let ca = A[0];
    let cb = B[0];
    let v = 0;
    let va = 0;
    let vb = 0;
    let a = 1;
    let b = 1;
    let cc = 0;
    let ct = 1;
    while (ct > 0) {
      const c = Math.min(ca, cb);
      cc += c;
      ct = 0;
      ca -= c;
      if (!ca && a < A.length) {
        ca = A[a++];
        va ^= 1;
      }
      ct += ca;
      cb -= c;
      if (!cb && b < B.length) {
        cb = B[b++];
        vb ^= 1;
      }
      ct += cb;
      const vp = v;
      v = intersect ? va & vb : va | vb;
      if (v !== vp || ct === 0) {
        out.push(cc);
        cc = 0;
      }
    }
    cnts = out;
  }
  return Uint32Array.from(cnts);
}

/** Union (or intersection) of RLEs of the same size, as a compressed RLE (`maskUtils.merge`). */
export function merge(rles: RLE[], intersect = false): CompressedRLE {
  if (rles.length === 0) return { size: [0, 0], counts: '' };
  const [h, w] = rles[0].size;
  for (let i = 1; i < rles.length; i++) {
    if (rles[i].size[0] !== h || rles[i].size[1] !== w) {
      throw new MaskFormatError(`merge: RLE ${i} has size ${JSON.stringify(rles[i].size)}, expected [${h}, ${w}]`, `[${i}].size`);
    }
  }
  return { size: [h, w], counts: toCompressed(mergeCounts(rles.map(countsOf), intersect)) };
}

// ---------------------------------------------------------------------------------------------
// IoU

/** IoU of two boxes `[x, y, w, h]`; with `crowd` the denominator is the detection's area (`bbIou`). */
export function boxIou(d: ArrayLike<number>, g: ArrayLike<number>, crowd: boolean): number {
  const w = Math.min(d[2] + d[0], g[2] + g[0]) - Math.max(d[0], g[0]);
  if (w <= 0) return 0;
  const h = Math.min(d[3] + d[1], g[3] + g[1]) - Math.max(d[1], g[1]);
  if (h <= 0) return 0;
  const i = w * h;
  const da = d[2] * d[3];
  const u = crowd ? da : da + g[2] * g[3] - i;
  return i / u;
}

/**
 * IoU of two run-length masks of the same size (the inner loop of `rleIou`, without the box
 * pre-check). With `crowd`, the denominator is the detection's area; an empty intersection gives 0.
 */
export function countsIou(dt: ArrayLike<number>, gt: ArrayLike<number>, crowd: boolean): number {
  let ca = dt[0];
  let cb = gt[0];
  const ka = dt.length;
  const kb = gt.length;
  let va = 0;
  let vb = 0;
  let a = 1;
  let b = 1;
  let inter = 0;
  let uni = 0;
  let ct = 1;
  while (ct > 0) {
    const c = ca < cb ? ca : cb;
    if (va || vb) {
      uni += c;
      if (va && vb) inter += c;
    }
    ct = 0;
    ca -= c;
    if (!ca && a < ka) {
      ca = dt[a++];
      va ^= 1;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < kb) {
      cb = gt[b++];
      vb ^= 1;
    }
    ct += cb;
  }
  if (inter === 0) uni = 1;
  else if (crowd) uni = countsArea(dt);
  return inter / uni;
}

/** A decoded mask ready for repeated IoU: run lengths, size and tight box. */
export interface PreparedMask {
  counts: Uint32Array;
  h: number;
  w: number;
  bbox: [number, number, number, number];
}

/** Decodes an RLE once for repeated IoU computations. */
export function prepareMask(rle: RLE): PreparedMask {
  const counts = countsOf(rle);
  const [h, w] = rle.size;
  return { counts, h, w, bbox: countsToBbox(counts, h, w) };
}

/**
 * Mask IoU exactly as `rleIou`: the boxes of both masks are compared first (crowd rule included)
 * and the runs are walked only when the boxes overlap; masks of different sizes give -1.
 */
export function preparedIou(d: PreparedMask, g: PreparedMask, crowd: boolean): number {
  const o = boxIou(d.bbox, g.bbox, crowd);
  if (!(o > 0)) return o;
  if (d.h !== g.h || d.w !== g.w) return -1;
  return countsIou(d.counts, g.counts, crowd);
}

/**
 * `maskUtils.iou(dt, gt, iscrowd)`: a `dt.length x gt.length` matrix (`[d][g]`) of mask IoUs (both
 * lists RLEs) or box IoUs (both lists `[x, y, w, h]` boxes). A crowd ground truth divides by the
 * detection's area. Empty input gives `[]`.
 */
export function iou(dt: RLE[] | BoxXYWH[], gt: RLE[] | BoxXYWH[], iscrowd: ArrayLike<number | boolean>): number[][] {
  if (iscrowd.length !== gt.length) throw new MaskFormatError('iou(iscrowd=) must have the same length as gt', 'iscrowd');
  if (dt.length === 0 || gt.length === 0) return [];
  const isBox = (o: unknown): boolean => Array.isArray(o) && o.length === 4;
  const dtBoxes = (dt as unknown[]).every(isBox);
  const gtBoxes = (gt as unknown[]).every(isBox);
  if (dtBoxes !== gtBoxes) throw new MaskFormatError('The dt and gt should have the same data type, either RLEs or boxes');
  const out: number[][] = [];
  if (dtBoxes) {
    for (const d of dt as BoxXYWH[]) out.push((gt as BoxXYWH[]).map((g, j) => boxIou(d, g, !!iscrowd[j])));
    return out;
  }
  const dm = (dt as RLE[]).map(prepareMask);
  const gm = (gt as RLE[]).map(prepareMask);
  for (const d of dm) out.push(gm.map((g, j) => preparedIou(d, g, !!iscrowd[j])));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rasterisation: polygons and boxes

/** C's `(int)` conversion of a double (truncation; out-of-range and NaN give INT_MIN like x86). */
function cInt(x: number): number {
  if (!(x > -2147483649 && x < 2147483648)) return -2147483648;
  return Math.trunc(x);
}

/**
 * Rasterises one polygon `[x0, y0, x1, y1, ...]` to run lengths exactly as `rleFrPoly`: the
 * boundary is upsampled 5x, walked densely, and the y-boundary points are downsampled to pixel
 * runs. An odd trailing coordinate is ignored, as pycocotools does.
 */
export function polygonCounts(xy: ArrayLike<number>, h: number, w: number): Uint32Array {
  const k = Math.floor(xy.length / 2);
  const scale = 5;
  const x = new Int32Array(k + 1);
  const y = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) x[j] = cInt(scale * xy[j * 2] + 0.5);
  x[k] = x[0];
  for (let j = 0; j < k; j++) y[j] = cInt(scale * xy[j * 2 + 1] + 0.5);
  y[k] = y[0];
  let m = 0;
  for (let j = 0; j < k; j++) m += Math.max(Math.abs(x[j] - x[j + 1]), Math.abs(y[j] - y[j + 1])) + 1;
  const u = new Int32Array(m);
  const v = new Int32Array(m);
  m = 0;
  for (let j = 0; j < k; j++) {
    let xs = x[j];
    let xe = x[j + 1];
    let ys = y[j];
    let ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      let t = xs;
      xs = xe;
      xe = t;
      t = ys;
      ys = ye;
      ye = t;
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m] = cInt(ys + s * t + 0.5);
        m++;
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m] = cInt(xs + s * t + 0.5);
        m++;
      }
    }
  }
  // points along the y-boundary, downsampled
  const n = m;
  const bx: number[] = [];
  const by: number[] = [];
  for (let j = 1; j < n; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    bx.push(xd);
    by.push(yd);
  }
  // run lengths from the boundary points
  const kk = bx.length;
  const a = new Float64Array(kk + 1);
  for (let j = 0; j < kk; j++) a[j] = (bx[j] * h + by[j]) >>> 0;
  a[kk] = (h * w) >>> 0;
  a.sort();
  let p = 0;
  for (let j = 0; j <= kk; j++) {
    const t = a[j];
    a[j] -= p;
    p = t;
  }
  const b: number[] = [a[0]];
  let j = 1;
  while (j <= kk) {
    if (a[j] > 0) b.push(a[j++]);
    else {
      j++;
      if (j <= kk) b[b.length - 1] += a[j++];
    }
  }
  return Uint32Array.from(b);
}

/** Rasterises one polygon to a compressed RLE (`maskUtils.frPyObjects([poly], h, w)[0]`). */
export function frPoly(xy: ArrayLike<number>, h: number, w: number): CompressedRLE {
  return { size: [h, w], counts: toCompressed(polygonCounts(xy, h, w)) };
}

/** Run lengths of a box `[x, y, w, h]` rasterised as its 4-corner polygon (`rleFrBbox`). */
export function boxCounts(bb: ArrayLike<number>, h: number, w: number): Uint32Array {
  const xs = bb[0];
  const xe = xs + bb[2];
  const ys = bb[1];
  const ye = ys + bb[3];
  return polygonCounts([xs, ys, xs, ye, xe, ye, xe, ys], h, w);
}

/** Rasterises a box `[x, y, w, h]` to a compressed RLE (`frBbox`). */
export function frBbox(bb: ArrayLike<number>, h: number, w: number): CompressedRLE {
  return { size: [h, w], counts: toCompressed(boxCounts(bb, h, w)) };
}

/** Compresses an uncompressed RLE `{size, counts: number[]}` (`frUncompressedRLE`). */
export function frUncompressedRLE(rle: RLE, h: number, w: number): CompressedRLE {
  void h;
  void w; // pycocotools takes the size from the record itself
  return { size: [rle.size[0], rle.size[1]], counts: toCompressed(countsOf(rle)) };
}

const isRleObject = (o: unknown): o is RLE =>
  typeof o === 'object' && o !== null && !Array.isArray(o) && 'counts' in o && 'size' in o;

/**
 * `maskUtils.frPyObjects`: converts, for an image of `h x w`,
 * - a list of polygons (`number[][]`, each longer than 4 numbers) to one RLE per polygon,
 * - a list of boxes (`number[][]` of length 4) to one RLE per box,
 * - a list of uncompressed RLEs to compressed RLEs,
 * - a single polygon / box / uncompressed RLE to a single RLE.
 */
export function frPyObjects(obj: number[][] | RLE[], h: number, w: number): CompressedRLE[];
export function frPyObjects(obj: number[] | RLE, h: number, w: number): CompressedRLE;
export function frPyObjects(obj: unknown, h: number, w: number): CompressedRLE | CompressedRLE[] {
  if (Array.isArray(obj) && obj.length > 0 && Array.isArray(obj[0])) {
    return (obj as number[][]).map((p) => (p.length === 4 ? frBbox(p, h, w) : frPoly(p, h, w)));
  }
  if (Array.isArray(obj) && obj.length > 0 && isRleObject(obj[0])) {
    return (obj as RLE[]).map((r) => frUncompressedRLE(r, h, w));
  }
  if (Array.isArray(obj) && obj.length === 4 && obj.every((v) => typeof v === 'number')) return frBbox(obj as number[], h, w);
  if (Array.isArray(obj) && obj.length > 4 && obj.every((v) => typeof v === 'number')) return frPoly(obj as number[], h, w);
  if (isRleObject(obj)) return frUncompressedRLE(obj, h, w);
  throw new MaskFormatError('frPyObjects: input type is not supported (polygons, boxes or uncompressed RLEs)');
}
