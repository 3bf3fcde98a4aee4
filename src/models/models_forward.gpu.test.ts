/**
 * Forward parity of the tiny Mask R-CNN against the PyTorch reference
 * (`shared/fixtures/tiny-mask-rcnn/forward.json`) on the webgpu backend (Dawn in Node; SwiftShader
 * where there is no GPU). Same checks and tolerances as `models_forward.test.ts` (cpu).
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

/** Relative tolerance of every check (as on cpu). */
const TOL = 1e-4;

const fwd: Fwd = readFixtureJson('tiny-mask-rcnn', 'forward.json');
let model: TwoStageDetector;
let input: tf.Tensor4D;
let rois: Float32Array;
/** C2..C5 and P2..P6 of the input, computed once (SwiftShader is slow) and shared by the tests. */
let cs: tf.Tensor4D[];
let ps: tf.Tensor4D[];

beforeAll(async () => {
  const info = await initBackend({ prefer: 'webgpu' });
  expect(info.name, info.notice).toBe('webgpu');
  model = buildTinyDetector();
  model.train(false);
  input = readNchwAsNhwc([1, 3, 128, 192], 'tiny-mask-rcnn', 'input.bin');
  const list: { xyxy: number[] }[] = fwd.rois.list;
  rois = new Float32Array(list.length * 5);
  list.forEach((r, i) => rois.set([0, ...r.xyxy], i * 5));
  cs = model.backbone.forward(input);
  ps = model.neck!.forward(cs);
}, 900_000);

afterAll(() => {
  tf.dispose([...(cs ?? []), ...(ps ?? [])]);
  model?.dispose();
  input?.dispose();
});

/** Checks an NHWC map (read back from the GPU) against an NCHW reference stat (sum, abs_sum, samples). */
async function checkMap(t: tf.Tensor, ref: Stat, what: string): Promise<void> {
  const [n, h, w, c] = t.shape as number[];
  expect([n, c, h, w], what).toEqual(ref.shape);
  const v = await t.data();
  let s = 0;
  let a = 0;
  for (const x of v) {
    s += x;
    a += Math.abs(x);
  }
  expect(relDiff(a, ref.abs_sum), `${what} abs_sum`).toBeLessThan(TOL);
  // Sums can cancel; judge them on the abs_sum scale.
  expect(Math.abs(s - ref.sum) / ref.abs_sum, `${what} sum`).toBeLessThan(TOL);
  for (const sm of ref.samples) {
    const idx = (((sm.n ?? 0) * h! + sm.y) * w! + sm.x) * c! + sm.c;
    expect(Math.abs(v[idx]! - sm.value), `${what} sample ${JSON.stringify(sm)}`).toBeLessThan(TOL * Math.max(1, Math.abs(sm.value)) + 1e-5);
  }
}

/**
 * Element-wise check against a dense reference: |a - r| < TOL × max(1, |r|) per element, or, with
 * `globalScale`, the largest |a - r| against TOL × max(1, max|r|) (as the cpu test judges maps).
 */
async function checkDense(t: tf.Tensor, ref: Float32Array, what: string, globalScale = false): Promise<void> {
  const v = await t.data();
  expect(v.length, what).toBe(ref.length);
  let err = 0;
  let scale = 1;
  let worst = 0;
  ref.forEach((r, i) => {
    const e = Math.abs(v[i]! - r);
    err = Math.max(err, e);
    scale = Math.max(scale, Math.abs(r));
    worst = Math.max(worst, e / Math.max(1, Math.abs(r)));
  });
  if (globalScale) expect(err, `${what} max abs error`).toBeLessThan(TOL * scale);
  else expect(worst, `${what} max relative error`).toBeLessThan(TOL);
}

describe('tiny Mask R-CNN forward parity (webgpu)', () => {
  it('backbone C2..C5, FPN P2..P6 and RPN outputs', { timeout: 900_000 }, async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const outs = model.rpnHead.forward(ps);
    try {
      for (let i = 0; i < cs.length; i++) await checkMap(cs[i]!, fwd.backbone[`C${i + 2}`], `C${i + 2}`);
      for (let i = 0; i < ps.length; i++) await checkMap(ps[i]!, fwd.fpn[`P${i + 2}`], `P${i + 2}`);
      for (let l = 0; l < 5; l++) {
        await checkMap(outs.clsScores[l]!, fwd.rpn_head[`P${l + 2}`].rpn_cls, `rpn_cls P${l + 2}`);
        await checkMap(outs.bboxPreds[l]!, fwd.rpn_head[`P${l + 2}`].rpn_reg, `rpn_reg P${l + 2}`);
      }
    } finally {
      tf.dispose([...outs.clsScores, ...outs.bboxPreds]);
    }
  });

  it('RoI levels, RoI features, cls_score, bbox_pred, mask logits', { timeout: 900_000 }, async () => {
    expect(Array.from(mapRoiLevels(rois, 4, 56))).toEqual(fwd.rois.levels);
    const feats = ps;
    const { clsScore, bboxPred, bboxFeats } = model.roiHead.bboxForward(feats, rois);
    const { maskPreds, maskFeats } = model.roiHead.maskForward(feats, rois);
    const nchw = tf.tidy(() => ({
      bboxFeats: tf.transpose(bboxFeats, [0, 3, 1, 2]),
      maskPreds: tf.transpose(maskPreds, [0, 3, 1, 2]),
    }));
    try {
      await checkDense(nchw.bboxFeats, readF32('tiny-mask-rcnn', 'bbox_roi_feats.bin'), 'bbox RoI features', true);
      await checkMap(bboxFeats, fwd.bbox_roi_feats, 'bbox RoI features');
      await checkDense(clsScore, readF32('tiny-mask-rcnn', 'cls_score.bin'), 'cls_score');
      await checkDense(bboxPred, readF32('tiny-mask-rcnn', 'bbox_pred.bin'), 'bbox_pred');
      await checkMap(maskFeats, fwd.mask_roi_feats, 'mask RoI features');
      await checkMap(maskPreds, fwd.mask_logits, 'mask logits');
      await checkDense(nchw.maskPreds, readF32('tiny-mask-rcnn', 'mask_logits.bin'), 'mask logits', true);
    } finally {
      tf.dispose([clsScore, bboxPred, bboxFeats, maskPreds, maskFeats, nchw.bboxFeats, nchw.maskPreds]);
    }
  });
});
