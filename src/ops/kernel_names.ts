/**
 * Names, inputs and attributes of the custom kernels DetStudio adds to tfjs (the counterpart of
 * tfjs-core's `kernel_names.ts` for our own ops). Kernel implementations per backend live in
 * `kernels/`, the gradient in `gradients/`, and all of them are registered from one explicit list
 * in `register_kernels.ts`.
 */
import type { NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** Forward RoIAlign kernel (mmcv / torchvision `roi_align`, average pooling). */
export const RoIAlign = 'RoIAlign';
/** Backward RoIAlign kernel: the gradient with respect to the feature map. */
export const RoIAlignGrad = 'RoIAlignGrad';

/** Inputs of {@link RoIAlign}. */
export interface RoIAlignInputs extends NamedTensorInfoMap {
  /** Feature map, float32 `[N, H, W, C]` (NHWC). */
  x: TensorInfo;
  /** RoIs, float32 `[K, 5]`: `(batch_idx, x1, y1, x2, y2)` in input-image pixels. */
  rois: TensorInfo;
}

/** Inputs of {@link RoIAlignGrad}. */
export interface RoIAlignGradInputs extends NamedTensorInfoMap {
  /** Upstream gradient, float32 `[K, outH, outW, C]`. */
  dy: TensorInfo;
  /** The forward pass's RoIs, float32 `[K, 5]`. */
  rois: TensorInfo;
}

/** Attributes of {@link RoIAlign} (all plain numbers/booleans so tfjs can store them). */
export interface RoIAlignAttrs {
  /** Output height (mmcv `output_size[0]`). */
  pooledHeight: number;
  /** Output width (mmcv `output_size[1]`). */
  pooledWidth: number;
  /** Factor from image pixels to feature-map cells (1 / stride). */
  spatialScale: number;
  /** Samples per bin along each axis; 0 = adaptive `ceil(roi_size / output_size)`. */
  samplingRatio: number;
  /** `aligned=True` shifts box coordinates by -0.5 cell (pixel-centre model) and allows sub-cell RoIs. */
  aligned: boolean;
}

/** Attributes of {@link RoIAlignGrad}: the forward attributes plus the feature-map shape. */
export interface RoIAlignGradAttrs extends RoIAlignAttrs {
  /** Shape of the forward input `x`, `[N, H, W, C]`. */
  xShape: number[];
}

/**
 * Fused SGD momentum-buffer update (`webgpu` only): `buf·momentum + d·(1 − dampening)`, or `d` on
 * the first step (no `buf`), with `d = grad + param·weightDecay`.
 */
export const SGDMomentumBuffer = 'SGDMomentumBuffer';
/**
 * Fused SGD parameter update (`webgpu` only): `param + update·(−lr)`, `update` = `buf` (momentum),
 * `d + buf·momentum` (Nesterov) or `d` (no momentum), with `d = grad + param·weightDecay`.
 */
export const SGDParamUpdate = 'SGDParamUpdate';

/** Inputs of {@link SGDMomentumBuffer} and {@link SGDParamUpdate} (float32, all of one shape). */
export interface SGDUpdateInputs extends NamedTensorInfoMap {
  /** The parameter before this step. */
  param: TensorInfo;
  /** Its gradient (not read by {@link SGDParamUpdate} with heavy-ball momentum). */
  grad: TensorInfo;
  /** The momentum buffer: the previous one for {@link SGDMomentumBuffer} (absent on the first
   * step), the updated one for {@link SGDParamUpdate} (absent without momentum). */
  buf?: TensorInfo;
  /** Optional one-element factor the gradient is multiplied by first (the clip coefficient of
   * `clip_grad_norm_`, kept on the device). */
  scale?: TensorInfo;
}

/** Attributes of {@link SGDMomentumBuffer} (passed to the shader as uniforms, never compiled in). */
export interface SGDMomentumBufferAttrs {
  /** Momentum factor (`momentum`, non-zero). */
  momentum: number;
  /** Dampening of the new gradient (`dampening`; the shader gets `1 − dampening`). */
  dampening: number;
  /** L2 penalty added to the gradient (`weight_decay`; 0 = none). */
  weightDecay: number;
}

/** Attributes of {@link SGDParamUpdate} (passed to the shader as uniforms, except `nesterov`). */
export interface SGDParamUpdateAttrs {
  /** Learning rate (the shader gets `−lr`). */
  lr: number;
  /** Momentum factor; 0 = no momentum (no `buf` input). */
  momentum: number;
  /** L2 penalty added to the gradient (0 = none). */
  weightDecay: number;
  /** Nesterov momentum (structural: part of the shader key, unlike the numbers). */
  nesterov: boolean;
}

/**
 * Partial sums of squares of several tensors in one dispatch (`webgpu` only): inputs `x0 … x{k-1}`
 * (any shapes, float32), output float32 `[k · parts]` whose sum is the total squared L2 norm; `parts`
 * is chosen by the kernel from the largest input.
 */
export const SquaredNormPartials = 'SquaredNormPartials';
