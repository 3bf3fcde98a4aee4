import { describe, expect, it } from 'vitest';
import { readFixtureJson } from '../../testing/fixtures';
import type { ParamGroup } from '../optim/param_group';
import { buildParamSchedulers } from './build';
import type { ParamScheduler } from './param_scheduler';

interface ScheduleCase {
  config: {
    optim_wrapper: { optimizer: { lr: number; momentum: number; weight_decay: number } };
    param_scheduler: Array<Record<string, unknown>>;
  };
  iters_per_epoch: number;
  max_epochs: number;
  total_iters: number;
  lr?: number[];
  lr_sparse?: Array<[number, number]>;
  epochs: Array<{ first_iter: number; first_lr: number; last_iter: number; last_lr: number }>;
}

function group(lr: number): ParamGroup {
  return { params: [], lr, momentum: 0.9, dampening: 0, weight_decay: 1e-4, nesterov: false };
}

/** Drives schedulers as EpochBasedTrainLoop + ParamSchedulerHook do and records lr at each optimizer step. */
function simulate(c: ScheduleCase): number[] {
  const opt = { paramGroups: [group(c.config.optim_wrapper.optimizer.lr)] };
  const L = c.iters_per_epoch;
  const scheds: ParamScheduler[] = buildParamSchedulers(c.config.param_scheduler, opt, {
    maxEpochs: c.max_epochs,
    maxIters: c.max_epochs * L,
    epochLength: L,
  });
  const lrs: number[] = [];
  for (let e = 0; e < c.max_epochs; e++) {
    for (let i = 0; i < L; i++) {
      lrs.push(opt.paramGroups[0]!.lr);
      for (const s of scheds) if (!s.byEpoch) s.step();
    }
    for (const s of scheds) if (s.byEpoch) s.step();
  }
  return lrs;
}

describe('param schedulers vs MMEngine Runner fixtures', () => {
  for (const name of ['b_schedule_1x', 'c_cosine_iter_based']) {
    it(`${name}: lr at every iteration is bit-identical`, () => {
      const c = readFixtureJson<ScheduleCase>('schedules', `${name}.json`);
      const lrs = simulate(c);
      expect(lrs.length).toBe(c.total_iters);
      expect(c.lr!.length).toBe(c.total_iters);
      let mismatches = 0;
      for (let i = 0; i < lrs.length; i++) if (lrs[i] !== c.lr![i]) mismatches++;
      expect(mismatches).toBe(0);
    });
  }
  for (const name of ['a_cityscapes_2975', 'a_cityscapes_23800']) {
    it(`${name}: lr at every recorded iteration (and constant between) is bit-identical`, () => {
      const c = readFixtureJson<ScheduleCase>('schedules', `${name}.json`);
      const lrs = simulate(c);
      expect(lrs.length).toBe(c.total_iters);
      const sparse = c.lr_sparse!;
      expect(sparse.length).toBeGreaterThan(100);
      for (let k = 0; k < sparse.length; k++) {
        const [it0, lr] = sparse[k]!;
        const next = k + 1 < sparse.length ? sparse[k + 1]![0] : c.total_iters;
        for (let i = it0; i < next; i++) {
          if (lrs[i] !== lr) throw new Error(`lr[${i}] = ${lrs[i]} but MMEngine has ${lr}`);
        }
      }
      for (const e of c.epochs) {
        expect(lrs[e.first_iter]).toBe(e.first_lr);
        expect(lrs[e.last_iter]).toBe(e.last_lr);
      }
      expect(lrs[499]).toBe(0.009999999999999976);
    });
  }
});

describe('chainable schedulers agree with their closed forms', () => {
  function run(cfg: Record<string, unknown>, steps: number, lr0 = 0.1): number[] {
    const opt = { paramGroups: [group(lr0)] };
    const [s] = buildParamSchedulers([cfg], opt, { maxIters: steps });
    const out: number[] = [];
    for (let t = 0; t < steps; t++) {
      out.push(opt.paramGroups[0]!.lr);
      s!.step();
    }
    return out;
  }
  const close = (a: number, b: number): void => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(b), 1e-30));

  it('StepLR', () => {
    const v = run({ type: 'StepLR', step_size: 3, gamma: 0.5, by_epoch: false }, 20);
    v.forEach((x, t) => close(x, 0.1 * 0.5 ** Math.floor(t / 3)));
  });
  it('ConstantLR restores the value at end - 1 and leaves it after', () => {
    const v = run({ type: 'ConstantLR', factor: 0.25, begin: 0, end: 5, by_epoch: false }, 10);
    v.forEach((x, t) => close(x, t < 4 ? 0.025 : 0.1));
  });
  it('PolyLR', () => {
    const v = run({ type: 'PolyLR', eta_min: 0.001, power: 2, begin: 0, end: 11, by_epoch: false }, 15);
    v.forEach((x, t) => close(x, (0.1 - 0.001) * (1 - Math.min(t, 10) / 10) ** 2 + 0.001));
  });
  it('ExponentialLR', () => {
    const v = run({ type: 'ExponentialLR', gamma: 0.9, by_epoch: false }, 12);
    v.forEach((x, t) => close(x, 0.1 * 0.9 ** t));
  });
  it('LinearLR with begin > 0 leaves the value alone before begin', () => {
    const v = run({ type: 'LinearLR', start_factor: 0.5, begin: 3, end: 8, by_epoch: false }, 12);
    v.forEach((x, t) => close(x, t < 3 ? 0.1 : t >= 7 ? 0.1 : 0.1 * (0.5 + (0.5 * (t - 3)) / 4)));
  });
  it('CosineAnnealingLR with eta_min_ratio', () => {
    const v = run({ type: 'CosineAnnealingLR', T_max: 10, eta_min_ratio: 0.1, by_epoch: false, end: 11 }, 11);
    v.forEach((x, t) => close(x, 0.01 + (0.1 - 0.01) * 0.5 * (1 + Math.cos((Math.PI * t) / 10))));
  });
  it('MultiStepLR with a repeated milestone multiplies twice', () => {
    const v = run({ type: 'MultiStepLR', milestones: [2, 5, 5], gamma: 0.1, by_epoch: false }, 8);
    v.forEach((x, t) => close(x, 0.1 * 0.1 ** ((t >= 2 ? 1 : 0) + (t >= 5 ? 2 : 0))));
  });
  it('default end comes from the loop and convert_to_iter_based scales milestones', () => {
    const opt = { paramGroups: [group(1)] };
    const [s] = buildParamSchedulers([{ type: 'MultiStepLR', milestones: [2], convert_to_iter_based: true }], opt, {
      maxEpochs: 4,
      maxIters: 40,
      epochLength: 10,
    });
    expect(s!.byEpoch).toBe(false);
    expect(s!.end).toBe(40);
    expect(s!.stateDict().milestones).toEqual({ 20: 1 });
  });
  it('unknown type names the known ones', () => {
    expect(() => buildParamSchedulers([{ type: 'LinearLr' }], { paramGroups: [group(1)] })).toThrow(/LinearLR/);
  });
  it('state dict round-trips mid-schedule', () => {
    const mk = () => ({ paramGroups: [group(0.02)] });
    const cfg = [
      { type: 'LinearLR', start_factor: 0.001, by_epoch: false, begin: 0, end: 50 },
      { type: 'CosineAnnealingLR', T_max: 100, by_epoch: false, begin: 0, end: 100 },
    ];
    const a = mk();
    const sa = buildParamSchedulers(cfg, a);
    for (let i = 0; i < 30; i++) sa.forEach((s) => s.step());
    const saved = JSON.parse(JSON.stringify({ s: sa.map((s) => s.stateDict()), g: a.paramGroups }));
    // As Runner.resume: build fresh (constructors step once), then load optimizer groups, then schedulers.
    const b = mk();
    const sc = buildParamSchedulers(cfg, b);
    (saved.g as ParamGroup[]).forEach((g, i) => Object.assign(b.paramGroups[i]!, g));
    sc.forEach((s, i) => s.loadStateDict(saved.s[i]));
    for (let i = 0; i < 60; i++) {
      sa.forEach((s) => s.step());
      sc.forEach((s) => s.step());
      expect(b.paramGroups[0]!.lr).toBe(a.paramGroups[0]!.lr);
    }
  });
});

describe('registry', () => {
  it('PARAM_SCHEDULERS builds MMEngine-style with default args', async () => {
    const { registerRunnerTypes } = await import('../register');
    const { PARAM_SCHEDULERS, HOOKS } = await import('../../registry/registries');
    registerRunnerTypes();
    registerRunnerTypes();
    const opt = { paramGroups: [group(0.02)] };
    const s = PARAM_SCHEDULERS.build<ParamScheduler>({ type: 'LinearLR', start_factor: 0.5, by_epoch: false, end: 3 }, { optimizer: opt });
    expect(s.type).toBe('LinearLR');
    expect(opt.paramGroups[0]!.lr).toBe(0.01);
    expect(PARAM_SCHEDULERS.typeNames).toContain('CosineAnnealingLR');
    expect(HOOKS.typeNames).toContain('CheckpointHook');
  });
});
