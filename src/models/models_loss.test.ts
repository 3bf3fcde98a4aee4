/**
 * Training losses, sampling and gradients of the tiny Mask R-CNN against REAL MMDetection 3.3
 * (`shared/fixtures/mmdet-losses/case_0`, deterministic "take all" sampling) on the cpu backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../ops/backend';
import { readFixtureJson } from '../testing/fixtures';
import { buildTinyDetector, readNchwAsNhwc, relDiff, tinyConfig, lossCaseSample } from './testing/tiny';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const expected: Json = readFixtureJson('mmdet-losses', 'case_0', 'expected.json');


let input: tf.Tensor4D;
beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
  input = readNchwAsNhwc([1, 3, 128, 192], 'mmdet-losses', 'case_0', 'input.bin');
});
afterAll(() => input.dispose());

describe('Mask R-CNN loss vs MMDetection 3.3 (cpu)', () => {
  it('L1 variant: sampling, proposals and every loss term', async () => {
    const model = buildTinyDetector(tinyConfig('l1'));
    try {
    model.train();
    const ref = expected.l1;
    const extra = await model.loss(input, [lossCaseSample()]);
    // RPN sampling.
    const rpn = model.rpnHead.lastTargets!;
    expect(rpn.numAnchors).toBe(ref.rpn_sampling.num_anchors);
    expect(rpn.numPos).toBe(ref.rpn_sampling.num_pos);
    expect(rpn.numNeg).toBe(ref.rpn_sampling.num_neg);
    expect(rpn.avgFactor).toBe(ref.rpn_sampling.avg_factor);
    expect(Array.from(rpn.sampling[0]!.posInds)).toEqual(ref.rpn_sampling.pos_anchor_indices);
    expect(Array.from(rpn.sampling[0]!.posAssignedGtInds)).toEqual(ref.rpn_sampling.pos_assigned_gt);
    // Proposals.
    const props = model.lastProposals![0]!;
    expect(props.scores.length).toBe(ref.train_proposals.count);
    const bsum = props.bboxes.reduce((a, b) => a + b, 0);
    expect(relDiff(bsum, ref.train_proposals.bboxes_sum)).toBeLessThan(1e-4);
    expect(relDiff(props.scores.reduce((a, b) => a + b, 0), ref.train_proposals.scores_sum)).toBeLessThan(1e-4);
    // R-CNN sampling.
    const rc = model.roiHead.lastTargets!;
    expect(rc.numPos).toBe(ref.rcnn_sampling.num_pos);
    expect(rc.numNeg).toBe(ref.rcnn_sampling.num_neg);
    expect(rc.sampling[0]!.posIsGt.reduce((a, b) => a + b, 0)).toBe(ref.rcnn_sampling.num_pos_is_gt);
    // Losses.
    for (const k of ['loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'acc', 'loss_bbox', 'loss_mask']) {
      expect(relDiff(extra[k]!.dataSync()[0]!, ref.losses[k]), k).toBeLessThan(1e-4);
    }
    const total = ['loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask'].reduce((a, k) => a + extra[k]!.dataSync()[0]!, 0);
    expect(relDiff(total, ref.losses.total_loss)).toBeLessThan(1e-4);
    tf.dispose(Object.values(extra));
    } finally {
      model.dispose();
    }
  }, 900_000);

  it('SmoothL1 variant: loss_bbox (forward only)', async () => {
    const model = buildTinyDetector(tinyConfig('smoothl1'));
    try {
      model.train();
      const losses = await model.loss(input, [lossCaseSample()]);
      const ref = expected.smoothl1.losses;
      for (const k of ['loss_cls', 'loss_bbox', 'loss_mask']) expect(relDiff(losses[k]!.dataSync()[0]!, ref[k]), k).toBeLessThan(1e-4);
    } finally {
      model.dispose();
    }
  }, 600_000);

  it('empty ground truth: zero bbox and mask loss, positive classification losses', async () => {
    const model = buildTinyDetector(tinyConfig('l1'));
    try {
      model.train();
      const losses = await model.loss(input, [lossCaseSample(false)]);
      expect(losses.loss_bbox!.dataSync()[0]).toBe(0);
      expect(losses.loss_mask!.dataSync()[0]).toBe(0);
      expect(losses.loss_rpn_bbox!.dataSync()[0]).toBe(0);
      expect(losses.loss_cls!.dataSync()[0]).toBeGreaterThan(0);
      expect(losses.loss_rpn_cls!.dataSync()[0]).toBeGreaterThan(0);
    } finally {
      model.dispose();
    }
  }, 600_000);
});
