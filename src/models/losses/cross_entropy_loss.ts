/**
 * Cross-entropy losses: softmax CE (classification), sigmoid BCE (RPN objectness) and the mask BCE
 * on the channel of each RoI's class.
 *
 * @see mmdet/models/losses/cross_entropy_loss.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';
import { weightReduceLoss, type Reduction } from './utils';

/** Element-wise, numerically stable `binary_cross_entropy_with_logits`. */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
}

/** Constructor options (mmdet config keys). */
export interface CrossEntropyLossConfig {
  use_sigmoid?: boolean;
  use_mask?: boolean;
  reduction?: Reduction;
  class_weight?: number[] | null;
  ignore_index?: number | null;
  loss_weight?: number;
  avg_non_ignore?: boolean;
  [k: string]: unknown;
}

/** mmdet `CrossEntropyLoss`. */
export class CrossEntropyLoss {
  readonly useSigmoid: boolean;
  readonly useMask: boolean;
  readonly reduction: Reduction;
  readonly lossWeight: number;

  constructor(cfg: CrossEntropyLossConfig = {}) {
    this.useSigmoid = cfg.use_sigmoid ?? false;
    this.useMask = cfg.use_mask ?? false;
    if (this.useSigmoid && this.useMask) throw new Error('CrossEntropyLoss: use_sigmoid and use_mask cannot both be True');
    this.reduction = cfg.reduction ?? 'mean';
    this.lossWeight = cfg.loss_weight ?? 1;
    if (cfg.class_weight != null) throw new Error('CrossEntropyLoss: class_weight is not supported');
    if (cfg.avg_non_ignore) throw new Error('CrossEntropyLoss: avg_non_ignore=True is not supported');
  }

  /**
   * Softmax / sigmoid form.
   *
   * @param pred - logits `[N, C]`.
   * @param target - for softmax: int32 labels `[N]`; for sigmoid: float targets `[N, C]` (one-hot,
   *   background rows all zero) or `[N]` when C = 1.
   * @param weight - per-sample (`[N]`) or per-element weights.
   * @param avgFactor - normaliser (see {@link weightReduceLoss}).
   */
  forward(pred: tf.Tensor, target: tf.Tensor, weight: tf.Tensor | null, avgFactor?: number): tf.Tensor {
    if (this.useMask) throw new Error('CrossEntropyLoss(use_mask=True): call maskLoss()');
    return tf.tidy(() => {
      let loss: tf.Tensor;
      if (this.useSigmoid) {
        const t = target.rank === pred.rank ? target : tf.reshape(target, pred.shape);
        loss = bceWithLogits(pred, t);
        const w = weight === null ? null : weight.rank === pred.rank ? weight : tf.reshape(weight, [...weight.shape, ...pred.shape.slice(weight.rank).map(() => 1)]);
        return tf.mul(weightReduceLoss(loss, w, this.reduction, avgFactor), this.lossWeight);
      }
      const numClasses = pred.shape[pred.rank - 1]!;
      const logp = tf.logSoftmax(pred as tf.Tensor2D);
      const onehot = tf.cast(tf.oneHot(tf.cast(target, 'int32') as tf.Tensor1D, numClasses), 'float32');
      loss = tf.neg(tf.sum(tf.mul(logp, onehot), -1));
      return tf.mul(weightReduceLoss(loss, weight, this.reduction, avgFactor), this.lossWeight);
    });
  }

  /**
   * Mask form (`mask_cross_entropy`): BCE-with-logits on the channel `labels[i]` of each RoI, plain
   * mean over all elements.
   *
   * @param pred - mask logits `[P, h, w, K]` (NHWC).
   * @param target - binary targets `[P, h, w]`.
   * @param labels - int32 class per RoI `[P]`.
   */
  maskLoss(pred: tf.Tensor4D, target: tf.Tensor3D, labels: tf.Tensor1D): tf.Tensor {
    return tf.tidy(() => {
      const [p, , , k] = pred.shape;
      if (p === 0) return tf.sum(pred);
      const onehot = tf.cast(tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, k), 'float32').reshape([p, 1, 1, k]);
      const slice = tf.sum(tf.mul(pred, onehot), -1);
      return tf.mul(tf.mean(bceWithLogits(slice, target)), this.lossWeight);
    });
  }
}
