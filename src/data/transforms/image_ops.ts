/**
 * Image operations on typed arrays with OpenCV's arithmetic: `cv2.resize` INTER_LINEAR for uint8
 * (11-bit fixed-point weights, float32 source coordinates, the SIMD rounding of the vertical pass),
 * INTER_NEAREST (`floor(dst * in / out)`), horizontal flip, and mmcv's `rescale_size`.
 *
 * @see opencv/modules/imgproc/src/resize.cpp (4.6), mmcv/image/geometric.py (2.1)
 */
import type { ImageU8 } from './types.ts';

const f32 = Math.fround;
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

/** `cvRound` of a float: round half to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** mmcv `_scale_size`: `(int(w * s + 0.5), int(h * s + 0.5))`. */
export function scaleSize(size: [number, number], scale: number | [number, number]): [number, number] {
  const [w, h] = size;
  const [sx, sy] = typeof scale === 'number' ? [scale, scale] : scale;
  return [Math.trunc(w * sx + 0.5), Math.trunc(h * sy + 0.5)];
}

/**
 * mmcv `rescale_size(old_size=(w, h), scale)`: for a `(a, b)` scale, factor
 * `min(max(a, b) / max(h, w), min(a, b) / min(h, w))`; a number is the factor itself.
 *
 * @returns New `(w, h)` and the factor.
 */
export function rescaleSize(oldSize: [number, number], scale: number | [number, number]): { size: [number, number]; factor: number } {
  const [w, h] = oldSize;
  let factor: number;
  if (typeof scale === 'number') {
    if (scale <= 0) throw new Error(`invalid scale ${scale}, must be positive`);
    factor = scale;
  } else {
    const longEdge = Math.max(...scale);
    const shortEdge = Math.min(...scale);
    factor = Math.min(longEdge / Math.max(h, w), shortEdge / Math.min(h, w));
  }
  return { size: scaleSize([w, h], factor), factor };
}

interface LinearTable {
  ofs: Int32Array;
  a0: Int32Array;
  a1: Int32Array;
}

/** OpenCV's per-output-index source offset and fixed-point weights along one axis. */
function linearTable(src: number, dst: number, clampCoord: boolean): LinearTable {
  const scale = 1 / (dst / src);
  const ofs = new Int32Array(dst);
  const a0 = new Int32Array(dst);
  const a1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = f32((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = f32(f - s);
    if (clampCoord) {
      if (s < 0) (f = 0), (s = 0);
      if (s >= src - 1) (f = 0), (s = src - 1);
    }
    ofs[d] = s;
    a0[d] = roundHalfEven(f32(f32(1 - f) * COEF_SCALE));
    a1[d] = roundHalfEven(f32(f * COEF_SCALE));
  }
  return { ofs, a0, a1 };
}

/** Options of {@link resizeBilinear}. */
export interface ResizeBilinearOptions {
  /**
   * Mirror the result horizontally in the same pass (a fused `RandomFlip`): output column `x` is the
   * unmirrored output column `dw - 1 - x`, so the pixels equal `flipHorizontal(resize(img))` exactly.
   */
  flipHorizontal?: boolean;
}

/**
 * `cv2.resize(img, (dw, dh), interpolation=cv2.INTER_LINEAR)` for uint8 HWC images, bit-exact with
 * OpenCV 4.6 on the pipeline fixture (`pipeline.test.ts`). Separable and integer-only: each needed
 * source row is resized horizontally once into an int32 row (11-bit weights, kept pre-shifted by 4 as
 * OpenCV's vertical step wants them), then every output row mixes two such rows.
 */
export function resizeBilinear(img: ImageU8, dw: number, dh: number, options: ResizeBilinearOptions = {}): ImageU8 {
  const { width: sw, height: sh, channels: c, data: src } = img;
  if (dw <= 0 || dh <= 0) throw new Error(`resizeBilinear: invalid output size ${dw}x${dh}`);
  const out = new Uint8Array(dw * dh * c);
  const xt = linearTable(sw, dw, true);
  const yt = linearTable(sh, dh, false);
  // Per output column: byte offset of the left sample within a source row and its two weights. The
  // right sample is always `c` bytes further: where the left one is the last column (weight 1, 0),
  // the pair is moved one column left with weights (0, 1), the same sum. Mirroring reverses the tables.
  const xo = new Int32Array(dw);
  const wa = new Int32Array(dw);
  const wb = new Int32Array(dw);
  const mirror = options.flipHorizontal === true;
  for (let dx = 0; dx < dw; dx++) {
    const j = mirror ? dw - 1 - dx : dx;
    let sx = xt.ofs[j]!;
    let w0 = xt.a0[j]!;
    let w1 = xt.a1[j]!;
    if (sx + 1 >= sw) {
      if (sw === 1) (sx = 0), (w0 = w0 + w1), (w1 = 0);
      else (sx = sw - 2), (w1 = w0 + w1), (w0 = 0);
    }
    xo[dx] = sx * c;
    wa[dx] = w0;
    wb[dx] = w1;
  }
  const rowLen = dw * c;
  const srcStride = sw * c;
  // Two horizontally resized source rows (values >> 4) in one buffer, at offsets offA (row rowA) and
  // offB (row rowB); one typed array for both keeps V8's loads fast.
  const rows = new Int32Array(2 * rowLen);
  const out32 = LITTLE_ENDIAN ? new Uint32Array(out.buffer, 0, out.length >> 2) : null;
  let offA = 0;
  let offB = rowLen;
  let rowA = -1;
  let rowB = -1;
  for (let dy = 0; dy < dh; dy++) {
    const sy = yt.ofs[dy]!;
    const y0 = sy < 0 ? 0 : sy > sh - 1 ? sh - 1 : sy;
    const y1 = sy + 1 < 0 ? 0 : sy + 1 > sh - 1 ? sh - 1 : sy + 1;
    // Rows only move forward: keep y0 in A and y1 in B, reusing what is already there.
    if (rowA !== y0) {
      if (rowB === y0) {
        const t = offA;
        offA = offB;
        offB = t;
        rowB = -1;
      } else hresize(src, y0 * srcStride, sw, c, xo, wa, wb, dw, rows, offA);
      rowA = y0;
    }
    if (rowB !== y1) {
      if (y1 === y0) rows.copyWithin(offB, offA, offA + rowLen);
      else hresize(src, y1 * srcStride, sw, c, xo, wa, wb, dw, rows, offB);
      rowB = y1;
    }
    vmix(rows, offA, offB, yt.a0[dy]!, yt.a1[dy]!, out, out32, dy * rowLen, rowLen);
  }
  return { width: dw, height: dh, channels: c, data: out };
}

/** Horizontal pass of one source row into `rows` at `o`, each value already `>> 4`. */
function hresize(
  src: Uint8Array,
  base: number,
  sw: number,
  c: number,
  xo: Int32Array,
  wa: Int32Array,
  wb: Int32Array,
  dw: number,
  rows: Int32Array,
  o: number,
): void {
  if (c === 3 && sw > 1) {
    for (let dx = 0; dx < dw; dx++, o += 3) {
      const p = base + xo[dx]!;
      const w0 = wa[dx]!;
      const w1 = wb[dx]!;
      rows[o] = (src[p]! * w0 + src[p + 3]! * w1) >> 4;
      rows[o + 1] = (src[p + 1]! * w0 + src[p + 4]! * w1) >> 4;
      rows[o + 2] = (src[p + 2]! * w0 + src[p + 5]! * w1) >> 4;
    }
    return;
  }
  // With a single source column the pair offset would leave the row: read the same sample twice.
  const step = sw > 1 ? c : 0;
  for (let dx = 0; dx < dw; dx++, o += c) {
    const p = base + xo[dx]!;
    const w0 = wa[dx]!;
    const w1 = wb[dx]!;
    for (let k = 0; k < c; k++) rows[o + k] = (src[p + k]! * w0 + src[p + step + k]! * w1) >> 4;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Vertical pass, OpenCV's vectorised 32s → 8u step on the pre-shifted rows:
 * `(((b0 * r0) >> 16) + ((b1 * r1) >> 16) + 2) >> 2`, saturated to 255. Where `out32` (a word view
 * of `out`, little-endian machines) is given, four results are stored per 32-bit write.
 */
function vmix(rows: Int32Array, o0: number, o1: number, b0: number, b1: number, out: Uint8Array, out32: Uint32Array | null, o: number, n: number): void {
  let i = 0;
  if (out32) {
    for (; i < n && ((o + i) & 3) !== 0; i++) {
      const v = (((b0 * rows[o0 + i]!) >> 16) + ((b1 * rows[o1 + i]!) >> 16) + 2) >> 2;
      out[o + i] = v > 255 ? 255 : v;
    }
    for (let j = (o + i) >> 2; i + 4 <= n; i += 4, j++) {
      let v0 = (((b0 * rows[o0 + i]!) >> 16) + ((b1 * rows[o1 + i]!) >> 16) + 2) >> 2;
      let v1 = (((b0 * rows[o0 + i + 1]!) >> 16) + ((b1 * rows[o1 + i + 1]!) >> 16) + 2) >> 2;
      let v2 = (((b0 * rows[o0 + i + 2]!) >> 16) + ((b1 * rows[o1 + i + 2]!) >> 16) + 2) >> 2;
      let v3 = (((b0 * rows[o0 + i + 3]!) >> 16) + ((b1 * rows[o1 + i + 3]!) >> 16) + 2) >> 2;
      if (v0 > 255) v0 = 255;
      if (v1 > 255) v1 = 255;
      if (v2 > 255) v2 = 255;
      if (v3 > 255) v3 = 255;
      out32[j] = v0 | (v1 << 8) | (v2 << 16) | (v3 << 24);
    }
  }
  for (; i < n; i++) {
    const v = (((b0 * rows[o0 + i]!) >> 16) + ((b1 * rows[o1 + i]!) >> 16) + 2) >> 2;
    out[o + i] = v > 255 ? 255 : v;
  }
}

/** `cv2.resize(..., interpolation=cv2.INTER_NEAREST)` for one 8-bit plane stack (`n` planes of `sh × sw`). */
export function resizeNearestPlanes(data: Uint8Array, n: number, sh: number, sw: number, dh: number, dw: number): Uint8Array {
  const ifx = 1 / (dw / sw);
  const ify = 1 / (dh / sh);
  const xofs = new Int32Array(dw);
  for (let x = 0; x < dw; x++) xofs[x] = Math.min(Math.floor(x * ifx), sw - 1);
  const out = new Uint8Array(n * dh * dw);
  for (let k = 0; k < n; k++) {
    const sBase = k * sh * sw;
    const dBase = k * dh * dw;
    for (let y = 0; y < dh; y++) {
      const sy = Math.min(Math.floor(y * ify), sh - 1);
      const sRow = sBase + sy * sw;
      const dRow = dBase + y * dw;
      for (let x = 0; x < dw; x++) out[dRow + x] = data[sRow + xofs[x]!]!;
    }
  }
  return out;
}

/** `cv2.resize(img, (dw, dh), INTER_NEAREST)` for an HWC image. */
export function resizeNearest(img: ImageU8, dw: number, dh: number): ImageU8 {
  const { width: sw, height: sh, channels: c, data } = img;
  const ifx = 1 / (dw / sw);
  const ify = 1 / (dh / sh);
  const out = new Uint8Array(dw * dh * c);
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(Math.floor(y * ify), sh - 1);
    for (let x = 0; x < dw; x++) {
      const sx = Math.min(Math.floor(x * ifx), sw - 1);
      const s = (sy * sw + sx) * c;
      const d = (y * dw + x) * c;
      for (let k = 0; k < c; k++) out[d + k] = data[s + k]!;
    }
  }
  return { width: dw, height: dh, channels: c, data: out };
}

/** Horizontal mirror of `n` planes of `h × w` with `c` interleaved channels (`mmcv.imflip`). */
export function flipHorizontal(data: Uint8Array, n: number, h: number, w: number, c: number): Uint8Array {
  const out = new Uint8Array(data.length);
  if (c === 1) {
    for (let r = 0, rows = n * h; r < rows; r++) {
      const row = r * w;
      for (let x = 0, e = row + w - 1; x < w; x++) out[e - x] = data[row + x]!;
    }
    return out;
  }
  if (c === 3) {
    for (let r = 0, rows = n * h; r < rows; r++) {
      const row = r * w * 3;
      for (let x = 0, d = row + (w - 1) * 3; x < w; x++, d -= 3) {
        const s = row + x * 3;
        out[d] = data[s]!;
        out[d + 1] = data[s + 1]!;
        out[d + 2] = data[s + 2]!;
      }
    }
    return out;
  }
  for (let k = 0; k < n; k++) {
    for (let y = 0; y < h; y++) {
      const row = (k * h + y) * w * c;
      for (let x = 0; x < w; x++) {
        const s = row + x * c;
        const d = row + (w - 1 - x) * c;
        for (let ch = 0; ch < c; ch++) out[d + ch] = data[s + ch]!;
      }
    }
  }
  return out;
}

/** Vertical mirror (`direction='vertical'`). */
export function flipVertical(data: Uint8Array, n: number, h: number, w: number, c: number): Uint8Array {
  const out = new Uint8Array(data.length);
  const rowLen = w * c;
  for (let k = 0; k < n; k++) {
    for (let y = 0; y < h; y++) {
      const s = (k * h + y) * rowLen;
      const d = (k * h + (h - 1 - y)) * rowLen;
      out.set(data.subarray(s, s + rowLen), d);
    }
  }
  return out;
}
