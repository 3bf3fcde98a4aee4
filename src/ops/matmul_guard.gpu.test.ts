// tfjs-backend-webgpu's split-K matmul with a transposed B (see kernels/MatMul_webgpu_guard.ts):
// products on WebGPU (Dawn; SwiftShader without a GPU) against the same products on the cpu backend.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend';
import { splitKMisreadsTransposedB, webgpuMatMulGuarded } from './kernels/MatMul_webgpu_guard';

interface Case {
  a: number[];
  b: number[];
  ta: boolean;
  tb: boolean;
  fused?: boolean;
}

// The broken path (split-K, vec4 B reads) with and without transposeA, with a fused bias + relu; the
// scalar split-K path (K not a multiple of 4) and the packed program (many output tiles), which the
// guard leaves alone.
const CASES: Case[] = [
  { a: [12, 3136], b: [256, 3136], ta: false, tb: true, fused: true },
  { a: [3136, 12], b: [256, 3136], ta: true, tb: true },
  { a: [12, 3137], b: [256, 3137], ta: false, tb: true },
  { a: [33, 2000], b: [288, 2000], ta: false, tb: true },
];

function product(c: Case, seed: number): tf.Tensor {
  const a = tf.randomUniform(c.a, -1, 1, 'float32', seed);
  const b = tf.randomUniform(c.b, -1, 1, 'float32', seed + 1);
  const bias = tf.randomUniform([c.b[c.b.length - 2]!], -1, 1, 'float32', seed + 2);
  const out = tf.tidy(() => {
    const plain = tf.matMul(a, b, c.ta, c.tb).reshape([-1]);
    if (!c.fused) return plain;
    return tf.concat([plain, tf.fused.matMul({ a, b, transposeA: c.ta, transposeB: c.tb, bias, activation: 'relu' }).reshape([-1])]);
  });
  tf.dispose([a, b, bias]);
  return out;
}

beforeAll(async () => {
  const info = await initBackend({ prefer: 'webgpu' });
  expect(info.name, info.notice).toBe('webgpu');
});

describe('matMul on WebGPU with a transposed B (split-K guard)', () => {
  it('the guard is installed on the webgpu backend', () => {
    expect(webgpuMatMulGuarded()).toBe(true);
  });

  it('predicts the split-K vec4 path from tfjs-backend-webgpu 4.22 rules', () => {
    const base = { transposeA: false, transposeB: true, threshold: 8 };
    expect(splitKMisreadsTransposedB({ ...base, aShape: [12, 3136], bShape: [256, 3136] })).toBe(true);
    expect(splitKMisreadsTransposedB({ ...base, aShape: [12, 3136], bShape: [256, 3136], transposeB: false })).toBe(false);
    expect(splitKMisreadsTransposedB({ ...base, aShape: [12, 3137], bShape: [256, 3137] })).toBe(false);
    expect(splitKMisreadsTransposedB({ ...base, aShape: [12, 1996], bShape: [256, 1996] })).toBe(false);
    expect(splitKMisreadsTransposedB({ ...base, aShape: [64, 2048], bShape: [1024, 2048] })).toBe(false);
    expect(splitKMisreadsTransposedB({ ...base, aShape: [2, 5, 2048], bShape: [2, 64, 2048] })).toBe(false);
    // Output of at most 128 elements goes to the reduce program.
    expect(splitKMisreadsTransposedB({ ...base, aShape: [4, 2000], bShape: [32, 2000] })).toBe(false);
    // Forcing the program type through the tfjs flag.
    expect(splitKMisreadsTransposedB({ ...base, aShape: [64, 2048], bShape: [1024, 2048], programType: 1 })).toBe(true);
    expect(splitKMisreadsTransposedB({ ...base, aShape: [12, 3136], bShape: [256, 3136], programType: 3 })).toBe(false);
  });

  it('matMul and fused matMul equal the cpu backend', async () => {
    const gpu: Float32Array[] = [];
    for (const [i, c] of CASES.entries()) {
      const t = product(c, 10 * i);
      gpu.push((await t.data()) as Float32Array);
      t.dispose();
    }
    await initBackend({ prefer: 'cpu' });
    try {
      for (const [i, c] of CASES.entries()) {
        const t = product(c, 10 * i);
        const ref = t.dataSync();
        t.dispose();
        let err = 0;
        let scale = 1;
        ref.forEach((r, j) => {
          err = Math.max(err, Math.abs(gpu[i]![j]! - r));
          scale = Math.max(scale, Math.abs(r));
        });
        // K up to 3137 products of values in [-1, 1]: f32 accumulation in another order.
        expect(err / scale, JSON.stringify(c)).toBeLessThan(1e-5);
      }
    } finally {
      await initBackend({ prefer: 'webgpu' });
    }
  });
});
