import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import './register_wasm_training_kernels';

/** Runs `f` on a backend with inputs copied from plain arrays; returns the result values. */
async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  await tf.ready();
  expect(tf.getBackend()).toBe(backend);
  const t = tf.tidy(f);
  const values = (await t.data()) as Float32Array;
  const shape = t.shape;
  t.dispose();
  return { shape, values };
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let scale = 1e-6;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
  return err / scale;
}

function seeded(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

type Pad = 'same' | 'valid' | number;
const cases: { name: string; x: [number, number, number, number]; k: number; cout: number; stride: number; pad: Pad }[] = [
  { name: '3x3 s1 pad1', x: [2, 9, 7, 3], k: 3, cout: 4, stride: 1, pad: 1 },
  { name: '3x3 s2 pad1 (odd size)', x: [2, 9, 7, 3], k: 3, cout: 5, stride: 2, pad: 1 },
  { name: '1x1 s2 (ResNet downsample)', x: [2, 8, 6, 4], k: 1, cout: 3, stride: 2, pad: 0 },
  { name: '1x1 s1', x: [1, 5, 5, 6], k: 1, cout: 2, stride: 1, pad: 'valid' },
  { name: '7x7 s2 pad3 (stem)', x: [1, 16, 12, 3], k: 7, cout: 4, stride: 2, pad: 3 },
  { name: '3x3 s2 same', x: [2, 8, 8, 3], k: 3, cout: 2, stride: 2, pad: 'same' },
  { name: '3x3 s2 valid (input rows unused)', x: [1, 10, 9, 2], k: 3, cout: 2, stride: 2, pad: 'valid' },
];

describe('wasm Conv2DBackpropFilter (XNNPACK conv of transposed tensors) vs cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });
  for (const c of cases) {
    it(c.name, async () => {
      const xv = seeded(c.x[0] * c.x[1] * c.x[2] * c.x[3], 1);
      const wShape: [number, number, number, number] = [c.k, c.k, c.x[3], c.cout];
      const wv = seeded(wShape.reduce((a, b) => a * b), 2);
      const pad = typeof c.pad === 'number'
        ? ([[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]])
        : c.pad;
      const run = () => {
        const x = tf.tensor4d(xv, c.x);
        const w = tf.tensor4d(wv, wShape);
        // A non-uniform upstream gradient: weight each output element differently.
        return tf.grad((w: tf.Tensor) => {
          const y = tf.conv2d(x, w as tf.Tensor4D, c.stride, pad);
          return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))));
        })(w);
      };
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      expect(got.shape).toEqual(ref.shape);
      expect(maxRelErr(got.values, ref.values)).toBeLessThan(1e-5);
      // Input gradient (Conv2DBackpropInput, replaced by an XNNPACK convolution).
      const runX = () => {
        const x = tf.tensor4d(xv, c.x);
        const w = tf.tensor4d(wv, wShape);
        return tf.grad((x: tf.Tensor) => {
          const y = tf.conv2d(x as tf.Tensor4D, w, c.stride, pad);
          return tf.sum(tf.mul(y, tf.cos(tf.range(0, y.size).reshape(y.shape))));
        })(x);
      };
      const refX = await on('cpu', runX);
      const gotX = await on('wasm', runX);
      expect(gotX.shape).toEqual(refX.shape);
      expect(maxRelErr(gotX.values, refX.values)).toBeLessThan(1e-5);
    });
  }
});

describe('wasm BatchMatMul with transposed operands vs cpu', () => {
  const shapes: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { a: [5, 3], b: [4, 3], ta: false, tb: true },
    { a: [3, 5], b: [3, 4], ta: true, tb: false },
    { a: [3, 5], b: [4, 3], ta: true, tb: true },
    { a: [2, 5, 3], b: [2, 4, 3], ta: false, tb: true },
    { a: [2, 3, 5], b: [1, 3, 4], ta: true, tb: false },
    { a: [1, 5, 3], b: [3, 4, 3], ta: false, tb: true },
  ];
  for (const s of shapes) {
    it(`${JSON.stringify(s.a)}${s.ta ? 'ᵀ' : ''} × ${JSON.stringify(s.b)}${s.tb ? 'ᵀ' : ''}`, async () => {
      const av = seeded(s.a.reduce((p, q) => p * q), 5);
      const bv = seeded(s.b.reduce((p, q) => p * q), 6);
      const run = () => tf.matMul(tf.tensor(av, s.a), tf.tensor(bv, s.b), s.ta, s.tb);
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      expect(got.shape).toEqual(ref.shape);
      expect(maxRelErr(got.values, ref.values)).toBeLessThan(1e-5);
    });
  }
});

describe('wasm UnsortedSegmentSum vs cpu', () => {
  it('sums rows into segments, drops out-of-range ids', async () => {
    const xv = seeded(7 * 5, 3);
    const ids = [0, 2, 2, 4, -1, 0, 9];
    const run = () => tf.unsortedSegmentSum(tf.tensor2d(xv, [7, 5]), tf.tensor1d(ids, 'int32'), 5);
    const ref = await on('cpu', run);
    const got = await on('wasm', run);
    expect(got.shape).toEqual([5, 5]);
    expect(maxRelErr(got.values, ref.values)).toBeLessThan(1e-6);
  });
  it("is the gradient of gather (what the model's RoI/label gathers need)", async () => {
    const xv = seeded(6 * 3, 4);
    const run = () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, tf.tensor1d([5, 0, 5, 2], 'int32')), tf.range(1, 13).reshape([4, 3]))))(tf.tensor2d(xv, [6, 3]));
    const ref = await on('cpu', run);
    const got = await on('wasm', run);
    expect(maxRelErr(got.values, ref.values)).toBeLessThan(1e-6);
  });
});
