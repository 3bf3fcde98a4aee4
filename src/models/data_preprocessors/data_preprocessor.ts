/**
 * Detection data preprocessor (tensor side): BGR→RGB swap, `(x - mean) / std`, zero padding of the
 * batch to a multiple of `pad_size_divisor` (after normalisation, as MMEngine), gt mask padding, and
 * the `batch_input_shape` / `pad_shape` metainfo.
 *
 * @see mmdet/models/data_preprocessors/data_preprocessor.py, mmengine/model/base_model/data_preprocessor.py
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DetDataSample } from '../structures';

/** Constructor options (mmdet config keys). */
export interface DetDataPreprocessorConfig {
  mean?: number[] | null;
  std?: number[] | null;
  bgr_to_rgb?: boolean;
  rgb_to_bgr?: boolean;
  pad_size_divisor?: number;
  pad_value?: number;
  pad_mask?: boolean;
  mask_pad_value?: number;
  pad_seg?: boolean;
  boxtype2tensor?: boolean;
  batch_augments?: unknown;
  [k: string]: unknown;
}

/** mmdet `DetDataPreprocessor`. */
export class DetDataPreprocessor {
  readonly mean: number[] | null;
  readonly std: number[] | null;
  readonly swapChannels: boolean;
  readonly padSizeDivisor: number;
  readonly padValue: number;
  readonly padMask: boolean;

  constructor(cfg: DetDataPreprocessorConfig = {}) {
    this.mean = cfg.mean ?? null;
    this.std = cfg.std ?? null;
    if ((this.mean === null) !== (this.std === null)) throw new Error('DetDataPreprocessor: mean and std should be both None or tuple');
    if (cfg.bgr_to_rgb && cfg.rgb_to_bgr) throw new Error('DetDataPreprocessor: `bgr2rgb` and `rgb2bgr` cannot be set to True at the same time');
    this.swapChannels = Boolean(cfg.bgr_to_rgb || cfg.rgb_to_bgr);
    this.padSizeDivisor = cfg.pad_size_divisor ?? 1;
    this.padValue = cfg.pad_value ?? 0;
    this.padMask = cfg.pad_mask ?? false;
    if (cfg.batch_augments != null) throw new Error('DetDataPreprocessor: batch_augments are not supported');
  }

  /**
   * Builds the network input.
   *
   * @param images - per-image `[H, W, 3]` tensors (uint8 or float), in the pipeline's channel order
   *   (BGR, as mmcv loads images).
   * @param samples - per-image samples; `batch_input_shape`/`pad_shape` are set, and gt masks padded
   *   to the batch size when `pad_mask`.
   * @returns `[N, Hp, Wp, 3]` float32 NHWC.
   */
  forward(images: tf.Tensor3D[], samples?: DetDataSample[]): tf.Tensor4D {
    if (images.length === 0) throw new Error('DetDataPreprocessor: empty batch');
    const maxH = Math.max(...images.map((im) => im.shape[0]));
    const maxW = Math.max(...images.map((im) => im.shape[1]));
    const d = this.padSizeDivisor;
    const ph = Math.ceil(maxH / d) * d;
    const pw = Math.ceil(maxW / d) * d;
    const out = tf.tidy(() => {
      const batch = images.map((im) => {
        if (im.rank !== 3 || im.shape[2] !== 3) throw new Error(`DetDataPreprocessor: expected [H, W, 3] images, got [${im.shape}]`);
        let x = tf.cast(im, 'float32') as tf.Tensor3D;
        if (this.swapChannels) x = tf.reverse(x, -1);
        if (this.mean !== null && this.std !== null) x = tf.div(tf.sub(x, tf.tensor1d(this.mean)), tf.tensor1d(this.std));
        const [h, w] = x.shape;
        return tf.pad(x, [[0, ph - h], [0, pw - w], [0, 0]], this.padValue);
      });
      return tf.stack(batch) as tf.Tensor4D;
    });
    if (samples !== undefined) {
      for (const s of samples) {
        s.metainfo.batch_input_shape = [ph, pw];
        s.metainfo.pad_shape = [ph, pw];
        const m = s.gt_instances?.masks;
        if (this.padMask && m !== undefined && (m.height !== ph || m.width !== pw)) {
          const data = new Uint8Array(m.count * ph * pw);
          for (let k = 0; k < m.count; k++) {
            for (let y = 0; y < Math.min(m.height, ph); y++) {
              const src = (k * m.height + y) * m.width;
              data.set(m.data.subarray(src, src + Math.min(m.width, pw)), (k * ph + y) * pw);
            }
          }
          s.gt_instances!.masks = { data, count: m.count, height: ph, width: pw };
        }
      }
    }
    return out;
  }
}
