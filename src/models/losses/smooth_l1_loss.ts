/**
 * L1 and Smooth-L1 box regression losses.
 *
 * @see mmdet/models/losses/smooth_l1_loss.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';
import { weightReduceLoss, type Reduction } from './utils';

/** Constructor options of {@link L1Loss} (mmdet config keys). */
export interface L1LossConfig {
  reduction?: Reduction;
  loss_weight?: number;
  [k: string]: unknown;
}

/** Constructor options of {@link SmoothL1Loss} (mmdet config keys). */
export interface SmoothL1LossConfig extends L1LossConfig {
  beta?: number;
}

/** mmdet `L1Loss`: `|pred - target|`. */
export class L1Loss {
  readonly reduction: Reduction;
  readonly lossWeight: number;
  constructor(cfg: L1LossConfig = {}) {
    this.reduction = cfg.reduction ?? 'mean';
    this.lossWeight = cfg.loss_weight ?? 1;
  }

  /** Element-wise loss before weighting. */
  protected elementLoss(pred: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return tf.abs(tf.sub(pred, target));
  }

  /**
   * @param pred - `[N, 4]` predicted deltas.
   * @param target - `[N, 4]` target deltas.
   * @param weight - `[N, 4]` weights (0 drops an element).
   * @param avgFactor - normaliser.
   */
  forward(pred: tf.Tensor, target: tf.Tensor, weight: tf.Tensor | null, avgFactor?: number): tf.Tensor {
    return tf.tidy(() => {
      if (pred.size === 0) return tf.sum(pred);
      const loss = this.elementLoss(pred, target);
      return tf.mul(weightReduceLoss(loss, weight, this.reduction, avgFactor), this.lossWeight);
    });
  }
}

/** mmdet `SmoothL1Loss`: `0.5 x² / β` if `|x| < β` else `|x| - 0.5 β`. */
export class SmoothL1Loss extends L1Loss {
  readonly beta: number;
  constructor(cfg: SmoothL1LossConfig = {}) {
    super(cfg);
    this.beta = cfg.beta ?? 1.0;
    if (!(this.beta > 0)) throw new Error(`SmoothL1Loss: beta must be > 0, got ${this.beta}`);
  }

  protected override elementLoss(pred: tf.Tensor, target: tf.Tensor): tf.Tensor {
    const diff = tf.abs(tf.sub(pred, target));
    const quad = tf.div(tf.mul(tf.square(diff), 0.5), this.beta);
    const lin = tf.sub(diff, 0.5 * this.beta);
    // mask = (diff < β) as 1/0 through `step` (which has a gradient, zero), not `less` + `where`:
    // tfjs has no gradient for `Less`, so that form cannot be trained. 1·quad + 0·lin is exactly
    // quad (and vice versa), so the values equal torch.where's.
    const mask = tf.step(tf.sub(this.beta, diff));
    return tf.add(tf.mul(mask, quad), tf.mul(tf.sub(1, mask), lin));
  }
}
