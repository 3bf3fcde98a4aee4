/**
 * `npm run bench ops`: RoIAlign forward / backward at a realistic RoI-head size (512 RoIs, 256
 * channels, 7×7 output from a 2×64×128 stride-4 map, sampling_ratio 0 as in MMDetection's configs) on
 * every backend present — cpu, wasm, and WebGPU when a hardware adapter exists (set
 * BENCH_SOFTWARE_WEBGPU=1 to include a software adapter such as SwiftShader, which is very slow) —
 * and NMS / class-batched NMS on 2000 boxes. Times are medians in milliseconds; GPU timings end with
 * a one-number readback so they include the queued work. "Samples" are bilinear samples × channels;
 * effective GFLOP/s counts torchvision's 8 flops per sample and channel (the cpu/wasm loops merge
 * shared cells and do fewer).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendInfo, type BackendName } from '../src/ops/backend';
import { RoIAlignGrad } from '../src/ops/kernel_names';
import { batchedNmsIndices, nms, nmsIndices } from '../src/ops/nms';
import { roiAlign, type RoIAlignOptions } from '../src/ops/roi_align';

const N = 2;
const H = 64;
const W = 128;
const C = 256;
const K = 512;
const STRIDE = 4;
const OPTIONS: RoIAlignOptions = { outputSize: 7, spatialScale: 1 / STRIDE, samplingRatio: 0, aligned: true };

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBoxes(n: number, imgW: number, imgH: number, rand: () => number): Float32Array {
  const boxes = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const w = 16 + rand() * 240;
    const h = 16 + rand() * 120;
    const x1 = rand() * (imgW - w);
    const y1 = rand() * (imgH - h);
    boxes.set([x1, y1, x1 + w, y1 + h], i * 4);
  }
  return boxes;
}

async function median(times: number, fn: () => Promise<void>): Promise<number> {
  await fn(); // warm-up (shader compilation, allocation)
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return +ms[Math.floor(ms.length / 2)].toFixed(2);
}

/** Mean number of bilinear samples per output bin for the RoIs (adaptive grid). */
function meanSamples(rois: Float32Array): number {
  let total = 0;
  for (let k = 0; k < K; k++) {
    const w = (rois[k * 5 + 3] - rois[k * 5 + 1]) / STRIDE;
    const h = (rois[k * 5 + 4] - rois[k * 5 + 2]) / STRIDE;
    total += Math.ceil(w / 7) * Math.ceil(h / 7);
  }
  return total / K;
}

async function benchRoIAlign(info: BackendInfo, x: Float32Array, rois: Float32Array, dy: Float32Array) {
  const reps = info.name === 'cpu' ? 3 : 5;
  const xt = tf.tensor4d(x, [N, H, W, C]);
  const rt = tf.tensor2d(rois, [K, 5]);
  const dyt = tf.tensor4d(dy, [K, 7, 7, C]);
  const attrs = { pooledHeight: 7, pooledWidth: 7, spatialScale: 1 / STRIDE, samplingRatio: 0, aligned: true, xShape: [N, H, W, C] };
  const forwardMs = await median(reps, async () => {
    const y = roiAlign(xt, rt, OPTIONS);
    const s = tf.sum(y);
    await s.data();
    tf.dispose([y, s]);
  });
  const backwardMs = await median(reps, async () => {
    const dx = tf.engine().runKernel(RoIAlignGrad, { dy: dyt, rois: rt }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    const s = tf.sum(dx);
    await s.data();
    tf.dispose([dx, s]);
  });
  tf.dispose([xt, rt, dyt]);
  const samples = K * 49 * C * meanSamples(rois);
  return {
    notice: info.notice,
    forwardMs,
    backwardMs,
    forwardGSamplesPerS: +(samples / forwardMs / 1e6).toFixed(3),
    backwardGSamplesPerS: +(samples / backwardMs / 1e6).toFixed(3),
    // torchvision's arithmetic per sample and channel: 4 multiplies + 4 adds.
    forwardEffectiveGflops: +((samples * 8) / forwardMs / 1e6).toFixed(3),
    backwardEffectiveGflops: +((samples * 8) / backwardMs / 1e6).toFixed(3),
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const rand = rng(1234);
  const x = Float32Array.from({ length: N * H * W * C }, () => rand() * 2 - 1);
  const boxes = randomBoxes(K, W * STRIDE, H * STRIDE, rand);
  const rois = new Float32Array(K * 5);
  for (let k = 0; k < K; k++) rois.set([k % N, ...boxes.subarray(k * 4, k * 4 + 4)], k * 5);
  const dy = Float32Array.from({ length: K * 49 * C }, () => rand() * 2 - 1);

  const roiAlignResults: Record<string, unknown> = {
    shape: { x: [N, H, W, C], rois: K, output: [K, 7, 7, C], samplingRatio: 0, meanSamplesPerBin: +meanSamples(rois).toFixed(2) },
  };
  const order: BackendName[] = ['cpu', 'wasm', 'webgpu'];
  for (const name of order) {
    try {
      const info = await initBackend({ prefer: name });
      if (info.name !== name) {
        roiAlignResults[name] = { skipped: info.notice };
        continue;
      }
      if (name === 'webgpu' && info.isFallbackAdapter && process.env.BENCH_SOFTWARE_WEBGPU !== '1') {
        roiAlignResults[name] = { skipped: `software adapter (${info.adapterInfo?.description}); BENCH_SOFTWARE_WEBGPU=1 to include` };
        continue;
      }
      roiAlignResults[name] = { adapter: info.adapterInfo, ...(await benchRoIAlign(info, x, rois, dy)) };
    } catch (err) {
      roiAlignResults[name] = { error: (err as Error).message };
    }
  }

  // NMS: 2000 boxes on a 1024×2048 image, 8 classes (Cityscapes).
  const nBoxes = 2000;
  const nmsRand = rng(99);
  const nmsBoxes = randomBoxes(nBoxes, 2048, 1024, nmsRand);
  const scores = Float32Array.from({ length: nBoxes }, () => nmsRand());
  const classes = Int32Array.from({ length: nBoxes }, () => Math.floor(nmsRand() * 8));
  let kept = 0;
  const nmsMs = await median(21, async () => {
    kept = nmsIndices(nmsBoxes, scores, 0.7).length;
  });
  let keptBatched = 0;
  const batchedMs = await median(21, async () => {
    keptBatched = batchedNmsIndices(nmsBoxes, scores, classes, 0.5).length;
  });
  await initBackend({ prefer: 'wasm' });
  const bt = tf.tensor2d(nmsBoxes, [nBoxes, 4]);
  const st = tf.tensor1d(scores);
  const tensorMs = await median(21, async () => {
    await nms(bt, st, 0.7);
  });
  tf.dispose([bt, st]);
  return {
    roiAlign: roiAlignResults,
    nms: {
      boxes: nBoxes,
      nmsIoU07Ms: nmsMs,
      kept,
      batchedNms8ClassesIoU05Ms: batchedMs,
      keptBatched,
      nmsFromWasmTensorsMs: tensorMs,
    },
  };
}
