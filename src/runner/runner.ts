/**
 * The training runner, built from a resolved config dict as MMEngine's `Runner` is: data loaders
 * (`DefaultSampler`, `AspectRatioBatchSampler`), `OptimWrapper`(SGD), `auto_scale_lr`, parameter
 * schedulers, the default hooks, and the loops `EpochBasedTrainLoop` / `IterBasedTrainLoop` /
 * `ValLoop` / `TestLoop`. The model, datasets and evaluators are injected (see `types.ts`). Runs
 * in a Web Worker and in Node; emits events instead of printing.
 *
 * @see mmengine/runner/runner.py, loops.py (MMEngine 0.10)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CheckpointInfo, CheckpointRecord, CheckpointStore, TensorData } from './checkpoint_store';
import { AspectRatioBatchSampler, BatchSampler, type BatchSamplerLike, DataLoader, DefaultSampler } from './data/sampler';
import { syncRandomSeed } from './data/rng';
import { seededRng, type StatefulRng } from '../data/transforms/types';
import type { RunnerDataset } from './data/types';
import {
  CheckpointHook,
  type CheckpointHookCfg,
  DistSamplerSeedHook,
  type Hook,
  IterTimerHook,
  LoggerHook,
  type LoggerHookCfg,
  ParamSchedulerHook,
  RuntimeInfoHook,
} from './hooks';
import { type LogContext, type LogCustomCfg, LogProcessor } from './logging/log_processor';
import { MessageHub } from './logging/message_hub';
import { buildOptimWrapper, type OptimWrapper, scaleLr } from './optim/optim_wrapper';
import { buildParamSchedulers } from './scheduler/build';
import type { ParamScheduler } from './scheduler/param_scheduler';
import type { RunnerEvaluator, RunnerEvent, RunnerListener, RunnerModel } from './types';

type Cfg = Record<string, unknown>;

/** Everything the runner needs besides the config. */
export interface RunnerOptions<S = unknown, P = unknown> {
  /** The resolved config dict (`resolveConfig` output). */
  cfg: Cfg;
  /** The model (Mask R-CNN, or any {@link RunnerModel}). */
  model: RunnerModel<S, P>;
  /** Built `train_dataloader.dataset` (RepeatDataset applied). */
  trainDataset?: RunnerDataset<S>;
  /** Built `val_dataloader.dataset`. */
  valDataset?: RunnerDataset<S>;
  /** Built `test_dataloader.dataset`. */
  testDataset?: RunnerDataset<S>;
  /** Built `val_evaluator`. */
  valEvaluator?: RunnerEvaluator<S, P>;
  /** Built `test_evaluator` (defaults to the val evaluator). */
  testEvaluator?: RunnerEvaluator<S, P>;
  /** Where checkpoints go (none: CheckpointHook saves nothing). */
  store?: CheckpointStore | null;
  /** Receives events (logs, metrics, checkpoints, progress). */
  listener?: RunnerListener;
  /** Clock in seconds (defaults to `performance.now() / 1000`). */
  now?: () => number;
  /** Peak memory in MB (defaults to tfjs's allocated bytes, peak over iterations). */
  memoryMB?: () => number | undefined;
  /** Hooks added to the default ones (sorted by priority). */
  extraHooks?: Hook[];
  /** Name shown in `Exp name:` lines and saved in checkpoint meta. */
  experimentName?: string;
  /** The config as Python text, saved in checkpoint meta (`meta.cfg`). */
  cfgText?: string;
  /** The run's seed (default: `randomness.seed`, else drawn as `sync_random_seed` does). */
  seed?: number;
  /**
   * The random source the train dataset's pipeline draws from. Its state is saved in checkpoints
   * (`pipeline_rng`) and restored on resume. The val/test pipelines must use other instances.
   */
  trainPipelineRng?: StatefulRng;
}

/** Thrown inside the train step when the loss is NaN or infinite. */
class NonFiniteLoss extends Error {
  constructor(readonly value: number) {
    super(`loss is ${value}`);
  }
}

/** How a train run ended. */
export interface TrainResult {
  reason: 'finished' | 'requested' | 'non-finite-loss';
  epoch: number;
  iter: number;
}

function obj(v: unknown, what: string): Cfg {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} must be a dict, got ${JSON.stringify(v)}`);
  return v as Cfg;
}

function num(v: unknown, what: string, dflt?: number): number {
  if (v === undefined || v === null) {
    if (dflt === undefined) throw new Error(`${what} is required`);
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Sum as a chain of `add` in Python's left-to-right order. (`tf.addN` is avoided: its gradient calls
 * `Tensor.clone()`, which fails where two tfjs-core module copies are loaded, as under Vitest.)
 */
function sum(ts: tf.Scalar[]): tf.Scalar {
  let acc = ts[0]!;
  for (let i = 1; i < ts.length; i++) acc = tf.add(acc, ts[i]!);
  return acc;
}

/** mmengine's `parse_losses`: `loss` = sum of every entry whose key contains `loss`; lists are summed. */
export function parseLosses(losses: Record<string, tf.Tensor | tf.Tensor[]>): { loss: tf.Scalar; logVars: Array<[string, tf.Scalar]> } {
  const logVars: Array<[string, tf.Scalar]> = [];
  for (const [k, v] of Object.entries(losses)) {
    if (Array.isArray(v)) logVars.push([k, sum(v.map((t) => tf.mean(t) as tf.Scalar))]);
    else if (v instanceof tf.Tensor) logVars.push([k, tf.mean(v) as tf.Scalar]);
    else throw new TypeError(`${k} is not a tensor or list of tensors`);
  }
  const parts = logVars.filter(([k]) => k.includes('loss')).map(([, v]) => v);
  if (parts.length === 0) throw new Error(`the model returned no loss (keys: ${Object.keys(losses).join(', ')})`);
  const loss = parts.length === 1 ? (tf.clone(parts[0]!) as tf.Scalar) : sum(parts);
  return { loss, logVars: [['loss', loss], ...logVars] };
}

/** Epoch-based training (`EpochBasedTrainLoop`). */
class EpochBasedTrainLoop {
  epoch = 0;
  iter = 0;
  stopTraining = false;
  constructor(
    private readonly r: Runner,
    readonly dataloader: DataLoader<unknown>,
    readonly maxEpochs: number,
    readonly valBegin: number,
    readonly valInterval: number,
  ) {}

  get maxIters(): number {
    return this.maxEpochs * this.dataloader.length;
  }

  async run(): Promise<void> {
    await this.r.callHook('beforeTrain');
    while (this.epoch < this.maxEpochs && !this.stopTraining) {
      const complete = await this.runEpoch();
      if (!complete) break;
      if (this.r.valLoop && this.epoch >= this.valBegin && (this.epoch % this.valInterval === 0 || this.epoch === this.maxEpochs)) {
        await this.r.valLoop.run();
      }
    }
    await this.r.callHook('afterTrain');
  }

  /** Runs (the rest of) one epoch; false when stopped inside it. */
  private async runEpoch(): Promise<boolean> {
    await this.r.callHook('beforeTrainEpoch');
    this.r.model.setTraining?.(true);
    const L = this.dataloader.length;
    // Resuming inside an epoch skips the batches already trained (MMEngine only resumes at epoch ends).
    const skip = Math.max(0, this.iter - this.epoch * L);
    let idx = skip;
    for await (const batch of this.dataloader.batches(skip)) {
      const ok = await this.r.runTrainIter(idx, batch);
      if (!ok) return false;
      this.iter += 1;
      idx += 1;
      if (this.stopTraining && idx < L) return false;
    }
    await this.r.callHook('afterTrainEpoch');
    this.epoch += 1;
    return true;
  }
}

/** Iteration-based training (`IterBasedTrainLoop`): the data loader restarts with the next epoch's shuffle. */
class IterBasedTrainLoop {
  epoch = 0;
  iter = 0;
  stopTraining = false;
  constructor(
    private readonly r: Runner,
    readonly dataloader: DataLoader<unknown>,
    readonly maxIters: number,
    readonly valBegin: number,
    readonly valInterval: number,
  ) {}

  get maxEpochs(): number {
    return Math.ceil(this.maxIters / this.dataloader.length);
  }

  async run(): Promise<void> {
    await this.r.callHook('beforeTrain');
    await this.r.callHook('beforeTrainEpoch');
    const L = this.dataloader.length;
    let dataEpoch = Math.floor(this.iter / L);
    let skip = this.iter % L;
    while (this.iter < this.maxIters && !this.stopTraining) {
      this.dataloader.sampler.setEpoch(dataEpoch);
      let stopped = false;
      for await (const batch of this.dataloader.batches(skip)) {
        this.r.model.setTraining?.(true);
        const ok = await this.r.runTrainIter(this.iter, batch);
        if (!ok) {
          stopped = true;
          break;
        }
        this.iter += 1;
        if (this.r.valLoop && this.iter >= this.valBegin && (this.iter % this.valInterval === 0 || this.iter === this.maxIters)) {
          await this.r.valLoop.run();
        }
        if (this.iter >= this.maxIters || this.stopTraining) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      skip = 0;
      dataEpoch += 1;
      this.epoch = dataEpoch;
    }
    await this.r.callHook('afterTrainEpoch');
    await this.r.callHook('afterTrain');
  }
}

/** `ValLoop` / `TestLoop`: predict every batch, feed the evaluator, report metrics. */
class EvalLoop {
  constructor(
    private readonly r: Runner,
    readonly mode: 'val' | 'test',
    readonly dataloader: DataLoader<unknown>,
    readonly evaluator: RunnerEvaluator<unknown, unknown>,
  ) {}

  async run(): Promise<Record<string, number | string>> {
    await this.r.callHook('beforeValEpoch', this.mode);
    this.r.model.setTraining?.(false);
    let idx = 0;
    const n = this.dataloader.length;
    for await (const batch of this.dataloader.batches()) {
      await this.r.callHook('beforeValIter', this.mode, idx, batch);
      const preds = await this.r.model.predict(batch);
      await this.evaluator.process(batch, preds);
      await this.r.callHook('afterValIter', this.mode, idx, batch);
      this.r.emit({ type: 'progress', mode: this.mode, epoch: this.r.epoch, iter: this.r.iter, maxIters: this.r.maxIters, batchIdx: idx, batches: n });
      idx += 1;
    }
    const metrics = await this.evaluator.evaluate(this.dataloader.dataset.length);
    await this.r.callHook('afterValEpoch', this.mode, metrics);
    this.r.model.setTraining?.(true);
    return metrics;
  }
}

/** Runs training, validation and testing from a resolved MMDetection config. */
export class Runner<S = unknown, P = unknown> {
  readonly cfg: Cfg;
  readonly model: RunnerModel<S, P>;
  readonly messageHub = new MessageHub();
  readonly logProcessor: LogProcessor;
  readonly hooks: Hook[];
  readonly store: CheckpointStore | null;
  readonly experimentName: string;
  /** Random seed (`randomness.seed`, or drawn as `sync_random_seed` does). */
  seed: number;
  /** Text log lines as MMEngine writes them to `<timestamp>.log`. */
  readonly textLog: string[] = [];
  /** `scalars.json` lines (one JSON object per logged step). */
  readonly scalarLines: string[] = [];

  optimWrapper!: OptimWrapper;
  paramSchedulers: ParamScheduler[] = [];
  trainDataloader: DataLoader<S> | null = null;
  valDataloader: DataLoader<S> | null = null;
  testDataloader: DataLoader<S> | null = null;
  trainLoop: EpochBasedTrainLoop | IterBasedTrainLoop | null = null;
  valLoop: EvalLoop | null = null;
  testLoop: EvalLoop | null = null;

  private readonly listener?: RunnerListener;
  private readonly clock: () => number;
  private readonly memoryProbe: () => number | undefined;
  private peakBytes = 0;
  private readonly opts: RunnerOptions<S, P>;
  private stopReason: TrainResult['reason'] | null = null;

  constructor(opts: RunnerOptions<S, P>) {
    this.opts = opts;
    this.cfg = opts.cfg;
    this.model = opts.model;
    this.store = opts.store ?? null;
    this.listener = opts.listener;
    this.experimentName = opts.experimentName ?? 'detstudio';
    this.clock = opts.now ?? (() => performance.now() / 1000);
    this.memoryProbe =
      opts.memoryMB ??
      (() => {
        this.peakBytes = Math.max(this.peakBytes, tf.memory().numBytes);
        return this.peakBytes / 2 ** 20;
      });
    const randomness = obj(this.cfg.randomness, 'randomness');
    this.seed = opts.seed ?? (typeof randomness.seed === 'number' ? randomness.seed : syncRandomSeed());

    const lp = obj(this.cfg.log_processor, 'log_processor');
    if (lp.type !== undefined && lp.type !== 'LogProcessor') throw new Error(`log_processor type '${String(lp.type)}' is not supported`);
    this.logProcessor = new LogProcessor(
      num(lp.window_size, 'log_processor.window_size', 10),
      lp.by_epoch === undefined ? true : Boolean(lp.by_epoch),
      (lp.custom_cfg as LogCustomCfg[] | undefined) ?? [],
      num(lp.num_digits, 'log_processor.num_digits', 4),
    );
    this.hooks = this.buildHooks(opts.extraHooks ?? []);

    if (opts.trainDataset) this.trainDataloader = this.buildDataloader(this.cfg.train_dataloader, opts.trainDataset, 'train_dataloader', opts.trainPipelineRng);
    if (opts.valDataset) this.valDataloader = this.buildDataloader(this.cfg.val_dataloader, opts.valDataset, 'val_dataloader');
    if (opts.testDataset) this.testDataloader = this.buildDataloader(this.cfg.test_dataloader, opts.testDataset, 'test_dataloader');
    if (this.valDataloader && opts.valEvaluator && this.cfg.val_cfg !== null) {
      this.valLoop = new EvalLoop(this as Runner, 'val', this.valDataloader as DataLoader<unknown>, opts.valEvaluator as RunnerEvaluator);
    }
    const testEval = opts.testEvaluator ?? opts.valEvaluator;
    if (this.testDataloader && testEval) {
      this.testLoop = new EvalLoop(this as Runner, 'test', this.testDataloader as DataLoader<unknown>, testEval as RunnerEvaluator);
    }
    if (this.trainDataloader) this.buildTraining();
  }

  private buildHooks(extra: Hook[]): Hook[] {
    const dh = obj(this.cfg.default_hooks, 'default_hooks');
    const hooks: Hook[] = [new RuntimeInfoHook()];
    const known: Record<string, (c: Cfg) => Hook | null> = {
      IterTimerHook: () => new IterTimerHook(),
      LoggerHook: (c) => new LoggerHook(c as LoggerHookCfg),
      ParamSchedulerHook: () => new ParamSchedulerHook(),
      CheckpointHook: (c) => new CheckpointHook(c as CheckpointHookCfg),
      DistSamplerSeedHook: () => new DistSamplerSeedHook(),
      DetVisualizationHook: (c) => {
        if (c.draw) this.warn('DetVisualizationHook(draw=True) is ignored: prediction drawing is shown by the studio instead');
        return null;
      },
    };
    for (const [slot, v] of Object.entries(dh)) {
      if (v === null || v === undefined) continue;
      const c = { ...obj(v, `default_hooks.${slot}`) };
      const type = String(c.type);
      delete c.type;
      const make = known[type];
      if (!make) throw new Error(`default_hooks.${slot}: hook type '${type}' is not supported (known: ${Object.keys(known).join(', ')})`);
      const h = make(c);
      if (h) hooks.push(h);
    }
    const custom = this.cfg.custom_hooks;
    if (Array.isArray(custom) && custom.length > 0) {
      this.warn(`custom_hooks are not supported yet and are ignored: ${custom.map((c) => String((c as Cfg).type)).join(', ')}`);
    }
    hooks.push(...extra);
    return hooks.map((h, i) => ({ h, i })).sort((a, b) => a.h.priority - b.h.priority || a.i - b.i).map(({ h }) => h);
  }

  private buildDataloader(cfgV: unknown, dataset: RunnerDataset<S>, what: string, rng?: StatefulRng): DataLoader<S> {
    const c = obj(cfgV, what);
    const bs = num(c.batch_size, `${what}.batch_size`, 1);
    const sc = obj(c.sampler, `${what}.sampler`);
    const stype = sc.type ?? 'DefaultSampler';
    if (stype !== 'DefaultSampler') throw new Error(`${what}.sampler type '${String(stype)}' is not supported (only DefaultSampler)`);
    const sampler = new DefaultSampler(
      dataset,
      sc.shuffle === undefined ? true : Boolean(sc.shuffle),
      typeof sc.seed === 'number' ? sc.seed : this.seed,
      sc.round_up === undefined ? true : Boolean(sc.round_up),
    );
    const dropLast = Boolean(c.drop_last);
    let batchSampler: BatchSamplerLike;
    const bsc = c.batch_sampler === undefined || c.batch_sampler === null ? null : obj(c.batch_sampler, `${what}.batch_sampler`);
    if (bsc) {
      if (bsc.type !== 'AspectRatioBatchSampler') {
        throw new Error(`${what}.batch_sampler type '${String(bsc.type)}' is not supported (only AspectRatioBatchSampler)`);
      }
      batchSampler = new AspectRatioBatchSampler(sampler, bs, Boolean(bsc.drop_last));
    } else {
      batchSampler = new BatchSampler(sampler, bs, dropLast);
    }
    // PyTorch's DataLoader keeps `num_workers * prefetch_factor` batches in flight (none without workers).
    const workers = num(c.num_workers, `${what}.num_workers`, 0);
    const prefetch = workers > 0 ? workers * num(c.prefetch_factor, `${what}.prefetch_factor`, 2) : 0;
    return new DataLoader(dataset, batchSampler, { rng, prefetch });
  }

  private buildTraining(): void {
    const tc = obj(this.cfg.train_cfg, 'train_cfg');
    const dl = this.trainDataloader as DataLoader<unknown>;
    if (dl.length === 0) throw new Error('the train dataloader is empty (no training samples after filtering?)');
    const type = tc.type ?? (tc.by_epoch === false ? 'IterBasedTrainLoop' : 'EpochBasedTrainLoop');
    if (type === 'EpochBasedTrainLoop') {
      this.trainLoop = new EpochBasedTrainLoop(
        this as Runner,
        dl,
        num(tc.max_epochs, 'train_cfg.max_epochs'),
        num(tc.val_begin, 'train_cfg.val_begin', 1),
        num(tc.val_interval, 'train_cfg.val_interval', 1),
      );
    } else if (type === 'IterBasedTrainLoop') {
      this.trainLoop = new IterBasedTrainLoop(
        this as Runner,
        dl,
        num(tc.max_iters, 'train_cfg.max_iters'),
        num(tc.val_begin, 'train_cfg.val_begin', 1),
        num(tc.val_interval, 'train_cfg.val_interval', 1000),
      );
    } else {
      throw new Error(`train_cfg type '${String(type)}' is not supported (EpochBasedTrainLoop, IterBasedTrainLoop)`);
    }
    this.optimWrapper = buildOptimWrapper(obj(this.cfg.optim_wrapper, 'optim_wrapper'), this.model.namedParameters());
    const ratio = scaleLr(this.optimWrapper, this.cfg.auto_scale_lr as { enable?: boolean; base_batch_size?: number } | undefined, dl.batchSize);
    if (ratio !== null) {
      const base = (this.cfg.auto_scale_lr as { base_batch_size: number }).base_batch_size;
      this.info(`LR is set based on batch size of ${base} and the current batch size is ${dl.batchSize}. Scaling the original LR by ${ratio}.`);
    }
    const ps = this.cfg.param_scheduler as Cfg | Cfg[] | null | undefined;
    this.paramSchedulers = buildParamSchedulers(ps, this.optimWrapper, {
      maxEpochs: this.trainLoop.maxEpochs,
      maxIters: this.trainLoop.maxIters,
      epochLength: dl.length,
    });
  }

  // ---- facts used by hooks and the log processor ----

  /** Epochs completed by the train loop (MMEngine `runner.epoch`). */
  get epoch(): number {
    return this.trainLoop?.epoch ?? 0;
  }

  /** Iterations completed by the train loop (MMEngine `runner.iter`). */
  get iter(): number {
    return this.trainLoop?.iter ?? 0;
  }

  get maxEpochs(): number {
    return this.trainLoop?.maxEpochs ?? 0;
  }

  get maxIters(): number {
    return this.trainLoop?.maxIters ?? 0;
  }

  get hasTrainLoop(): boolean {
    return this.trainLoop !== null;
  }

  /** Seconds on the runner's clock. */
  now(): number {
    return this.clock();
  }

  /** `len(dataloader)` of a mode. */
  dataloaderLength(mode: 'train' | 'val' | 'test'): number {
    const dl = mode === 'train' ? this.trainDataloader : mode === 'val' ? this.valDataloader : this.testDataloader;
    return dl?.length ?? 0;
  }

  /** Facts for the log processor. */
  logContext(mode: 'train' | 'val' | 'test'): LogContext {
    return {
      messageHub: this.messageHub,
      epoch: this.epoch,
      iter: this.iter,
      maxEpochs: this.trainLoop instanceof EpochBasedTrainLoop ? this.maxEpochs : undefined,
      maxIters: this.maxIters,
      dataloaderLength: this.dataloaderLength(mode),
      hasTrainLoop: this.hasTrainLoop,
      memoryMB: this.memoryProbe(),
    };
  }

  /** Sends an event to the listener. */
  emit(e: RunnerEvent): void {
    this.listener?.(e);
  }

  private log(level: 'info' | 'warning' | 'error', text: string): void {
    const d = new Date();
    const p = (n: number) => String(n).padStart(2, '0');
    const ts = `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    this.textLog.push(`${ts} - mmengine - ${level.toUpperCase()} - ${text}`);
    this.emit({ type: 'log', level, text });
  }

  /** Logs an info line. */
  info(text: string): void {
    this.log('info', text);
  }

  /** Logs a warning line. */
  warn(text: string): void {
    this.log('warning', text);
  }

  /** Appends one `scalars.json` line (`LocalVisBackend.add_scalars`). */
  addScalars(tag: Record<string, unknown>, step: number): void {
    this.scalarLines.push(JSON.stringify({ ...tag, step }));
  }

  /** Calls a hook point on every hook in priority order. */
  async callHook(name: keyof Hook, ...args: unknown[]): Promise<void> {
    for (const h of this.hooks) {
      const f = h[name];
      if (typeof f === 'function') await (f as (...a: unknown[]) => unknown).call(h, this, ...args);
    }
  }

  /** Asks the train loop to stop after the current iteration. */
  requestStop(): void {
    if (this.trainLoop) {
      this.trainLoop.stopTraining = true;
      this.stopReason ??= 'requested';
    }
  }

  // ---- train step ----

  /** One training iteration with its hooks; false when the loss was not finite (nothing updated). */
  async runTrainIter(batchIdx: number, batch: unknown[]): Promise<boolean> {
    await this.callHook('beforeTrainIter', batchIdx, batch);
    let outputs: Record<string, number>;
    try {
      outputs = await this.trainStep(batch as S[]);
    } catch (e) {
      if (e instanceof NonFiniteLoss) {
        this.stopReason = 'non-finite-loss';
        this.trainLoop!.stopTraining = true;
        const msg =
          `loss is ${e.value} at epoch ${this.epoch + 1}, iteration ${this.iter + 1}: training stopped without applying this update. ` +
          'The last saved checkpoint is kept. Try a lower learning rate or gradient clipping (optim_wrapper.clip_grad=dict(max_norm=35, norm_type=2)).';
        this.log('error', msg);
        return false;
      }
      throw e;
    }
    await this.callHook('afterTrainIter', batchIdx, outputs, batch);
    this.emit({
      type: 'progress',
      mode: 'train',
      epoch: this.epoch,
      iter: this.iter + 1,
      maxIters: this.maxIters,
      batchIdx,
      batches: this.dataloaderLength('train'),
    });
    return true;
  }

  /** `model.train_step`: loss → parse → update params; returns the logged values. */
  private async trainStep(batch: S[]): Promise<Record<string, number>> {
    let logVars: Array<[string, tf.Scalar]> = [];
    let extra: Record<string, number> | undefined;
    const res = await this.optimWrapper.updateParams(
      async () => {
        const out = await this.model.loss(batch);
        const parsed = parseLosses(out.losses);
        logVars = parsed.logVars.map(([k, v]) => [k, tf.keep(v)]);
        extra = out.parsedLog;
        return parsed.loss;
      },
      { checkFinite: true },
    );
    try {
      if (res.gradNorm) this.messageHub.updateScalar('train/grad_norm', (await res.gradNorm.data())[0]!);
      const out: Record<string, number> = {};
      const vals = await Promise.all(logVars.map(([, v]) => v.data()));
      logVars.forEach(([k], i) => (out[k] = vals[i]![0]!));
      if (extra) Object.assign(out, extra);
      if (res.skipped) throw new NonFiniteLoss(out.loss!);
      return out;
    } finally {
      for (const [, v] of logVars) v.dispose();
      res.loss.dispose();
      res.gradNorm?.dispose();
    }
  }

  // ---- run entry points ----

  /**
   * Trains as `runner.train()` does. With `resumeFrom`, restores the full state first
   * (weights, optimizer, schedulers, counters, message hub, seed, sampler and pipeline RNG state).
   */
  async train(resumeFrom?: CheckpointRecord): Promise<TrainResult> {
    if (!this.trainLoop) throw new Error('cannot train: no train dataset was given (train_dataloader.dataset)');
    if (resumeFrom) await this.resume(resumeFrom);
    this.stopReason = null;
    this.trainLoop.stopTraining = false;
    await this.callHook('beforeRun');
    await this.trainLoop.run();
    await this.callHook('afterRun');
    const reason = this.stopReason ?? 'finished';
    const message =
      reason === 'finished' ? 'training finished' : reason === 'requested' ? 'training stopped on request' : 'training stopped: non-finite loss';
    this.emit({ type: 'stopped', reason, message, epoch: this.epoch, iter: this.iter });
    return { reason, epoch: this.epoch, iter: this.iter };
  }

  /** Runs the val loop once (`runner.val()`). */
  async val(): Promise<Record<string, number | string>> {
    if (!this.valLoop) throw new Error('cannot validate: val dataset or val_evaluator missing');
    return this.valLoop.run();
  }

  /** Runs the test loop once (`runner.test()`). */
  async test(): Promise<Record<string, number | string>> {
    if (!this.testLoop) throw new Error('cannot test: test dataset or test_evaluator missing');
    return this.testLoop.run();
  }

  // ---- state ----

  private async modelStateDict(): Promise<Record<string, TensorData>> {
    const map = this.model.stateDict?.() ?? new Map(this.model.namedParameters().map((p) => [p.name, p.variable as tf.Tensor]));
    const out: Record<string, TensorData> = {};
    for (const [k, t] of map) {
      const data = await t.data();
      out[k] = t.dtype === 'int32' ? { dtype: 'int32', shape: t.shape.slice(), data: data as Int32Array } : { dtype: 'float32', shape: t.shape.slice(), data: Float32Array.from(data as Float32Array) };
    }
    return out;
  }

  /** Full training state as a checkpoint record (weights, optimizer, schedulers, hub, counters, sampler). */
  async stateDict(name = 'state.pth', counters?: { epoch: number; iter: number }): Promise<CheckpointRecord> {
    const rec: CheckpointRecord = {
      name,
      meta: {
        epoch: counters?.epoch ?? this.epoch,
        iter: counters?.iter ?? this.iter,
        seed: this.seed,
        time: new Date().toISOString(),
        experiment_name: this.experimentName,
        ...(this.opts.cfgText !== undefined ? { cfg: this.opts.cfgText } : {}),
        ...(this.trainDataloader?.dataset.metainfo ? { dataset_meta: this.trainDataloader.dataset.metainfo } : {}),
      },
      state_dict: await this.modelStateDict(),
      message_hub: this.messageHub.stateDict(),
    };
    if (this.trainLoop) {
      rec.optimizer = await this.optimWrapper.stateDict();
      rec.param_schedulers = this.paramSchedulers.map((s) => s.stateDict());
      if (this.trainDataloader) {
        rec.sampler = this.trainDataloader.sampler.stateDict();
        const rng = this.trainDataloader.rngState();
        if (rng) rec.pipeline_rng = rng;
      }
      const modelRng = this.model.randomState?.();
      if (modelRng && Object.keys(modelRng).length) rec.model_rng = modelRng;
    }
    return rec;
  }

  /** Saves a checkpoint through the store (CheckpointHook). */
  async saveCheckpoint(
    name: string,
    opts: { optimizer: boolean; paramSchedulers: boolean; best?: boolean; metrics?: Record<string, number | string> },
  ): Promise<CheckpointInfo> {
    if (!this.store) throw new Error('no checkpoint store');
    // Counters of completed work: after_train_epoch runs before the loop's epoch += 1, iteration
    // hooks before iter += 1 (IterBasedTrainLoop), validation after both.
    const epochBased = this.trainLoop instanceof EpochBasedTrainLoop;
    const counters = opts.best ? { epoch: this.epoch, iter: this.iter } : epochBased ? { epoch: this.epoch + 1, iter: this.iter } : { epoch: this.epoch, iter: this.iter + 1 };
    const rec = await this.stateDict(name, counters);
    if (!opts.optimizer) delete rec.optimizer;
    if (!opts.paramSchedulers) delete rec.param_schedulers;
    if (opts.metrics) {
      rec.metrics = {};
      for (const [k, v] of Object.entries(opts.metrics)) if (typeof v === 'number') rec.metrics[k] = v;
    }
    const id = await this.store.save(rec);
    this.emit({ type: 'checkpoint-saved', id, name, epoch: counters.epoch, iter: counters.iter, best: Boolean(opts.best) });
    const list = await this.store.list();
    return list.find((c) => c.id === id) ?? { id, name, epoch: counters.epoch, iter: counters.iter, sizeBytes: 0, date: rec.meta.time };
  }

  /** Restores weights only (`load_from`). */
  loadWeights(stateDict: Record<string, TensorData>): void {
    const tensors = new Map<string, tf.Tensor>();
    for (const [k, t] of Object.entries(stateDict)) tensors.set(k, tf.tensor(t.data as Float32Array | Int32Array, t.shape, t.dtype === 'int32' ? 'int32' : 'float32'));
    try {
      if (this.model.loadStateDict) {
        this.model.loadStateDict(tensors);
      } else {
        for (const p of this.model.namedParameters()) {
          const t = tensors.get(p.name);
          if (!t) throw new Error(`checkpoint has no '${p.name}'`);
          if (t.shape.join() !== p.variable.shape.join()) throw new Error(`'${p.name}': checkpoint shape [${t.shape}] vs model [${p.variable.shape}]`);
          p.variable.assign(t);
        }
      }
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }

  /** Restores the full training state (`resume=True`). */
  async resume(rec: CheckpointRecord): Promise<void> {
    if (!this.trainLoop) throw new Error('cannot resume without a train loop');
    this.loadWeights(rec.state_dict);
    if (rec.optimizer) this.optimWrapper.loadStateDict(rec.optimizer);
    else this.warn(`checkpoint ${rec.name} has no optimizer state; momentum buffers start empty`);
    if (rec.param_schedulers) {
      if (rec.param_schedulers.length !== this.paramSchedulers.length) {
        throw new Error(`checkpoint has ${rec.param_schedulers.length} parameter schedulers, the config ${this.paramSchedulers.length}`);
      }
      rec.param_schedulers.forEach((s, i) => this.paramSchedulers[i]!.loadStateDict(s));
    }
    if (rec.message_hub) this.messageHub.loadStateDict(rec.message_hub);
    if (rec.model_rng && this.model.setRandomState) this.model.setRandomState(rec.model_rng);
    else if (this.model.randomState && Object.keys(this.model.randomState()).length) {
      this.info(`checkpoint ${rec.name} holds no proposal-sampler state (saved by an older version): RPN/R-CNN sampling after the resume differs from an uninterrupted run`);
    }
    this.trainLoop.epoch = rec.meta.epoch;
    this.trainLoop.iter = rec.meta.iter;
    const seedChanged = rec.meta.seed !== this.seed;
    if (seedChanged) {
      // MMEngine warns only when the config set a seed (a drawn one is replaced silently).
      if (typeof obj(this.cfg.randomness, 'randomness').seed === 'number') {
        this.warn(`The value of random seed in the checkpoint "${rec.meta.seed}" is different from the value in \`randomness\` config "${this.seed}"`);
      }
      this.seed = rec.meta.seed;
    }
    if (this.trainDataloader) {
      const sampler = this.trainDataloader.sampler;
      if (rec.sampler) sampler.loadStateDict(rec.sampler);
      else sampler.seed = this.seed;
      const rng = this.trainDataloader.rng;
      if (rng && rec.pipeline_rng) {
        rng.setState(rec.pipeline_rng);
      } else if (rng) {
        // Older records: MMEngine's behaviour (re-seed the random sources with the checkpoint's seed).
        if (seedChanged) rng.setState(seededRng(this.seed).getState());
        this.info(
          `checkpoint ${rec.name} holds no pipeline RNG state (saved by an older version): RandomFlip/RandomResize draws after the resume ` +
            'start a fresh stream and differ from those of an uninterrupted run',
        );
      }
    }
    if (this.store) {
      const ck = this.hooks.find((h) => h instanceof CheckpointHook) as CheckpointHook | undefined;
      if (ck) {
        const list = await this.store.list();
        ck.keepCkpts = list.filter((c) => /^(epoch|iter)_\d+\.pth$/.test(c.name) && c.iter <= rec.meta.iter);
      }
    }
    this.info(`resumed epoch: ${rec.meta.epoch}, iter: ${rec.meta.iter}`);
  }
}
