/**
 * RoIAlign forward and backward on plain typed arrays (NHWC), shared by the `cpu` and `wasm`
 * kernels. Semantics are torchvision's / mmcv's `roi_align` with average pooling: each output bin
 * averages `gridH × gridW` bilinear samples taken at the centres of a regular sub-grid of the bin;
 * a sample farther than one cell outside the map contributes zero, samples in the border cell are
 * clamped to the edge. The loops are ordered so that the innermost loop runs over channels, which
 * are contiguous in NHWC.
 */
import type { RoIAlignAttrs } from './kernel_names';

/** A numeric array the kernels can read (tfjs backends hand out typed arrays). */
export type NumericArray = ArrayLike<number>;

/** Geometry of one RoI on its feature map. */
interface RoIGeometry {
  batch: number;
  startX: number;
  startY: number;
  binW: number;
  binH: number;
  gridW: number;
  gridH: number;
  count: number;
}

/** Computes one RoI's geometry exactly as torchvision's `roi_align` kernel does. */
function roiGeometry(rois: NumericArray, k: number, numImages: number, attrs: RoIAlignAttrs): RoIGeometry {
  const r = k * 5;
  const batch = Math.trunc(rois[r]);
  if (!(batch >= 0 && batch < numImages)) {
    throw new Error(`roiAlign: RoI ${k} has batch index ${rois[r]}, but the feature map holds ${numImages} image(s)`);
  }
  const offset = attrs.aligned ? 0.5 : 0;
  const s = attrs.spatialScale;
  const startX = rois[r + 1] * s - offset;
  const startY = rois[r + 2] * s - offset;
  let roiW = rois[r + 3] * s - offset - startX;
  let roiH = rois[r + 4] * s - offset - startY;
  if (!attrs.aligned) {
    roiW = Math.max(roiW, 1);
    roiH = Math.max(roiH, 1);
  }
  const binW = roiW / attrs.pooledWidth;
  const binH = roiH / attrs.pooledHeight;
  const gridW = attrs.samplingRatio > 0 ? attrs.samplingRatio : Math.ceil(roiW / attrs.pooledWidth);
  const gridH = attrs.samplingRatio > 0 ? attrs.samplingRatio : Math.ceil(roiH / attrs.pooledHeight);
  return { batch, startX, startY, binW, binH, gridW, gridH, count: Math.max(gridW * gridH, 1) };
}

/**
 * Bilinear interpolation coefficients along one axis for a sample at `v` on an axis of `size`
 * cells. Returns false when the sample lies outside `[-1, size]` (it then contributes nothing).
 * On success, `lo`/`hi` are the two neighbouring cell indices and `frac` the weight of `hi`.
 */
function axisCoeffs(v: number, size: number, out: { lo: number; hi: number; frac: number }): boolean {
  if (v < -1 || v > size) return false;
  if (v <= 0) v = 0;
  let lo = Math.floor(v);
  let hi: number;
  if (lo >= size - 1) {
    lo = hi = size - 1;
    v = lo;
  } else {
    hi = lo + 1;
  }
  out.lo = lo;
  out.hi = hi;
  out.frac = v - lo;
  return true;
}

/**
 * RoIAlign forward: writes `out` (`[K, pooledH, pooledW, C]`, every element) from `x`
 * (`[N, H, W, C]`) and `rois` (`[K, 5]`, `(batch_idx, x1, y1, x2, y2)` in image pixels).
 */
export function roiAlignForwardImpl(
  x: NumericArray,
  xShape: readonly number[],
  rois: NumericArray,
  numRois: number,
  attrs: RoIAlignAttrs,
  out: Float32Array,
): void {
  const [numImages, height, width, channels] = xShape;
  const { pooledHeight, pooledWidth } = attrs;
  const rowStride = width * channels;
  const imageStride = height * rowStride;
  const acc = new Float64Array(channels);
  const ya = { lo: 0, hi: 0, frac: 0 };
  const xa = { lo: 0, hi: 0, frac: 0 };
  for (let k = 0; k < numRois; k++) {
    const g = roiGeometry(rois, k, numImages, attrs);
    const imageBase = g.batch * imageStride;
    for (let ph = 0; ph < pooledHeight; ph++) {
      for (let pw = 0; pw < pooledWidth; pw++) {
        acc.fill(0);
        for (let iy = 0; iy < g.gridH; iy++) {
          const y = g.startY + ph * g.binH + ((iy + 0.5) * g.binH) / g.gridH;
          if (!axisCoeffs(y, height, ya)) continue;
          const rowLo = imageBase + ya.lo * rowStride;
          const rowHi = imageBase + ya.hi * rowStride;
          const ly = ya.frac;
          const hy = 1 - ly;
          for (let ix = 0; ix < g.gridW; ix++) {
            const xv = g.startX + pw * g.binW + ((ix + 0.5) * g.binW) / g.gridW;
            if (!axisCoeffs(xv, width, xa)) continue;
            const lx = xa.frac;
            const hx = 1 - lx;
            const w1 = hy * hx;
            const w2 = hy * lx;
            const w3 = ly * hx;
            const w4 = ly * lx;
            const p1 = rowLo + xa.lo * channels;
            const p2 = rowLo + xa.hi * channels;
            const p3 = rowHi + xa.lo * channels;
            const p4 = rowHi + xa.hi * channels;
            for (let c = 0; c < channels; c++) {
              acc[c] += w1 * x[p1 + c] + w2 * x[p2 + c] + w3 * x[p3 + c] + w4 * x[p4 + c];
            }
          }
        }
        const o = ((k * pooledHeight + ph) * pooledWidth + pw) * channels;
        const inv = 1 / g.count;
        for (let c = 0; c < channels; c++) out[o + c] = acc[c] * inv;
      }
    }
  }
}

/**
 * RoIAlign backward: ACCUMULATES into `dx` (`[N, H, W, C]`, zero it first) the gradient of the
 * forward output for the upstream gradient `dy` (`[K, pooledH, pooledW, C]`). RoIs get no gradient.
 */
export function roiAlignBackwardImpl(
  dy: NumericArray,
  rois: NumericArray,
  numRois: number,
  xShape: readonly number[],
  attrs: RoIAlignAttrs,
  dx: Float32Array,
): void {
  const [numImages, height, width, channels] = xShape;
  const { pooledHeight, pooledWidth } = attrs;
  const rowStride = width * channels;
  const imageStride = height * rowStride;
  const ya = { lo: 0, hi: 0, frac: 0 };
  const xa = { lo: 0, hi: 0, frac: 0 };
  for (let k = 0; k < numRois; k++) {
    const g = roiGeometry(rois, k, numImages, attrs);
    const imageBase = g.batch * imageStride;
    const inv = 1 / g.count;
    for (let ph = 0; ph < pooledHeight; ph++) {
      for (let pw = 0; pw < pooledWidth; pw++) {
        const o = ((k * pooledHeight + ph) * pooledWidth + pw) * channels;
        for (let iy = 0; iy < g.gridH; iy++) {
          const y = g.startY + ph * g.binH + ((iy + 0.5) * g.binH) / g.gridH;
          if (!axisCoeffs(y, height, ya)) continue;
          const rowLo = imageBase + ya.lo * rowStride;
          const rowHi = imageBase + ya.hi * rowStride;
          const ly = ya.frac;
          const hy = 1 - ly;
          for (let ix = 0; ix < g.gridW; ix++) {
            const xv = g.startX + pw * g.binW + ((ix + 0.5) * g.binW) / g.gridW;
            if (!axisCoeffs(xv, width, xa)) continue;
            const lx = xa.frac;
            const hx = 1 - lx;
            const w1 = hy * hx * inv;
            const w2 = hy * lx * inv;
            const w3 = ly * hx * inv;
            const w4 = ly * lx * inv;
            const p1 = rowLo + xa.lo * channels;
            const p2 = rowLo + xa.hi * channels;
            const p3 = rowHi + xa.lo * channels;
            const p4 = rowHi + xa.hi * channels;
            for (let c = 0; c < channels; c++) {
              const gc = dy[o + c];
              dx[p1 + c] += w1 * gc;
              dx[p2 + c] += w2 * gc;
              dx[p3 + c] += w3 * gc;
              dx[p4 + c] += w4 * gc;
            }
          }
        }
      }
    }
  }
}
