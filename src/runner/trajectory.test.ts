/**
 * The training trajectory does not depend on validations or on interruptions: the real Cityscapes
 * fixture pipeline (RandomResize + RandomFlip, decoded PNGs, AspectRatioBatchSampler, prefetching
 * as with `num_workers=2`) feeds a small model whose loss depends on every flip and scale. A run
 * that validates (with a val pipeline that draws random numbers too), a run that does not, and a
 * run stopped at iteration 5, saved as a `.pth` and resumed in a fresh runner, must see the same
 * batches (image ids, flips, shapes) and the same lr, momentum buffers, weights and losses — bit for
 * bit — at every iteration.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDataset, type CocoDatasetCfg } from '../data/datasets';
import type { PackedInputs } from '../data/transforms/formatting';
import { cityscapesFixtureTrainDataset, fixturePath } from '../testing/fixtures';
import { pipelineContexts, runnerDataset } from './build';
import type { CheckpointRecord } from './checkpoint_store';
import { type Hook, PRIORITY } from './hooks';
import { FileCheckpointStore } from './node/file_checkpoint_store';
import { Runner } from './runner';
import type { RunnerEvaluator, RunnerModel } from './types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Cfg = Record<string, unknown>;

/** Flip- and scale-sensitive image statistics: left-minus-right brightness, height, a bias. */
function features(p: PackedInputs): number[] {
  const [, h, w] = p.inputs.shape;
  const d = p.inputs.data;
  let diff = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) diff += (x < w / 2 ? 1 : -1) * d[y * w + x]!;
  return [diff / (h * w * 255), h / 100, 1];
}

/** Mean normalised x-centre of the gt boxes (mirrored by a flip). */
function target(p: PackedInputs): number {
  const b = p.data_samples.gt_instances.bboxes;
  const w = (p.data_samples.metainfo.img_shape as number[])[1]!;
  let s = 0;
  for (let i = 0; i < b.length; i += 4) s += (b[i]! + b[i + 2]!) / 2 / w;
  return b.length ? s / (b.length / 4) : 0.5;
}

/** A trainable linear model on {@link features} → {@link target}, mean squared error. */
class BoxCentreRegressor implements RunnerModel<PackedInputs, number> {
  readonly w = tf.variable(tf.tensor2d([[0.1], [-0.1], [0.2]]), true);
  readonly b = tf.variable(tf.tensor1d([0]), true);
  namedParameters() {
    return [
      { name: 'head.fc.weight', variable: this.w },
      { name: 'head.fc.bias', variable: this.b },
    ];
  }
  private forward(batch: PackedInputs[]): tf.Tensor1D {
    return tf.add(tf.reshape(tf.matMul(tf.tensor2d(batch.map(features)), this.w), [-1]), this.b) as tf.Tensor1D;
  }
  loss(batch: PackedInputs[]) {
    return { losses: { loss_mse: tf.mean(tf.square(tf.sub(this.forward(batch), tf.tensor1d(batch.map(target))))) } };
  }
  predict(batch: PackedInputs[]) {
    return tf.tidy(() => Array.from(this.forward(batch).dataSync()));
  }
  dispose() {
    this.w.dispose();
    this.b.dispose();
  }
}

class MeanError implements RunnerEvaluator<PackedInputs, number> {
  private errs: number[] = [];
  process(batch: PackedInputs[], preds: number[]) {
    batch.forEach((p, i) => this.errs.push(Math.abs(preds[i]! - target(p))));
  }
  async evaluate() {
    const e = this.errs.reduce((a, b) => a + b, 0) / this.errs.length;
    this.errs = [];
    return { 'box/err': e };
  }
}

interface Row {
  iter: number;
  batch: string;
  lr: number;
  loss: number;
  buf: number[];
  w: number[];
}

/** Records what each iteration trained on and the optimizer state after it. */
class Recorder implements Hook {
  readonly name = 'Recorder';
  readonly priority = PRIORITY.LOWEST;
  rows: Row[] = [];
  private cur = { batch: '', lr: 0 };
  beforeTrainIter(r: Runner, _i: number, batch: unknown[]) {
    const desc = (batch as PackedInputs[]).map((p) => {
      const m = p.data_samples.metainfo;
      return `${String(m.img_id)}${m.flip ? 'F' : '-'}${(m.img_shape as number[]).join('x')}`;
    });
    this.cur = { batch: desc.join(','), lr: r.optimWrapper.getLr()[0]! };
  }
  afterTrainIter(r: Runner, _i: number, outputs: Record<string, number>) {
    const o = r.optimWrapper.optimizer;
    this.rows.push({
      iter: r.iter + 1,
      ...this.cur,
      loss: outputs.loss!,
      buf: Array.from(o.buffers.get('head.fc.weight')!.dataSync()),
      w: Array.from(o.params.get('head.fc.weight')!.dataSync()),
    });
  }
}

const root = `${fixturePath('cityscapes')}/`;

function config(opts: { validate: boolean; checkpointAt?: number }): Cfg {
  return {
    train_dataloader: {
      batch_size: 2,
      num_workers: 2,
      sampler: { type: 'DefaultSampler', shuffle: true },
      batch_sampler: { type: 'AspectRatioBatchSampler' },
      dataset: {
        type: 'RepeatDataset',
        times: 3,
        dataset: cityscapesFixtureTrainDataset([
          { type: 'LoadImageFromFile' },
          { type: 'LoadAnnotations', with_bbox: true, with_mask: false },
          { type: 'RandomResize', scale: [[96, 48], [160, 80]], keep_ratio: true },
          { type: 'RandomFlip', prob: 0.5 },
          { type: 'PackDetInputs' },
        ]),
      },
    },
    val_dataloader: {
      batch_size: 2,
      num_workers: 1,
      sampler: { type: 'DefaultSampler', shuffle: false },
      dataset: {
        type: 'CityscapesDataset',
        data_root: root,
        ann_file: 'instancesonly_filtered_gtFine_val.json',
        data_prefix: { img: 'cityscapes/leftImg8bit/val/' },
        test_mode: true,
        // draws random numbers too: it must not move the training stream
        pipeline: [
          { type: 'LoadImageFromFile' },
          { type: 'Resize', scale: [96, 48], keep_ratio: true },
          { type: 'RandomFlip', prob: 0.5 },
          { type: 'LoadAnnotations', with_bbox: true },
          { type: 'PackDetInputs' },
        ],
      },
    },
    train_cfg: { type: 'IterBasedTrainLoop', max_iters: 12, val_interval: opts.validate ? 3 : 1000 },
    val_cfg: { type: 'ValLoop' },
    optim_wrapper: { type: 'OptimWrapper', optimizer: { type: 'SGD', lr: 0.05, momentum: 0.9, weight_decay: 1e-4 } },
    param_scheduler: [
      { type: 'LinearLR', start_factor: 0.1, by_epoch: false, begin: 0, end: 4 },
      { type: 'MultiStepLR', by_epoch: false, begin: 0, end: 12, milestones: [7], gamma: 0.1 },
    ],
    default_hooks: {
      param_scheduler: { type: 'ParamSchedulerHook' },
      ...(opts.checkpointAt ? { checkpoint: { type: 'CheckpointHook', by_epoch: false, interval: opts.checkpointAt } } : {}),
    },
    log_processor: { type: 'LogProcessor', by_epoch: false },
    randomness: { seed: 2024 },
  };
}

const ctx = { readFile: async (p: string) => new Uint8Array(await readFile(p)) };

/** Datasets and pipeline streams built as `buildRunner` builds them, around the small model. */
async function makeRunner(cfg: Cfg, hooks: Hook[], store: FileCheckpointStore | null = null) {
  const { seed, trainCtx, evalCtx, trainRng } = pipelineContexts(cfg, ctx);
  const ds = (k: string) => (cfg[k] as { dataset: CocoDatasetCfg }).dataset;
  const model = new BoxCentreRegressor();
  const runner = new Runner<PackedInputs, number>({
    cfg,
    model,
    trainDataset: runnerDataset(await buildDataset(ds('train_dataloader'), trainCtx)),
    valDataset: runnerDataset(await buildDataset(ds('val_dataloader'), evalCtx)),
    valEvaluator: new MeanError(),
    store,
    extraHooks: hooks,
    seed,
    trainPipelineRng: trainRng,
    memoryMB: () => undefined,
  });
  return { runner, model };
}

describe('training trajectory vs validation and resume (real pipeline, prefetching loader)', () => {
  it('validating in between, or stopping, saving a .pth and resuming, trains on the same batches with identical state', async () => {
    const plain = new Recorder();
    const a = await makeRunner(config({ validate: false }), [plain]);
    expect(a.runner.trainDataloader!.prefetch).toBe(4); // num_workers * prefetch_factor
    expect(a.runner.dataloaderLength('train')).toBe(8); // 12 iterations cross an epoch end
    await a.runner.train();

    const validated = new Recorder();
    const b = await makeRunner(config({ validate: true }), [validated]);
    let vals = 0;
    b.runner.hooks.push({ name: 'CountVal', priority: PRIORITY.LOWEST, afterValEpoch: () => void (vals += 1) });
    await b.runner.train();
    expect(vals).toBe(4); // after iterations 3, 6, 9, 12 (mid-epoch ones while batches are prefetched)

    // the random draws are really used: flips and several scales occur
    const batches = plain.rows.map((r) => r.batch).join(',');
    expect(batches).toMatch(/F/);
    expect(batches).toMatch(/-/);
    expect(new Set(batches.match(/\d+x\d+/g)).size).toBeGreaterThan(3);

    expect(validated.rows.length).toBe(12);
    expect(validated.rows).toEqual(plain.rows);

    // stop after iteration 5 (mid-epoch, with batches prefetched), checkpoint as a .pth; the resume crosses the epoch end
    const dir = mkdtempSync(join(tmpdir(), 'detstudio-traj-'));
    const store = new FileCheckpointStore(dir);
    const first = new Recorder();
    const stopAt5: Hook = {
      name: 'StopAt5',
      priority: PRIORITY.LOWEST,
      afterTrainIter: (r: Runner) => {
        if (r.iter + 1 === 5) r.requestStop();
      },
    };
    const c = await makeRunner(config({ validate: true, checkpointAt: 5 }), [first, stopAt5], store);
    const res = await c.runner.train();
    expect(res).toEqual({ reason: 'requested', epoch: 0, iter: 5 });
    expect(first.rows).toEqual(plain.rows.slice(0, 5));
    const record: CheckpointRecord = await store.load('iter_5.pth');
    expect(record.pipeline_rng?.type).toBe('mulberry32');
    expect(record.sampler).toEqual({ seed: 2024, epoch: 0, shuffle: true });

    // a fresh runner (fresh datasets and streams) resumes from the file
    const resumed = new Recorder();
    const d = await makeRunner(config({ validate: true }), [resumed]);
    await d.runner.train(record);
    expect(resumed.rows.length).toBe(7);
    expect(resumed.rows).toEqual(plain.rows.slice(5));

    // an older record without the pipeline state still resumes, with a note
    const old = structuredClone(record);
    delete old.pipeline_rng;
    const e = await makeRunner(config({ validate: false }), []);
    await e.runner.resume(old);
    expect(e.runner.textLog.some((l) => l.includes('holds no pipeline RNG state'))).toBe(true);

    for (const r of [a, b, c, d, e]) r.model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('without randomness.seed (a drawn seed, as in default_runtime), the resumed run continues the saved streams', async () => {
    const noSeed = (extra: { checkpointAt?: number }) => {
      const c = config({ validate: true, ...extra });
      delete c.randomness;
      return c;
    };
    const dir = mkdtempSync(join(tmpdir(), 'detstudio-traj-'));
    const first = new Recorder();
    const stopAt5: Hook = {
      name: 'StopAt5',
      priority: PRIORITY.LOWEST,
      afterTrainIter: (r: Runner) => {
        if (r.iter + 1 === 5) r.requestStop();
      },
    };
    const c = await makeRunner(noSeed({ checkpointAt: 5 }), [first, stopAt5], new FileCheckpointStore(dir));
    await c.runner.train();
    const record = await new FileCheckpointStore(dir).load('iter_5.pth');
    // the same runner going on after the stop is the uninterrupted reference (the prefetched draws were rewound)
    c.runner.hooks.splice(c.runner.hooks.indexOf(stopAt5), 1);
    await c.runner.train();
    expect(first.rows.length).toBe(12);

    const resumed = new Recorder();
    const d = await makeRunner(noSeed({}), [resumed]);
    expect(d.runner.seed).not.toBe(c.runner.seed);
    await d.runner.train(record);
    expect(d.runner.seed).toBe(c.runner.seed);
    expect(resumed.rows).toEqual(first.rows.slice(5));
    expect(d.runner.textLog.some((l) => l.includes('random seed'))).toBe(false);
    for (const r of [c, d]) r.model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
