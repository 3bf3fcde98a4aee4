/**
 * Runner hooks with MMEngine's priorities and call points: RuntimeInfoHook, IterTimerHook,
 * LoggerHook, ParamSchedulerHook, CheckpointHook, DistSamplerSeedHook.
 *
 * @see mmengine/hooks/*.py (MMEngine 0.10)
 */
import type { CheckpointInfo } from './checkpoint_store';
import type { Runner } from './runner';

/** MMEngine priority names → numbers (lower runs first). */
export const PRIORITY = {
  HIGHEST: 0,
  VERY_HIGH: 10,
  HIGH: 30,
  ABOVE_NORMAL: 40,
  NORMAL: 50,
  BELOW_NORMAL: 60,
  LOW: 70,
  VERY_LOW: 90,
  LOWEST: 100,
} as const;

/** Train/val/test mode of a hook call. */
export type Mode = 'train' | 'val' | 'test';

/** A hook: every method is optional and may be async. */
export interface Hook {
  /** Name for logs (`IterTimerHook`). */
  readonly name: string;
  /** Priority (lower first). */
  readonly priority: number;
  beforeRun?(runner: Runner): void | Promise<void>;
  afterRun?(runner: Runner): void | Promise<void>;
  beforeTrain?(runner: Runner): void | Promise<void>;
  afterTrain?(runner: Runner): void | Promise<void>;
  beforeTrainEpoch?(runner: Runner): void | Promise<void>;
  afterTrainEpoch?(runner: Runner): void | Promise<void>;
  /** `dataBatch`: the batch about to be trained (MMEngine's `data_batch`). */
  beforeTrainIter?(runner: Runner, batchIdx: number, dataBatch: unknown[]): void | Promise<void>;
  afterTrainIter?(runner: Runner, batchIdx: number, outputs: Record<string, number>, dataBatch: unknown[]): void | Promise<void>;
  beforeValEpoch?(runner: Runner, mode: 'val' | 'test'): void | Promise<void>;
  afterValEpoch?(runner: Runner, mode: 'val' | 'test', metrics: Record<string, number | string>): void | Promise<void>;
  beforeValIter?(runner: Runner, mode: 'val' | 'test', batchIdx: number, dataBatch: unknown[]): void | Promise<void>;
  afterValIter?(runner: Runner, mode: 'val' | 'test', batchIdx: number, dataBatch: unknown[]): void | Promise<void>;
}

/** Keeps the message hub's runtime info and per-iteration scalars (`train/lr`, losses, metrics). */
export class RuntimeInfoHook implements Hook {
  readonly name = 'RuntimeInfoHook';
  readonly priority = PRIORITY.VERY_HIGH;

  beforeTrain(r: Runner): void {
    r.messageHub.updateInfo('epoch', r.epoch);
    r.messageHub.updateInfo('iter', r.iter);
    r.messageHub.updateInfo('max_epochs', r.maxEpochs);
    r.messageHub.updateInfo('max_iters', r.maxIters);
  }

  beforeTrainEpoch(r: Runner): void {
    r.messageHub.updateInfo('epoch', r.epoch);
  }

  beforeTrainIter(r: Runner): void {
    r.messageHub.updateInfo('iter', r.iter);
    r.messageHub.updateScalar('train/lr', r.optimWrapper.getLr()[0]!);
  }

  afterTrainIter(r: Runner, _b: number, outputs: Record<string, number>): void {
    for (const [k, v] of Object.entries(outputs)) r.messageHub.updateScalar(`train/${k}`, v);
  }

  afterValEpoch(r: Runner, mode: 'val' | 'test', metrics: Record<string, number | string>): void {
    for (const [k, v] of Object.entries(metrics)) {
      if (typeof v === 'number') r.messageHub.updateScalar(`${mode}/${k}`, v);
      else r.messageHub.updateInfo(`${mode}/${k}`, v);
    }
  }
}

/** Measures `data_time` and `time` per iteration and the ETA. */
export class IterTimerHook implements Hook {
  readonly name = 'IterTimerHook';
  readonly priority = PRIORITY.NORMAL;
  private t = 0;
  private startIter = 0;
  private timeSecTot = 0;
  private timeSecValTot = 0;

  beforeTrain(r: Runner): void {
    this.startIter = r.iter;
    this.timeSecTot = 0;
  }

  beforeTrainEpoch(r: Runner): void {
    this.t = r.now();
  }

  beforeValEpoch(r: Runner): void {
    this.t = r.now();
    this.timeSecValTot = 0;
  }

  beforeTrainIter(r: Runner): void {
    r.messageHub.updateScalar('train/data_time', r.now() - this.t);
  }

  beforeValIter(r: Runner, mode: 'val' | 'test'): void {
    r.messageHub.updateScalar(`${mode}/data_time`, r.now() - this.t);
  }

  afterTrainIter(r: Runner): void {
    const dt = r.now() - this.t;
    r.messageHub.updateScalar('train/time', dt);
    this.t = r.now();
    this.timeSecTot += dt;
    const avg = this.timeSecTot / (r.iter - this.startIter + 1);
    r.messageHub.updateInfo('eta', avg * (r.maxIters - r.iter - 1));
  }

  afterValIter(r: Runner, mode: 'val' | 'test', batchIdx: number): void {
    const dt = r.now() - this.t;
    r.messageHub.updateScalar(`${mode}/time`, dt);
    this.t = r.now();
    this.timeSecValTot += dt;
    const n = r.dataloaderLength(mode);
    r.messageHub.updateInfo('eta', (this.timeSecValTot / (batchIdx + 1)) * (n - batchIdx - 1));
  }
}

/** Options of {@link LoggerHook} (MMEngine names). */
export interface LoggerHookCfg {
  interval?: number;
  ignore_last?: boolean;
  interval_exp_name?: number;
  log_metric_by_epoch?: boolean;
}

/** Emits the text log and the `scalars.json` lines every `interval` iterations and after validation. */
export class LoggerHook implements Hook {
  readonly name = 'LoggerHook';
  readonly priority = PRIORITY.BELOW_NORMAL;
  readonly interval: number;
  readonly ignoreLast: boolean;
  readonly intervalExpName: number;
  readonly logMetricByEpoch: boolean;

  constructor(cfg: LoggerHookCfg = {}) {
    this.interval = cfg.interval ?? 10;
    this.ignoreLast = cfg.ignore_last ?? true;
    this.intervalExpName = cfg.interval_exp_name ?? 1000;
    this.logMetricByEpoch = cfg.log_metric_by_epoch ?? true;
  }

  afterTrainIter(r: Runner, batchIdx: number): void {
    const L = r.dataloaderLength('train');
    const endOfEpoch = batchIdx + 1 === L;
    if ((r.iter + 1) % this.intervalExpName === 0 || endOfEpoch) r.info(`Exp name: ${r.experimentName}`);
    if (!((batchIdx + 1) % this.interval === 0 || (endOfEpoch && (!this.ignoreLast || L <= this.interval)))) return;
    const { tag, text } = r.logProcessor.getLogAfterIter(r.logContext('train'), batchIdx, 'train');
    r.info(text);
    r.addScalars(tag, r.iter + 1);
    r.emit({ type: 'train-log', step: r.iter + 1, tag, text });
  }

  afterValIter(r: Runner, mode: 'val' | 'test', batchIdx: number): void {
    if ((batchIdx + 1) % this.interval !== 0) return;
    r.info(r.logProcessor.getLogAfterIter(r.logContext(mode), batchIdx, mode).text);
  }

  afterValEpoch(r: Runner, mode: 'val' | 'test', metrics: Record<string, number | string>): void {
    const { tag, text } = r.logProcessor.getLogAfterEpoch(r.logContext(mode), r.dataloaderLength(mode), mode);
    r.info(text);
    const hasTrain = r.hasTrainLoop;
    const step = mode === 'test' ? 0 : this.logMetricByEpoch ? (hasTrain ? r.epoch : 0) : hasTrain ? r.iter : 0;
    if (mode === 'val') r.addScalars(tag, step);
    r.emit({ type: 'val-metrics', mode, step, epoch: hasTrain ? r.epoch : 0, metrics, tag, text });
  }
}

/** Steps iteration-based schedulers after each iteration and epoch-based ones after each epoch. */
export class ParamSchedulerHook implements Hook {
  readonly name = 'ParamSchedulerHook';
  readonly priority = PRIORITY.LOW;

  afterTrainIter(r: Runner): void {
    for (const s of r.paramSchedulers) if (!s.byEpoch) s.step();
  }

  afterTrainEpoch(r: Runner): void {
    for (const s of r.paramSchedulers) if (s.byEpoch) s.step();
  }
}

/** Sets the sampler's epoch before each epoch so every epoch is shuffled differently. */
export class DistSamplerSeedHook implements Hook {
  readonly name = 'DistSamplerSeedHook';
  readonly priority = PRIORITY.NORMAL;

  beforeTrainEpoch(r: Runner): void {
    r.trainDataloader?.sampler.setEpoch(r.epoch);
  }
}

/** Options of {@link CheckpointHook} (MMEngine names). */
export interface CheckpointHookCfg {
  interval?: number;
  by_epoch?: boolean;
  save_optimizer?: boolean;
  save_param_scheduler?: boolean;
  max_keep_ckpts?: number;
  save_last?: boolean;
  save_best?: string | string[] | null;
  rule?: 'greater' | 'less' | Array<'greater' | 'less'> | null;
  greater_keys?: string[];
  less_keys?: string[];
  save_begin?: number;
}

const GREATER_KEYS = ['acc', 'top', 'AR@', 'auc', 'precision', 'mAP', 'mDice', 'mIoU', 'mAcc', 'aAcc'];
const LESS_KEYS = ['loss'];

/**
 * Saves `epoch_N`/`iter_N` checkpoints every `interval` (and the last), keeps at most
 * `max_keep_ckpts`, and keeps the best one by `save_best` after each validation.
 */
export class CheckpointHook implements Hook {
  readonly name = 'CheckpointHook';
  readonly priority = PRIORITY.VERY_LOW;
  readonly interval: number;
  readonly byEpoch: boolean;
  readonly saveOptimizer: boolean;
  readonly saveParamScheduler: boolean;
  readonly maxKeepCkpts: number;
  readonly saveLast: boolean;
  readonly saveBegin: number;
  readonly saveBest: string[];
  private readonly rules: Array<'greater' | 'less' | null>;
  private readonly greaterKeys: string[];
  private readonly lessKeys: string[];
  /** Ids of the periodic checkpoints still kept, oldest first. */
  keepCkpts: CheckpointInfo[] = [];
  /** Best score and checkpoint per key. */
  best = new Map<string, { score: number; id: string; name: string }>();

  constructor(cfg: CheckpointHookCfg = {}) {
    this.interval = cfg.interval ?? -1;
    this.byEpoch = cfg.by_epoch ?? true;
    this.saveOptimizer = cfg.save_optimizer ?? true;
    this.saveParamScheduler = cfg.save_param_scheduler ?? true;
    this.maxKeepCkpts = cfg.max_keep_ckpts ?? -1;
    this.saveLast = cfg.save_last ?? true;
    this.saveBegin = cfg.save_begin ?? 0;
    const sb = cfg.save_best ?? null;
    this.saveBest = sb === null ? [] : Array.isArray(sb) ? sb : [sb];
    const rule = cfg.rule ?? null;
    this.rules = this.saveBest.map((_, i) => (Array.isArray(rule) ? (rule[i] ?? null) : rule));
    this.greaterKeys = cfg.greater_keys ?? GREATER_KEYS;
    this.lessKeys = cfg.less_keys ?? LESS_KEYS;
  }

  private every(n: number, count: number): boolean {
    return n > 0 && count >= this.saveBegin && (count - this.saveBegin) % n === 0;
  }

  async afterTrainEpoch(r: Runner): Promise<void> {
    if (!this.byEpoch || !r.store) return;
    const done = r.epoch + 1;
    if (this.every(this.interval, done) || (this.saveLast && done === r.maxEpochs)) {
      r.info(`Saving checkpoint at ${done} epochs`);
      await this.savePeriodic(r, `epoch_${done}.pth`);
    }
  }

  async afterTrainIter(r: Runner): Promise<void> {
    if (this.byEpoch || !r.store) return;
    const done = r.iter + 1;
    if (this.every(this.interval, done) || (this.saveLast && done === r.maxIters)) {
      r.info(`Saving checkpoint at ${done} iterations`);
      await this.savePeriodic(r, `iter_${done}.pth`);
    }
  }

  private async savePeriodic(r: Runner, name: string): Promise<void> {
    const info = await r.saveCheckpoint(name, { optimizer: this.saveOptimizer, paramSchedulers: this.saveParamScheduler });
    this.keepCkpts.push(info);
    while (this.maxKeepCkpts > 0 && this.keepCkpts.length > this.maxKeepCkpts) {
      const old = this.keepCkpts.shift()!;
      await r.store!.delete(old.id);
      r.emit({ type: 'checkpoint-deleted', id: old.id, name: old.name });
    }
  }

  private ruleFor(key: string, i: number): 'greater' | 'less' {
    const given = this.rules[i];
    if (given) return given;
    const lower = key.toLowerCase();
    if (this.greaterKeys.some((k) => lower.includes(k.toLowerCase()))) return 'greater';
    if (this.lessKeys.some((k) => lower.includes(k.toLowerCase()))) return 'less';
    throw new Error(`Cannot infer the rule for key ${key}, thus a specific rule must be specified.`);
  }

  async afterValEpoch(r: Runner, mode: 'val' | 'test', metrics: Record<string, number | string>): Promise<void> {
    if (mode !== 'val' || this.saveBest.length === 0 || !r.store) return;
    const keys = Object.keys(metrics).filter((k) => typeof metrics[k] === 'number');
    if (keys.length === 0) {
      r.warn('Since `metrics` is an empty dict, the behavior to save the best checkpoint will be skipped in this evaluation.');
      return;
    }
    for (let i = 0; i < this.saveBest.length; i++) {
      const key = this.saveBest[i] === 'auto' ? keys[0]! : this.saveBest[i]!;
      const score = metrics[key];
      if (typeof score !== 'number') {
        r.warn(`save_best: metric '${key}' is not among the evaluation results (${keys.join(', ')})`);
        continue;
      }
      const rule = this.ruleFor(key, i);
      const prev = this.best.get(key);
      const better = prev === undefined || (rule === 'greater' ? score > prev.score : score < prev.score);
      if (!better) continue;
      const step = this.byEpoch ? `epoch_${r.epoch}` : `iter_${r.iter}`;
      const name = `best_${key.replace(/\//g, '_')}_${step}.pth`;
      const info = await r.saveCheckpoint(name, { optimizer: false, paramSchedulers: false, best: true, metrics });
      if (prev) {
        await r.store.delete(prev.id);
        r.emit({ type: 'checkpoint-deleted', id: prev.id, name: prev.name });
      }
      this.best.set(key, { score, id: info.id, name });
      r.messageHub.updateInfo(this.saveBest.length === 1 ? 'best_score' : `best_score_${key}`, score);
      r.info(`The best checkpoint with ${score.toFixed(4)} ${key} at ${this.byEpoch ? r.epoch : r.iter} ${this.byEpoch ? 'epoch' : 'iter'} is saved to ${name}.`);
    }
  }
}
