import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from './checkpoint_store';
import { RepeatDataset } from './data/dataset_wrappers';
import type { RunnerDataset } from './data/types';
import { type Hook, PRIORITY } from './hooks';
import { Runner } from './runner';
import type { RunnerEvaluator, RunnerEvent, RunnerModel } from './types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Sample {
  x: [number, number];
  y: number;
}

/** A genuinely trainable test model: y = x·w + b, mean squared error. */
class LinearRegression implements RunnerModel<Sample, number> {
  readonly w = tf.variable(tf.tensor2d([[0.1], [-0.2]]), true);
  readonly b = tf.variable(tf.tensor1d([0]), true);
  training = true;
  namedParameters() {
    return [
      { name: 'fc.weight', variable: this.w },
      { name: 'fc.bias', variable: this.b },
    ];
  }
  private forward(batch: Sample[]): tf.Tensor1D {
    const x = tf.tensor2d(batch.map((s) => s.x));
    return tf.add(tf.reshape(tf.matMul(x, this.w), [-1]), this.b) as tf.Tensor1D;
  }
  loss(batch: Sample[]) {
    const pred = this.forward(batch);
    const y = tf.tensor1d(batch.map((s) => s.y));
    const err = tf.sub(pred, y);
    return {
      losses: {
        loss_mse: tf.mean(tf.square(err)),
        acc: tf.mul(tf.mean(tf.cast(tf.less(tf.abs(err), 0.1), 'float32')), 100),
      },
    };
  }
  predict(batch: Sample[]) {
    return tf.tidy(() => Array.from(this.forward(batch).dataSync()));
  }
  setTraining(t: boolean) {
    this.training = t;
  }
  dispose() {
    this.w.dispose();
    this.b.dispose();
  }
}

function makeDataset(n: number, nan = false): RunnerDataset<Sample> {
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const x: [number, number] = [Math.sin(i * 1.7), Math.cos(i * 0.9)];
    samples.push({ x, y: nan && i === 5 ? NaN : 2 * x[0] - 3 * x[1] + 0.5 });
  }
  return {
    length: n,
    get: (i) => samples[i]!,
    getDataInfo: (i) => ({ width: i % 3 === 0 ? 100 : 200, height: 150 }),
    metainfo: { classes: ['y'] },
  };
}

class AccuracyMetric implements RunnerEvaluator<Sample, number> {
  private errs: number[] = [];
  process(batch: Sample[], preds: number[]) {
    batch.forEach((s, i) => this.errs.push(Math.abs(preds[i]! - s.y)));
  }
  async evaluate() {
    const acc = this.errs.filter((e) => e < 0.05).length / this.errs.length;
    this.errs = [];
    return { 'reg/acc': acc };
  }
}

function config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    train_dataloader: {
      batch_size: 4,
      sampler: { type: 'DefaultSampler', shuffle: true },
      batch_sampler: { type: 'AspectRatioBatchSampler' },
    },
    val_dataloader: { batch_size: 4, sampler: { type: 'DefaultSampler', shuffle: false } },
    train_cfg: { type: 'EpochBasedTrainLoop', max_epochs: 6, val_interval: 2 },
    val_cfg: { type: 'ValLoop' },
    optim_wrapper: { type: 'OptimWrapper', optimizer: { type: 'SGD', lr: 0.2, momentum: 0.5, weight_decay: 1e-4 } },
    param_scheduler: [
      { type: 'LinearLR', start_factor: 0.1, by_epoch: false, begin: 0, end: 10 },
      { type: 'MultiStepLR', by_epoch: true, begin: 0, end: 6, milestones: [5], gamma: 0.1 },
    ],
    default_hooks: {
      timer: { type: 'IterTimerHook' },
      logger: { type: 'LoggerHook', interval: 2 },
      param_scheduler: { type: 'ParamSchedulerHook' },
      checkpoint: { type: 'CheckpointHook', interval: 1, max_keep_ckpts: 2, save_best: 'auto' },
      sampler_seed: { type: 'DistSamplerSeedHook' },
      visualization: { type: 'DetVisualizationHook' },
    },
    log_processor: { type: 'LogProcessor', window_size: 5, by_epoch: true },
    randomness: { seed: 42 },
    ...overrides,
  };
}

/** Records the lr used by each step, the momentum buffer and the weights after it. */
class Recorder implements Hook {
  readonly name = 'Recorder';
  readonly priority = PRIORITY.LOWEST;
  rows: Array<{ iter: number; lr: number; momentum: number; buf: number[]; w: number[] }> = [];
  private lr = 0;
  beforeTrainIter(r: Runner) {
    this.lr = r.optimWrapper.getLr()[0]!;
  }
  afterTrainIter(r: Runner) {
    const buf = r.optimWrapper.optimizer.buffers.get('fc.weight')!;
    const w = r.optimWrapper.optimizer.params.get('fc.weight')!;
    this.rows.push({ iter: r.iter, lr: this.lr, momentum: r.optimWrapper.getMomentum()[0]!, buf: Array.from(buf.dataSync()), w: Array.from(w.dataSync()) });
  }
}

function makeRunner(opts: { cfg?: Record<string, unknown>; store?: MemoryCheckpointStore; hooks?: Hook[]; events?: RunnerEvent[]; n?: number; nan?: boolean }) {
  const model = new LinearRegression();
  let t = 0;
  const runner = new Runner<Sample, number>({
    cfg: opts.cfg ?? config(),
    model,
    trainDataset: makeDataset(opts.n ?? 24, opts.nan),
    valDataset: makeDataset(12),
    valEvaluator: new AccuracyMetric(),
    store: opts.store ?? new MemoryCheckpointStore(),
    listener: (e) => opts.events?.push(e),
    extraHooks: opts.hooks,
    now: () => (t += 0.25),
    memoryMB: () => 12,
  });
  return { runner, model };
}

describe('Runner end-to-end on a trainable linear model', () => {
  it('trains, logs like MMEngine, validates, keeps checkpoints and the best one', async () => {
    const events: RunnerEvent[] = [];
    const store = new MemoryCheckpointStore();
    const rec = new Recorder();
    const { runner, model } = makeRunner({ store, hooks: [rec], events });
    expect(runner.dataloaderLength('train')).toBe(6);
    const res = await runner.train();
    expect(res).toEqual({ reason: 'finished', epoch: 6, iter: 36 });

    // learns: the final loss is far below the first one and validation accuracy reaches 100 %
    const logs = events.filter((e) => e.type === 'train-log') as Array<Extract<RunnerEvent, { type: 'train-log' }>>;
    expect(logs.length).toBe(18);
    expect(logs[logs.length - 1]!.tag.loss!).toBeLessThan(logs[0]!.tag.loss! / 100);
    const vals = events.filter((e) => e.type === 'val-metrics') as Array<Extract<RunnerEvent, { type: 'val-metrics' }>>;
    expect(vals.map((v) => v.epoch)).toEqual([2, 4, 6]);
    expect(vals[2]!.metrics['reg/acc']).toBe(1);

    // lr: warm-up over 10 iterations, then ×0.1 at epoch 5 (iteration 30)
    expect(rec.rows[0]!.lr).toBeCloseTo(0.02, 15);
    expect(rec.rows[10]!.lr).toBeCloseTo(0.2, 12);
    expect(rec.rows[29]!.lr).toBe(rec.rows[10]!.lr);
    expect(rec.rows[30]!.lr).toBeCloseTo(0.02, 12);

    // the text log line and the scalars.json keys follow MMEngine's format
    expect(logs[0]!.text).toMatch(
      /^Epoch\(train\) \[1\]\[2\/6\]  lr: \d\.\d{4}e-02  eta: 0:00:\d\d  time: 0\.\d{4}  data_time: 0\.\d{4}  memory: 12  loss: \d+\.\d{4}  loss_mse: \d+\.\d{4}  acc: \d+\.\d{4}$/,
    );
    const first = JSON.parse(runner.scalarLines[0]!);
    expect(Object.keys(first)).toEqual(['lr', 'data_time', 'loss', 'loss_mse', 'acc', 'time', 'epoch', 'iter', 'memory', 'step']);
    expect(first.step).toBe(2);
    expect(first.iter).toBe(2);
    const valLine = JSON.parse(runner.scalarLines.find((l) => l.includes('reg/acc'))!);
    expect(valLine.step).toBe(2);
    expect(vals[0]!.text).toMatch(/^Epoch\(val\) \[2\]\[3\/3\]    reg\/acc: \d\.\d{4}  data_time: \d\.\d{4}  time: \d\.\d{4}$/);
    expect(runner.textLog.some((l) => / - mmengine - INFO - Exp name: detstudio$/.test(l))).toBe(true);

    // checkpoints: max_keep_ckpts=2 periodic + one best
    const list = await store.list();
    expect(list.map((c) => c.name).sort()).toEqual(['best_reg_acc_epoch_4.pth', 'epoch_5.pth', 'epoch_6.pth'].sort());
    const saved = events.filter((e) => e.type === 'checkpoint-saved').map((e) => (e as { name: string }).name);
    expect(saved.filter((n) => n.startsWith('epoch_'))).toEqual(['epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth', 'epoch_4.pth', 'epoch_5.pth', 'epoch_6.pth']);
    const last = await store.load(list.find((c) => c.name === 'epoch_6.pth')!.id);
    expect(last.meta.epoch).toBe(6);
    expect(last.meta.iter).toBe(36);
    expect(last.optimizer!.state[0]!.momentum_buffer.shape).toEqual([2, 1]);
    expect(last.param_schedulers!.length).toBe(2);
    const best = await store.load(list.find((c) => c.name.startsWith('best_'))!.id);
    expect(best.optimizer).toBeUndefined();
    expect(best.metrics!['reg/acc']).toBe(1);
    model.dispose();
  });

  it('resuming from an epoch checkpoint gives identical lr, momentum and weights at every following iteration', async () => {
    const full = new Recorder();
    const a = makeRunner({ hooks: [full] });
    await a.runner.train();

    const store = new MemoryCheckpointStore();
    const stopAt3: Hook = {
      name: 'StopAt3',
      priority: PRIORITY.LOWEST,
      afterTrainEpoch: (r: Runner) => {
        if (r.epoch + 1 === 3) r.requestStop();
      },
    };
    const b1 = makeRunner({ store, hooks: [stopAt3] });
    const r1 = await b1.runner.train();
    expect(r1.reason).toBe('requested');
    expect(r1.epoch).toBe(3);
    const ck = (await store.list()).find((c) => c.name === 'epoch_3.pth')!;
    const record = await store.load(ck.id);

    const resumed = new Recorder();
    const b2 = makeRunner({ store, hooks: [resumed] });
    const r2 = await b2.runner.train(record);
    expect(r2).toEqual({ reason: 'finished', epoch: 6, iter: 36 });
    expect(resumed.rows.length).toBe(18);
    for (const row of resumed.rows) {
      const ref = full.rows[row.iter]!;
      expect(row.lr).toBe(ref.lr);
      expect(row.momentum).toBe(ref.momentum);
      expect(row.buf).toEqual(ref.buf);
      expect(row.w).toEqual(ref.w);
    }
    for (const r of [a, b1, b2]) r.model.dispose();
  });

  it('resumes mid-epoch from an in-memory state and matches the uninterrupted run', async () => {
    const full = new Recorder();
    const a = makeRunner({ hooks: [full] });
    await a.runner.train();
    const stopAt14: Hook = {
      name: 'StopAt14',
      priority: PRIORITY.LOWEST,
      afterTrainIter: (r: Runner) => {
        if (r.iter + 1 === 14) r.requestStop();
      },
    };
    const b1 = makeRunner({ hooks: [stopAt14] });
    await b1.runner.train();
    expect(b1.runner.iter).toBe(14);
    // serialise as the worker does (structured clone), then resume a fresh runner from it
    const state = structuredClone(await b1.runner.stateDict());
    const resumed = new Recorder();
    const b2 = makeRunner({ hooks: [resumed] });
    await b2.runner.train(state);
    expect(resumed.rows[0]!.iter).toBe(14);
    expect(resumed.rows.length).toBe(36 - 14);
    for (const row of resumed.rows) {
      const ref = full.rows[row.iter]!;
      expect(row.lr).toBe(ref.lr);
      expect(row.buf).toEqual(ref.buf);
      expect(row.w).toEqual(ref.w);
    }
    for (const r of [a, b1, b2]) r.model.dispose();
  });

  it('stops cleanly on a NaN loss without applying the update and keeps the last checkpoint', async () => {
    const events: RunnerEvent[] = [];
    const store = new MemoryCheckpointStore();
    const cfg = config({ train_dataloader: { batch_size: 4, sampler: { type: 'DefaultSampler', shuffle: false } } });
    const { runner, model } = makeRunner({ cfg, store, events, nan: true, n: 24 });
    const before = Array.from(model.w.dataSync());
    // sample 5 is in batch 1 (indices 4..7) of the first epoch
    const res = await runner.train();
    expect(res.reason).toBe('non-finite-loss');
    expect(res.iter).toBe(1);
    expect(Array.from(model.w.dataSync()).every(Number.isFinite)).toBe(true);
    expect(Array.from(model.w.dataSync())).not.toEqual(before);
    const stopped = events.find((e) => e.type === 'stopped') as Extract<RunnerEvent, { type: 'stopped' }>;
    expect(stopped.reason).toBe('non-finite-loss');
    expect(runner.textLog.some((l) => l.includes('ERROR - loss is NaN'))).toBe(true);
    expect(await store.list()).toEqual([]);
    model.dispose();
  });

  it('IterBasedTrainLoop with RepeatDataset, iteration checkpoints and an iter-based log line', async () => {
    const events: RunnerEvent[] = [];
    const store = new MemoryCheckpointStore();
    const model = new LinearRegression();
    const runner = new Runner<Sample, number>({
      cfg: config({
        train_cfg: { type: 'IterBasedTrainLoop', max_iters: 20, val_interval: 10 },
        train_dataloader: { batch_size: 2, sampler: { type: 'DefaultSampler', shuffle: true } },
        param_scheduler: [{ type: 'CosineAnnealingLR', T_max: 20, by_epoch: false, begin: 0, end: 20 }],
        default_hooks: {
          timer: { type: 'IterTimerHook' },
          logger: { type: 'LoggerHook', interval: 5 },
          param_scheduler: { type: 'ParamSchedulerHook' },
          checkpoint: { type: 'CheckpointHook', by_epoch: false, interval: 10 },
        },
        log_processor: { type: 'LogProcessor', window_size: 5, by_epoch: false },
      }),
      model,
      trainDataset: new RepeatDataset(makeDataset(6), 2),
      valDataset: makeDataset(4),
      valEvaluator: new AccuracyMetric(),
      store,
      listener: (e) => events.push(e),
      memoryMB: () => undefined,
    });
    expect(runner.dataloaderLength('train')).toBe(6);
    const res = await runner.train();
    expect(res.iter).toBe(20);
    const logs = events.filter((e) => e.type === 'train-log') as Array<Extract<RunnerEvent, { type: 'train-log' }>>;
    expect(logs[0]!.text).toMatch(/^Iter\(train\) \[ 5\/20\]  lr: /);
    expect((await store.list()).map((c) => c.name)).toEqual(['iter_10.pth', 'iter_20.pth']);
    expect(events.filter((e) => e.type === 'val-metrics').length).toBe(2);
    model.dispose();
  });

  it('rejects unsupported config with clear messages', () => {
    const model = new LinearRegression();
    const mk = (cfg: Record<string, unknown>) => () =>
      new Runner<Sample, number>({ cfg: config(cfg), model, trainDataset: makeDataset(8) });
    expect(mk({ train_cfg: { type: 'WeirdLoop' } })).toThrow(/WeirdLoop/);
    expect(mk({ train_dataloader: { batch_size: 2, sampler: { type: 'InfiniteSampler' } } })).toThrow(/InfiniteSampler/);
    expect(mk({ optim_wrapper: { optimizer: { type: 'AdamW', lr: 1 } } })).toThrow(/AdamW/);
    model.dispose();
  });
});
