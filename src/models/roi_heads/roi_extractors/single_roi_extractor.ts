/**
 * Single-level RoI feature extractor: each RoI is pooled (RoIAlign) from ONE FPN level chosen by its
 * scale (`finest_scale` rule). RoIs are known on the CPU (they come from NMS or sampling), so the
 * level mapping is done there and each level pools only its own RoIs — no readback.
 *
 * @see mmdet/models/roi_heads/roi_extractors/single_level_roi_extractor.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';
import { roiAlign } from '../../../ops/roi_align';
import type { ConfigDict } from '../../../registry/registry';

const f = Math.fround;

/** Constructor options (mmdet config keys). */
export interface SingleRoIExtractorConfig {
  roi_layer: ConfigDict;
  out_channels: number;
  featmap_strides: number[];
  finest_scale?: number;
  init_cfg?: unknown;
  [k: string]: unknown;
}

/**
 * Level of each RoI: `clamp(floor(log2(sqrt(w*h) / finest_scale + 1e-6)), 0, numLevels-1)` in
 * float32 arithmetic.
 *
 * @param rois - `[K*5]` rows (batch_idx, x1, y1, x2, y2).
 */
export function mapRoiLevels(rois: ArrayLike<number>, numLevels: number, finestScale = 56): Int32Array {
  const k = rois.length / 5;
  const out = new Int32Array(k);
  for (let i = 0; i < k; i++) {
    const o = i * 5;
    const scale = f(Math.sqrt(f(f(rois[o + 3]! - rois[o + 1]!) * f(rois[o + 4]! - rois[o + 2]!))));
    const lvl = Math.floor(f(Math.log2(f(f(scale / finestScale) + f(1e-6)))));
    out[i] = Math.min(Math.max(lvl, 0), numLevels - 1);
  }
  return out;
}

/** mmdet `SingleRoIExtractor`. */
export class SingleRoIExtractor {
  readonly outputSize: [number, number];
  readonly samplingRatio: number;
  readonly aligned: boolean;
  readonly featmapStrides: number[];
  readonly outChannels: number;
  readonly finestScale: number;

  constructor(cfg: SingleRoIExtractorConfig) {
    const layer = cfg.roi_layer;
    if ((layer.type ?? 'RoIAlign') !== 'RoIAlign') throw new Error(`SingleRoIExtractor: roi_layer type ${String(layer.type)} is not supported (RoIAlign only)`);
    const os = layer.output_size as number | number[];
    this.outputSize = Array.isArray(os) ? [os[0]!, os[1]!] : [os, os];
    this.samplingRatio = (layer.sampling_ratio as number | undefined) ?? 0;
    this.aligned = (layer.aligned as boolean | undefined) ?? true;
    if ((layer.pool_mode ?? 'avg') !== 'avg') throw new Error('SingleRoIExtractor: only pool_mode avg is supported');
    this.featmapStrides = cfg.featmap_strides;
    this.outChannels = cfg.out_channels;
    this.finestScale = cfg.finest_scale ?? 56;
  }

  /** Number of input levels used. */
  get numInputs(): number {
    return this.featmapStrides.length;
  }

  /**
   * Pools every RoI from its level.
   *
   * @param feats - FPN maps NHWC (at least `numInputs`).
   * @param rois - `[K*5]` rows (batch_idx, x1, y1, x2, y2), input pixels.
   * @returns `[K, outH, outW, C]` in the order of `rois`.
   */
  forward(feats: tf.Tensor4D[], rois: Float32Array): tf.Tensor4D {
    const k = rois.length / 5;
    const [oh, ow] = this.outputSize;
    if (k === 0) return tf.zeros([0, oh, ow, this.outChannels]);
    const levels = mapRoiLevels(rois, this.numInputs, this.finestScale);
    return tf.tidy(() => {
      const parts: tf.Tensor4D[] = [];
      const order: number[] = [];
      for (let l = 0; l < this.numInputs; l++) {
        const idx: number[] = [];
        for (let i = 0; i < k; i++) if (levels[i] === l) idx.push(i);
        if (idx.length === 0) continue;
        const sub = new Float32Array(idx.length * 5);
        idx.forEach((i, t) => sub.set(rois.subarray(i * 5, i * 5 + 5), t * 5));
        parts.push(
          roiAlign(feats[l]!, tf.tensor2d(sub, [idx.length, 5]), {
            outputSize: this.outputSize,
            spatialScale: 1 / this.featmapStrides[l]!,
            samplingRatio: this.samplingRatio,
            aligned: this.aligned,
          }),
        );
        order.push(...idx);
      }
      const cat = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
      let identity = true;
      for (let t = 0; t < k; t++) if (order[t] !== t) identity = false;
      if (identity) return cat;
      const inv = new Int32Array(k);
      order.forEach((i, t) => (inv[i] = t));
      return tf.gather(cat, tf.tensor1d(inv, 'int32')) as tf.Tensor4D;
    });
  }
}
