import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type BackendInfo } from './backend';
import { nms, batchedNms } from './nms';
import { roiAlign } from './roi_align';
import { checkRoIAlignFixtures, roiAlignCaseFiles } from './roi_align_fixture';
import { readFixtureJson } from '../testing/fixtures';

let info: BackendInfo;

beforeAll(async () => {
  info = await initBackend({ prefer: 'webgpu', forTraining: true });
});

describe('ops on WebGPU (Dawn in Node)', () => {
  it('runs on the webgpu backend with the adapter maximum buffer limits', () => {
    expect(info.name, info.notice).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(info.notice).toMatch(/^Training on WebGPU/);
    expect(info.limits?.maxStorageBufferBindingSize).toBeGreaterThan(128 * 2 ** 20);
    expect(info.limits?.maxBufferSize).toBeGreaterThanOrEqual(info.limits?.maxStorageBufferBindingSize ?? Infinity);
  });

  it('reuses the WebGPU backend on a second initBackend (tensors stay valid)', async () => {
    const t = tf.tensor1d([1, 2, 3]);
    const again = await initBackend({ prefer: 'webgpu' });
    expect(again.name).toBe('webgpu');
    expect(again.limits).toEqual(info.limits);
    expect(again.notice).toMatch(/^Running on WebGPU/);
    expect(Array.from(await tf.square(t).data())).toEqual([1, 4, 9]);
  });

  it('roiAlign matches torchvision (outputs and input gradients, output 7/14, sampling 0/2)', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const results = await checkRoIAlignFixtures(roiAlignCaseFiles());
    expect(results.length).toBe(24);
    for (const r of results) {
      expect(r.outputErr, `${r.name} output`).toBeLessThan(1e-4);
      expect(r.gradErr, `${r.name} grad`).toBeLessThan(1e-4);
    }
  });

  // 5 channels: one channel per invocation; 8 channels: vec4 invocations.
  it.each([5, 8])('roiAlign agrees with the cpu kernels where RoIs overlap heavily (atomic accumulation), partly outside the map or degenerate (%i channels)', async (channels) => {
    expect(tf.getBackend()).toBe('webgpu');
    const x = tf.randomNormal([2, 9, 11, channels], 0, 1, 'float32', 7) as tf.Tensor4D;
    // Many identical and overlapping RoIs hit the same cells, stressing the atomic adds; the last RoI
    // lies partly outside the map.
    const rows: number[][] = [];
    for (let i = 0; i < 12; i++) rows.push([i % 2, 3, 2, 30, 25 + (i % 3)]);
    rows.push([1, -10, -6, 50, 44]);
    // Degenerate RoIs: x2 < x1 (with aligned=True the bins are negative, so samples run backwards) and a point.
    rows.push([0, 20, 15, 4, 3]);
    rows.push([1, 7, 7, 7, 7]);
    const rois = tf.tensor2d(rows);
    const dy = tf.randomNormal([rows.length, 3, 4, channels], 0, 1, 'float32', 3);
    const gpuRuns = [];
    for (const samplingRatio of [0, 2]) {
      const options = { outputSize: [3, 4] as const, spatialScale: 0.5, samplingRatio };
      const f = (a: tf.Tensor) => tf.sum(tf.mul(roiAlign(a as tf.Tensor4D, rois, options), dy));
      gpuRuns.push({ options, out: await roiAlign(x, rois, options).data(), grad: await tf.grad(f)(x).data() });
    }
    const xv = await x.data();
    const dyv = await dy.data();
    const rv = await rois.data();
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    const xc = tf.tensor4d(xv, [2, 9, 11, channels]);
    const rc = tf.tensor2d(rv, [rows.length, 5]);
    const dyc = tf.tensor4d(dyv, [rows.length, 3, 4, channels]);
    for (const { options, out: gpuOut, grad: gpuGrad } of gpuRuns) {
      expect(tf.getBackend()).toBe('cpu');
      const cpuOut = await roiAlign(xc, rc, options).data();
      const cpuGrad = await tf.grad((a: tf.Tensor) => tf.sum(tf.mul(roiAlign(a as tf.Tensor4D, rc, options), dyc)))(xc).data();
      let outErr = 0;
      let gradErr = 0;
      cpuOut.forEach((v, i) => (outErr = Math.max(outErr, Math.abs(v - gpuOut[i]))));
      cpuGrad.forEach((v, i) => (gradErr = Math.max(gradErr, Math.abs(v - gpuGrad[i]))));
      expect(outErr, `sampling ${options.samplingRatio}`).toBeLessThan(1e-4);
      expect(gradErr, `sampling ${options.samplingRatio}`).toBeLessThan(1e-4);
      expect(Math.max(...Array.from(cpuGrad, Math.abs))).toBeGreaterThan(0.1);
    }
    await tf.setBackend('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
  });

  it('roiAlign gives zeros (no hang) for RoIs with non-finite coordinates or a bad batch index', async () => {
    const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
    const rois = tf.tensor2d([
      [0, 0, 0, Infinity, 4],
      [0, NaN, 0, 4, 4],
      [5, 0, 0, 4, 4],
      [0, 0, 0, 1e30, 4],
      [0, 0, 0, 4, 4],
    ]);
    const out = Array.from(await roiAlign(x, rois, { outputSize: 2, spatialScale: 1 }).data());
    expect(out.slice(0, 24)).toEqual(new Array(24).fill(0));
    // A finite but absurdly large RoI is sampled on a capped grid; it must simply finish.
    expect(out.slice(32)).toEqual(new Array(8).fill(1));
  });

  it('nms / batchedNms read WebGPU tensors back and match the fixtures', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const c = readFixtureJson<{
      boxes_xyxy: number[];
      scores: number[];
      idxs: number[];
      results: Record<string, { nms_keep: number[]; batched_nms_keep: number[] }>;
    }>('nms', 'case_04.json');
    const n = c.scores.length;
    const boxes = tf.tensor2d(c.boxes_xyxy, [n, 4]);
    const scores = tf.tensor1d(c.scores);
    const idxs = tf.tensor1d(c.idxs, 'int32');
    for (const thr of Object.keys(c.results)) {
      expect(Array.from(await nms(boxes, scores, Number(thr)))).toEqual(c.results[thr].nms_keep);
      expect(Array.from(await batchedNms(boxes, scores, idxs, Number(thr)))).toEqual(c.results[thr].batched_nms_keep);
    }
  });
});
