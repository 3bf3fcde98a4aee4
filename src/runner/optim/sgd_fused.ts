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

/**
 * The new momentum buffer: `buf·momentum + d·(1 − dampening)`, or `d` when `buf` is null (the first
 * step), with `d = grad + param·weightDecay` (no decay term when `weightDecay` is 0).
 *
 * @param param - the parameter before the step.
 * @param grad - its gradient (same shape, float32).
 * @param buf - the previous momentum buffer, or null on the first step.
 */
export function sgdMomentumBuffer(
  param: tf.Tensor,
  grad: tf.Tensor,
  buf: tf.Tensor | null,
  attrs: SGDMomentumBufferAttrs,
): tf.Tensor {
  registerOpsKernels();
  const inputs: tf.NamedTensorMap = buf ? { param, grad, buf } : { param, grad };
  return tf.engine().runKernel(SGDMomentumBuffer, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * The new parameter: `param + update·(−lr)` with `update` = `buf` (momentum), `d + buf·momentum`
 * (Nesterov) or `d` (momentum 0, `buf` null), `d = grad + param·weightDecay`.
 *
 * @param param - the parameter before the step.
 * @param grad - its gradient.
 * @param buf - the momentum buffer already updated for this step (null without momentum).
 */
export function sgdParamUpdate(param: tf.Tensor, grad: tf.Tensor, buf: tf.Tensor | null, attrs: SGDParamUpdateAttrs): tf.Tensor {
  registerOpsKernels();
  const inputs: tf.NamedTensorMap = buf ? { param, grad, buf } : { param, grad };
  return tf.engine().runKernel(SGDParamUpdate, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
