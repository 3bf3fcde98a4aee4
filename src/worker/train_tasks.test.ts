/**
 * The training service in Node: a real Runner (SGD, schedulers, hooks, checkpoints) on a small
 * trainable linear model, the real IndexedDB checkpoint database (fake-indexeddb), the real config
 * language. Checks pause/resume/stop, scalars persisted with the run, the storage-quota pause,
 * the cross-tab lock, resume-from-checkpoint equivalence, and exports readable by the reader.
 */
import 'fake-indexeddb/auto';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/index.ts';
import type { BuiltRunner } from '../runner/build.ts';
import { seededRng, type StatefulRng } from '../data/transforms/types.ts';
import type { RunnerDataset } from '../runner/data/types.ts';
import { Runner } from '../runner/runner.ts';
import type { RunnerEvaluator, RunnerModel } from '../runner/types.ts';
import { CheckpointDb, StorageQuotaError } from '../storage/checkpoint_db.ts';
import type { TrainEvents } from './train_protocol.ts';
import {
  PauseGate,
  TrainingService,
  WeightsStore,
  demoUrl,
  isOutOfMemory,
  resolveForTraining,
  truncateScalars,
  type TrainEnvironment,
} from './train_tasks.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Sample {
  x: [number, number];
  y: number;
}

/** A genuinely trainable model: y = x·w + b with a squared-error loss. */
class Linear implements RunnerModel<Sample, number> {
  readonly w = tf.variable(tf.tensor2d([[0.1], [-0.2]]), true);
  readonly b = tf.variable(tf.tensor1d([0]), true);
  namedParameters() {
    return [
      { name: 'fc.weight', variable: this.w },
      { name: 'fc.bias', variable: this.b },
    ];
  }
  private forward(batch: Sample[]): tf.Tensor1D {
    return tf.add(tf.reshape(tf.matMul(tf.tensor2d(batch.map((s) => s.x)), this.w), [-1]), this.b) as tf.Tensor1D;
  }
  loss(batch: Sample[]) {
    const err = tf.sub(this.forward(batch), tf.tensor1d(batch.map((s) => s.y)));
    return { losses: { loss_mse: tf.mean(tf.square(err)), acc: tf.mul(tf.mean(tf.cast(tf.less(tf.abs(err), 0.5), 'float32')), 100) } };
  }
  predict(batch: Sample[]) {
    return tf.tidy(() => Array.from(this.forward(batch).dataSync()));
  }
  dispose() {
    this.w.dispose();
    this.b.dispose();
  }
}

function dataset(n: number): RunnerDataset<Sample> {
  const s: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const x: [number, number] = [Math.sin(i * 1.7), Math.cos(i * 0.9)];
    s.push({ x, y: 2 * x[0] - 3 * x[1] + 0.5 });
  }
  return { length: n, get: (i) => s[i]!, getDataInfo: () => ({ width: 100, height: 100 }), metainfo: { classes: ['y'] } };
}

/** A "pipeline" with a random flip of the first feature, drawn from the run's train stream. */
function augmented(ds: RunnerDataset<Sample>, rng: StatefulRng): RunnerDataset<Sample> {
  return {
    ...ds,
    get: async (i) => {
      const s = (await ds.get(i)) as Sample;
      const x: [number, number] = rng.random() < 0.5 ? [-s.x[0], s.x[1]] : s.x;
      return { x, y: 2 * x[0] - 3 * x[1] + 0.5 };
    },
  };
}

class Acc implements RunnerEvaluator<Sample, number> {
  private e: number[] = [];
  process(b: Sample[], p: number[]) {
    b.forEach((s, i) => this.e.push(Math.abs(p[i]! - s.y)));
  }
  async evaluate() {
    const v = this.e.filter((x) => x < 1).length / this.e.length;
    this.e = [];
    return { 'reg/acc': v };
  }
}

const CONFIG = `
train_dataloader = dict(batch_size=4, sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(batch_size=4, sampler=dict(type='DefaultSampler', shuffle=False))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=6, val_interval=3)
val_cfg = dict(type='ValLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0001))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=4)]
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2))
log_processor = dict(by_epoch=False, window_size=1)
randomness = dict(seed=3)
`;

let dbCount = 0;

function makeEnv(over: Partial<TrainEnvironment> = {}): { env: TrainEnvironment; db: Promise<CheckpointDb> } {
  const db = CheckpointDb.open(`train-tasks-${process.pid}-${dbCount}`);
  const weightsName = `train-weights-${process.pid}-${dbCount++}`;
  const env: TrainEnvironment = {
    builtins: { 'mine/linear.py': CONFIG },
    openDb: () => db,
    openWeights: () => WeightsStore.open(weightsName),
    datasetReader: () => async (p) => {
      throw new Error(`no file ${p}`);
    },
    initBackend: async () => ({ name: 'cpu', notice: 'Running on cpu (test)' }),
    buildRunner: async (cfg, _ctx, opts) => {
      const model = new Linear();
      const rng = seededRng(3);
      const runner = new Runner<Sample, number>({
        cfg,
        model,
        trainDataset: augmented(dataset(16), rng),
        trainPipelineRng: rng,
        valDataset: dataset(8),
        valEvaluator: new Acc(),
        store: opts.store ?? null,
        listener: opts.listener,
        cfgText: opts.cfgText,
      });
      return { runner, detector: model, loadReport: null, warnings: [] } as unknown as BuiltRunner;
    },
    flushMs: 5,
    ...over,
  };
  return { env, db };
}

type Ev = { name: keyof TrainEvents; payload: TrainEvents[keyof TrainEvents] };

function service(env: TrainEnvironment, onEvent?: (e: Ev, svc: TrainingService) => void): { svc: TrainingService; events: Ev[] } {
  const events: Ev[] = [];
  const svc: TrainingService = new TrainingService(env, (name, payload) => {
    const e = { name, payload } as Ev;
    events.push(e);
    onEvent?.(e, svc);
  });
  return { svc, events };
}

const lrRows = (rows: Array<Record<string, number | string>>) => rows.filter((r) => 'lr' in r).map((r) => [r.step, r.lr, r.loss]);

describe('training service pieces', () => {
  it('maps demo data_root paths to same-origin URLs', () => {
    expect(demoUrl('public/demo/cityscapes/annotations/a.json')).toBe('/demo/cityscapes/annotations/a.json');
    expect(demoUrl('./public/demo/cityscapes//leftImg8bit/x.png')).toBe('/demo/cityscapes/leftImg8bit/x.png');
    expect(demoUrl('data/cityscapes/a.json')).toBe('/data/cityscapes/a.json');
  });

  it('gates while paused and counts the paused time', async () => {
    let t = 10;
    const g = new PauseGate(() => t);
    await g.wait();
    g.pause();
    let passed = false;
    const w = g.wait().then(() => (passed = true));
    await Promise.resolve();
    expect(passed).toBe(false);
    t = 13.5;
    g.resume();
    await w;
    expect(passed).toBe(true);
    expect(g.pausedSeconds).toBe(3.5);
  });

  it('recognises out-of-memory errors and cuts scalars logged after a checkpoint', () => {
    expect(isOutOfMemory(new RangeError('Array buffer allocation failed'))).toBe(true);
    expect(isOutOfMemory(new Error('Requested size exceeds the maxBufferSize'))).toBe(true);
    expect(isOutOfMemory(new Error('shape mismatch'))).toBe(false);
    const rows: Array<Record<string, number>> = [{ lr: 1, step: 1 }, { lr: 1, step: 2 }, { 'coco/bbox_mAP': 0.1, step: 1 }, { lr: 1, step: 3 }, { 'coco/bbox_mAP': 0.2, step: 2 }];
    expect(truncateScalars(rows, 2)).toEqual(rows.slice(0, 3));
  });

  it('resolves the config with cfg-options and reports config errors clearly', () => {
    const { cfg } = resolveForTraining({ 'mine/linear.py': CONFIG }, { path: 'mine/linear.py', userFiles: {}, cfgOptions: ['train_cfg.max_iters=2'] });
    expect((cfg.train_cfg as { max_iters: number }).max_iters).toBe(2);
    expect(() => resolveForTraining({}, { path: 'mine/bad.py', userFiles: { 'mine/bad.py': 'x = dict(' } })).toThrow(/bad\.py/);
  });
});

describe('TrainingService', () => {
  it('trains, pauses, resumes, persists scalars and checkpoints, exports', async () => {
    const { env, db } = makeEnv();
    let paused = false;
    const { svc, events } = service(env, (e, s) => {
      if (e.name === 'train-log' && (e.payload as TrainEvents['train-log']).step === 2 && !paused) {
        paused = true;
        s.pause();
      }
    });
    const started = await svc.start({ path: 'mine/linear.py', userFiles: {}, dataset: { kind: 'demo' } });
    expect(started.maxIters).toBe(6);
    await vi_waitFor(() => svc.status === 'paused');
    await new Promise((r) => setTimeout(r, 20));
    const progressBefore = events.filter((e) => e.name === 'progress').length;
    await new Promise((r) => setTimeout(r, 30));
    expect(events.filter((e) => e.name === 'progress').length).toBe(progressBefore);
    svc.resume();
    await svc.whenDone();
    expect(svc.status).toBe('finished');
    const statuses = events.filter((e) => e.name === 'status').map((e) => (e.payload as TrainEvents['status']).status);
    expect(statuses).toEqual(['starting', 'running', 'paused', 'running', 'finished']);
    const logs = events.filter((e) => e.name === 'train-log').map((e) => (e.payload as TrainEvents['train-log']).tag);
    expect(logs).toHaveLength(6);
    for (const k of ['lr', 'loss', 'loss_mse', 'acc', 'time', 'data_time', 'memory']) expect(logs[0]).toHaveProperty(k);
    expect(events.filter((e) => e.name === 'val-metrics')).toHaveLength(2);

    const runs = await svc.listRuns();
    expect(runs[0]!.status).toBe('finished');
    const rows = await svc.runScalars(started.runId);
    expect(rows.filter((r) => 'lr' in r).map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows.filter((r) => 'reg/acc' in r)).toHaveLength(2);
    const ckpts = await svc.listCheckpoints(started.runId);
    expect(ckpts.map((c) => c.name)).toEqual(['iter_2.pth', 'iter_4.pth', 'iter_6.pth']);
    expect(await (await db).getRun(started.runId)).toBeTruthy();

    const pth = await svc.exportFile({ runId: started.runId, checkpointId: ckpts[2]!.id, format: 'pth' });
    expect(pth.fileName).toBe('iter_6.pth');
    const back = readCheckpoint(pth.bytes);
    expect([...back.stateDict.keys()].sort()).toEqual(['fc.bias', 'fc.weight']);
    expect((back.meta as Record<string, unknown>).iter).toBe(6);
    const st = await svc.exportFile({ runId: started.runId, checkpointId: ckpts[2]!.id, format: 'safetensors' });
    expect(Array.from(readCheckpoint(st.bytes).stateDict.get('fc.weight')!.data as Float32Array)).toEqual(Array.from(back.stateDict.get('fc.weight')!.data as Float32Array));
    const cfg = new TextDecoder().decode((await svc.exportFile({ runId: started.runId, format: 'config' })).bytes);
    expect(cfg).toContain('IterBasedTrainLoop');
    const log = new TextDecoder().decode((await svc.exportFile({ runId: started.runId, format: 'log' })).bytes);
    expect(log).toMatch(/ - mmengine - INFO - Iter\(train\) \[6\/6\]/);
    // The text log is stored with the run: a fresh worker (a page reload) exports the same lines.
    const { svc: reloaded } = service(env);
    expect(new TextDecoder().decode((await reloaded.exportFile({ runId: started.runId, format: 'log' })).bytes)).toBe(log);
    expect((await reloaded.runLog(started.runId)).length).toBe(log.trim().split('\n').length);
    const scalars = new TextDecoder().decode((await svc.exportFile({ runId: started.runId, format: 'scalars' })).bytes);
    expect(scalars.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)[0]).toHaveProperty('lr');
    // The MMDetection bundle: config (load_from → the bundled weights), weights, logs, README.
    const bundle = await svc.exportFile({ runId: started.runId, checkpointId: ckpts[2]!.id, format: 'bundle' });
    const files = unzipSync(bundle.bytes);
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['config.py', 'README.md', 'logs/vis_data/scalars.json', `weights/${ckpts[2]!.name}`]));
    expect(new TextDecoder().decode(files['config.py'])).toContain(`load_from = 'weights/${ckpts[2]!.name}'`);
    expect([...readCheckpoint(files[`weights/${ckpts[2]!.name}`]!).stateDict.keys()].sort()).toEqual(['fc.bias', 'fc.weight']);
  });

  it('resumes from a checkpoint with the lr and losses (augmentation draws included) of an uninterrupted run', async () => {
    const { env } = makeEnv();
    const { svc } = service(env);
    const full = await svc.start({ path: 'mine/linear.py', userFiles: {}, dataset: { kind: 'demo' } });
    await svc.whenDone();
    const fullRows = lrRows(await svc.runScalars(full.runId));

    let stopped = false;
    const { svc: svc2 } = service(env, (e, s) => {
      if (e.name === 'checkpoint-saved' && (e.payload as TrainEvents['checkpoint-saved']).iter === 4 && !stopped) {
        stopped = true;
        s.stop();
      }
    });
    const part = await svc2.start({ path: 'mine/linear.py', userFiles: {}, dataset: { kind: 'demo' } });
    await svc2.whenDone();
    expect(svc2.status).toBe('stopped');
    const ck = (await svc2.listCheckpoints(part.runId)).find((c) => c.name === 'iter_2.pth')!;
    await svc2.resumeFrom({ runId: part.runId, checkpointId: ck.id, dataset: { kind: 'demo' } });
    await svc2.whenDone();
    expect(svc2.status).toBe('finished');
    const resumed = lrRows(await svc2.runScalars(part.runId));
    expect(resumed.map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(resumed).toEqual(fullRows);
  });

  it('pauses on a full disk with the state kept, and retries the save on resume', async () => {
    const { env, db } = makeEnv();
    const d = await db;
    const save = d.saveCheckpoint.bind(d);
    let fail = 1;
    d.saveCheckpoint = (async (...args: Parameters<typeof save>) => {
      if (fail-- > 0) throw new StorageQuotaError('Browser storage is full: test.');
      return save(...args);
    }) as typeof d.saveCheckpoint;
    const { svc, events } = service(env);
    const started = await svc.start({ path: 'mine/linear.py', userFiles: {}, dataset: { kind: 'demo' } });
    await vi_waitFor(() => svc.status === 'paused');
    const st = events.filter((e) => e.name === 'status').pop()!.payload as TrainEvents['status'];
    expect(st.reason).toBe('storage-quota');
    expect(st.message).toMatch(/storage is full/);
    svc.resume();
    await svc.whenDone();
    expect(svc.status).toBe('finished');
    expect((await svc.listCheckpoints(started.runId)).map((c) => c.name)).toEqual(['iter_2.pth', 'iter_4.pth', 'iter_6.pth']);
  });

  it('refuses to train when another tab holds the lock, and a second start in the same tab', async () => {
    const { env } = makeEnv({ acquireLock: async () => null });
    const { svc, events } = service(env);
    await expect(svc.start({ path: 'mine/linear.py', userFiles: {}, dataset: { kind: 'demo' } })).rejects.toThrow(/Another DetStudio tab is training/);
    expect((events.filter((e) => e.name === 'status').pop()!.payload as TrainEvents['status']).failure).toBe('locked');

    const { env: env2 } = makeEnv();
    const { svc: svc2 } = service(env2);
    await svc2.start({ path: 'mine/linear.py', userFiles: {}, dataset: { kind: 'demo' } });
    await expect(svc2.start({ path: 'mine/linear.py', userFiles: {}, dataset: { kind: 'demo' } })).rejects.toThrow(/already in progress/);
    await svc2.whenDone();
  });

  it('stores dropped weights for load_from and rejects files that are not checkpoints', async () => {
    const { env } = makeEnv();
    const { svc } = service(env);
    const started = await svc.start({ path: 'mine/linear.py', userFiles: {}, dataset: { kind: 'demo' } });
    await svc.whenDone();
    const ck = (await svc.listCheckpoints(started.runId))[0]!;
    const pth = await svc.exportFile({ runId: started.runId, checkpointId: ck.id, format: 'pth' });
    const w = await svc.importWeights('my model.pth', pth.bytes);
    expect(w.uri).toBe('weights://my_model.pth');
    expect(w.tensors).toBe(2);
    expect((await svc.listWeights()).map((x) => x.uri)).toEqual(['weights://my_model.pth']);
    await expect(svc.importWeights('junk.pth', new Uint8Array([1, 2, 3, 4]))).rejects.toThrow(/not a readable/);
  });
});

async function vi_waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 2));
  }
}
