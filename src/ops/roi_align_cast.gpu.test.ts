// RoIAlign on WebGPU of a float32 tensor cast from int32 (the mask-target path: a 0/1 bitmap aligned
// into each positive RoI). tfjs's webgpu Cast only relabels int32 → float32, so the kernel sees a
// buffer typed array<i32>; the WGSL must convert its reads (it failed to compile before).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from './backend';
import { roiAlign } from './roi_align';

beforeAll(async () => {
  const info = await initBackend({ prefer: 'webgpu' });
  expect(info.name, info.notice).toBe('webgpu');
});

// 1 channel: scalar reads; 4 channels: vec4 reads.
it.each([1, 4])('aligns a cast int32 bitmap like the same values made as float32 (%i channels)', async (channels) => {
  const [n, h, w] = [2, 9, 11];
  const bits = Int32Array.from({ length: n * h * w * channels }, (_, i) => ((i * 7) % 5 < 2 ? 1 : 0));
  const rois = tf.tensor2d([
    [0, 1.5, 0.5, 9.25, 7.75],
    [1, 0, 0, 11, 9],
    [1, 3.2, 2.1, 5.9, 8.4],
  ]);
  const options = { outputSize: [5, 5] as const, spatialScale: 1, samplingRatio: 0, aligned: true };
  const fromInt = tf.tidy(() => roiAlign(tf.cast(tf.tensor4d(bits, [n, h, w, channels], 'int32'), 'float32') as tf.Tensor4D, rois, options));
  const fromFloat = tf.tidy(() => roiAlign(tf.tensor4d(Float32Array.from(bits), [n, h, w, channels]), rois, options));
  const [a, b] = await Promise.all([fromInt.data(), fromFloat.data()]);
  expect(a.length).toBe(3 * 5 * 5 * channels);
  expect(Array.from(b).some((v) => v > 0 && v < 1)).toBe(true);
  expect(Array.from(a)).toEqual(Array.from(b));
  tf.dispose([rois, fromInt, fromFloat]);
});
