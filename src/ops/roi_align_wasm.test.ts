import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend';
import { roiAlign } from './roi_align';
import { checkRoIAlignFixtures, roiAlignCaseFiles } from './roi_align_fixture';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', forTraining: true });
});

describe('roiAlign on wasm', () => {
  it('runs on the wasm backend', () => {
    expect(tf.getBackend()).toBe('wasm');
  });

  it('matches torchvision roi_align (outputs and input gradients, output 7/14, sampling 0/2)', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const results = await checkRoIAlignFixtures(roiAlignCaseFiles());
    expect(results.length).toBe(24);
    for (const r of results) {
      expect(r.outputErr, `${r.name} output`).toBeLessThan(1e-4);
      expect(r.gradErr, `${r.name} grad`).toBeLessThan(1e-4);
    }
  });

  it('accumulates gradients of overlapping RoIs and leaves the heap zeroed where no RoI samples', async () => {
    const x = tf.ones([1, 6, 6, 2]) as tf.Tensor4D;
    const rois = tf.tensor2d([
      [0, 0, 0, 2, 2],
      [0, 0, 0, 2, 2],
    ]);
    const g = await tf.grad((a: tf.Tensor) => tf.sum(roiAlign(a as tf.Tensor4D, rois, { outputSize: 1, spatialScale: 1 })))(x).data();
    // Each RoI spreads a total weight of 1 per channel; two RoIs and two channels give 4.
    expect(Array.from(g).reduce((s, v) => s + v, 0)).toBeCloseTo(4, 5);
    // Cells far from the RoIs get exactly zero (the output buffer is zero-filled, not left as heap garbage).
    expect(g[(5 * 6 + 5) * 2]).toBe(0);
  });
});
