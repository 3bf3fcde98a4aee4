// SGD.step on WebGPU over Mask R-CNN R50-FPN's trainable parameter shapes: generic path ('off')
// vs fused kernels ('auto'): dispatches, host ms, ms with sync, GPU kernel time, and fused-vs-generic agreement.
// Build: bash ../shared/tools/gpu-kit/make-kit.sh bench/gpu/sgd_step_webgpu.ts .gpu-kit-sgd; run on the device like r50_webgpu.ts.
// H200 results: bench/gpu/results-2026-11-28-h200/sgd-step.jsonl.
import 'gpu-kit/setup-dawn';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-webgpu';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import keys from '../../../shared/fixtures/checkpoints/mask_rcnn_r50_fpn_coco_keys.json';
import { SGD } from '../../src/runner/optim/sgd';
import { clipCoef, clipGradNorm, totalGradNorm } from '../../src/runner/optim/clip_grad';
import { squaredL2NormFused } from '../../src/runner/optim/sgd_fused';

const args: Record<string, string> = {};
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (m) args[m[1]!] = m[2] ?? 'true';
}
const LIMIT = Number(args.limit ?? 1e9);
const STEPS = Number(args.steps ?? 20);
const WARMUP = Number(args.warmup ?? 3);
const resultsDir = process.env.KIT_RESULTS_DIR ?? join(process.cwd(), 'kit-results');
mkdirSync(resultsDir, { recursive: true });
const emit = (o: Record<string, unknown>) => {
  const l = JSON.stringify(o);
  console.log(l);
  appendFileSync(join(resultsDir, 'sgd-step.jsonl'), l + '\n');
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const frozen = /^backbone\.(conv1|bn1|layer1)\.|running_(mean|var)$|num_batches_tracked$/;
const shapes = (keys as { keys: Array<{ key: string; shape: number[] }> }).keys
  .filter((k) => !frozen.test(k.key))
  .slice(0, LIMIT);

async function main(): Promise<void> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('no webgpu');
  await tf.ready();
  const adapter = await (globalThis as any).navigator.gpu.requestAdapter();
  emit({ kind: 'adapter', info: adapter?.info ? { vendor: adapter.info.vendor, device: adapter.info.device, description: adapter.info.description } : null, params: shapes.length, numel: shapes.reduce((a, k) => a + k.shape.reduce((x, y) => x * y, 1), 0) });
  const init = new Map(shapes.map((k, i) => [k.key, tf.randomUniform(k.shape, -0.1, 0.1, 'float32', i)]));
  const grads = new Map(shapes.map((k, i) => [k.key, tf.randomNormal(k.shape, 0, 1e-3, 'float32', 10_000 + i)]));
  const small = shapes.reduce((a, k) => (k.shape.reduce((x, y) => x * y, 1) < a.shape.reduce((x, y) => x * y, 1) ? k : a)).key;
  const scenarios: Record<string, Array<Record<string, unknown> & { params: string[] }>> = {
    one_group: [{ params: shapes.map((k) => k.key) }],
    clip_max_norm_1: [{ params: shapes.map((k) => k.key) }],
    per_param_groups: shapes.map((k) => ({
      params: [k.key],
      ...(k.key.endsWith('.bias') ? { lr: 0.04 } : {}),
      ...(/\.(bn\d*|gn)\./.test(k.key) ? { weight_decay: 0 } : {}),
    })),
  };
  const backend = tf.backend() as unknown as { runWebGPUProgram: (...a: unknown[]) => unknown };
  for (const [scen, groups] of Object.entries(scenarios)) {
    const finals: Record<string, Map<string, Float32Array>> = {};
    for (const mode of ['off', 'auto', 'off', 'auto'] as const) {
      const vars = new Map([...init].map(([n, t]) => [n, tf.variable(t.clone(), true, `${scen}/${mode}/${n}/${Math.random()}`)]));
      const sgd = new SGD(vars, groups as never, { lr: 0.02, momentum: 0.9, weight_decay: 1e-4 });
      sgd.fusedUpdate = mode;
      const gradList = [...grads.values()];
      const norms: number[] = [];
      let lastNorm: tf.Scalar | null = null;
      const doStep = () => {
        if (scen !== 'clip_max_norm_1') return sgd.step(grads);
        lastNorm?.dispose();
        if (mode === 'off') {
          const r = clipGradNorm(gradList, 1, 2);
          sgd.step(new Map(shapes.map((k, i) => [k.key, r.grads[i]!])));
          tf.dispose(r.grads);
          lastNorm = r.totalNorm;
        } else {
          const total = totalGradNorm(gradList, 2, squaredL2NormFused);
          const coef = clipCoef(total, 1);
          sgd.step(grads, { gradScale: coef });
          coef.dispose();
          lastNorm = total;
        }
      };
      for (let i = 0; i < WARMUP; i++) doStep();
      await vars.get(small)!.data();
      let dispatches = 0;
      const orig = backend.runWebGPUProgram;
      backend.runWebGPUProgram = function (this: unknown, ...a: unknown[]) { dispatches++; return orig.apply(this, a); };
      doStep();
      backend.runWebGPUProgram = orig;
      await vars.get(small)!.data();
      const host: number[] = [];
      const total: number[] = [];
      for (let i = 0; i < STEPS; i++) {
        const t0 = performance.now();
        doStep();
        const t1 = performance.now();
        await vars.get(small)!.data();
        host.push(t1 - t0);
        total.push(performance.now() - t0);
      }
      const prof = await tf.profile(() => doStep());
      if (lastNorm) norms.push((await (lastNorm as tf.Scalar).data())[0]!);
      (lastNorm as tf.Scalar | null)?.dispose();
      lastNorm = null;
      const gpuMs = prof.kernels.reduce((a, k) => a + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0), 0);
      const kernelNames: Record<string, number> = {};
      const kernelMs: Record<string, number> = {};
      for (const k of prof.kernels) {
        kernelNames[k.name] = (kernelNames[k.name] ?? 0) + 1;
        kernelMs[k.name] = +((kernelMs[k.name] ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0)).toFixed(3);
      }
      const cpu0 = process.cpuUsage();
      const out = new Map<string, Float32Array>();
      for (const [n, v] of vars) out.set(n, (await v.data()) as Float32Array);
      void cpu0;
      finals[mode] = out;
      emit({ kind: 'result', scenario: scen, mode, grad_norm: norms[0], params: shapes.length, dispatches_per_step: dispatches, kernels_per_step: prof.kernels.length, kernel_names: kernelNames, kernel_ms: kernelMs, host_ms_median: +median(host).toFixed(2), step_sync_ms_median: +median(total).toFixed(2), gpu_kernel_ms: +gpuMs.toFixed(3), steps: STEPS });
      sgd.dispose();
      for (const v of vars.values()) v.dispose();
    }
    let worst = 0;
    let differing = 0;
    let count = 0;
    for (const [n, a] of finals.auto!) {
      const b = finals.off!.get(n)!;
      let err = 0;
      let scale = 1e-30;
      for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) differing++;
        err = Math.max(err, Math.abs(a[i]! - b[i]!));
        scale = Math.max(scale, Math.abs(b[i]!));
      }
      count += a.length;
      worst = Math.max(worst, err / scale);
    }
    emit({ kind: 'agreement', scenario: scen, steps: WARMUP + 2 + STEPS, max_rel_err: worst, elements_differing: differing, elements: count });
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
