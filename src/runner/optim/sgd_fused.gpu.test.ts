// The fused SGD kernels on WebGPU (Dawn in Node; SwiftShader without a GPU) against the generic
// path on the cpu backend: parameters and momentum buffers after several steps with changing
// hyper-parameters, gradient clipping (batched squared norms, clip coefficient inside the SGD
// kernels), and the number of dispatched programs per step.
import '@tensorflow/tfjs-core/dist/index.js';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../ops/backend';
import { SGDMomentumBufferProgram, SGDParamUpdateProgram } from '../../ops/sgd_update_webgpu';
import { clipGradNorm } from './clip_grad';
import { buildOptimWrapper } from './optim_wrapper';
import type { ParamGroup } from './param_group';
import { SGD, type SGDOptions } from './sgd';
import { fusedSGDAvailable, squaredL2NormFused } from './sgd_fused';

/**
 * Parameter shapes: vec4 programs (1152, 1280 elements) and scalar programs (1003, 1001 elements).
 * All above tfjs-webgpu's CPU hand-off threshold (1000 elements), under which the generic path's
 * `mul`/`add` of freshly uploaded tensors would run on the CPU instead of dispatching.
 */
const SHAPES: Record<string, number[]> = { 'conv.weight': [8, 4, 6, 6], 'conv.bias': [1003], 'fc.weight': [32, 40], 'fc.bias': [1001] };
const STEPS = 4;

interface Scenario {
  name: string;
  defaults: SGDOptions;
  groups: Array<Partial<ParamGroup> & { params: string[] }>;
  /** Parameters left without a gradient (PyTorch skips them). */
  noGrad?: string[];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'momentum 0.9 + weight decay, second group with its own lr and no decay',
    defaults: { lr: 0.02, momentum: 0.9, weight_decay: 1e-4 },
    groups: [{ params: ['conv.weight', 'conv.bias', 'fc.weight'] }, { params: ['fc.bias'], lr: 0.005, weight_decay: 0 }],
  },
  {
    name: 'nesterov',
    defaults: { lr: 0.01, momentum: 0.9, weight_decay: 5e-4, nesterov: true },
    groups: [{ params: ['conv.weight', 'conv.bias'] }, { params: ['fc.weight', 'fc.bias'], lr: 0.03 }],
  },
  {
    name: 'dampening, one parameter without gradient',
    defaults: { lr: 0.05, momentum: 0.8, dampening: 0.3, weight_decay: 1e-3 },
    groups: [{ params: ['conv.weight', 'conv.bias', 'fc.weight', 'fc.bias'] }],
    noGrad: ['conv.bias'],
  },
  {
    name: 'momentum 0 (plain SGD), one group without weight decay',
    defaults: { lr: 0.1, weight_decay: 1e-4 },
    groups: [{ params: ['conv.weight', 'fc.weight'] }, { params: ['conv.bias', 'fc.bias'], weight_decay: 0, lr: 0.2 }],
  },
];

/** Deterministic values in [-1, 1) (mulberry32). */
function values(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

interface RunResult {
  params: Record<string, Float32Array>;
  buffers: Record<string, Float32Array>;
  /** WebGPU programs dispatched by each `step` (webgpu only). */
  dispatches: number[];
}

/** Counts `runWebGPUProgram` calls on the active (webgpu) backend while `fn` runs. */
async function countDispatches(fn: () => void | Promise<void>): Promise<number> {
  const backend = tf.backend() as unknown as { runWebGPUProgram: (...args: unknown[]) => unknown };
  const original = backend.runWebGPUProgram;
  let n = 0;
  backend.runWebGPUProgram = function (this: unknown, ...args: unknown[]) {
    n++;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    backend.runWebGPUProgram = original;
  }
  return n;
}

/**
 * Runs {@link STEPS} SGD steps with schedules changing lr and momentum between steps; with
 * `gradScale`, every step multiplies the gradients by that factor (as the clip coefficient).
 */
async function runScenario(s: Scenario, fusedUpdate: 'auto' | 'off', gradScale?: number): Promise<RunResult> {
  const names = Object.keys(SHAPES);
  const vars = new Map<string, tf.Variable>();
  names.forEach((n, i) => vars.set(n, tf.variable(tf.tensor(values(SHAPES[n]!.reduce((a, b) => a * b, 1), 100 + i), SHAPES[n]), true, `${s.name}/${n}/${fusedUpdate}`)));
  const sgd = new SGD(vars, s.groups, s.defaults);
  sgd.fusedUpdate = fusedUpdate;
  const isWebGPU = tf.getBackend() === 'webgpu';
  const dispatches: number[] = [];
  for (let t = 0; t < STEPS; t++) {
    // Scheduler-like changes: every step gets another lr (and momentum where it is used).
    for (const g of sgd.paramGroups) {
      g.lr *= 0.7;
      if (g.momentum !== 0) g.momentum = Math.min(0.95, g.momentum + 0.01);
    }
    const grads = new Map<string, tf.Tensor>();
    names.forEach((n, i) => {
      if (!s.noGrad?.includes(n)) grads.set(n, tf.tensor(values(SHAPES[n]!.reduce((a, b) => a * b, 1), 1000 * t + i), SHAPES[n]));
    });
    const scale = gradScale === undefined ? undefined : tf.scalar(gradScale * (t + 1));
    if (isWebGPU) dispatches.push(await countDispatches(() => sgd.step(grads, { gradScale: scale })));
    else sgd.step(grads, { gradScale: scale });
    tf.dispose([...grads.values()]);
    scale?.dispose();
  }
  const params: Record<string, Float32Array> = {};
  const buffers: Record<string, Float32Array> = {};
  for (const n of names) {
    params[n] = (await vars.get(n)!.data()) as Float32Array;
    const b = sgd.buffers.get(n);
    if (b) buffers[n] = (await b.data()) as Float32Array;
  }
  sgd.dispose();
  for (const v of vars.values()) v.dispose();
  return { params, buffers, dispatches };
}

/** Largest |a − b| over the largest |b| (1 when all |b| ≤ 1). */
function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let err = 0;
  let scale = 1e-30;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return err / scale;
}

interface ClipResult {
  gradNorms: number[];
  params: Record<string, Float32Array>;
  /** Programs dispatched by each `updateParams` (webgpu only). */
  dispatches: number[];
}

/** Gradient of `sum(param · C)` is exactly `C`, on every backend. */
const CLIP_COEFS = Object.fromEntries(Object.entries(SHAPES).map(([n, shape], i) => [n, values(shape.reduce((a, b) => a * b, 1), 500 + i)]));

/**
 * {@link STEPS} `OptimWrapper.updateParams` with `clip_grad` on a linear loss whose gradients are
 * exact on every backend, scaled per step so that the first steps clip and the last does not.
 */
async function runClip(fusedUpdate: 'auto' | 'off'): Promise<ClipResult> {
  const names = Object.keys(SHAPES);
  const params = names.map((n, i) => ({
    name: n,
    variable: tf.variable(tf.tensor(values(SHAPES[n]!.reduce((a, b) => a * b, 1), 100 + i), SHAPES[n]), true, `clip/${n}/${fusedUpdate}`),
  }));
  const wrapper = buildOptimWrapper(
    {
      type: 'OptimWrapper',
      optimizer: { type: 'SGD', lr: 0.02, momentum: 0.9, weight_decay: 1e-4 },
      paramwise_cfg: { bias_lr_mult: 2, bias_decay_mult: 0 },
      clip_grad: { max_norm: 10, norm_type: 2 },
    },
    params,
  );
  wrapper.optimizer.fusedUpdate = fusedUpdate;
  const coefs = params.map((p) => tf.tensor(CLIP_COEFS[p.name]!, p.variable.shape));
  const gradNorms: number[] = [];
  const dispatches: number[] = [];
  for (let t = 0; t < STEPS; t++) {
    const factor = [3, 1, 0.4, 0.05][t]!;
    const lossFn = () => tf.addN(params.map((p, i) => tf.sum(tf.mul(p.variable, tf.mul(coefs[i]!, factor))))) as tf.Scalar;
    let result: Awaited<ReturnType<typeof wrapper.updateParams>> | undefined;
    const run = async () => {
      result = await wrapper.updateParams(lossFn);
    };
    if (tf.getBackend() === 'webgpu') dispatches.push(await countDispatches(run));
    else await run();
    gradNorms.push((await result!.gradNorm!.data())[0]!);
    tf.dispose([result!.loss, result!.gradNorm!]);
  }
  const out: Record<string, Float32Array> = {};
  for (const p of params) out[p.name] = (await p.variable.data()) as Float32Array;
  wrapper.optimizer.dispose();
  tf.dispose([...coefs, ...params.map((p) => p.variable)]);
  return { gradNorms, params: out, dispatches };
}

const cpu = new Map<string, RunResult>();
let cpuClip: ClipResult;

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
  for (const s of SCENARIOS) {
    cpu.set(s.name, await runScenario(s, 'auto'));
    cpu.set(`${s.name}/scaled`, await runScenario(s, 'auto', 0.37));
  }
  cpuClip = await runClip('auto');
  const info = await initBackend({ prefer: 'webgpu' });
  expect(info.name, info.notice).toBe('webgpu');
});

afterAll(async () => {
  await initBackend({ prefer: 'webgpu' });
});

describe('fused SGD on WebGPU', () => {
  it('is chosen on webgpu only', async () => {
    expect(fusedSGDAvailable()).toBe(true);
    await initBackend({ prefer: 'cpu' });
    try {
      expect(fusedSGDAvailable()).toBe(false);
    } finally {
      await initBackend({ prefer: 'webgpu' });
    }
  });

  it('keeps hyper-parameters out of the shader keys', () => {
    const keys = [
      new SGDMomentumBufferProgram([4, 4], true).shaderKey,
      new SGDMomentumBufferProgram([5], false).shaderKey,
      new SGDParamUpdateProgram([4, 4], 'nesterov').shaderKey,
      new SGDParamUpdateProgram([5], 'plain').shaderKey,
      new SGDMomentumBufferProgram([4, 4], true, true).shaderKey,
      new SGDParamUpdateProgram([4, 4], 'momentum', true).shaderKey,
    ];
    expect(keys).toEqual([
      'sgdMomentumBuffer_true_false_4',
      'sgdMomentumBuffer_false_false_1',
      'sgdParamUpdate_nesterov_false_4',
      'sgdParamUpdate_plain_false_1',
      'sgdMomentumBuffer_true_true_4',
      // Heavy-ball momentum does not read the gradient, so it needs no scale.
      'sgdParamUpdate_momentum_false_4',
    ]);
  });

  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s: parameters and buffers equal the cpu path, fewer dispatches', async (_name, s) => {
    const ref = cpu.get(s.name)!;
    const fused = await runScenario(s, 'auto');
    const generic = await runScenario(s, 'off');
    let worst = 0;
    for (const n of Object.keys(SHAPES)) {
      worst = Math.max(worst, relErr(fused.params[n]!, ref.params[n]!));
      expect(relErr(fused.params[n]!, ref.params[n]!), `param ${n}`).toBeLessThanOrEqual(1e-6);
      expect(relErr(generic.params[n]!, ref.params[n]!), `generic param ${n}`).toBeLessThanOrEqual(1e-6);
    }
    expect(Object.keys(fused.buffers).sort()).toEqual(Object.keys(ref.buffers).sort());
    for (const n of Object.keys(ref.buffers)) {
      worst = Math.max(worst, relErr(fused.buffers[n]!, ref.buffers[n]!));
      expect(relErr(fused.buffers[n]!, ref.buffers[n]!), `buffer ${n}`).toBeLessThanOrEqual(1e-6);
    }
    // The parameter without gradient is untouched.
    for (const n of s.noGrad ?? []) {
      expect(Array.from(fused.params[n]!)).toEqual(Array.from(values(fused.params[n]!.length, 100 + Object.keys(SHAPES).indexOf(n))));
    }
    const updated = Object.keys(SHAPES).length - (s.noGrad?.length ?? 0);
    const perParam = s.defaults.momentum ? 2 : 1;
    expect(fused.dispatches).toEqual(new Array(STEPS).fill(perParam * updated));
    const genericLast = generic.dispatches[STEPS - 1]!;
    expect(genericLast).toBeGreaterThan(fused.dispatches[STEPS - 1]!);
    console.log(`${s.name}: dispatches per step generic ${generic.dispatches.join('/')}, fused ${fused.dispatches.join('/')} (${updated} parameters); max rel. error vs cpu ${worst.toExponential(2)}`);
  });

  it('tf.profile sees only the fused kernels in a step', async () => {
    const v = tf.variable(tf.tensor(values(16, 5), [4, 4]), true, 'profile.weight');
    const b = tf.variable(tf.tensor(values(5, 6), [5]), true, 'profile.bias');
    const sgd = new SGD(new Map([['w', v], ['b', b]]), [{ params: ['w'] }, { params: ['b'], lr: 0.5 }], { lr: 0.1, momentum: 0.9, weight_decay: 1e-4 });
    const gw = tf.tensor(values(16, 7), [4, 4]);
    const gb = tf.tensor(values(5, 8), [5]);
    const grads = new Map<string, tf.Tensor>([['w', gw], ['b', gb]]);
    sgd.step(grads);
    // No tensor is left behind by a fused step (buffers exist after the first).
    const before = tf.memory().numTensors;
    sgd.step(grads);
    const scale = tf.scalar(0.5);
    sgd.step(grads, { gradScale: scale });
    scale.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const fused = await tf.profile(() => sgd.step(grads));
    expect(fused.kernels.map((k) => k.name)).toEqual(['SGDMomentumBuffer', 'SGDParamUpdate', 'SGDMomentumBuffer', 'SGDParamUpdate']);
    sgd.fusedUpdate = 'off';
    const generic = await tf.profile(() => sgd.step(grads));
    const names = generic.kernels.map((k) => k.name);
    expect(names.filter((k) => k === 'Multiply' || k === 'Add').length).toBe(12);
    tf.dispose([gw, gb]);
    sgd.dispose();
    v.dispose();
    b.dispose();
  });

  it('squaredL2NormFused batches the squared norms (9 tensors, one of 200k elements) and equals the float64 sum', async () => {
    const sizes = [200_000, 5, 1003, 16, 1, 7, 64, 300, 12];
    const data = sizes.map((n, i) => values(n, 40 + i));
    const tensors = data.map((d) => tf.tensor(d));
    let reference = 0;
    for (const d of data) for (const v of d) reference += v * v;
    let total: tf.Scalar | undefined;
    const dispatches = await countDispatches(() => {
      total = squaredL2NormFused(tensors);
    });
    const got = (await total!.data())[0]!;
    expect(Math.abs(got - reference) / reference).toBeLessThan(1e-6);
    // Two SquaredNormPartials (7 + 2 tensors), one concat, one sum.
    expect(dispatches).toBe(4);
    tf.dispose([...tensors, total!]);
  });

  it('clip_grad max_norm through OptimWrapper.updateParams equals the cpu path, fewer dispatches', async () => {
    const fused = await runClip('auto');
    const generic = await runClip('off');
    for (let t = 0; t < STEPS; t++) {
      expect(Math.abs(fused.gradNorms[t]! - cpuClip.gradNorms[t]!) / cpuClip.gradNorms[t]!, `grad norm ${t}`).toBeLessThan(1e-6);
    }
    // Steps 0-2 clip (norm > 10), step 3 does not.
    expect(cpuClip.gradNorms[2]!).toBeGreaterThan(10);
    expect(cpuClip.gradNorms[3]!).toBeLessThan(10);
    for (const n of Object.keys(SHAPES)) {
      expect(relErr(fused.params[n]!, cpuClip.params[n]!), `param ${n}`).toBeLessThanOrEqual(1e-6);
      expect(relErr(generic.params[n]!, cpuClip.params[n]!), `generic param ${n}`).toBeLessThanOrEqual(1e-6);
    }
    expect(fused.dispatches[STEPS - 1]!).toBeLessThan(generic.dispatches[STEPS - 1]!);
    console.log(`clip_grad: dispatches per updateParams (loss + backward + clip + step) generic ${generic.dispatches.join('/')}, fused ${fused.dispatches.join('/')}`);
  });

  it('clipGradNorm of the generic path and the fused norm agree on webgpu', async () => {
    const grads = Object.entries(SHAPES).map(([, shape], i) => tf.tensor(values(shape.reduce((a, b) => a * b, 1), 900 + i), shape));
    const generic = clipGradNorm(grads, 1);
    const fusedNorm = tf.sqrt(squaredL2NormFused(grads));
    const a = (await generic.totalNorm.data())[0]!;
    const b = (await fusedNorm.data())[0]!;
    expect(Math.abs(a - b) / a).toBeLessThan(1e-6);
    tf.dispose([...grads, ...generic.grads, generic.totalNorm, fusedNorm]);
  });

  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s, gradients scaled in the kernels (clip coefficient): equal to the cpu path', async (_name, s) => {
    const ref = cpu.get(`${s.name}/scaled`)!;
    const fused = await runScenario(s, 'auto', 0.37);
    for (const n of Object.keys(SHAPES)) expect(relErr(fused.params[n]!, ref.params[n]!), `param ${n}`).toBeLessThanOrEqual(1e-6);
    for (const n of Object.keys(ref.buffers)) expect(relErr(fused.buffers[n]!, ref.buffers[n]!), `buffer ${n}`).toBeLessThanOrEqual(1e-6);
    // The scale costs no extra dispatch.
    const updated = Object.keys(SHAPES).length - (s.noGrad?.length ?? 0);
    expect(fused.dispatches).toEqual(new Array(STEPS).fill((s.defaults.momentum ? 2 : 1) * updated));
    // And it changes the result (the unscaled run differs).
    expect(relErr(fused.params['fc.weight']!, cpu.get(s.name)!.params['fc.weight']!)).toBeGreaterThan(1e-4);
  });

  it('handles a scalar and a 3-element parameter (rank 0, no vec4) like the generic path', async () => {
    const run = async (fusedUpdate: 'auto' | 'off') => {
      const s = tf.variable(tf.scalar(0.75), true, `odd.scalar/${fusedUpdate}`);
      const v = tf.variable(tf.tensor1d([0.5, -1.25, 2]), true, `odd.vec/${fusedUpdate}`);
      const sgd = new SGD(new Map<string, tf.Variable>([['s', s], ['v', v]]), [{ params: ['s'] }, { params: ['v'], nesterov: true, lr: 0.3 }], {
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 1e-2,
      });
      sgd.fusedUpdate = fusedUpdate;
      const gs = tf.scalar(-0.5);
      const gv = tf.tensor1d([1, 0.25, -3]);
      for (let t = 0; t < 3; t++) sgd.step(new Map<string, tf.Tensor>([['s', gs], ['v', gv]]));
      const out = [...(await s.data()), ...(await v.data()), ...(await sgd.buffers.get('s')!.data()), ...(await sgd.buffers.get('v')!.data())];
      tf.dispose([s, v, gs, gv]);
      sgd.dispose();
      return out;
    };
    const fused = await run('auto');
    const generic = await run('off');
    expect(fused.length).toBe(8);
    fused.forEach((x, i) => expect(Math.abs(x - generic[i]!), `element ${i}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(generic[i]!))));
  });
});
