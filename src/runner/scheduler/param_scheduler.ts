/**
 * Parameter schedulers with MMEngine's semantics: chainable (each step multiplies the *current*
 * group value), a private step counter that only acts inside `[begin, end)`, `by_epoch`, and
 * `build_iter_from_epoch` conversion. Values follow MMEngine's float arithmetic order so the
 * sequences are bit-identical to the real Runner's (e.g. the warm-up ends at 0.009999999999999976).
 *
 * @see mmengine/optim/scheduler/param_scheduler.py and lr_scheduler.py (MMEngine 0.10)
 */
import { groupValue, type HasParamGroups, type ParamGroup } from '../optim/param_group';
import { preciseCos } from './precise_math';

/** MMEngine's "infinite" end (`int(1e9)`). */
export const INF = 1_000_000_000;

/** Common constructor options of every scheduler (MMEngine keyword names). */
export interface SchedulerOptions {
  /** Step at which the scheduler starts acting. Defaults to 0. */
  begin?: number;
  /** Step at which it stops acting (exclusive). Defaults to {@link INF}. */
  end?: number;
  /** Index of the last step (-1: never stepped). Defaults to -1. */
  last_step?: number;
  /** Whether steps are epochs (true) or iterations (false). Defaults to true. */
  by_epoch?: boolean;
}

/** Python's modulo (result has the sign of the divisor). */
function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/**
 * Base class: owns the step counters and writes `param_name` into every group while
 * `begin <= global_step < end`.
 */
export abstract class ParamScheduler {
  /** Config `type` name (e.g. `LinearLR`). */
  abstract readonly type: string;
  /** Hyper-parameter this scheduler drives (`lr`, `momentum`). */
  readonly paramName: string;
  /** First step (inclusive). */
  begin: number;
  /** Last step (exclusive). */
  end: number;
  /** Whether the scheduler is stepped after each epoch (else after each iteration). */
  byEpoch: boolean;
  /** Steps taken inside the window (MMEngine `last_step`). */
  lastStep: number;
  /** Every `step()` call counted from -1 (MMEngine `_global_step`). */
  globalStep = -1;
  /** Group values recorded as `initial_<param>` when the scheduler was built. */
  baseValues: number[];
  /** Group values after the last `step()`. */
  lastValue: number[] = [];

  protected constructor(
    protected readonly optimizer: HasParamGroups,
    paramName: string,
    opts: SchedulerOptions,
  ) {
    const begin = opts.begin ?? 0;
    const end = opts.end ?? INF;
    if (end <= begin) throw new Error(`end should be larger than begin, but got begin=${begin}, end=${end}`);
    this.paramName = paramName;
    this.begin = begin;
    this.end = end;
    this.byEpoch = opts.by_epoch ?? true;
    const lastStep = opts.last_step ?? -1;
    if (!Number.isInteger(lastStep) || lastStep < -1) throw new Error(`last_step must be an int >= -1, got ${lastStep}`);
    const initKey = `initial_${paramName}`;
    if (lastStep === -1) {
      for (const g of optimizer.paramGroups) if (!(initKey in g)) g[initKey] = groupValue(g, paramName);
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (!(initKey in g)) {
          throw new Error(`param '${initKey}' is not specified in param_groups[${i}] when resuming an optimizer`);
        }
      });
    }
    this.baseValues = optimizer.paramGroups.map((g) => groupValue(g, initKey));
    this.lastStep = lastStep;
  }

  /** Subclasses call this at the end of their constructor, as MMEngine's base `__init__` does. */
  protected initialStep(): void {
    this.step();
  }

  /** The chainable update: new value per group, computed from the current group values. */
  protected abstract getValue(): number[];

  /** Current value of `param_name` in each group. */
  protected current(): number[] {
    return this.optimizer.paramGroups.map((g) => groupValue(g, this.paramName));
  }

  /** Advances one step and, inside `[begin, end)`, writes the new values into the groups. */
  step(): void {
    this.globalStep += 1;
    if (this.begin <= this.globalStep && this.globalStep < this.end) {
      this.lastStep += 1;
      const values = this.getValue();
      this.optimizer.paramGroups.forEach((g: ParamGroup, i) => {
        g[this.paramName] = values[i];
      });
    }
    this.lastValue = this.current();
  }

  /** Values after the last step (MMEngine `get_last_value`). */
  getLastValue(): number[] {
    return this.lastValue.slice();
  }

  /** Scheduler-specific fields for the state dict. */
  protected abstract extraState(): Record<string, unknown>;
  /** Restores scheduler-specific fields. */
  protected abstract loadExtraState(s: Record<string, unknown>): void;

  /** Plain JSON state with MMEngine's key names (everything but the optimizer). */
  stateDict(): Record<string, unknown> {
    return {
      type: this.type,
      param_name: this.paramName,
      begin: this.begin,
      end: this.end,
      by_epoch: this.byEpoch,
      last_step: this.lastStep,
      _global_step: this.globalStep,
      base_values: this.baseValues.slice(),
      _last_value: this.lastValue.slice(),
      ...this.extraState(),
    };
  }

  /** Restores a state produced by {@link stateDict}. */
  loadStateDict(s: Record<string, unknown>): void {
    if (s.type !== undefined && s.type !== this.type) {
      throw new Error(`scheduler state is for ${String(s.type)}, but this scheduler is ${this.type}`);
    }
    const num = (k: string): number => {
      const v = s[k];
      if (typeof v !== 'number') throw new Error(`scheduler state: '${k}' must be a number, got ${JSON.stringify(v)}`);
      return v;
    };
    this.begin = num('begin');
    this.end = num('end');
    this.byEpoch = Boolean(s.by_epoch);
    this.lastStep = num('last_step');
    this.globalStep = num('_global_step');
    this.baseValues = (s.base_values as number[]).slice();
    this.lastValue = (s._last_value as number[]).slice();
    this.loadExtraState(s);
  }
}

/** Options of {@link LinearParamScheduler}. */
export interface LinearOptions extends SchedulerOptions {
  /** Factor applied at the first step. Defaults to 1/3. */
  start_factor?: number;
  /** Factor reached at the last step. Defaults to 1.0. */
  end_factor?: number;
}

/** Linear change of the value's factor from `start_factor` to `end_factor` over `end - begin - 1` steps. */
export class LinearParamScheduler extends ParamScheduler {
  readonly type: string = 'LinearParamScheduler';
  startFactor: number;
  endFactor: number;
  totalIters: number;

  constructor(optimizer: HasParamGroups, paramName: string, opts: LinearOptions = {}) {
    super(optimizer, paramName, opts);
    this.startFactor = opts.start_factor ?? 1 / 3;
    this.endFactor = opts.end_factor ?? 1.0;
    if (this.startFactor > 1 || this.startFactor < 0) throw new Error('Starting multiplicative factor should between 0 and 1.');
    if (this.endFactor > 1 || this.endFactor < 0) throw new Error('Ending multiplicative factor should between 0 and 1.');
    this.totalIters = this.end - this.begin - 1;
    this.initialStep();
  }

  protected getValue(): number[] {
    const cur = this.current();
    if (this.lastStep === 0) return cur.map((v) => v * this.startFactor);
    const d = this.endFactor - this.startFactor;
    return cur.map((v) => v * (1 + d / (this.totalIters * this.startFactor + (this.lastStep - 1) * d)));
  }

  protected extraState(): Record<string, unknown> {
    return { start_factor: this.startFactor, end_factor: this.endFactor, total_iters: this.totalIters };
  }

  protected loadExtraState(s: Record<string, unknown>): void {
    this.startFactor = s.start_factor as number;
    this.endFactor = s.end_factor as number;
    this.totalIters = s.total_iters as number;
  }
}

/** Options of {@link MultiStepParamScheduler}. */
export interface MultiStepOptions extends SchedulerOptions {
  /** Steps at which the value is multiplied by `gamma` (repeats multiply repeatedly). */
  milestones: number[];
  /** Decay factor. Defaults to 0.1. */
  gamma?: number;
}

/** Multiplies the value by `gamma ** count` when the step reaches a milestone. */
export class MultiStepParamScheduler extends ParamScheduler {
  readonly type: string = 'MultiStepParamScheduler';
  milestones: Map<number, number>;
  gamma: number;

  constructor(optimizer: HasParamGroups, paramName: string, opts: MultiStepOptions) {
    super(optimizer, paramName, opts);
    if (!Array.isArray(opts.milestones)) throw new Error('milestones must be a list of ints');
    this.milestones = new Map();
    for (const m of opts.milestones) this.milestones.set(m, (this.milestones.get(m) ?? 0) + 1);
    this.gamma = opts.gamma ?? 0.1;
    this.initialStep();
  }

  protected getValue(): number[] {
    const cur = this.current();
    const count = this.milestones.get(this.lastStep);
    if (count === undefined) return cur;
    const f = this.gamma ** count;
    return cur.map((v) => v * f);
  }

  protected extraState(): Record<string, unknown> {
    return { milestones: Object.fromEntries(this.milestones), gamma: this.gamma };
  }

  protected loadExtraState(s: Record<string, unknown>): void {
    this.milestones = new Map(Object.entries(s.milestones as Record<string, number>).map(([k, v]) => [Number(k), v]));
    this.gamma = s.gamma as number;
  }
}

/** Options of {@link StepParamScheduler}. */
export interface StepOptions extends SchedulerOptions {
  /** Period of the decay in steps. */
  step_size: number;
  /** Decay factor. Defaults to 0.1. */
  gamma?: number;
}

/** Multiplies the value by `gamma` every `step_size` steps. */
export class StepParamScheduler extends ParamScheduler {
  readonly type: string = 'StepParamScheduler';
  stepSize: number;
  gamma: number;

  constructor(optimizer: HasParamGroups, paramName: string, opts: StepOptions) {
    super(optimizer, paramName, opts);
    if (!(opts.step_size > 0)) throw new Error(`step_size must be a positive int, got ${opts.step_size}`);
    this.stepSize = opts.step_size;
    this.gamma = opts.gamma ?? 0.1;
    this.initialStep();
  }

  protected getValue(): number[] {
    const cur = this.current();
    if (this.lastStep === 0 || this.lastStep % this.stepSize !== 0) return cur;
    return cur.map((v) => v * this.gamma);
  }

  protected extraState(): Record<string, unknown> {
    return { step_size: this.stepSize, gamma: this.gamma };
  }

  protected loadExtraState(s: Record<string, unknown>): void {
    this.stepSize = s.step_size as number;
    this.gamma = s.gamma as number;
  }
}

/** Options of {@link ConstantParamScheduler}. */
export interface ConstantOptions extends SchedulerOptions {
  /** Factor applied until the last step of the window. Defaults to 1/3. */
  factor?: number;
}

/** Multiplies by `factor` at the first step and restores the value at step `end - begin - 1`. */
export class ConstantParamScheduler extends ParamScheduler {
  readonly type: string = 'ConstantParamScheduler';
  factor: number;
  totalIters: number;

  constructor(optimizer: HasParamGroups, paramName: string, opts: ConstantOptions = {}) {
    super(optimizer, paramName, opts);
    this.factor = opts.factor ?? 1 / 3;
    if (this.factor > 1 || this.factor < 0) throw new Error('Constant multiplicative factor should between 0 and 1.');
    this.totalIters = this.end - this.begin - 1;
    this.initialStep();
  }

  protected getValue(): number[] {
    const cur = this.current();
    if (this.lastStep === 0) return cur.map((v) => v * this.factor);
    if (this.lastStep !== this.totalIters) return cur;
    return cur.map((v) => v * (1.0 / this.factor));
  }

  protected extraState(): Record<string, unknown> {
    return { factor: this.factor, total_iters: this.totalIters };
  }

  protected loadExtraState(s: Record<string, unknown>): void {
    this.factor = s.factor as number;
    this.totalIters = s.total_iters as number;
  }
}

/** Options of {@link ExponentialParamScheduler}. */
export interface ExponentialOptions extends SchedulerOptions {
  /** Decay factor per step. */
  gamma: number;
}

/** Multiplies the value by `gamma` at every step after the first. */
export class ExponentialParamScheduler extends ParamScheduler {
  readonly type: string = 'ExponentialParamScheduler';
  gamma: number;

  constructor(optimizer: HasParamGroups, paramName: string, opts: ExponentialOptions) {
    super(optimizer, paramName, opts);
    this.gamma = opts.gamma;
    this.initialStep();
  }

  protected getValue(): number[] {
    const cur = this.current();
    if (this.lastStep === 0) return cur;
    return cur.map((v) => v * this.gamma);
  }

  protected extraState(): Record<string, unknown> {
    return { gamma: this.gamma };
  }

  protected loadExtraState(s: Record<string, unknown>): void {
    this.gamma = s.gamma as number;
  }
}

/** Options of {@link CosineAnnealingParamScheduler}. */
export interface CosineOptions extends SchedulerOptions {
  /** Half period in steps. Defaults to `end - begin`. */
  T_max?: number | null;
  /** Minimum value. Defaults to 0 when `eta_min_ratio` is not given. */
  eta_min?: number | null;
  /** Minimum value as a ratio of the initial value (exclusive with `eta_min`). */
  eta_min_ratio?: number | null;
}

/** Cosine annealing from the current value to `eta_min` over `T_max` steps (chainable form). */
export class CosineAnnealingParamScheduler extends ParamScheduler {
  readonly type: string = 'CosineAnnealingParamScheduler';
  tMax: number;
  etaMin: number | null;
  etaMinRatio: number | null;

  constructor(optimizer: HasParamGroups, paramName: string, opts: CosineOptions = {}) {
    super(optimizer, paramName, opts);
    let etaMin = opts.eta_min ?? null;
    const ratio = opts.eta_min_ratio ?? null;
    if (etaMin === null && ratio === null) etaMin = 0;
    if ((etaMin === null) === (ratio === null)) throw new Error('Either `eta_min` or `eta_min_ratio should be specified');
    this.tMax = opts.T_max || this.end - this.begin;
    this.etaMin = etaMin;
    this.etaMinRatio = ratio;
    this.initialStep();
  }

  private etaMinFor(base: number): number {
    return this.etaMinRatio === null ? (this.etaMin as number) : base * this.etaMinRatio;
  }

  protected getValue(): number[] {
    const cur = this.current();
    const t = this.lastStep;
    const T = this.tMax;
    if (t === 0) return cur;
    if (pyMod(t - 1 - T, 2 * T) === 0) {
      return cur.map((v, i) => {
        const base = this.baseValues[i]!;
        return v + ((base - this.etaMinFor(base)) * (1 - preciseCos(Math.PI / T))) / 2;
      });
    }
    return cur.map((v, i) => {
      const em = this.etaMinFor(this.baseValues[i]!);
      return ((1 + preciseCos((Math.PI * t) / T)) / (1 + preciseCos((Math.PI * (t - 1)) / T))) * (v - em) + em;
    });
  }

  protected extraState(): Record<string, unknown> {
    return { T_max: this.tMax, eta_min: this.etaMin, eta_min_ratio: this.etaMinRatio };
  }

  protected loadExtraState(s: Record<string, unknown>): void {
    this.tMax = s.T_max as number;
    this.etaMin = s.eta_min as number | null;
    this.etaMinRatio = s.eta_min_ratio as number | null;
  }
}

/** Options of {@link PolyParamScheduler}. */
export interface PolyOptions extends SchedulerOptions {
  /** Minimum value. Defaults to 0. */
  eta_min?: number;
  /** Power of the polynomial. Defaults to 1.0. */
  power?: number;
}

/** Polynomial decay to `eta_min` over `end - begin - 1` steps. */
export class PolyParamScheduler extends ParamScheduler {
  readonly type: string = 'PolyParamScheduler';
  etaMin: number;
  power: number;
  totalIters: number;

  constructor(optimizer: HasParamGroups, paramName: string, opts: PolyOptions = {}) {
    super(optimizer, paramName, opts);
    this.etaMin = opts.eta_min ?? 0;
    this.power = opts.power ?? 1.0;
    this.totalIters = this.end - this.begin - 1;
    this.initialStep();
  }

  protected getValue(): number[] {
    const cur = this.current();
    if (this.lastStep === 0) return cur;
    return cur.map((v) => (v - this.etaMin) * (1 - 1 / (this.totalIters - this.lastStep + 1)) ** this.power + this.etaMin);
  }

  protected extraState(): Record<string, unknown> {
    return { eta_min: this.etaMin, power: this.power, total_iters: this.totalIters };
  }

  protected loadExtraState(s: Record<string, unknown>): void {
    this.etaMin = s.eta_min as number;
    this.power = s.power as number;
    this.totalIters = s.total_iters as number;
  }
}
