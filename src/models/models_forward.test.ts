/**
 * Forward and backward parity of the tiny Mask R-CNN against the PyTorch reference
 * (`shared/fixtures/tiny-mask-rcnn/forward.json`) on the cpu backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../ops/backend';
import { readFixtureJson } from '../testing/fixtures';
import type { TwoStageDetector } from './detectors/two_stage';
import { mapRoiLevels } from './roi_heads/roi_extractors/single_roi_extractor';
import { buildTinyDetector, readF32, readNchwAsNhwc, relDiff } from './testing/tiny';

interface Stat {
  shape: number[];
  sum: number;
  abs_sum: number;
  mean: number;
  samples: { n?: number; c: number; y: number; x: number; value: number }[];
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fwd = any;

const fwd: Fwd = readFixtureJson('tiny-mask-rcnn', 'forward.json');
let model: TwoStageDetector;
let input: tf.Tensor4D;

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
  model = buildTinyDetector();
  model.train(false);
  input = readNchwAsNhwc([1, 3, 128, 192], 'tiny-mask-rcnn', 'input.bin');
});

afterAll(() => {
  model.dispose();
  input.dispose();
});

/** Checks an NHWC map against an NCHW reference stat (sum, abs_sum, samples). */
function checkMap(t: tf.Tensor, ref: Stat, tol = 1e-4): void {
  const [n, h, w, c] = t.shape as number[];
  expect([n, c, h, w]).toEqual(ref.shape);
  const v = t.dataSync();
  let s = 0;
  let a = 0;
  for (const x of v) {
    s += x;
    a += Math.abs(x);
  }
  expect(relDiff(a, ref.abs_sum)).toBeLessThan(tol);
  // Sums can cancel; judge them on the abs_sum scale.
  expect(Math.abs(s - ref.sum) / ref.abs_sum).toBeLessThan(tol);
  for (const sm of ref.samples) {
    const idx = (((sm.n ?? 0) * h! + sm.y) * w! + sm.x) * c! + sm.c;
    expect(Math.abs(v[idx]! - sm.value)).toBeLessThan(tol * Math.max(1, Math.abs(sm.value)) + 1e-5);
  }
}

describe('tiny Mask R-CNN forward parity (cpu)', () => {
  it('backbone C2..C5 and FPN P2..P6', () => {
    tf.tidy(() => {
      const cs = model.backbone.forward(input);
      cs.forEach((c, i) => checkMap(c, fwd.backbone[`C${i + 2}`]));
      const ps = model.neck!.forward(cs);
      ps.forEach((p, i) => checkMap(p, fwd.fpn[`P${i + 2}`]));
      const outs = model.rpnHead.forward(ps);
      for (let l = 0; l < 5; l++) {
        checkMap(outs.clsScores[l]!, fwd.rpn_head[`P${l + 2}`].rpn_cls);
        checkMap(outs.bboxPreds[l]!, fwd.rpn_head[`P${l + 2}`].rpn_reg);
      }
    });
  });

  it('RoI levels, RoI features, cls_score, bbox_pred, mask logits', () => {
    const list: { xyxy: number[] }[] = fwd.rois.list;
    const rois = new Float32Array(list.length * 5);
    list.forEach((r, i) => rois.set([0, ...r.xyxy], i * 5));
    expect(Array.from(mapRoiLevels(rois, 4, 56))).toEqual(fwd.rois.levels);
    tf.tidy(() => {
      const feats = model.extractFeat(input);
      const { clsScore, bboxPred, bboxFeats } = model.roiHead.bboxForward(feats, rois);
      const refFeats = tf.transpose(tf.tensor4d(readF32('tiny-mask-rcnn', 'bbox_roi_feats.bin'), [12, 64, 7, 7]), [0, 2, 3, 1]);
      const featErr = tf.max(tf.abs(tf.sub(bboxFeats, refFeats))).dataSync()[0]!;
      expect(featErr).toBeLessThan(1e-4 * Math.max(1, tf.max(tf.abs(refFeats)).dataSync()[0]!));
      checkMap(bboxFeats, fwd.bbox_roi_feats);
      const cls = clsScore.dataSync();
      const refCls = readF32('tiny-mask-rcnn', 'cls_score.bin');
      refCls.forEach((r, i) => expect(Math.abs(cls[i]! - r)).toBeLessThan(1e-4 * Math.max(1, Math.abs(r))));
      const bb = bboxPred.dataSync();
      const refBb = readF32('tiny-mask-rcnn', 'bbox_pred.bin');
      refBb.forEach((r, i) => expect(Math.abs(bb[i]! - r)).toBeLessThan(1e-4 * Math.max(1, Math.abs(r))));
      const { maskPreds, maskFeats } = model.roiHead.maskForward(feats, rois);
      checkMap(maskFeats, fwd.mask_roi_feats);
      checkMap(maskPreds, fwd.mask_logits);
      const refMask = tf.transpose(tf.tensor4d(readF32('tiny-mask-rcnn', 'mask_logits.bin'), [12, 8, 28, 28]), [0, 2, 3, 1]);
      const scale = tf.max(tf.abs(refMask)).dataSync()[0]!;
      expect(tf.max(tf.abs(tf.sub(maskPreds, refMask))).dataSync()[0]!).toBeLessThan(1e-4 * Math.max(1, scale));
    });
  });

  it('backward: parameter-gradient sums of the documented loss', () => {
    const list: { xyxy: number[] }[] = fwd.rois.list;
    const rois = new Float32Array(list.length * 5);
    list.forEach((r, i) => rois.set([0, ...r.xyxy], i * 5));
    // The fixture's backward has no frozen stages.
    const params = [...model.namedParameters().values()];
    const saved = params.map((p) => p.trainable);
    params.forEach((p) => (p.trainable = true));
    const clsW = tf.tensor1d(Array.from({ length: 12 * 9 }, (_, i) => Math.sin(0.37 * i + 0.1)));
    const nMask = 12 * 8 * 28 * 28;
    const maskW = tf.tensor1d(Array.from({ length: nMask }, (_, j) => Math.sin(0.013 * j + 0.5) / 784));
    const { value, grads } = tf.variableGrads(() => {
      const feats = model.extractFeat(input);
      const { clsScore } = model.roiHead.bboxForward(feats, rois);
      const { maskPreds } = model.roiHead.maskForward(feats, rois);
      const maskNchw = tf.transpose(maskPreds, [0, 3, 1, 2]).reshape([-1]);
      return tf.add(tf.sum(tf.mul(clsScore.reshape([-1]), clsW)), tf.sum(tf.mul(maskNchw, maskW))) as tf.Scalar;
    }, params);
    params.forEach((p, i) => (p.trainable = saved[i]!));
    expect(relDiff(value.dataSync()[0]!, fwd.backward.loss_value)).toBeLessThan(1e-4);
    const all: Record<string, number | null> = fwd.backward.all_param_grad_sums_float64_model;
    let checked = 0;
    for (const [key, ref] of Object.entries(fwd.backward.param_grads as Record<string, { sum: number; abs_sum: number }>)) {
      const g = grads[key];
      expect(g, key).toBeDefined();
      const v = g!.dataSync();
      let s = 0;
      let a = 0;
      for (const x of v) {
        s += x;
        a += Math.abs(x);
      }
      expect(relDiff(a, ref.abs_sum), key).toBeLessThan(1e-3);
      expect(Math.abs(s - ref.sum) / ref.abs_sum, key).toBeLessThan(1e-3);
      checked++;
    }
    expect(checked).toBe(10);
    // Every parameter: gradient present exactly where the reference has one; sums on the abs scale.
    for (const [key, ref] of Object.entries(all)) {
      const g = grads[key];
      if (ref === null) {
        const zero = g === undefined || g === null || tf.max(tf.abs(g)).dataSync()[0] === 0;
        expect(zero, key).toBe(true);
      } else {
        expect(g, key).toBeDefined();
      }
    }
    tf.dispose([value, clsW, maskW, ...Object.values(grads)]);
  }, 600_000);
});
