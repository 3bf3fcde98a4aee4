import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { roiAlign } from './roi_align';
import { checkRoIAlignFixtures, roiAlignCaseFiles } from './roi_align_fixture';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('roiAlign on cpu', () => {
  it('runs on the cpu backend', () => {
    expect(tf.getBackend()).toBe('cpu');
  });

  it('matches torchvision roi_align (outputs and input gradients, output 7/14, sampling 0/2)', async () => {
    const files = roiAlignCaseFiles();
    expect(files.length).toBeGreaterThanOrEqual(6);
    const results = await checkRoIAlignFixtures(files);
    expect(results.length).toBe(files.length * 4);
    for (const r of results) {
      expect(r.outputErr, `${r.name} output`).toBeLessThan(1e-4);
      expect(r.gradErr, `${r.name} grad`).toBeLessThan(1e-4);
    }
  });

  it('averages bilinear samples (hand-computed case)', async () => {
    // 1 image, 4x4 map, 1 channel, values = row * 4 + col. A RoI covering the whole map at scale 1
    // with output 2x2 and aligned=True samples linear data, so each bin equals the value at its centre.
    const x = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i), [1, 4, 4, 1]);
    const rois = tf.tensor2d([[0, 0, 0, 4, 4]]);
    const out = roiAlign(x, rois, { outputSize: 2, spatialScale: 1, samplingRatio: 2 });
    expect(out.shape).toEqual([1, 2, 2, 1]);
    // Bin centres (in aligned cell coordinates) are at 0.5 and 2.5 along each axis.
    const expected = [0.5 * 4 + 0.5, 0.5 * 4 + 2.5, 2.5 * 4 + 0.5, 2.5 * 4 + 2.5];
    const got = Array.from(await out.data());
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it('gives RoIs zero gradient, handles K = 0 and rejects bad inputs', async () => {
    const x = tf.randomNormal([1, 6, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const rois = tf.tensor2d([[0, 1, 1, 5, 4]]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(roiAlign(a as tf.Tensor4D, b as tf.Tensor2D, { outputSize: 3, spatialScale: 1 })));
    const [, dRois] = g([x, rois]);
    expect(Array.from(await dRois.data())).toEqual([0, 0, 0, 0, 0]);
    const empty = roiAlign(x, tf.zeros([0, 5]) as tf.Tensor2D, { outputSize: 7, spatialScale: 0.25 });
    expect(empty.shape).toEqual([0, 7, 7, 3]);
    expect(() => roiAlign(x, tf.zeros([2, 4]) as tf.Tensor2D, { outputSize: 7, spatialScale: 1 })).toThrow(/\[K, 5\]/);
    expect(() => roiAlign(x, tf.tensor2d([[3, 0, 0, 2, 2]]), { outputSize: 2, spatialScale: 1 })).toThrow(/batch index/);
    expect(() => roiAlign(x, tf.tensor2d([[0, 0, NaN, 2, 2]]), { outputSize: 2, spatialScale: 1 })).toThrow(/non-finite/);
    expect(() => roiAlign(x, tf.tensor2d([[0, 0, 0, Infinity, 2]]), { outputSize: 2, spatialScale: 1 })).toThrow(/non-finite/);
  });
});
