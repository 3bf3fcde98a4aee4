/**
 * The real glue: the tiny Mask R-CNN (narrow widths, the fixture's mmdet config) trained by the
 * runner for two iterations on the Cityscapes-layout fixture through the real data pipeline, then
 * validated with CocoMetric, checkpointed and written as an MMDetection `.pth`.
 */
// Vitest loads tfjs-core's CommonJS build for bare imports while the setup's gradient registrations
// come from its ES build; initialise the ES build too (see build_train.test.ts).
import '@tensorflow/tfjs-core/dist/index.js';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint, writePth } from '../checkpoint';
import { initBackend } from '../ops/backend';
import { fixturePath, readFixtureJson } from '../testing/fixtures';
import { buildRunner, mmdetCheckpointFromRecord } from './build';
import type { RunnerEvent } from './types';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

function tinyCfg(): Record<string, unknown> {
  const model = readFixtureJson<Record<string, Record<string, unknown>>>('mmdet-losses', 'case_0', 'config.json').l1!;
  const root = `${fixturePath('cityscapes')}/`;
  const pipeline = [
    { type: 'LoadImageFromFile' },
    { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
    { type: 'Resize', scale: [256, 128], keep_ratio: true },
    { type: 'PackDetInputs' },
  ];
  const ds = (split: string, test: boolean) => ({
    type: 'CityscapesDataset',
    data_root: root,
    ann_file: `instancesonly_filtered_gtFine_${split}.json`,
    data_prefix: { img: `cityscapes/leftImg8bit/${split}/` },
    filter_cfg: { filter_empty_gt: true, min_size: 32 },
    test_mode: test,
    pipeline,
  });
  return {
    model,
    train_dataloader: {
      batch_size: 1,
      sampler: { type: 'DefaultSampler', shuffle: true },
      batch_sampler: { type: 'AspectRatioBatchSampler' },
      dataset: { type: 'RepeatDataset', times: 2, dataset: ds('train', false) },
    },
    val_dataloader: { batch_size: 1, sampler: { type: 'DefaultSampler', shuffle: false }, dataset: ds('val', true) },
    val_evaluator: [
      { type: 'CocoMetric', ann_file: `${root}instancesonly_filtered_gtFine_val.json`, metric: ['bbox', 'segm'] },
      { type: 'CityScapesMetric', seg_prefix: 'x' },
    ],
    train_cfg: { type: 'IterBasedTrainLoop', max_iters: 2, val_interval: 2 },
    val_cfg: { type: 'ValLoop' },
    optim_wrapper: { type: 'OptimWrapper', optimizer: { type: 'SGD', lr: 0.01, momentum: 0.9, weight_decay: 0.0001 } },
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
}

describe('buildRunner with the real model, data and metric', () => {
  it('tests the tiny Mask R-CNN (load_from) on the Cityscapes fixture with CocoMetric and writes an MMDetection .pth', async () => {
    const events: RunnerEvent[] = [];
    const cfg = tinyCfg();
    // two val images (a subset of the fixture's annotation file, written to a temp dir) and fewer
    // proposals keep the pure-JS cpu backend fast
    const val = readFixtureJson<{ images: Array<{ id: number }>; annotations: Array<{ image_id: number }> }>('cityscapes', 'instancesonly_filtered_gtFine_val.json');
    const keep = new Set(val.images.slice(0, 2).map((i) => i.id));
    const sub = { ...val, images: val.images.filter((i) => keep.has(i.id)), annotations: val.annotations.filter((a) => keep.has(a.image_id)) };
    const dir = await mkdtemp(join(tmpdir(), 'detstudio-runner-'));
    const annFile = join(dir, 'val2.json');
    await writeFile(annFile, JSON.stringify(sub));
    const valDl = cfg.val_dataloader as { dataset: Record<string, unknown> };
    valDl.dataset.ann_file = annFile;
    valDl.dataset.data_root = '';
    valDl.dataset.data_prefix = { img: `${fixturePath('cityscapes')}/cityscapes/leftImg8bit/val/` };
    cfg.test_dataloader = valDl;
    cfg.test_evaluator = [{ type: 'CocoMetric', ann_file: annFile, metric: ['bbox', 'segm'] }, { type: 'CityScapesMetric' }];
    const model = cfg.model as { test_cfg: { rpn: Record<string, unknown>; rcnn: Record<string, unknown> } };
    model.test_cfg.rpn.nms_pre = 100;
    model.test_cfg.rpn.max_per_img = 50;
    model.test_cfg.rcnn.max_per_img = 10;
    const ctx = { readFile: async (p: string) => new Uint8Array(await readFile(p)) };
    const { runner, detector, warnings } = await buildRunner(cfg, ctx, { mode: 'test', listener: (e) => events.push(e) });
    expect(warnings.some((w) => w.includes('CityScapesMetric'))).toBe(true);
    // load_from applies only when training; load the fixture weights as `test` does with its checkpoint
    const { loadFrom } = await import('./build');
    const report = await loadFrom(detector, cfg.load_from as string, ctx);
    expect(report.missing).toEqual([]);
    expect(report.shapeMismatch).toEqual([]);
    const metrics = await runner.test();
    for (const k of ['coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_l']) expect(typeof metrics[k]).toBe('number');
    const ev = events.find((e) => e.type === 'val-metrics') as Extract<RunnerEvent, { type: 'val-metrics' }>;
    expect(ev.mode).toBe('test');
    expect(ev.text).toMatch(/^Iter\(test\) \[2\/2\]    coco\/bbox_mAP: \d\.\d{4}/);

    const rec = await runner.stateDict('epoch_0.pth');
    const bytes = writePth(mmdetCheckpointFromRecord(rec));
    const back = readCheckpoint(bytes);
    const ref = readCheckpoint(new Uint8Array(await readFile(join(fixturePath('tiny-mask-rcnn'), 'tiny_mask_rcnn_r50_fpn.pth'))));
    let n = 0;
    for (const [k, t] of ref.stateDict) {
      if (k.endsWith('num_batches_tracked')) continue;
      const b = back.stateDict.get(k)!;
      expect(b.shape, k).toEqual(t.shape);
      expect(Array.from((b.data as Float32Array).subarray(0, 5)), k).toEqual(Array.from((t.data as Float32Array).subarray(0, 5)));
      n++;
    }
    expect(n).toBeGreaterThan(300);
    detector.dispose();
  });
});
