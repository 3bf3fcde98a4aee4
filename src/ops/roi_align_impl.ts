/**
 * RoIAlign forward and backward on plain typed arrays (NHWC), shared by the `cpu` and `wasm`
 * kernels. Semantics are torchvision's / mmcv's `roi_align` with average pooling: each output bin
 * averages `gridH × gridW` bilinear samples taken at the centres of a regular sub-grid of the bin;
 * a sample farther than one cell outside the map contributes zero, samples in the border cell are
 * clamped to the edge. Each bin first merges its samples' bilinear weights per feature cell
 * ({@link AxisWeights}); the innermost loops then run over channels, which are contiguous in NHWC.
 */
import type { RoIAlignAttrs } from './kernel_names';

/** A numeric array the kernels can read (tfjs backends hand out typed arrays). */
export type NumericArray = ArrayLike<number>;

/**
 * Largest adaptive (`samplingRatio` 0) number of samples per bin and axis. Only absurd RoIs (over
 * 1024 × output-size cells wide) reach it; it keeps a huge RoI from stalling the GPU kernels, which
 * apply the same cap.
 */
export const MAX_SAMPLING_GRID = 1024;

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
  for (let j = 1; j < 5; j++) {
    if (!Number.isFinite(rois[r + j])) {
      throw new Error(`roiAlign: RoI ${k} has a non-finite coordinate (${Array.from({ length: 4 }, (_, i) => rois[r + 1 + i])})`);
    }
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
  const adaptive = attrs.samplingRatio <= 0;
  const gridW = adaptive ? Math.min(Math.ceil(roiW / attrs.pooledWidth), MAX_SAMPLING_GRID) : attrs.samplingRatio;
  const gridH = adaptive ? Math.min(Math.ceil(roiH / attrs.pooledHeight), MAX_SAMPLING_GRID) : attrs.samplingRatio;
  return { batch, startX, startY, binW, binH, gridW, gridH, count: Math.max(gridW * gridH, 1) };
}

/**
 * The cells one output bin reads along one axis, with their summed bilinear weights. A bin's value is
 * separable: `sum_{iy,ix} w(iy) w(ix) f(y, x)` over the valid samples, and a sample is valid iff its
 * y and x are both within `[-1, size]`. So the bin reads `rows × cols` cells instead of
 * `4 · gridH · gridW` corners (neighbouring samples share cells), which is what makes the channel
 * loops few.
 */
class AxisWeights {
  idx = new Int32Array(16);
  w = new Float64Array(16);
  n = 0;

  /** Collects the cells and weights of the `grid` samples of bin `p` (torchvision's clamping rules). */
  collect(start: number, bin: number, grid: number, p: number, size: number): void {
    if (this.idx.length < 2 * grid) {
      this.idx = new Int32Array(2 * grid);
      this.w = new Float64Array(2 * grid);
    }
    this.n = 0;
    for (let i = 0; i < grid; i++) {
      let v = start + p * bin + ((i + 0.5) * bin) / grid;
      if (v < -1 || v > size) continue;
      if (v <= 0) v = 0;
      let lo = Math.floor(v);
      let hi: number;
      if (lo >= size - 1) {
        lo = hi = size - 1;
        v = lo;
      } else {
        hi = lo + 1;
      }
      const frac = v - lo;
      this.add(lo, 1 - frac);
      this.add(hi, frac);
    }
  }

  /** Adds weight to a cell; samples ascend, so a repeat is among the last two entries (else it is just listed twice). */
  private add(index: number, weight: number): void {
    const n = this.n;
    if (n > 0 && this.idx[n - 1] === index) {
      this.w[n - 1] += weight;
    } else if (n > 1 && this.idx[n - 2] === index) {
      this.w[n - 2] += weight;
    } else {
      this.idx[n] = index;
      this.w[n] = weight;
      this.n = n + 1;
    }
  }
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
  const ys = new AxisWeights();
  const xs = Array.from({ length: pooledWidth }, () => new AxisWeights());
  for (let k = 0; k < numRois; k++) {
    const g = roiGeometry(rois, k, numImages, attrs);
    const imageBase = g.batch * imageStride;
    const inv = 1 / g.count;
    for (let pw = 0; pw < pooledWidth; pw++) xs[pw].collect(g.startX, g.binW, g.gridW, pw, width);
    for (let ph = 0; ph < pooledHeight; ph++) {
      ys.collect(g.startY, g.binH, g.gridH, ph, height);
      for (let pw = 0; pw < pooledWidth; pw++) {
        const xw = xs[pw];
        acc.fill(0);
        for (let a = 0; a < ys.n; a++) {
          const rowBase = imageBase + ys.idx[a] * rowStride;
          const wy = ys.w[a] * inv;
          for (let b = 0; b < xw.n; b++) {
            const w = wy * xw.w[b];
            if (w === 0) continue;
            accumulate(acc, x, rowBase + xw.idx[b] * channels, w, channels);
          }
        }
        const o = ((k * pooledHeight + ph) * pooledWidth + pw) * channels;
        for (let c = 0; c < channels; c++) out[o + c] = acc[c];
      }
    }
  }
}

/** `acc[c] += w * x[p + c]` over the channels (kept small so the JIT optimises it on its own). */
function accumulate(acc: Float64Array, x: NumericArray, p: number, w: number, channels: number): void {
  for (let c = 0; c < channels; c++) acc[c] += w * x[p + c];
}

/** `dx[p + c] += w * dy[o + c]` over the channels. */
function scatter(dx: Float32Array, p: number, dy: NumericArray, o: number, w: number, channels: number): void {
  for (let c = 0; c < channels; c++) dx[p + c] += w * dy[o + c];
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
  const ys = new AxisWeights();
  const xs = Array.from({ length: pooledWidth }, () => new AxisWeights());
  for (let k = 0; k < numRois; k++) {
    const g = roiGeometry(rois, k, numImages, attrs);
    const imageBase = g.batch * imageStride;
    const inv = 1 / g.count;
    for (let pw = 0; pw < pooledWidth; pw++) xs[pw].collect(g.startX, g.binW, g.gridW, pw, width);
    for (let ph = 0; ph < pooledHeight; ph++) {
      ys.collect(g.startY, g.binH, g.gridH, ph, height);
      for (let pw = 0; pw < pooledWidth; pw++) {
        const xw = xs[pw];
        const o = ((k * pooledHeight + ph) * pooledWidth + pw) * channels;
        for (let a = 0; a < ys.n; a++) {
          const rowBase = imageBase + ys.idx[a] * rowStride;
          const wy = ys.w[a] * inv;
          for (let b = 0; b < xw.n; b++) {
            const w = wy * xw.w[b];
            if (w === 0) continue;
            scatter(dx, rowBase + xw.idx[b] * channels, dy, o, w, channels);
          }
        }
      }
    }
  }
}
