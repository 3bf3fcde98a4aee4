/**
 * Delta (dx, dy, dw, dh) box coder of R-CNN: encode on CPU arrays (training targets), decode as tfjs
 * ops (inference, GPU-resident). Boxes are absolute `x1y1x2y2` in input-image pixels, no +1.
 *
 * @see mmdet/models/task_modules/coders/delta_xywh_bbox_coder.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';

const f = Math.fround;

/** Constructor options (mmdet config keys). */
export interface DeltaXYWHBBoxCoderConfig {
  target_means?: number[];
  target_stds?: number[];
  clip_border?: boolean;
  add_ctr_clamp?: boolean;
  ctr_clamp?: number;
  [k: string]: unknown;
}

/** mmdet `DeltaXYWHBBoxCoder`. */
export class DeltaXYWHBBoxCoder {
  readonly means: number[];
  readonly stds: number[];
  readonly clipBorder: boolean;
  /** Size of the encoded vector. */
  readonly encodeSize = 4;

  constructor(cfg: DeltaXYWHBBoxCoderConfig = {}) {
    this.means = cfg.target_means ?? [0, 0, 0, 0];
    this.stds = cfg.target_stds ?? [1, 1, 1, 1];
    this.clipBorder = cfg.clip_border ?? true;
    if (cfg.add_ctr_clamp) throw new Error('DeltaXYWHBBoxCoder: add_ctr_clamp=True is not supported');
  }

  /**
   * Encodes gt boxes relative to priors (float32 arithmetic).
   *
   * @param priors - `[N*4]` x1y1x2y2.
   * @param gts - `[N*4]` x1y1x2y2 (row i is the target of prior i).
   * @returns `[N*4]` normalised deltas.
   */
  encode(priors: ArrayLike<number>, gts: ArrayLike<number>): Float32Array {
    const n = priors.length / 4;
    const out = new Float32Array(n * 4);
    const [m0, m1, m2, m3] = this.means as [number, number, number, number];
    const [s0, s1, s2, s3] = this.stds as [number, number, number, number];
    for (let i = 0; i < n; i++) {
      const o = i * 4;
      const px = f(f(priors[o]! + priors[o + 2]!) * 0.5);
      const py = f(f(priors[o + 1]! + priors[o + 3]!) * 0.5);
      const pw = f(priors[o + 2]! - priors[o]!);
      const ph = f(priors[o + 3]! - priors[o + 1]!);
      const gx = f(f(gts[o]! + gts[o + 2]!) * 0.5);
      const gy = f(f(gts[o + 1]! + gts[o + 3]!) * 0.5);
      const gw = f(gts[o + 2]! - gts[o]!);
      const gh = f(gts[o + 3]! - gts[o + 1]!);
      out[o] = f(f(f(gx - px) / pw) - m0) / s0;
      out[o + 1] = f(f(f(gy - py) / ph) - m1) / s1;
      out[o + 2] = f(f(Math.log(f(gw / pw))) - m2) / s2;
      out[o + 3] = f(f(Math.log(f(gh / ph))) - m3) / s3;
    }
    return out;
  }

  /**
   * Decodes deltas into boxes.
   *
   * @param priors - `[N, 4]` x1y1x2y2.
   * @param deltas - `[N, 4]` (or `[N, 4K]` for class-specific deltas, each group decoded on its prior).
   * @param maxShape - `[h, w]`: clip x to [0, w] and y to [0, h] when given (and `clip_border`).
   * @param whRatioClip - clamp of |dw|, |dh| at |log(whRatioClip)|.
   * @returns boxes with the shape of `deltas`.
   */
  decode(priors: tf.Tensor2D, deltas: tf.Tensor2D, maxShape?: [number, number], whRatioClip = 16 / 1000): tf.Tensor2D {
    return tf.tidy(() => {
      const n = deltas.shape[0];
      const k = deltas.shape[1] / 4;
      const d = tf.add(tf.mul(deltas.reshape([n, k, 4]), tf.tensor1d(this.stds)), tf.tensor1d(this.means));
      const p = priors.reshape([n, 1, 4]);
      const pxy = tf.mul(tf.add(p.slice([0, 0, 0], [n, 1, 2]), p.slice([0, 0, 2], [n, 1, 2])), 0.5);
      const pwh = tf.sub(p.slice([0, 0, 2], [n, 1, 2]), p.slice([0, 0, 0], [n, 1, 2]));
      const dxy = d.slice([0, 0, 0], [n, k, 2]);
      const maxRatio = Math.abs(Math.log(whRatioClip));
      const dwh = tf.clipByValue(d.slice([0, 0, 2], [n, k, 2]), -maxRatio, maxRatio);
      const gxy = tf.add(pxy, tf.mul(pwh, dxy));
      const gwh = tf.mul(pwh, tf.exp(dwh));
      const half = tf.mul(gwh, 0.5);
      let x1y1 = tf.sub(gxy, half);
      let x2y2 = tf.add(gxy, half);
      if (maxShape !== undefined && this.clipBorder) {
        const hi = tf.tensor1d([maxShape[1], maxShape[0]]);
        x1y1 = tf.minimum(tf.maximum(x1y1, 0), hi);
        x2y2 = tf.minimum(tf.maximum(x2y2, 0), hi);
      }
      return tf.concat([x1y1, x2y2], 2).reshape([n, k * 4]) as tf.Tensor2D;
    });
  }
}
