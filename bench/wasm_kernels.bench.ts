/**
 * Speed of the wasm training kernels (GFLOP/s, median of 5) on ResNet-like layer shapes at the
 * tiny model's input size (batch 2, 256×128 → strides 4…32), against the wasm forward conv, and of
 * matmul layouts with and without DetStudio's BatchMatMul replacement.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../src/ops/tfjs_register';
import { registerWasmTrainingKernels } from '../src/ops/wasm/register_wasm_training_kernels';

function median(f: () => tf.Tensor, reps = 5): number {
  f().dispose();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    const r = f();
    r.dataSync();
    r.dispose();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

const round = (v: number) => +v.toFixed(2);

export async function run(): Promise<Record<string, unknown>> {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  const convs: { x: [number, number, number, number]; k: number; co: number; s: number }[] = [
    { x: [2, 128, 256, 3], k: 7, co: 64, s: 2 }, // stem
    { x: [2, 32, 64, 64], k: 3, co: 64, s: 1 }, // layer1 3×3
    { x: [2, 32, 64, 64], k: 1, co: 256, s: 1 }, // 1×1 expand
    { x: [2, 32, 64, 128], k: 3, co: 128, s: 2 }, // layer2 strided 3×3
    { x: [2, 16, 32, 256], k: 3, co: 256, s: 1 }, // layer3 3×3
    { x: [2, 32, 64, 64], k: 3, co: 64, s: 1 }, // FPN 3×3 (64 ch)
  ];
  const conv = convs.map((c) => {
    const p = (c.k - 1) / 2;
    const pad = [[0, 0], [p, p], [p, p], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]];
    const x = tf.randomNormal(c.x) as tf.Tensor4D;
    const w = tf.randomNormal([c.k, c.k, c.x[3], c.co]) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.s, pad);
    const dy = tf.randomNormal(y.shape);
    const gflop = (2 * y.size * c.k * c.k * c.x[3]) / 1e9;
    const fwd = median(() => tf.conv2d(x, w, c.s, pad));
    const attrs = { strides: c.s, pad, dataFormat: 'NHWC' } as unknown as tf.NamedAttrMap;
    const bpf = median(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
    const bpi = median(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
    tf.dispose([x, w, y, dy]);
    return {
      shape: `${c.x.join('x')} k${c.k} s${c.s} -> ${c.co}`, gflop: round(gflop),
      forward_gflops: round(gflop / fwd * 1e3), backprop_filter_gflops: round(gflop / bpf * 1e3), backprop_input_gflops: round(gflop / bpi * 1e3),
      forward_ms: round(fwd), backprop_filter_ms: round(bpf), backprop_input_ms: round(bpi),
    };
  });
  const mm = [[512, 1024, 256], [512, 256, 1024], [16384, 64, 256]].map(([m, k, n]) => {
    const gflop = (2 * m! * k! * n!) / 1e9;
    const a = tf.randomNormal([m!, k!]);
    const b = tf.randomNormal([k!, n!]);
    const bt = tf.randomNormal([n!, k!]);
    const at = tf.randomNormal([k!, m!]);
    const r = {
      shape: `${m}x${k}x${n}`,
      nn_gflops: round(gflop / median(() => tf.matMul(a, b)) * 1e3),
      nt_gflops: round(gflop / median(() => tf.matMul(a, bt, false, true)) * 1e3),
      tn_gflops: round(gflop / median(() => tf.matMul(at, b, true, false)) * 1e3),
    };
    tf.dispose([a, b, bt, at]);
    return r;
  });
  const segIds = tf.tensor1d(Array.from({ length: 100000 }, (_, i) => (i * 7919) % 5000), 'int32');
  const segX = tf.randomNormal([100000, 64]);
  const segMs = median(() => tf.unsortedSegmentSum(segX, segIds, 5000));
  return { backend: tf.getBackend(), conv, matmul: mm, unsorted_segment_sum: { shape: '100000x64 -> 5000', ms: round(segMs), gb_per_s: round((100000 * 64 * 4 * 2) / segMs / 1e6) } };
}
