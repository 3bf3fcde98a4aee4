/**
 * The fused SGD update as tfjs ops: two kernels per parameter with momentum (buffer, then
 * parameter), one without, in place of a `mul`/`add` kernel per arithmetic step. Kernels exist for
 * the `webgpu` backend only (`src/ops/kernels/SGDUpdate.ts`); {@link fusedSGDAvailable} says
 * whether the active backend has them.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  SGDMomentumBuffer,
  SGDParamUpdate,
  SquaredNormPartials,
  type SGDMomentumBufferAttrs,
  type SGDParamUpdateAttrs,
} from '../../ops/kernel_names';
import { registerOpsKernels } from '../../ops/register_kernels';

/** Backends with fused SGD kernels. */
export const FUSED_SGD_BACKENDS: readonly string[] = ['webgpu'];

/** True when the active tfjs backend runs the fused SGD kernels. */
export function fusedSGDAvailable(): boolean {
  return FUSED_SGD_BACKENDS.includes(tf.getBackend());
}

/** Most tensors one `SquaredNormPartials` kernel takes (WebGPU's default 8 storage bindings − the output). */
const SQUARED_NORM_CHUNK = 7;

function updateInputs(param: tf.Tensor, grad: tf.Tensor, buf: tf.Tensor | null, scale: tf.Tensor | undefined): tf.NamedTensorMap {
  const inputs: tf.NamedTensorMap = { param, grad };
  if (buf) inputs.buf = buf;
  if (scale) inputs.scale = scale;
  return inputs;
}

/**
 * The new momentum buffer: `buf·momentum + d·(1 − dampening)`, or `d` when `buf` is null (the first
 * step), with `d = g + param·weightDecay` (no decay term when `weightDecay` is 0) and `g = grad`, or
 * `grad·scale` when a scale is given.
 *
 * @param param - the parameter before the step.
 * @param grad - its gradient (same shape, float32).
 * @param buf - the previous momentum buffer, or null on the first step.
 * @param scale - optional one-element gradient factor (the clip coefficient).
 */
export function sgdMomentumBuffer(
  param: tf.Tensor,
  grad: tf.Tensor,
  buf: tf.Tensor | null,
  attrs: SGDMomentumBufferAttrs,
  scale?: tf.Tensor,
): tf.Tensor {
  registerOpsKernels();
  const inputs = updateInputs(param, grad, buf, scale);
  return tf.engine().runKernel(SGDMomentumBuffer, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * The new parameter: `param + update·(−lr)` with `update` = `buf` (momentum), `d + buf·momentum`
 * (Nesterov) or `d` (momentum 0, `buf` null), `d = g + param·weightDecay`, `g` = `grad` or
 * `grad·scale`.
 *
 * @param param - the parameter before the step.
 * @param grad - its gradient.
 * @param buf - the momentum buffer already updated for this step (null without momentum).
 * @param scale - optional one-element gradient factor (the clip coefficient).
 */
export function sgdParamUpdate(
  param: tf.Tensor,
  grad: tf.Tensor,
  buf: tf.Tensor | null,
  attrs: SGDParamUpdateAttrs,
  scale?: tf.Tensor,
): tf.Tensor {
  registerOpsKernels();
  const inputs = updateInputs(param, grad, buf, scale);
  return tf.engine().runKernel(SGDParamUpdate, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * Sum of the squares of every element of `tensors` (the squared total L2 norm), with one
 * `SquaredNormPartials` dispatch per 7 tensors where the generic ops take two per tensor
 * (`square`, `sum`). The summation order differs from `sum(stack(sum(square(t))))`, so the result
 * agrees with it within float32 rounding. `webgpu` only.
 */
export function squaredL2NormFused(tensors: readonly tf.Tensor[]): tf.Scalar {
  registerOpsKernels();
  return tf.tidy(() => {
    const nonEmpty = tensors.filter((t) => t.size > 0);
    if (nonEmpty.length === 0) return tf.scalar(0);
    const partials: tf.Tensor[] = [];
    for (let i = 0; i < nonEmpty.length; i += SQUARED_NORM_CHUNK) {
      const inputs: tf.NamedTensorMap = {};
      nonEmpty.slice(i, i + SQUARED_NORM_CHUNK).forEach((t, k) => (inputs[`x${k}`] = t));
      partials.push(tf.engine().runKernel(SquaredNormPartials, inputs, {}) as tf.Tensor);
    }
    return tf.sum(partials.length === 1 ? partials[0]! : tf.concat(partials));
  });
}
