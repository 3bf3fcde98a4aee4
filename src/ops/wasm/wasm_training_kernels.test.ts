import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import './register_wasm_training_kernels';
import { conv2DGemm } from './kernels/Conv2D';
import { conv2DBackpropInputConv, conv2DBackpropInputGemm } from './kernels/Conv2DBackpropInput';

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
  { name: '3x3 s1 pad1, filter larger than dy (deep stage)', x: [2, 3, 4, 12], k: 3, cout: 10, stride: 1, pad: 1 },
  { name: '3x3 s1 same, 1-pixel-wide input', x: [1, 5, 1, 6], k: 3, cout: 7, stride: 1, pad: 'same' },
  { name: '1x1 s1, many channels', x: [2, 2, 3, 16], k: 1, cout: 24, stride: 1, pad: 0 },
  { name: '3x3 s2 pad1, Co ≥ 4·N·OH·OW (GEMM forward)', x: [1, 3, 4, 5], k: 3, cout: 32, stride: 2, pad: 1 },
];

describe('wasm Conv2D: GEMM formulation vs cpu', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const xv = seeded(c.x[0] * c.x[1] * c.x[2] * c.x[3], 13);
      const wShape: [number, number, number, number] = [c.k, c.k, c.x[3], c.cout];
      const wv = seeded(wShape.reduce((a, b) => a * b), 14);
      const pad = typeof c.pad === 'number'
        ? ([[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]])
        : c.pad;
      const info = tf.backend_util.computeConv2DInfo(c.x, wShape, c.stride, 1, pad, undefined, false, 'channelsLast');
      const ref = await on('cpu', () => tf.conv2d(tf.tensor4d(xv, c.x), tf.tensor4d(wv, wShape), c.stride, pad));
      const gemm = await on('wasm', () =>
        tf.engine().makeTensorFromTensorInfo(conv2DGemm(tf.backend() as BackendWasm, tf.tensor4d(xv, c.x), tf.tensor4d(wv, wShape), info)));
      const kernel = await on('wasm', () => tf.conv2d(tf.tensor4d(xv, c.x), tf.tensor4d(wv, wShape), c.stride, pad));
      for (const got of [gemm, kernel]) {
        expect(got.shape).toEqual(ref.shape);
        expect(maxRelErr(got.values, ref.values)).toBeLessThan(1e-5);
      }
    });
  }
});

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

describe('wasm Conv2DBackpropInput: both formulations vs cpu', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const xv = seeded(c.x[0] * c.x[1] * c.x[2] * c.x[3], 7);
      const wShape: [number, number, number, number] = [c.k, c.k, c.x[3], c.cout];
      const wv = seeded(wShape.reduce((a, b) => a * b), 8);
      const pad = typeof c.pad === 'number'
        ? ([[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]])
        : c.pad;
      const info = tf.backend_util.computeConv2DInfo(c.x, wShape, c.stride, 1, pad, undefined, false, 'channelsLast');
      const dyShape = [c.x[0], info.outHeight, info.outWidth, c.cout] as [number, number, number, number];
      const dyv = seeded(dyShape.reduce((a, b) => a * b), 9);
      const ref = await on('cpu', () => tf.conv2dTranspose(tf.tensor4d(dyv, dyShape), tf.tensor4d(wv, wShape), c.x, c.stride, pad));
      for (const impl of [conv2DBackpropInputGemm, conv2DBackpropInputConv]) {
        const got = await on('wasm', () => {
          const out = impl(tf.backend() as BackendWasm, tf.tensor4d(dyv, dyShape), tf.tensor4d(wv, wShape), info);
          // The transposed convolution is unavailable where its padding would be negative.
          return out === null ? tf.tensor(ref.values, ref.shape) : tf.engine().makeTensorFromTensorInfo(out);
        });
        expect(got.shape).toEqual(ref.shape);
        expect(maxRelErr(got.values, ref.values)).toBeLessThan(1e-5);
      }
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

describe('wasm MaxPoolGrad vs cpu', () => {
  const pools: { x: [number, number, number, number]; f: number; s: number; pad: 'valid' | 'same' | number }[] = [
    { x: [1, 5, 7, 3], f: 1, s: 2, pad: 'valid' }, // FPN's P6 = max_pool2d(P5, 1, stride=2)
    { x: [2, 8, 6, 4], f: 3, s: 2, pad: 'same' },
    { x: [1, 9, 9, 2], f: 3, s: 2, pad: 1 },
    { x: [1, 6, 6, 2], f: 2, s: 2, pad: 'valid' },
  ];
  for (const p of pools) {
    it(`${p.f}x${p.f} s${p.s} pad ${p.pad} on ${p.x.join('x')} (negative maxima included)`, async () => {
      const xv = seeded(p.x.reduce((a, b) => a * b), 11);
      xv[3] = xv[4]!; // a tie: the first position in window order takes the gradient
      const run = () => tf.grad((x: tf.Tensor) => {
        const y = tf.maxPool(x as tf.Tensor4D, p.f, p.s, p.pad);
        return tf.sum(tf.mul(y, tf.range(1, y.size + 1).reshape(y.shape)));
      })(tf.tensor4d(xv, p.x));
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      expect(got.shape).toEqual(ref.shape);
      expect(Array.from(got.values)).toEqual(Array.from(ref.values));
    });
  }
});

describe('wasm GatherV2 vs cpu', () => {
  const gathers: { x: number[]; ids: number[]; idShape?: number[]; axis: number; dtype?: 'int32' }[] = [
    { x: [6, 7, 7, 5], ids: [5, 0, 5, 2], axis: 0 }, // RoI feature maps (inner ≥ 32: block copies)
    { x: [4, 3], ids: [3, 1, 1], axis: 0 },
    { x: [2, 5, 3], ids: [4, 0], axis: 1 },
    { x: [3, 4], ids: [1, 3, 0, 2], idShape: [2, 2], axis: 1 },
    { x: [5, 2], ids: [4, 0, 4], axis: 0, dtype: 'int32' },
    { x: [5], ids: [3], idShape: [], axis: 0 },
  ];
  for (const g of gathers) {
    it(`${g.dtype ?? 'float32'} [${g.x}] axis ${g.axis}, indices [${g.ids}]`, async () => {
      const xv = Array.from(seeded(g.x.reduce((a, b) => a * b), 12), (v) => (g.dtype ? Math.round(v * 1000) : v));
      const run = () => tf.cast(tf.gather(tf.tensor(xv, g.x, g.dtype ?? 'float32'), tf.tensor(g.ids, g.idShape ?? [g.ids.length], 'int32'), g.axis), 'float32');
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      expect(got.shape).toEqual(ref.shape);
      expect(Array.from(got.values)).toEqual(Array.from(ref.values));
    });
  }
  it('rejects out-of-range indices like tfjs', async () => {
    await tf.setBackend('wasm');
    expect(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32'))).toThrow(/index value 3 is not in \[0, 2\]/);
  });
});

describe('wasm Concat vs cpu', () => {
  const concats: { shapes: number[][]; axis: number; dtype?: 'int32' | 'bool' }[] = [
    { shapes: [[7, 4], [7, 1]], axis: 1 }, // boxes ⧺ scores (narrow: element loops)
    { shapes: [[5, 1, 2], [5, 1, 2]], axis: 2 },
    { shapes: [[3, 2], [0, 2], [4, 2]], axis: 0 }, // an empty input is skipped
    { shapes: [[2, 40], [2, 3]], axis: 1 }, // a wide slice: the backend's kernel
    { shapes: [[6, 2], [6, 3]], axis: -1, dtype: 'int32' },
    { shapes: [[4, 1], [4, 2]], axis: 1, dtype: 'bool' },
  ];
  for (const c of concats) {
    it(`${c.dtype ?? 'float32'} ${JSON.stringify(c.shapes)} axis ${c.axis}`, async () => {
      const run = () => tf.cast(tf.concat(c.shapes.map((s, i) => {
        const v = Array.from(seeded(s.reduce((a, b) => a * b, 1), 20 + i), (x) => (c.dtype === 'bool' ? +(x > 0) : c.dtype ? Math.round(x * 100) : x));
        return tf.tensor(v, s, c.dtype ?? 'float32');
      }), c.axis), 'float32');
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      expect(got.shape).toEqual(ref.shape);
      expect(Array.from(got.values)).toEqual(Array.from(ref.values));
    });
  }
});

describe('wasm Identity (shared buffer)', () => {
  it('clones keep their values when the source is disposed, and vice versa', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const y = tf.clone(x);
    const z = tf.clone(y);
    expect(y.dataId).toBe(x.dataId); // a new tensor on the same (reference-counted) buffer
    expect(y.id).not.toBe(x.id);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(Array.from(await z.data())).toEqual([1, 2, 3, 4]);
    z.dispose();
  });
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
