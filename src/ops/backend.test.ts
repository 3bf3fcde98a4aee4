import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { currentBackend, initBackend } from './backend';

describe('initBackend', () => {
  it('never trains on the pure-JS cpu backend', async () => {
    await expect(initBackend({ prefer: 'cpu', forTraining: true })).rejects.toThrow(/too slow to train/);
  });

  it('sets up cpu only when explicitly asked, with a notice', async () => {
    const info = await initBackend({ prefer: 'cpu' });
    expect(info.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(info.notice).toMatch(/cpu backend/);
    expect(currentBackend()).toBe(info);
  });

  it('sets up wasm (with SIMD in Node) and says so', async () => {
    const info = await initBackend({ prefer: 'wasm', forTraining: true });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.wasm?.simd).toBe(true);
    expect(info.wasm?.threads).toBeGreaterThanOrEqual(1);
    expect(info.notice).toMatch(/^Training on CPU \(wasm, SIMD/);
    expect(info.limits).toBeNull();
    const y = await tf.square(tf.tensor1d([3])).data();
    expect(Array.from(y)).toEqual([9]);
  });
});
