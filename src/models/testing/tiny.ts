/**
 * Test helpers: the tiny Mask R-CNN of `shared/fixtures/tiny-mask-rcnn` built from the exact mmdet
 * config dict of `mmdet-losses/case_0/config.json`, with the fixture checkpoint loaded.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readCheckpoint } from '../../checkpoint/checkpoint';
import { readFixtureBytes, readFixtureJson } from '../../testing/fixtures';
import type { ConfigDict } from '../../registry/registry';
import { buildDetector } from '../index';
import type { TwoStageDetector } from '../detectors/two_stage';
import { loadCheckpoint } from '../utils/load_checkpoint';
import type { BitmapMasks, DetDataSample } from '../structures';

/** The mmdet model config used by the fixtures (`l1` or `smoothl1` variant). */
export function tinyConfig(variant: 'l1' | 'smoothl1' = 'l1'): ConfigDict {
  const cfg = readFixtureJson<Record<string, ConfigDict>>('mmdet-losses', 'case_0', 'config.json');
  return structuredClone(cfg[variant]!);
}

/** Builds the tiny detector from `cfg` and loads the fixture checkpoint (strict). */
export function buildTinyDetector(cfg: ConfigDict = tinyConfig()): TwoStageDetector {
  const model = buildDetector(cfg);
  const ckpt = readCheckpoint(readFixtureBytes('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth'));
  loadCheckpoint(model, ckpt, { strict: true });
  return model;
}

/** Reads a float32 LE NCHW `.bin` fixture as an NHWC tensor. */
export function readNchwAsNhwc(shape: [number, number, number, number], ...parts: string[]): tf.Tensor4D {
  const b = readFixtureBytes(...parts);
  const data = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  return tf.tidy(() => tf.transpose(tf.tensor4d(data, shape), [0, 2, 3, 1]));
}

/** Reads a float32 LE fixture as a flat array. */
export function readF32(...parts: string[]): Float32Array {
  const b = readFixtureBytes(...parts);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Unpacks `np.packbits` (big bit order) masks into bytes `[count, h, w]`. */
export function unpackBits(bytes: Uint8Array, count: number, height: number, width: number): BitmapMasks {
  const n = count * height * width;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
  return { data, count, height, width };
}

/** Relative difference `|a - b| / max(|b|, floor)`. */
export function relDiff(a: number, b: number, floor = 1e-12): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), floor);
}

/**
 * The data sample of `mmdet-losses/case_0` (its image's metainfo, gt boxes, labels and bitmap masks),
 * or the same image with no ground truth.
 */
export function lossCaseSample(withGt = true): DetDataSample {
  const gt = readFixtureJson<{ instances: Array<{ bbox: number[]; label: number }>; image_shape: [number, number] }>('mmdet-losses', 'case_0', 'gt.json');
  const inst = gt.instances;
  const g = withGt ? inst.length : 0;
  const [h, w] = gt.image_shape;
  return {
    metainfo: { img_shape: [h, w], ori_shape: [h, w], scale_factor: [1, 1], pad_shape: [h, w], batch_input_shape: [h, w] },
    gt_instances: {
      bboxes: Float32Array.from(inst.slice(0, g).flatMap((i) => i.bbox)),
      labels: Int32Array.from(inst.slice(0, g).map((i) => i.label)),
      masks: withGt
        ? unpackBits(readFixtureBytes('mmdet-losses', 'case_0', 'gt_masks.bin'), g, h, w)
        : { data: new Uint8Array(0), count: 0, height: h, width: w },
    },
  };
}
