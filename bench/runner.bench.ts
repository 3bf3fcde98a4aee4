/**
 * Training-loop overhead: ms/iteration and images/s of the full runner loop (data loading + pipeline,
 * train step, hooks, logging every iteration, scheduler steps) versus the bare train step (forward,
 * backward and SGD update on pre-loaded batches) of the same model, on the active backend.
 * Model: the fixture's narrow Mask R-CNN R50-FPN (base_channels 16, FPN 64) on the Cityscapes-layout
 * fixture images (256x128). Env: BENCH_BACKEND=webgpu|wasm (default: initBackend's choice),
 * BENCH_ITERS (default 6), BENCH_SCALE (default 256,128).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import type { PackedInputs } from '../src/data/transforms/formatting';
import { initBackend } from '../src/ops/backend';
import { buildRunner } from '../src/runner/build';
import { parseLosses } from '../src/runner/runner';
import { cityscapesFixtureTrainDataset, fixturePath, readFixtureJson } from '../src/testing/fixtures';

function config(iters: number, scale: [number, number]): Record<string, unknown> {
  const model = readFixtureJson<Record<string, Record<string, unknown>>>('mmdet-losses', 'case_0', 'config.json').l1!;
  const pipeline = [
    { type: 'LoadImageFromFile' },
    { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
    { type: 'Resize', scale, keep_ratio: true },
    { type: 'RandomFlip', prob: 0.5 },
    { type: 'PackDetInputs' },
  ];
  return {
    model,
    train_dataloader: {
      batch_size: 1,
      sampler: { type: 'DefaultSampler', shuffle: true },
      batch_sampler: { type: 'AspectRatioBatchSampler' },
      dataset: {
        type: 'RepeatDataset',
        times: 100,
        dataset: cityscapesFixtureTrainDataset(pipeline),
      },
    },
    train_cfg: { type: 'IterBasedTrainLoop', max_iters: iters },
    optim_wrapper: { type: 'OptimWrapper', optimizer: { type: 'SGD', lr: 0.01, momentum: 0.9, weight_decay: 0.0001 } },
    param_scheduler: [{ type: 'LinearLR', start_factor: 0.001, by_epoch: false, begin: 0, end: 500 }],
    default_hooks: {
      timer: { type: 'IterTimerHook' },
      logger: { type: 'LoggerHook', interval: 1 },
      param_scheduler: { type: 'ParamSchedulerHook' },
    },
    log_processor: { type: 'LogProcessor', window_size: 50, by_epoch: false },
    randomness: { seed: 0 },
    load_from: fixturePath('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth'),
    resume: false,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export async function run(): Promise<Record<string, unknown>> {
  const prefer = process.env.BENCH_BACKEND as 'webgpu' | 'wasm' | undefined;
  const info = await initBackend({ forTraining: true, prefer });
  const iters = Number(process.env.BENCH_ITERS ?? 6);
  const scale = (process.env.BENCH_SCALE ?? '256,128').split(',').map(Number) as [number, number];
  const warmup = 2;
  const ctx = { readFile: async (p: string) => new Uint8Array(await readFile(p)) };

  // bare step: the same model, batches loaded beforehand
  const bare = await buildRunner(config(iters + warmup, scale), ctx, { mode: 'train' });
  const batches: PackedInputs[][] = [];
  for await (const b of bare.runner.trainDataloader!.batches()) {
    batches.push(b);
    if (batches.length === iters + warmup) break;
  }
  const model = bare.runner.model;
  const bareMs: number[] = [];
  for (let i = 0; i < batches.length; i++) {
    const t0 = performance.now();
    let logVars: Array<[string, tf.Scalar]> = [];
    const res = await bare.runner.optimWrapper.updateParams(async () => {
      const p = parseLosses((await model.loss(batches[i]!)).losses);
      logVars = p.logVars.map(([k, v]) => [k, tf.keep(v)]);
      return p.loss;
    });
    await Promise.all(logVars.map(([, v]) => v.data()));
    tf.dispose(logVars.map(([, v]) => v));
    res.loss.dispose();
    if (i >= warmup) bareMs.push(performance.now() - t0);
  }
  bare.detector.dispose();

  // full loop
  const full = await buildRunner(config(iters + warmup, scale), ctx, { mode: 'train' });
  const times: number[] = [];
  const t0 = performance.now();
  await full.runner.train();
  const wall = performance.now() - t0;
  const hist = full.runner.messageHub.getScalar('train/time')!.stateDict().values;
  const data = full.runner.messageHub.getScalar('train/data_time')!.stateDict().values;
  for (let i = warmup; i < hist.length; i++) times.push(hist[i]! * 1000);
  full.detector.dispose();

  const loopMs = median(times);
  const stepMs = median(bareMs);
  return {
    backend: info.name,
    notice: info.notice,
    model: 'Mask R-CNN R50-FPN, base_channels 16, FPN 64 (fixture tiny config)',
    image: `${scale[0]}x${scale[1]} keep_ratio, batch 1`,
    iterations_timed: times.length,
    bare_step_ms_median: +stepMs.toFixed(1),
    loop_ms_per_iter_median: +loopMs.toFixed(1),
    loop_data_time_ms_median: +(median(data.slice(warmup)) * 1000).toFixed(1),
    loop_images_per_s: +(1000 / loopMs).toFixed(3),
    overhead_pct: +(((loopMs - stepMs) / stepMs) * 100).toFixed(2),
    total_wall_s: +(wall / 1000).toFixed(1),
  };
}
