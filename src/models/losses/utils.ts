/**
 * Loss reduction shared by every loss (mmdet `weight_reduce_loss`).
 *
 * @see mmdet/models/losses/utils.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';

/** float32 machine epsilon (`torch.finfo(torch.float32).eps`), added to `avg_factor`. */
export const FLOAT32_EPS = 1.1920928955078125e-7;

/** Reduction mode of a loss. */
export type Reduction = 'none' | 'mean' | 'sum';

/**
 * Applies element weights, then reduces: with `avgFactor`, `sum / (avgFactor + eps)` for `mean`;
 * otherwise a plain mean or sum.
 */
export function weightReduceLoss(loss: tf.Tensor, weight: tf.Tensor | null, reduction: Reduction, avgFactor?: number): tf.Tensor {
  const l = weight === null ? loss : tf.mul(loss, weight);
  if (avgFactor === undefined) {
    if (reduction === 'mean') return tf.mean(l);
    if (reduction === 'sum') return tf.sum(l);
    return l;
  }
  if (reduction === 'mean') return tf.div(tf.sum(l), avgFactor + FLOAT32_EPS);
  if (reduction === 'none') return l;
  throw new Error('avg_factor can not be used with reduction="sum"');
}

/**
 * Sum of tensors as a chain of `add` (not `addN`: in the Vitest setup two tfjs-core module copies
 * are loaded and AddN's gradient calls `Tensor.clone()`, which only one of them supports).
 */
export function sumTensors(ts: tf.Tensor[]): tf.Tensor {
  if (ts.length === 0) return tf.scalar(0);
  let acc = ts[0]!;
  for (let i = 1; i < ts.length; i++) acc = tf.add(acc, ts[i]!);
  return acc;
}
