/**
 * Gradient clipping on tfjs tensors with PyTorch semantics.
 *
 * @see torch/nn/utils/clip_grad.py (PyTorch 1.13)
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * `clip_grad_norm_`: the total norm is the `norm_type` norm of the per-gradient norms; every gradient
 * is multiplied by `min(max_norm / (total + 1e-6), 1)`. Returns the clipped gradients (new tensors,
 * the inputs are not disposed) and the total norm as a scalar tensor (kept on the device).
 */
export function clipGradNorm(
  grads: tf.Tensor[],
  maxNorm: number,
  normType = 2,
): { grads: tf.Tensor[]; totalNorm: tf.Scalar } {
  return tf.tidy(() => {
    if (grads.length === 0) return { grads: [], totalNorm: tf.scalar(0) };
    const total = totalGradNorm(grads, normType);
    const coef = clipCoef(total, maxNorm);
    return { grads: grads.map((g) => tf.mul(g, coef)), totalNorm: total };
  });
}

/**
 * The total gradient norm of `clip_grad_norm_`: the `normType` norm of the per-gradient norms.
 *
 * @param squaredL2Norm - optional replacement for the 2-norm's `sum(stack(sum(square(g))))`
 *   (e.g. the batched WebGPU kernel); used only when `normType` is 2.
 */
export function totalGradNorm(
  grads: readonly tf.Tensor[],
  normType = 2,
  squaredL2Norm?: (grads: readonly tf.Tensor[]) => tf.Scalar,
): tf.Scalar {
  return tf.tidy(() => {
    if (normType === Infinity) return tf.max(tf.stack(grads.map((g) => tf.max(tf.abs(g))))) as tf.Scalar;
    if (normType === 2) {
      if (squaredL2Norm) return tf.sqrt(squaredL2Norm(grads));
      return tf.sqrt(tf.sum(tf.stack(grads.map((g) => tf.sum(tf.square(g)))))) as tf.Scalar;
    }
    const norms = grads.map((g) => tf.pow(tf.sum(tf.pow(tf.abs(g), normType)), 1 / normType));
    return tf.pow(tf.sum(tf.pow(tf.stack(norms), normType)), 1 / normType) as tf.Scalar;
  });
}

/** The factor `clip_grad_norm_` multiplies every gradient by: `min(max_norm / (total + 1e-6), 1)`. */
export function clipCoef(totalNorm: tf.Scalar, maxNorm: number): tf.Scalar {
  return tf.tidy(() => tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(totalNorm, 1e-6)), 1));
}

/** `clip_grad_value_`: clamps every gradient element to `[-clip_value, clip_value]`. */
export function clipGradValue(grads: tf.Tensor[], clipValue: number): tf.Tensor[] {
  return tf.tidy(() => grads.map((g) => tf.clipByValue(g, -clipValue, clipValue)));
}
