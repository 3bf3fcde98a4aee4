/**
 * Inference of the tiny Mask R-CNN against REAL MMDetection 3.3 `predict`
 * (`shared/fixtures/mmdet-predict/case_0`, rescale=True and False) on the cpu backend, and mask
 * pasting in isolation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../ops/backend';
import { readFixtureBytes, readFixtureJson } from '../testing/fixtures';
import type { TwoStageDetector } from './detectors/two_stage';
import { pasteMaskProbs, pasteRegion } from './roi_heads/mask_heads/paste_mask';
import type { DetDataSample, DetResult } from './structures';
import { buildTinyDetector, readF32, readNchwAsNhwc, relDiff, unpackBits } from './testing/tiny';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const expected: Json = readFixtureJson('mmdet-predict', 'case_0', 'expected.json');

function sample(): DetDataSample {
  const m = expected.metainfo;
  return { metainfo: { img_shape: m.img_shape, ori_shape: m.ori_shape, scale_factor: m.scale_factor, pad_shape: m.pad_shape, batch_input_shape: m.batch_input_shape } };
}

describe('mask pasting (grid_sample semantics)', () => {
  it('reproduces MMDetection pasted probabilities of the first detections', () => {
    const probs = readF32('mmdet-predict', 'case_0', 'mask_probs_first5.bin');
    const pasted = readF32('mmdet-predict', 'case_0', 'pasted_probs_first5.bin');
    const [h, w] = [100, 150];
    for (const e of expected.raw_mask_probs.entries as Json[]) {
      const i = e.index as number;
      expect(pasteRegion(e.paste_box, h, w)).toEqual(e.paste_region);
      const out = pasteMaskProbs(probs.subarray(i * 784, (i + 1) * 784), 28, 28, e.paste_box, h, w);
      let maxDiff = 0;
      for (let p = 0; p < h * w; p++) maxDiff = Math.max(maxDiff, Math.abs(out[p]! - pasted[i * h * w + p]!));
      expect(maxDiff).toBeLessThan(1e-5);
    }
  });
});

describe('tiny Mask R-CNN predict vs MMDetection 3.3 (cpu)', () => {
  let model: TwoStageDetector;
  let input: tf.Tensor4D;
  let resTrue: DetResult;
  let resFalse: DetResult;

  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
    const cfg = readFixtureJson<Record<string, unknown>>('mmdet-predict', 'case_0', 'config.json');
    model = buildTinyDetector(cfg);
    model.train(false);
    input = readNchwAsNhwc([1, 3, 128, 192], 'mmdet-predict', 'case_0', 'input.bin');
    resTrue = (await model.predict(input, [sample()], true))[0]!;
    resFalse = (await model.predict(input, [sample()], false))[0]!;
  }, 900_000);

  afterAll(() => {
    model?.dispose();
    input?.dispose();
  });

  it('test proposals', () => {
    const p = model.lastProposals![0]!;
    expect(p.scores.length).toBe(expected.num_test_proposals);
    const ref = readF32('mmdet-predict', 'case_0', 'test_proposals.bin');
    let bsum = 0;
    let rsum = 0;
    for (let i = 0; i < p.scores.length; i++) for (let c = 0; c < 4; c++) bsum += p.bboxes[i * 4 + c]!;
    for (let i = 0; i < ref.length / 5; i++) for (let c = 0; c < 4; c++) rsum += ref[i * 5 + c]!;
    expect(relDiff(bsum, rsum)).toBeLessThan(1e-5);
  });

  for (const mode of ['rescale_true', 'rescale_false'] as const) {
    it(`detections and masks (${mode})`, () => {
      const res = mode === 'rescale_true' ? resTrue : resFalse;
      const ref = expected[mode];
      expect(res.scores.length).toBe(ref.num_detections);
      expect([res.masks!.count, res.masks!.height, res.masks!.width]).toEqual(ref.masks_shape);
      const dets = ref.detections as Json[];
      const hw = res.masks!.height * res.masks!.width;
      dets.forEach((d, i) => {
        expect(res.labels[i], `label ${i}`).toBe(d.label);
        expect(Math.abs(res.scores[i]! - d.score), `score ${i}`).toBeLessThan(1e-5);
        for (let c = 0; c < 4; c++) expect(Math.abs(res.bboxes[i * 4 + c]! - d.bbox[c]), `bbox ${i}`).toBeLessThan(1e-3);
        let sum = 0;
        for (let p = 0; p < hw; p++) sum += res.masks!.data[i * hw + p]!;
        expect(Math.abs(sum - d.mask_sum), `mask_sum ${i}`).toBeLessThanOrEqual(d.paste_borderline_pixels ?? 0);
      });
      // Pixel-exact masks except documented borderline pixels.
      const file = mode === 'rescale_true' ? 'masks_ori.bin' : 'masks_input.bin';
      const [n, h, w] = ref.masks_shape as [number, number, number];
      const refMasks = unpackBits(readFixtureBytes('mmdet-predict', 'case_0', file), n, h, w);
      let diff = 0;
      for (let p = 0; p < n * h * w; p++) if (refMasks.data[p] !== res.masks!.data[p]) diff++;
      const borderline = dets.reduce((a, d) => a + (d.paste_borderline_pixels ?? 0), 0);
      expect(diff).toBeLessThanOrEqual(borderline);
    });
  }
});
