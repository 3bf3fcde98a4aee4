/**
 * The real model trained by the runner: the tiny Mask R-CNN (fixture weights via load_from) on the
 * Cityscapes-layout fixture, through the real pipeline, on the wasm training backend — finite
 * losses of every mmdet term, updated weights, an MMEngine log line and an iteration checkpoint.
 */
// Vitest loads tfjs-core's CommonJS build for bare imports while the setup's gradient registrations
// come from its ES build; initialise the ES build too so tensors it creates can `clone()` in gradients.
import '@tensorflow/tfjs-core/dist/index.js';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../ops/backend';
import { fixturePath, readFixtureJson } from '../testing/fixtures';
import { buildRunner } from './build';
import { MemoryCheckpointStore } from './checkpoint_store';
import type { RunnerEvent } from './types';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', forTraining: true });
});

describe('runner + real Mask R-CNN on wasm', () => {
  it('trains two iterations from load_from and checkpoints', async () => {
    const model = readFixtureJson<Record<string, Record<string, unknown>>>('mmdet-losses', 'case_0', 'config.json').l1!;
    const root = `${fixturePath('cityscapes')}/`;
    const cfg = {
      model,
      train_dataloader: {
        batch_size: 1,
        sampler: { type: 'DefaultSampler', shuffle: true },
        batch_sampler: { type: 'AspectRatioBatchSampler' },
        dataset: {
          type: 'CityscapesDataset',
          data_root: root,
          ann_file: 'instancesonly_filtered_gtFine_train.json',
          data_prefix: { img: 'cityscapes/leftImg8bit/train/' },
          filter_cfg: { filter_empty_gt: true, min_size: 32 },
          pipeline: [
            { type: 'LoadImageFromFile' },
            { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
            { type: 'Resize', scale: [128, 64], keep_ratio: true },
            { type: 'RandomFlip', prob: 0.5 },
            { type: 'PackDetInputs' },
          ],
        },
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
});
