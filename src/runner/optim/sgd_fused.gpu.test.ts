// The fused SGD kernels on WebGPU (Dawn in Node; SwiftShader without a GPU) against the generic
// path on the cpu backend: parameters and momentum buffers after several steps with changing
// hyper-parameters, and the number of dispatched programs per step.
import '@tensorflow/tfjs-core/dist/index.js';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../ops/backend';
import { SGDMomentumBufferProgram, SGDParamUpdateProgram } from '../../ops/sgd_update_webgpu';
import type { ParamGroup } from './param_group';
import { SGD, type SGDOptions } from './sgd';
import { fusedSGDAvailable } from './sgd_fused';

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

/** Runs {@link STEPS} SGD steps with schedules changing lr and momentum between steps. */
async function runScenario(s: Scenario, fusedUpdate: 'auto' | 'off'): Promise<RunResult> {
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
    if (isWebGPU) dispatches.push(await countDispatches(() => sgd.step(grads)));
    else sgd.step(grads);
    tf.dispose([...grads.values()]);
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

const cpu = new Map<string, RunResult>();

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
  for (const s of SCENARIOS) cpu.set(s.name, await runScenario(s, 'auto'));
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
    ];
    expect(keys).toEqual(['sgdMomentumBuffer_true_4', 'sgdMomentumBuffer_false_1', 'sgdParamUpdate_nesterov_4', 'sgdParamUpdate_plain_1']);
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
});
