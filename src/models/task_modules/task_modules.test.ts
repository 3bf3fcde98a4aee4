/** Hand-computed cases for anchors, the delta coder, the IoU, the max-IoU assigner and the sampler. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../ops/backend';
import { AnchorGenerator } from './prior_generators/anchor_generator';
import { DeltaXYWHBBoxCoder } from './coders/delta_xywh_bbox_coder';
import { bboxOverlaps } from './assigners/iou2d_calculator';
import { MaxIoUAssigner } from './assigners/max_iou_assigner';
import { RandomSampler } from './samplers/random_sampler';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe('AnchorGenerator', () => {
  const gen = new AnchorGenerator({ scales: [8], ratios: [0.5, 1.0, 2.0], strides: [4, 8, 16, 32, 64] });
  it('base anchors of P2 are centred at the cell corner (mmdet-facts §4)', () => {
    const b = Array.from(gen.baseAnchors[0]!);
    const exp = [-22.627, -11.314, 22.627, 11.314, -16, -16, 16, 16, -11.314, -22.627, 11.314, 22.627];
    b.forEach((v, i) => expect(v).toBeCloseTo(exp[i]!, 3));
  });
  it('grid order is (y, x, anchor) with shifts of the stride', () => {
    const a = gen.singleLevelGridPriors(2, 3, 1); // stride 8
    expect(a.length).toBe(2 * 3 * 3 * 4);
    // location (y=1, x=2), ratio 1: [-32,-32,32,32] + (16, 8)
    const o = ((1 * 3 + 2) * 3 + 1) * 4;
    expect(Array.from(a.subarray(o, o + 4))).toEqual([-16, -24, 48, 40]);
  });
});

describe('DeltaXYWHBBoxCoder', () => {
  it('encodes by hand and decodes back (with stds, clipping and the wh clamp)', () => {
    const coder = new DeltaXYWHBBoxCoder({ target_means: [0, 0, 0, 0], target_stds: [0.1, 0.1, 0.2, 0.2] });
    const p = [0, 0, 10, 20];
    const g = [5, 5, 25, 25];
    // px=5, py=10, pw=10, ph=20; gx=15, gy=15, gw=20, gh=20
    const d = coder.encode(p, g);
    expect(d[0]).toBeCloseTo(1 / 0.1, 5);
    expect(d[1]).toBeCloseTo(0.25 / 0.1, 5);
    expect(d[2]).toBeCloseTo(Math.log(2) / 0.2, 5);
    expect(d[3]).toBeCloseTo(0 / 0.2, 5);
    const back = coder.decode(tf.tensor2d([p]), tf.tensor2d([Array.from(d)])).dataSync();
    g.forEach((v, i) => expect(back[i]).toBeCloseTo(v, 4));
    const clipped = coder.decode(tf.tensor2d([p]), tf.tensor2d([Array.from(d)]), [22, 20]).dataSync();
    expect(Array.from(clipped)).toEqual([5, 5, 20, 22]);
    // dw clamped at |log(16/1000)|
    const unit = new DeltaXYWHBBoxCoder();
    const big = unit.decode(tf.tensor2d([[0, 0, 1, 1]]), tf.tensor2d([[0, 0, 100, 0]])).dataSync();
    expect(big[2]! - big[0]!).toBeCloseTo(1000 / 16, 3); // exp(|log(16/1000)|)
  });
});

describe('bboxOverlaps / MaxIoUAssigner / RandomSampler', () => {
  it('IoU without +1', () => {
    const iou = bboxOverlaps([0, 0, 10, 10], [5, 0, 15, 10, 20, 20, 30, 30, 0, 0, 10, 10]);
    expect(iou[0]).toBeCloseTo(50 / 150, 6);
    expect(iou[1]).toBe(0);
    expect(iou[2]).toBeCloseTo(1, 6);
  });

  const gts = [0, 0, 10, 10, 20, 0, 30, 10];
  const priors = [
    0, 0, 10, 10, // IoU 1 with gt0 -> pos gt1
    1, 0, 11, 10, // IoU 9/11 = 0.818 -> pos (>= 0.7)
    5, 0, 15, 10, // IoU 1/3 with gt0: in [0.3, 0.7) -> ignored
    40, 40, 50, 50, // 0 -> negative
    22, 0, 32, 10, // IoU 8/12 = 0.667 with gt1: ignored, but it is gt1's best -> low-quality pos
  ];

  it('assigns positives, negatives, the ignore band and low-quality matches', () => {
    const a = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.3, min_pos_iou: 0.3, match_low_quality: true });
    const r = a.assign(priors, gts, [3, 5]);
    expect(Array.from(r.gtInds)).toEqual([1, 1, -1, 0, 2]);
    expect(Array.from(r.labels)).toEqual([3, 3, -1, -1, 5]);
    const noLq = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.3, min_pos_iou: 0.3, match_low_quality: false });
    expect(Array.from(noLq.assign(priors, gts, [3, 5]).gtInds)).toEqual([1, 1, -1, 0, -1]);
    // min_pos_iou above the best IoU blocks the low-quality match.
    const strict = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.3, min_pos_iou: 0.7, match_low_quality: true });
    expect(Array.from(strict.assign(priors, gts, [3, 5]).gtInds)).toEqual([1, 1, -1, 0, -1]);
  });

  it('ties: every prior with a gt\'s best IoU is claimed (gt_max_assign_all)', () => {
    const a = new MaxIoUAssigner({ pos_iou_thr: 0.9, neg_iou_thr: 0.1, min_pos_iou: 0.1 });
    const r = a.assign([0, 0, 10, 5, 0, 5, 10, 10], [0, 0, 10, 10], [0]);
    expect(Array.from(r.gtInds)).toEqual([1, 1]);
  });

  it('no gt: every prior negative; sampler takes gts as proposals', () => {
    const a = new MaxIoUAssigner({ pos_iou_thr: 0.5, neg_iou_thr: 0.5, min_pos_iou: 0.5 });
    expect(Array.from(a.assign(priors, [], []).gtInds)).toEqual([0, 0, 0, 0, 0]);
    const r = a.assign(priors, gts, [3, 5]);
    const s = new RandomSampler({ num: 100, pos_fraction: 0.25, add_gt_as_proposals: true }).sample(r, Float32Array.from(priors), gts, [3, 5]);
    // candidates = [gt0, gt1, p0..p4]; positives: gt0, gt1, p0, p1 (0.818), p4 (gt1's best 0.667 >= 0.5)
    expect(Array.from(s.posInds)).toEqual([0, 1, 2, 3, 6]);
    expect(Array.from(s.posIsGt)).toEqual([1, 1, 0, 0, 0]);
    expect(Array.from(s.posAssignedGtInds)).toEqual([0, 1, 0, 0, 1]);
    expect(Array.from(s.negInds)).toEqual([4, 5]); // p2 (1/3 < 0.5) and p3
    expect(s.avgFactor).toBe(7);
  });

  it('random sampling respects num and pos_fraction, is seeded, and samples without replacement', () => {
    const n = 1000;
    const gtInds = new Int32Array(n).map((_, i) => (i < 300 ? 1 : 0));
    const assign = { numGts: 1, gtInds, maxOverlaps: new Float32Array(n), labels: new Int32Array(n) };
    const boxes = new Float32Array(n * 4);
    const mk = () => new RandomSampler({ num: 256, pos_fraction: 0.5, add_gt_as_proposals: false, seed: 7 });
    const s1 = mk().sample(assign, boxes, [0, 0, 1, 1], [0]);
    const s2 = mk().sample(assign, boxes, [0, 0, 1, 1], [0]);
    expect(s1.posInds.length).toBe(128);
    expect(s1.negInds.length).toBe(128);
    expect(new Set(s1.posInds).size).toBe(128);
    expect(Array.from(s1.posInds).every((i) => i < 300)).toBe(true);
    expect(Array.from(s1.negInds).every((i) => i >= 300)).toBe(true);
    expect(Array.from(s1.posInds)).toEqual(Array.from(s2.posInds));
  });
});
