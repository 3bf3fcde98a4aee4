/**
 * Issue 5's "train-step" on a real GPU, for the gpu-kit (../shared/tools/gpu-kit): one iteration
 * (forward + backward + SGD update, loss read back) of MMDetection's Mask R-CNN R50-FPN with the
 * Cityscapes head (8 classes, random init) through DetStudio's real runner on tfjs's WebGPU backend
 * (Dawn in Node), batch 1 at 512×1024 and 1024×2048 (the bundled demo images resized up, so the
 * ground truth is real). Reports ms/iteration (median), GPU→CPU readbacks per iteration and tfjs's
 * tensor-memory figures, one JSON line per size, also to $KIT_RESULTS_DIR/tfjs-webgpu-r50.jsonl.
 *
 * Build (here):  bash ../shared/tools/gpu-kit/make-kit.sh bench/gpu/r50_webgpu.ts .gpu-kit
 *                node --import ./bin/register-hooks.mjs --import tsx bench/gpu/make_r50_cfg.ts .gpu-kit/r50_cfg.json
 *                (the resolved configs travel as JSON in the kit: the config tree is not in the bundle)
 * Run (there):   bash .gpu-kit/run-on-gpu.sh .gpu-kit [--iters=N] [--warmup=N] [--sizes=512x1024,1024x2048]
 * PyTorch twin:  bench/gpu/torch_r50_gpu.py (torchvision's maskrcnn_resnet50_fpn, same sizes).
 * Device call:   carry [".gpu-kit", ".gl"]; command
 *                `for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json;
 *                 python3 bench/gpu/torch_r50_gpu.py 20 5; bash .gpu-kit/run-on-gpu.sh .gpu-kit --profile`
 *                (.gl: the GL/Vulkan loader debs from the device README — libvulkan1 libegl1 libglvnd0 libopengl0
 *                libgl1 libglx0 libgles2; with the kit's libvulkan1 alone NVIDIA's ICD was not found).
 * Flags:         --profile (one more step under tf.profile: GPU ms per kernel from timestamp queries, kernel
 *                counts), --flags=NAME=V,… (tfjs env flags), --iters, --warmup, --sizes.
 * Local smoke test (SwiftShader; one warm-up step took 10 minutes on the 2-core box):
 *                KIT_ICD=/usr/lib/chromium/vk_swiftshader_icd.json bash .gpu-kit/run-on-gpu.sh .gpu-kit --sizes=128x256 --iters=1 --warmup=1
 * Results:       bench/gpu/results-2026-11-28-h200/ (NVIDIA H200).
 */
import 'gpu-kit/setup-dawn';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-webgpu';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/ops/backend';
import type { PackedInputs } from '../../src/data/transforms/formatting';
import { buildRunner } from '../../src/runner/build';
import { parseLosses } from '../../src/runner/runner';

const args: Record<string, string> = {};
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (m) args[m[1]!] = m[2] ?? 'true';
}
const ITERS = Number(args.iters ?? 5);
const WARMUP = Number(args.warmup ?? 2);
const SIZES = (args.sizes ?? '512x1024,1024x2048').split(',');
/** Skip the next size when one iteration of this one took longer than this (ms). */
const BUDGET_MS = Number(args.budget_ms ?? 60_000);
/** `--profile`: after timing, one more step inside tf.profile (GPU time per kernel via timestamp queries). */
const PROFILE = args.profile === 'true';
/** `--flags=NAME=V,...`: tfjs environment flags, e.g. WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64. */
const FLAGS = (args.flags ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]);
/** Resolved configs by size, written by bench/gpu/make_r50_cfg.ts. */
const configs = JSON.parse(readFileSync(args.cfg ?? '.gpu-kit/r50_cfg.json', 'utf8')) as Record<string, Record<string, unknown>>;

const resultsDir = process.env.KIT_RESULTS_DIR ?? join(process.cwd(), 'kit-results');
mkdirSync(resultsDir, { recursive: true });
const resultsFile = join(resultsDir, 'tfjs-webgpu-r50.jsonl');

function emit(obj: Record<string, unknown>): void {
  const line = JSON.stringify(obj);
  console.log(line);
  appendFileSync(resultsFile, `${line}\n`);
}

let readbacks = 0;
const proto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const name of ['dataSync', 'data', 'arraySync', 'array']) {
  const orig = proto[name]!;
  proto[name] = function (this: unknown, ...a: unknown[]) {
    readbacks++;
    return orig.apply(this, a);
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function timeSize(size: string): Promise<number> {
  const cfg = configs[size];
  if (!cfg) throw new Error(`no config for ${size}`);
  const ctx = { readFile: async (p: string) => new Uint8Array(readFileSync(p)) };
  const t0 = performance.now();
  const built = await buildRunner(structuredClone(cfg), ctx, { mode: 'train' });
  const batches: PackedInputs[][] = [];
  for await (const b of built.runner.trainDataloader!.batches()) {
    batches.push(b);
    if (batches.length === 4) break;
  }
  const buildMs = performance.now() - t0;
  const model = built.runner.model;
  const step = async (i: number) => {
    readbacks = 0;
    const s0 = performance.now();
    const res = await built.runner.optimWrapper.updateParams(async () => parseLosses((await model.loss(batches[i % batches.length]!)).losses).loss);
    const loss = (await res.loss.data())[0]!;
    res.loss.dispose();
    return { ms: performance.now() - s0, loss, readbacks };
  };
  const warm: number[] = [];
  for (let i = 0; i < WARMUP; i++) {
    const w = await step(i);
    warm.push(w.ms);
    process.stderr.write(`${size} warm-up ${i}: ${w.ms.toFixed(0)} ms, loss ${w.loss.toFixed(3)}\n`);
  }
  const runs: Array<{ ms: number; loss: number; readbacks: number }> = [];
  let peak = 0;
  for (let i = 0; i < ITERS; i++) {
    const r = await step(WARMUP + i);
    runs.push(r);
    peak = Math.max(peak, tf.memory().numBytes);
    process.stderr.write(`${size} iter ${i}: ${r.ms.toFixed(0)} ms, loss ${r.loss.toFixed(3)}, readbacks ${r.readbacks}\n`);
  }
  const mem = tf.memory() as unknown as Record<string, unknown>;
  const ms = median(runs.map((r) => r.ms));
  if (PROFILE) {
    try {
      await profileStep(size, () => step(WARMUP + ITERS));
    } catch (e) {
      emit({ kind: 'error', name: `profile ${size}`, error: e instanceof Error ? e.message : String(e) });
    }
  }
  emit({
    kind: 'result',
    backend: 'tfjs-webgpu',
    name: `mask_rcnn_r50_fpn_train_step_${size}`,
    input_shape: batches[0]![0]!.inputs.shape,
    ms_median: +ms.toFixed(1),
    ms_all: runs.map((r) => +r.ms.toFixed(1)),
    warmup_ms: warm.map((x) => +x.toFixed(0)),
    build_and_data_ms: +buildMs.toFixed(0),
    readbacks_per_iter: median(runs.map((r) => r.readbacks)),
    losses: runs.map((r) => +r.loss.toFixed(4)),
    tensor_MiB_after_step_max: +(peak / 2 ** 20).toFixed(1),
    tf_memory: { numTensors: mem.numTensors, numBytes: mem.numBytes, numBytesInGPU: mem.numBytesInGPU, numBytesInGPUAllocated: mem.numBytesInGPUAllocated },
  });
  built.detector.dispose();
  return ms;
}

/** One step under tf.profile: kernel count and GPU milliseconds per kernel name (timestamp queries). */
async function profileStep(size: string, run: () => Promise<{ ms: number }>): Promise<void> {
  const w0 = performance.now();
  let stepMs = 0;
  const prof = await tf.profile(async () => {
    stepMs = (await run()).ms;
    return [] as tf.Tensor[];
  });
  const wallMs = performance.now() - w0;
  const byName = new Map<string, { n: number; ms: number }>();
  let gpuMs = 0;
  const slowest: Array<{ name: string; ms: number; in: unknown; out: unknown }> = [];
  for (const k of prof.kernels) {
    const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    gpuMs += t;
    const e = byName.get(k.name) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += t;
    byName.set(k.name, e);
    slowest.push({ name: k.name, ms: t, in: k.inputShapes, out: k.outputShapes });
  }
  slowest.sort((a, b) => b.ms - a.ms);
  emit({
    kind: 'profile',
    name: `mask_rcnn_r50_fpn_train_step_${size}`,
    kernels: prof.kernels.length,
    gpu_ms_sum: +gpuMs.toFixed(1),
    profiled_step_ms: +stepMs.toFixed(0),
    profiled_wall_ms: +wallMs.toFixed(0),
    by_count: [...byName.entries()].sort((a, b) => b[1].n - a[1].n).slice(0, 25).map(([k, v]) => `${k}:${v.n}`).join(' '),
    by_kernel: [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30).map(([k, v]) => ({ kernel: k, n: v.n, ms: +v.ms.toFixed(2) })),
    slowest: slowest.slice(0, 20).map((x) => ({ ...x, ms: +x.ms.toFixed(2) })),
  });
}

async function main(): Promise<void> {
  for (const [k, v] of FLAGS) tf.env().set(k, Number.isNaN(Number(v)) ? v === 'true' : Number(v));
  const g = globalThis as { __gpuKitDawnReady?: boolean };
  if (!g.__gpuKitDawnReady) throw new Error('setup-dawn did not run first');
  const info = await initBackend({ prefer: 'webgpu', forTraining: true });
  emit({ kind: 'adapter', backend: info.name, fallback: info.isFallbackAdapter ?? null, adapter: info.adapterInfo ?? null, notice: info.notice });
  if (info.name !== 'webgpu') throw new Error(`not on webgpu: ${info.notice}`);
  for (const size of SIZES) {
    try {
      const ms = await timeSize(size);
      if (ms > BUDGET_MS) {
        emit({ kind: 'note', text: `stopping after ${size}: ${ms.toFixed(0)} ms/iter exceeds the budget` });
        break;
      }
    } catch (e) {
      emit({ kind: 'error', name: size, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}`.slice(0, 2000) : String(e), tf_memory: tf.memory() });
    }
  }
}

await main();
process.exit(0);
