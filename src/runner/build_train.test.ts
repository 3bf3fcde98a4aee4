/**
 * The real model trained by the runner: the tiny Mask R-CNN (fixture weights via load_from) on the
 * Cityscapes-layout fixture, through the real pipeline, on the wasm training backend — finite
 * losses of every mmdet term, updated weights, an MMEngine log line and an iteration checkpoint.
 */
// Vitest loads tfjs-core's CommonJS build for bare imports while the setup's gradient registrations
// come from its ES build; initialise the ES build too so tensors it creates can `clone()` in gradients.
import '@tensorflow/tfjs-core/dist/index.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../ops/backend';
import { cityscapesFixtureTrainDataset, fixturePath, readFixtureJson } from '../testing/fixtures';
import { buildRunner } from './build';
import { MemoryCheckpointStore } from './checkpoint_store';
import type { DetectorAdapter } from './build';
import { type Hook, PRIORITY } from './hooks';
import type { Runner } from './runner';
import type { RunnerEvent } from './types';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', forTraining: true });
});

describe('runner + real Mask R-CNN on wasm', () => {
  it('trains two iterations from load_from and checkpoints', async () => {
    const model = readFixtureJson<Record<string, Record<string, unknown>>>('mmdet-losses', 'case_0', 'config.json').l1!;
    const cfg = {
      model,
      train_dataloader: {
        batch_size: 1,
        sampler: { type: 'DefaultSampler', shuffle: true },
        batch_sampler: { type: 'AspectRatioBatchSampler' },
        dataset: cityscapesFixtureTrainDataset([
          { type: 'LoadImageFromFile' },
          { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
          { type: 'Resize', scale: [128, 64], keep_ratio: true },
          { type: 'RandomFlip', prob: 0.5 },
          { type: 'PackDetInputs' },
        ]),
      },
      train_cfg: { type: 'IterBasedTrainLoop', max_iters: 2 },
      val_cfg: null,
      optim_wrapper: { type: 'OptimWrapper', optimizer: { type: 'SGD', lr: 0.01, momentum: 0.9, weight_decay: 0.0001 }, clip_grad: { max_norm: 35, norm_type: 2 } },
      param_scheduler: [{ type: 'LinearLR', start_factor: 0.001, by_epoch: false, begin: 0, end: 500 }],
      default_hooks: {
        timer: { type: 'IterTimerHook' },
        logger: { type: 'LoggerHook', interval: 1 },
        param_scheduler: { type: 'ParamSchedulerHook' },
        checkpoint: { type: 'CheckpointHook', by_epoch: false, interval: 2 },
      },
      log_processor: { type: 'LogProcessor', window_size: 50, by_epoch: false },
      randomness: { seed: 0 },
      load_from: fixturePath('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth'),
      resume: false,
    };
    const events: RunnerEvent[] = [];
    const store = new MemoryCheckpointStore();
    const ctx = { readFile: async (p: string) => new Uint8Array(await readFile(p)) };
    const { runner, detector, loadReport } = await buildRunner(cfg, ctx, { mode: 'train', store, listener: (e) => events.push(e) });
    expect(loadReport!.warning).toBeNull();
    const w = detector.namedParameters().get('roi_head.bbox_head.fc_cls.weight')!;
    const frozen = detector.namedParameters().get('backbone.conv1.weight')!;
    const before = w.dataSync().slice();
    const frozenBefore = frozen.dataSync().slice();
    const res = await runner.train();
    expect(res).toEqual({ reason: 'finished', epoch: 0, iter: 2 });
    const logs = events.filter((e) => e.type === 'train-log') as Array<Extract<RunnerEvent, { type: 'train-log' }>>;
    expect(logs.length).toBe(2);
    for (const k of ['loss', 'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'acc', 'loss_bbox', 'loss_mask', 'grad_norm']) {
      expect(Number.isFinite(logs[1]!.tag[k]), k).toBe(true);
    }
    expect(logs[1]!.text).toMatch(/^Iter\(train\) \[2\/2\]  lr: 3\.0020e-05  eta: 0:00:00  time: \d+\.\d{4}  data_time: \d+\.\d{4}  memory: \d+  grad_norm: \d+\.\d{4}  loss: /);
    expect(Array.from(w.dataSync())).not.toEqual(Array.from(before));
    expect(Array.from(frozen.dataSync())).toEqual(Array.from(frozenBefore)); // frozen_stages=1
    expect((await store.list()).map((c) => c.name)).toEqual(['iter_2.pth']);
    detector.dispose();
  });

  it('a validation in between and a resume from a checkpoint leave the later iterations unchanged', async () => {
    // Small samplers (the fixture's take every candidate) so that the model's own RandomSamplers draw
    // at every iteration: their generator states must be saved with the checkpoint and restored too.
    const model = readFixtureJson<Record<string, Record<string, Record<string, unknown>>>>('mmdet-losses', 'case_0', 'config.json').l1!;
    const trainCfg = model.train_cfg as { rpn: Record<string, Record<string, unknown>>; rcnn: Record<string, Record<string, unknown>> };
    trainCfg.rpn = { ...trainCfg.rpn, sampler: { ...trainCfg.rpn.sampler, num: 32 } };
    trainCfg.rcnn = { ...trainCfg.rcnn, sampler: { ...trainCfg.rcnn.sampler, num: 16 } };
    const testCfg = model.test_cfg as { rpn: Record<string, unknown>; rcnn: Record<string, unknown> };
    testCfg.rpn = { ...testCfg.rpn, nms_pre: 100, max_per_img: 50 };
    testCfg.rcnn = { ...testCfg.rcnn, max_per_img: 10 };
    const root = `${fixturePath('cityscapes')}/`;
    // two val images keep the validation short; its pipeline flips at random too
    const val = readFixtureJson<{ images: Array<{ id: number }>; annotations: Array<{ image_id: number }> }>('cityscapes', 'instancesonly_filtered_gtFine_val.json');
    const keep = new Set(val.images.slice(0, 2).map((i) => i.id));
    const dir = await mkdtemp(join(tmpdir(), 'detstudio-traj-'));
    const annFile = join(dir, 'val2.json');
    await writeFile(annFile, JSON.stringify({ ...val, images: val.images.filter((i) => keep.has(i.id)), annotations: val.annotations.filter((a) => keep.has(a.image_id)) }));
    const cfg = (validate: boolean) => ({
      model,
      train_dataloader: {
        batch_size: 1,
        sampler: { type: 'DefaultSampler', shuffle: true },
        batch_sampler: { type: 'AspectRatioBatchSampler' },
        dataset: cityscapesFixtureTrainDataset([
          { type: 'LoadImageFromFile' },
          { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
          { type: 'RandomResize', scale: [[96, 48], [128, 64]], keep_ratio: true },
          { type: 'RandomFlip', prob: 0.5 },
          { type: 'PackDetInputs' },
        ]),
      },
      val_dataloader: {
        batch_size: 1,
        sampler: { type: 'DefaultSampler', shuffle: false },
        dataset: {
          type: 'CityscapesDataset',
          data_root: '',
          ann_file: annFile,
          data_prefix: { img: `${root}cityscapes/leftImg8bit/val/` },
          test_mode: true,
          pipeline: [
            { type: 'LoadImageFromFile' },
            { type: 'Resize', scale: [128, 64], keep_ratio: true },
            { type: 'RandomFlip', prob: 0.5 },
            { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
            { type: 'PackDetInputs' },
          ],
        },
      },
      val_evaluator: { type: 'CocoMetric', ann_file: annFile, metric: ['bbox'] },
      train_cfg: { type: 'IterBasedTrainLoop', max_iters: 3, val_interval: 2, val_begin: validate ? 1 : 1000 },
      val_cfg: { type: 'ValLoop' },
      optim_wrapper: { type: 'OptimWrapper', optimizer: { type: 'SGD', lr: 0.02, momentum: 0.9, weight_decay: 0.0001 }, clip_grad: { max_norm: 35, norm_type: 2 } },
      param_scheduler: [{ type: 'LinearLR', start_factor: 0.1, by_epoch: false, begin: 0, end: 3 }],
      default_hooks: { param_scheduler: { type: 'ParamSchedulerHook' }, checkpoint: { type: 'CheckpointHook', by_epoch: false, interval: 1 } },
      randomness: { seed: 3 },
      load_from: fixturePath('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth'),
      resume: false,
    });
    const probe = 'roi_head.bbox_head.fc_cls.weight';
    const rows = (into: string[]): Hook => ({
      name: 'Rows',
      priority: PRIORITY.LOWEST,
      beforeTrainIter: (r: Runner, _i: number, batch: unknown[]) => {
        const m = (batch[0] as { data_samples: { metainfo: Record<string, unknown> } }).data_samples.metainfo;
        into.push(`iter ${r.iter + 1}: img ${String(m.img_id)} flip ${String(m.flip)} shape ${String(m.img_shape)} lr ${r.optimWrapper.getLr()[0]}`);
      },
      afterTrainIter: (r: Runner, _i: number, out: Record<string, number>) => {
        const buf = r.optimWrapper.optimizer.buffers.get(probe)!.dataSync();
        const w = r.optimWrapper.optimizer.params.get(probe)!.dataSync();
        into.push(`  losses ${JSON.stringify(out)} momentum ${Array.from(buf.subarray(0, 4))} weight ${Array.from(w.subarray(0, 4))}`);
      },
    });
    const ctx = { readFile: async (p: string) => new Uint8Array(await readFile(p)) };
    const store = new MemoryCheckpointStore();
    const full: string[] = [];
    const a = await buildRunner(cfg(true), ctx, { mode: 'train', store });
    a.runner.hooks.push(rows(full));
    const vals: number[] = [];
    a.runner.hooks.push({ name: 'Vals', priority: PRIORITY.LOWEST, afterValEpoch: (r: Runner) => void vals.push(r.iter) });
    await a.runner.train();
    expect(vals).toEqual([2, 3]);
    expect(full.length).toBe(6);

    // a fresh runner without validation resumes from iteration 1 and must reproduce iterations 2 and 3
    const record = await store.load((await store.list()).find((c) => c.name === 'iter_1.pth')!.id);
    expect(record.pipeline_rng).toBeDefined();
    expect(Object.keys(record.model_rng ?? {}).sort()).toEqual(['roi_head.sampler', 'rpn_head.sampler']);
    (a.runner.model as DetectorAdapter).detector.dispose(); // tfjs variable names are global
    const resumed: string[] = [];
    const b = await buildRunner({ ...cfg(false), resume: true }, ctx, { mode: 'train' });
    b.runner.hooks.push(rows(resumed));
    await b.runner.train(record);
    expect(resumed).toEqual(full.slice(2));
    (b.runner.model as DetectorAdapter).detector.dispose();
    await rm(dir, { recursive: true, force: true });
  }, 120_000);
});
