// The tiled split-K Conv2DBackpropFilter (kernels/Conv2DBackpropFilter_webgpu.ts) on WebGPU (Dawn;
// SwiftShader without a GPU) against the cpu backend's kernel, on tiny shapes.
import '@tensorflow/tfjs-core/dist/index.js';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend';
import {
  conv2DBackpropFilterTiled,
  conv2DBackpropFilterTiledCalls,
  planDerFilterLaunch,
  webgpuConv2DBackpropFilterTiled,
} from './kernels/Conv2DBackpropFilter_webgpu';
import { DER_FILTER_TILES, planDerFilterSplits, tileSharedBytes, type DerFilterTileName } from './conv2d_backprop_filter_webgpu';

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: Pad;
  /** Expected split-K: 1, or more than 1. */
  split: 'none' | 'yes';
}

const CASES: Case[] = [
  { name: '1x1 s1, Cin 5 → Cout 6', x: [1, 7, 9, 5], filter: [1, 1, 5, 6], strides: 1, pad: 'valid', split: 'none' },
  { name: '3x3 s1 same, 8 → 16 (vec4 loads)', x: [1, 24, 24, 8], filter: [3, 3, 8, 16], strides: 1, pad: 'same', split: 'yes' },
  {
    name: '3x3 s2 explicit pad 1, 12 → 20',
    x: [1, 13, 11, 12],
    filter: [3, 3, 12, 20],
    strides: 2,
    pad: [[0, 0], [1, 1], [1, 1], [0, 0]],
    split: 'none',
  },
  { name: '3x3 s1 pad 1 (number), 4 → 24', x: [1, 6, 7, 4], filter: [3, 3, 4, 24], strides: 1, pad: 1, split: 'none' },
  { name: '1x1 s2 (ResNet downsample), batch 2', x: [2, 9, 9, 16], filter: [1, 1, 16, 32], strides: 2, pad: 'valid', split: 'none' },
  { name: '7x7 s2 pad 3, Cin 3', x: [1, 17, 15, 3], filter: [7, 7, 3, 8], strides: 2, pad: 3, split: 'none' },
  { name: 'Cout 3, Cin 6, batch 2, odd H/W, split-K', x: [2, 23, 21, 6], filter: [3, 3, 6, 3], strides: 1, pad: 'same', split: 'yes' },
  { name: 'several Cin/Cout tiles, 70 → 66', x: [1, 6, 5, 70], filter: [3, 3, 70, 66], strides: 1, pad: 'same', split: 'none' },
  { name: '1x1 4 → 4, split-K with a short last split', x: [1, 40, 40, 4], filter: [1, 1, 4, 4], strides: 1, pad: 'valid', split: 'yes' },
  { name: '128×128 tile (8×8 per thread), 130 → 132', x: [1, 3, 4, 130], filter: [3, 3, 130, 132], strides: 1, pad: 'same', split: 'none' },
  { name: "3x3 s2 'same' (asymmetric padding)", x: [1, 10, 10, 4], filter: [3, 3, 4, 12], strides: 2, pad: 'same', split: 'none' },
];

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function outSize(c: Case): [number, number] {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
  return [info.outHeight, info.outWidth];
}

function inputs(c: Case, seed: number): { x: tf.Tensor4D; dy: tf.Tensor4D } {
  const [oh, ow] = outSize(c);
  const dyShape: [number, number, number, number] = [c.x[0], oh, ow, c.filter[3]];
  const x = tf.tensor4d(values(c.x.reduce((a, b) => a * b), seed), c.x);
  const dy = tf.tensor4d(values(dyShape.reduce((a, b) => a * b), seed + 7), dyShape);
  return { x, dy };
}

/** dW through the registered kernel, or (with `tile`) the tiled program with that tile directly. */
async function filterGrad(c: Case, seed: number, tile?: DerFilterTileName): Promise<Float32Array> {
  const { x, dy } = inputs(c, seed);
  const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.filter };
  let dw: tf.Tensor;
  if (tile == null) {
    dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  } else {
    const info = conv2DBackpropFilterTiled({ inputs: { x, dy }, backend: tf.backend(), attrs: attrs as unknown as tf.NamedAttrMap }, tile);
    expect(info).not.toBeNull();
    dw = tf.engine().makeTensorFromTensorInfo(info!);
  }
  expect(dw.shape).toEqual(c.filter);
  const data = (await dw.data()) as Float32Array;
  tf.dispose([x, dy, dw]);
  return data;
}

/** Filter gradient of `sum(conv2d(x, w) * dy)` through tf.grad, i.e. what training uses. */
async function gradThroughConv2d(c: Case, seed: number): Promise<Float32Array> {
  const { x, dy } = inputs(c, seed);
  const w = tf.tensor4d(values(c.filter.reduce((a, b) => a * b), seed + 3), c.filter);
  const pad = c.pad as 'valid' | 'same' | number;
  const g = tf.grad((wv: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, wv as tf.Tensor4D, c.strides, pad), dy)));
  const dw = g(w);
  const data = (await dw.data()) as Float32Array;
  tf.dispose([x, dy, w, dw]);
  return data;
}

function expectClose(gpu: Float32Array, ref: Float32Array, what: string): void {
  expect(gpu.length, what).toBe(ref.length);
  let worst = 0;
  ref.forEach((r, i) => {
    // Sums of up to ~2000 products of values in [-1, 1], accumulated in another order.
    worst = Math.max(worst, Math.abs(gpu[i]! - r) / (1e-4 * (Math.abs(r) + 1)));
  });
  expect(worst, what).toBeLessThanOrEqual(1);
}

beforeAll(async () => {
  const info = await initBackend({ prefer: 'webgpu' });
  expect(info.name, info.notice).toBe('webgpu');
});

describe('split-K plan', () => {
  it('splits long K over small outputs and keeps ≥ 256 positions per split', () => {
    // R50 RPN objectness conv at 1024×2048: one tile, K = 131072.
    const rpn = planDerFilterLaunch([1, 1, 256, 3], 256 * 512);
    expect(rpn.splits).toBeGreaterThan(64);
    expect(rpn.chunk).toBeGreaterThanOrEqual(256);
    expect(rpn.splits * rpn.chunk).toBeGreaterThanOrEqual(256 * 512);
    // FPN 3×3 256→256 at the same level: 2×2 tiles of 128×128 per tap, still a few splits.
    const fpn = planDerFilterLaunch([3, 3, 256, 256], 256 * 512);
    expect(fpn.tileName).toBe('t128');
    expect(fpn.dispatch[0] * fpn.dispatch[1]).toBe(4);
    expect(fpn.splits).toBeGreaterThan(1);
    expect((fpn.splits - 1) * fpn.chunk).toBeLessThan(256 * 512);
    // Short K: no split.
    expect(planDerFilterSplits({ tiles: 4, k: 300, filterSize: 1000, taps: 1, threads: 256, tk: 16 }).splits).toBe(1);
    // Dispatch z = taps × splits stays ≤ 65535.
    const many = planDerFilterSplits({ tiles: 1, k: 1 << 26, filterSize: 49, taps: 49, threads: 64, tk: 8 });
    expect(49 * many.splits).toBeLessThanOrEqual(65535);
  });

  it('every tile stays within 16 KiB of workgroup memory', () => {
    for (const t of Object.values(DER_FILTER_TILES)) expect(tileSharedBytes(t)).toBeLessThanOrEqual(16 * 1024);
  });

  it('the test cases split (or not) as labelled', () => {
    for (const c of CASES) {
      const [oh, ow] = outSize(c);
      const { splits } = planDerFilterLaunch(c.filter, c.x[0] * oh * ow);
      expect(splits > 1 ? 'yes' : 'none', c.name).toBe(c.split);
    }
  });
});

describe('Conv2DBackpropFilter on WebGPU (tiled split-K kernel)', () => {
  it('is installed on the webgpu backend', () => {
    expect(webgpuConv2DBackpropFilterTiled()).toBe(true);
  });

  it('equals the cpu backend, kernel calls and tf.grad(conv2d)', async () => {
    const before = conv2DBackpropFilterTiledCalls();
    const gpu: Float32Array[] = [];
    for (const [i, c] of CASES.entries()) gpu.push(await filterGrad(c, 100 + i));
    expect(conv2DBackpropFilterTiledCalls() - before).toBe(CASES.length);
    // Every tile on a case with several Cin/Cout tiles and ragged edges, and on a split-K case.
    const tileNames = Object.keys(DER_FILTER_TILES) as DerFilterTileName[];
    const tileCases = [CASES[7]!, CASES[6]!];
    const gpuTiles: Float32Array[] = [];
    for (const c of tileCases) for (const t of tileNames) gpuTiles.push(await filterGrad(c, 300, t));
    const gradCases = [CASES[1]!, CASES[6]!];
    const gpuGrad: Float32Array[] = [];
    const beforeGrad = conv2DBackpropFilterTiledCalls();
    for (const [i, c] of gradCases.entries()) gpuGrad.push(await gradThroughConv2d(c, 200 + i));
    expect(conv2DBackpropFilterTiledCalls() - beforeGrad).toBe(gradCases.length);

    await initBackend({ prefer: 'cpu' });
    try {
      for (const [i, c] of CASES.entries()) expectClose(gpu[i]!, await filterGrad(c, 100 + i), c.name);
      for (const [i, c] of tileCases.entries()) {
        const ref = await filterGrad(c, 300);
        tileNames.forEach((t, j) => expectClose(gpuTiles[i * tileNames.length + j]!, ref, `tile ${t}: ${c.name}`));
      }
      for (const [i, c] of gradCases.entries()) expectClose(gpuGrad[i]!, await gradThroughConv2d(c, 200 + i), `tf.grad: ${c.name}`);
    } finally {
      await initBackend({ prefer: 'webgpu' });
    }
  });

  it('NCHW goes to the original kernel', async () => {
    const before = conv2DBackpropFilterTiledCalls();
    const x = tf.tensor4d(values(2 * 3 * 5 * 4, 1), [2, 3, 5, 4]);
    const dy = tf.tensor4d(values(2 * 6 * 5 * 4, 2), [2, 6, 5, 4]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 3, 6] };
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    expect(dw.shape).toEqual([3, 3, 3, 6]);
    await dw.data();
    expect(conv2DBackpropFilterTiledCalls()).toBe(before);
    tf.dispose([x, dy, dw]);
  });
});
