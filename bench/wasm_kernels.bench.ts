/**
 * Speed of DetStudio's wasm training kernels (src/ops/wasm/) on the demo model's layer shapes (batch
 * 2, 256×128 → strides 4…32, mask head 14×14), in GFLOP/s from the median PROCESS CPU time of 5 runs
 * (other processes on a shared machine inflate wall time; CPU time less so). Every run gets a NEW
 * filter tensor, as in training (weights change every step, so XNNPACK repacks them each call).
 *
 * Per convolution: the registered kernels (forward `Conv2D`, `Conv2DBackpropFilter`,
 * `Conv2DBackpropInput`) and, to justify the shape rules, each formulation on its own: forward GEMM
 * (`conv2DGemm`) vs tfjs-wasm's XNNPACK convolution, input gradient as GEMM + col2im vs transposed
 * convolution. Also matmul layouts (DetStudio's BatchMatMul for transposed operands), GatherV2,
 * UnsortedSegmentSum, MaxPoolGrad and the copy-free Identity.
 *
 * Measured (2-core Xeon VM, load 4, GFLOP/s from CPU time): layer 4 3×3 512 (2×4×8) forward 6.3 →
 * 13.0 (GEMM), input gradient 4.9 → 24.0 (GEMM + col2im), filter gradient 12.2; layer 4 3×3 s2
 * forward 4.0 → 14.0, input gradient 4.1 → 22.8; layer 3 input gradient 16.4 → 21.4; layer 2 s2
 * input gradient 6.7 → 17.5; 64-channel convs ~26 (XNNPACK) with filter gradients 15–22; gather of
 * 256×7×7×64 0.34 ms (tfjs-wasm ~25 ms); Identity of a 9 MiB tensor 0.01 ms (was a full copy).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { loadavg } from 'node:os';
import '../src/ops/tfjs_register';
import { conv2DGemm, forwardPrefersGemm } from '../src/ops/wasm/kernels/Conv2D';
import { backpropInputPrefersGemm, conv2DBackpropInputConv, conv2DBackpropInputGemm } from '../src/ops/wasm/kernels/Conv2DBackpropInput';
import { registerWasmTrainingKernels } from '../src/ops/wasm/register_wasm_training_kernels';

/** Median CPU milliseconds of `f` (result disposed each time; one warm-up run). */
function cpuMs(f: (i: number) => tf.TensorInfo, reps = 5): number {
  const be = tf.backend();
  const t: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const c0 = process.cpuUsage();
    const r = f(i);
    const c = process.cpuUsage(c0);
    be.disposeData(r.dataId);
    if (i > 0) t.push((c.user + c.system) / 1000);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

const round = (v: number) => +v.toFixed(2);
type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

export async function run(): Promise<Record<string, unknown>> {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  const be = tf.backend() as BackendWasm;
  const load0 = loadavg()[0]!;
  const xnnConv2D = (await import('@tensorflow/tfjs-backend-wasm/dist/kernels/Conv2D.js')).conv2DConfig.kernelFunc;
  const convs: { name: string; x: [number, number, number, number]; k: number; co: number; s: number }[] = [
    { name: 'stem 7x7 s2 (frozen: forward only)', x: [2, 128, 256, 3], k: 7, co: 64, s: 2 },
    { name: 'layer1/FPN 3x3 64', x: [2, 32, 64, 64], k: 3, co: 64, s: 1 },
    { name: 'layer2 3x3 s2 64->128', x: [2, 32, 64, 64], k: 3, co: 128, s: 2 },
    { name: 'layer2 3x3 128', x: [2, 16, 32, 128], k: 3, co: 128, s: 1 },
    { name: 'layer3 3x3 256', x: [2, 8, 16, 256], k: 3, co: 256, s: 1 },
    { name: 'layer4 3x3 s2 256->512', x: [2, 8, 16, 256], k: 3, co: 512, s: 2 },
    { name: 'layer4 3x3 512', x: [2, 4, 8, 512], k: 3, co: 512, s: 1 },
    { name: 'FPN lateral 1x1 256->64', x: [2, 8, 16, 256], k: 1, co: 64, s: 1 },
    { name: 'mask head 3x3 64 (11 RoIs)', x: [11, 14, 14, 64], k: 3, co: 64, s: 1 },
  ];
  const conv = convs.map((c) => {
    const p = (c.k - 1) / 2;
    const pad: Pad4 = [[0, 0], [p, p], [p, p], [0, 0]];
    const x = tf.randomNormal(c.x) as tf.Tensor4D;
    const ws = Array.from({ length: 6 }, () => tf.randomNormal([c.k, c.k, c.x[3], c.co]) as tf.Tensor4D);
    const info = tf.backend_util.computeConv2DInfo(c.x, ws[0]!.shape, c.s, 1, pad, undefined, false, 'channelsLast');
    const dy = tf.randomNormal([c.x[0], info.outHeight, info.outWidth, c.co]);
    const gflop = (2 * dy.size * c.k * c.k * c.x[3]) / 1e9;
    const attrs = { strides: c.s, pad, dataFormat: 'NHWC', dilations: 1 };
    const run = (name: string, inputs: Record<string, tf.Tensor>, extra: Record<string, unknown> = {}) =>
      tf.engine().runKernel(name, inputs, { ...attrs, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const ms = {
      forward: cpuMs((i) => run('Conv2D', { x, filter: ws[i]! })),
      forward_gemm: cpuMs((i) => conv2DGemm(be, x, ws[i]!, info)),
      forward_xnnpack: cpuMs((i) => xnnConv2D({ inputs: { x, filter: ws[i]! }, backend: be, attrs } as never) as tf.TensorInfo),
      backprop_filter: cpuMs(() => run('Conv2DBackpropFilter', { x, dy }, { filterShape: ws[0]!.shape })),
      backprop_input: cpuMs((i) => run('Conv2DBackpropInput', { dy, filter: ws[i]! }, { inputShape: c.x })),
      backprop_input_gemm_col2im: cpuMs((i) => conv2DBackpropInputGemm(be, dy, ws[i]!, info)),
      backprop_input_transposed_conv: cpuMs((i) => conv2DBackpropInputConv(be, dy, ws[i]!, info) ?? conv2DBackpropInputGemm(be, dy, ws[i]!, info)),
    };
    tf.dispose([x, dy, ...ws]);
    const gflops = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, round(gflop / v * 1e3)]));
    return {
      shape: `${c.name}: ${c.x.join('x')} k${c.k} s${c.s} -> ${c.co}`,
      gflop: round(gflop),
      forward_uses: forwardPrefersGemm(info) ? 'gemm' : 'xnnpack',
      backprop_input_uses: backpropInputPrefersGemm(info) ? 'gemm_col2im' : 'transposed_conv',
      gflops_cpu: gflops,
      cpu_ms: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, round(v)])),
    };
  });
  const mm = [[256, 3136, 256], [256, 256, 3136], [2156, 64, 256]].map(([m, k, n]) => {
    const gflop = (2 * m! * k! * n!) / 1e9;
    const a = tf.randomNormal([m!, k!]);
    const at = tf.randomNormal([k!, m!]);
    const bs = Array.from({ length: 6 }, () => tf.randomNormal([k!, n!]));
    const bts = Array.from({ length: 6 }, () => tf.randomNormal([n!, k!]));
    const r = {
      shape: `${m}x${k}x${n} (fresh B each run)`,
      nn_gflops_cpu: round(gflop / cpuMs((i) => tf.matMul(a, bs[i]!)) * 1e3),
      nt_gflops_cpu: round(gflop / cpuMs((i) => tf.matMul(a, bts[i]!, false, true)) * 1e3),
      tn_gflops_cpu: round(gflop / cpuMs((i) => tf.matMul(at, bs[i]!, true, false)) * 1e3),
    };
    tf.dispose([a, at, ...bs, ...bts]);
    return r;
  });
  const gx = tf.randomNormal([256, 7, 7, 64]);
  const gi = tf.tensor1d(Array.from({ length: 256 }, (_, i) => (i * 37) % 256), 'int32');
  const gatherMs = cpuMs(() => tf.gather(gx, gi));
  const segIds = tf.tensor1d(Array.from({ length: 100000 }, (_, i) => (i * 7919) % 5000), 'int32');
  const segX = tf.randomNormal([100000, 64]);
  const segMs = cpuMs(() => tf.unsortedSegmentSum(segX, segIds, 5000));
  const p5 = tf.randomNormal([2, 4, 8, 64]) as tf.Tensor4D;
  const p6dy = tf.randomNormal([2, 2, 4, 64]);
  const mpgMs = cpuMs(() => tf.engine().runKernel('MaxPoolGrad', { dy: p6dy, input: p5, output: p6dy },
    { filterSize: 1, strides: 2, pad: 'valid' } as unknown as tf.NamedAttrMap) as tf.Tensor);
  const big = tf.randomNormal([3, 3, 512, 512]);
  const cloneMs = cpuMs(() => tf.clone(big));
  tf.dispose([gx, gi, segIds, segX, p5, p6dy, big]);
  return {
    backend: tf.getBackend(),
    load_average_1min: [round(load0), round(loadavg()[0]!)],
    conv,
    matmul: mm,
    gather_256x7x7x64: { cpu_ms: round(gatherMs), gb_per_s: round((256 * 49 * 64 * 4 * 2) / gatherMs / 1e6) },
    unsorted_segment_sum: { shape: '100000x64 -> 5000', cpu_ms: round(segMs), gb_per_s: round((100000 * 64 * 4 * 2) / segMs / 1e6) },
    max_pool_grad_p6: { shape: '2x4x8x64, 1x1 s2', cpu_ms: round(mpgMs) },
    identity_clone_3x3x512x512_cpu_ms: round(cloneMs),
  };
}
