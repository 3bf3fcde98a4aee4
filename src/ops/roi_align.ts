/**
 * RoIAlign as a differentiable tfjs op, the `RoIAlign` layer of mmcv (`mmcv.ops.RoIAlign`, used by
 * MMDetection's `SingleRoIExtractor`) with torchvision's `roi_align` semantics: average pooling,
 * `aligned=True` by default, `sampling_ratio` 0 = adaptive. Kernels exist for `cpu`, `wasm` and
 * `webgpu`; the gradient flows to the feature map only.
 *
 * Layout: DetStudio's models are NHWC, so the feature map is `[N, H, W, C]` and the output
 * `[K, outH, outW, C]`, where mmcv uses NCHW `[N, C, H, W]` → `[K, C, outH, outW]`. RoIs are the
 * same as mmcv's: `[K, 5]` rows `(batch_idx, x1, y1, x2, y2)` in input-image pixels (absolute, not
 * normalised as in tf.image.cropAndResize); `spatialScale` maps them onto the feature map.
 */
import { cast, engine, type NamedAttrMap, type Tensor2D, type Tensor4D } from '@tensorflow/tfjs-core';
import { RoIAlign, type RoIAlignAttrs } from './kernel_names';
import { registerOpsKernels } from './register_kernels';

/** Options of {@link roiAlign} (mmcv's `RoIAlign` arguments, camelCased). */
export interface RoIAlignOptions {
  /** Output size: `7` or `[outH, outW]` (mmcv `output_size`). */
  outputSize: number | readonly [number, number];
  /** Feature-map cells per image pixel, i.e. 1 / stride (mmcv `spatial_scale`). */
  spatialScale: number;
  /** Samples per bin and axis; 0 (default) = adaptive `ceil(roi_size / output_size)` (mmcv `sampling_ratio`). */
  samplingRatio?: number;
  /** Pixel-centre alignment (mmcv `aligned`, default true as in MMDetection's configs). */
  aligned?: boolean;
}

/**
 * Extracts a fixed-size feature for each RoI by bilinear sampling and average pooling.
 *
 * @param x Feature map, float32 `[N, H, W, C]` (NHWC).
 * @param rois float32 `[K, 5]`: `(batch_idx, x1, y1, x2, y2)`, absolute image pixels.
 * @param options Output size, spatial scale, sampling ratio, alignment.
 * @returns float32 `[K, outH, outW, C]`. Differentiable with respect to `x` (RoIs get zero gradient).
 */
export function roiAlign(x: Tensor4D, rois: Tensor2D, options: RoIAlignOptions): Tensor4D {
  registerOpsKernels();
  if (x.rank !== 4) throw new Error(`roiAlign: x must be NHWC [N, H, W, C], got shape [${x.shape}]`);
  if (rois.rank !== 2 || rois.shape[1] !== 5) {
    throw new Error(`roiAlign: rois must be [K, 5] (batch_idx, x1, y1, x2, y2), got shape [${rois.shape}]`);
  }
  if (x.dtype !== 'float32') throw new Error(`roiAlign: x must be float32, got ${x.dtype}`);
  const [pooledHeight, pooledWidth] =
    typeof options.outputSize === 'number' ? [options.outputSize, options.outputSize] : options.outputSize;
  if (!(Number.isInteger(pooledHeight) && Number.isInteger(pooledWidth) && pooledHeight > 0 && pooledWidth > 0)) {
    throw new Error(`roiAlign: outputSize must be positive integers, got ${String(options.outputSize)}`);
  }
  const samplingRatio = options.samplingRatio ?? 0;
  if (!(Number.isInteger(samplingRatio) && samplingRatio >= 0)) {
    throw new Error(`roiAlign: samplingRatio must be an integer >= 0, got ${samplingRatio}`);
  }
  if (!(options.spatialScale > 0)) throw new Error(`roiAlign: spatialScale must be > 0, got ${options.spatialScale}`);
  const attrs: RoIAlignAttrs = {
    pooledHeight,
    pooledWidth,
    spatialScale: options.spatialScale,
    samplingRatio,
    aligned: options.aligned ?? true,
  };
  const roisF = rois.dtype === 'float32' ? rois : cast(rois, 'float32');
  const out = engine().runKernel(RoIAlign, { x, rois: roisF }, attrs as unknown as NamedAttrMap) as Tensor4D;
  if (roisF !== rois) roisF.dispose();
  return out;
}
