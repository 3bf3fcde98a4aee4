/**
 * Helpers for training the demo Mask R-CNN (`src/configs/demo/mask-rcnn_r18_fpn_8xb2-demo_cityscapes.py`,
 * ResNet-18, FPN 64, 8 classes, batch 2, 256×128) in Node: resolving the real config with overrides,
 * timing bare train steps (forward + backward + SGD) with CPU time and GPU→CPU readback counts, and
 * counting tfjs kernel time by name. Used by the "it learns" test and `bench/train_step.bench.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadConfig } from '../cli/commands/train.ts';
import type { PackedInputs } from '../data/transforms/formatting.ts';
import { buildRunner, type BuildContext, type BuiltRunner } from '../runner/build.ts';
import { parseLosses } from '../runner/runner.ts';

/** Path of the demo config, relative to the repository root. */
export const DEMO_CONFIG = 'src/configs/demo/mask-rcnn_r18_fpn_8xb2-demo_cityscapes.py';

/** Resolves the demo config (or another config file) with MMEngine `--cfg-options` style overrides. */
export function loadDemoConfig(cfgOptions: string[] = [], path = DEMO_CONFIG): Record<string, unknown> {
  const res = loadConfig(resolve(path), cfgOptions);
  if ('error' in res) throw new Error(res.error);
  return res.cfg;
}

/** File access relative to the current directory (the repository root when run by npm / vitest). */
export function fileContext(): BuildContext {
  return { readFile: async (p: string) => new Uint8Array(await readFile(p)) };
}

/**
 * File access where paths under `root` (e.g. `mem/learn/`) read from an in-memory tree (a dataset
 * generated at test time) and every other path from disk.
 */
export function treeContext(root: string, tree: { read(path: string): Promise<Uint8Array> }): BuildContext {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const disk = fileContext();
  return {
    readFile: (p: string) => (p.startsWith(prefix) ? tree.read(p.slice(prefix.length)) : disk.readFile(p)),
  };
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Timing of one bare train step. */
export interface StepTiming {
  /** Wall-clock milliseconds. */
  wallMs: number;
  /** Process CPU milliseconds (user + system, all threads). */
  cpuMs: number;
  /** Total loss after the step's forward pass. */
  loss: number;
  /** GPU→CPU readbacks (`dataSync` / `data` / `arraySync` / `array` calls) during the step. */
  readbacks: number;
  /** Peak tensor bytes (`tf.memory().numBytes`, sampled at every readback and at the end). */
  peakBytes: number;
}

let readbackCount = 0;
let peakBytes = 0;
let patched = false;

/** Wraps tensor readback methods once so steps can count them (and sample memory there). */
function patchReadbacks(): void {
  if (patched) return;
  patched = true;
  const proto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ['dataSync', 'data', 'arraySync', 'array']) {
    const orig = proto[name]!;
    proto[name] = function (this: unknown, ...a: unknown[]) {
      readbackCount++;
      const m = tf.memory().numBytes;
      if (m > peakBytes) peakBytes = m;
      return orig.apply(this, a);
    };
  }
}

/** A built demo runner plus pre-loaded training batches, for timing bare steps. */
export interface StepHarness {
  built: BuiltRunner;
  batches: PackedInputs[][];
  /** Runs one bare train step on batch `i % batches.length`. */
  step(i: number): Promise<StepTiming>;
  dispose(): void;
}

/**
 * Builds the runner of `cfg` in train mode, pre-loads `nBatches` batches through the real pipeline
 * and returns a harness timing bare steps (forward, backward, optimizer update, loss readback).
 */
export async function stepHarness(cfg: Record<string, unknown>, nBatches: number, ctx = fileContext()): Promise<StepHarness> {
  patchReadbacks();
  const built = await buildRunner(cfg, ctx, { mode: 'train' });
  const batches: PackedInputs[][] = [];
  for await (const b of built.runner.trainDataloader!.batches()) {
    batches.push(b);
    if (batches.length === nBatches) break;
  }
  const model = built.runner.model;
  return {
    built,
    batches,
    async step(i: number): Promise<StepTiming> {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      readbackCount = 0;
      peakBytes = tf.memory().numBytes;
      const res = await built.runner.optimWrapper.updateParams(async () => {
        const p = parseLosses((await model.loss(batches[i % batches.length]!)).losses);
        return p.loss;
      });
      const loss = (await res.loss.data())[0]!;
      res.loss.dispose();
      const m = tf.memory().numBytes;
      if (m > peakBytes) peakBytes = m;
      const c = process.cpuUsage(c0);
      return { wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, loss, readbacks: readbackCount, peakBytes };
    },
    dispose() {
      built.detector.dispose();
    },
  };
}

/**
 * Runs `fn` with tfjs kernel profiling and returns milliseconds per kernel name (sorted, largest first)
 * plus the total. `tf.profile` times each kernel synchronously, so gradients of kernels show under
 * their own kernel names (e.g. `Conv2DBackpropFilter`). With `cpuTime` (only meaningful on the
 * synchronous wasm / cpu backends) each kernel is timed in process CPU time instead of wall time,
 * which other processes on a loaded machine inflate far less.
 */
export async function profileKernels(
  fn: () => Promise<unknown>,
  cpuTime = false,
): Promise<{ totalMs: number; byKernel: Array<[string, number, number]> }> {
  const backend = tf.backend() as unknown as { time(f: () => void): Promise<{ kernelMs: number }> };
  const ownTime = Object.prototype.hasOwnProperty.call(backend, 'time') ? backend.time : undefined;
  if (cpuTime) {
    backend.time = async (f: () => void) => {
      const c0 = process.cpuUsage();
      f();
      const c = process.cpuUsage(c0);
      return { kernelMs: (c.user + c.system) / 1000 };
    };
  }
  let info: Awaited<ReturnType<typeof tf.profile>>;
  try {
    info = await tf.profile(async () => {
      await fn();
    });
  } finally {
    if (cpuTime) {
      if (ownTime) backend.time = ownTime;
      else delete (backend as { time?: unknown }).time;
    }
  }
  const acc = new Map<string, [number, number]>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    total += ms;
    const a = acc.get(k.name) ?? [0, 0];
    a[0] += ms;
    a[1]++;
    acc.set(k.name, a);
  }
  const byKernel = [...acc.entries()].map(([n, [ms, c]]) => [n, +ms.toFixed(1), c] as [string, number, number]).sort((a, b) => b[1] - a[1]);
  return { totalMs: +total.toFixed(1), byKernel };
}

/** Options of {@link learningConfig}. */
export interface LearningOptions {
  /** Training iterations (IterBasedTrainLoop). */
  iters: number;
  /** Validate every this many iterations (and at the end). */
  valInterval: number;
  /** Peak learning rate of SGD (momentum 0.9, weight decay 1e-4 as in the bases). */
  lr: number;
  /** Linear warm-up iterations. */
  warmup?: number;
  /** Iterations at which the learning rate is multiplied by 0.1 (MultiStepLR, by iteration). */
  milestones?: number[];
  /** Gradient clipping max norm (L2), or null for none. */
  clipGrad?: number | null;
  /** Seed of `randomness` (pipeline flips, sampler shuffle). */
  seed?: number;
  /** Image scale `(w, h)` for train and val pipelines (keep_ratio). Default: the demo's 256×128. */
  scale?: [number, number];
  /** Train and evaluate on these classes only (`metainfo.classes` of both splits, `num_classes` of the heads). */
  classes?: string[];
  /** Dataset root in the Cityscapes layout with the converted annotations (default: the demo's `public/demo/cityscapes/`). */
  dataRoot?: string;
}

/**
 * The demo config (resolved from its `.py`, inheriting the real bases) turned into a bounded
 * iteration-based run: `IterBasedTrainLoop` with periodic validation on the demo val split by the
 * config's own CocoMetric (bbox + segm), linear warm-up then a constant learning rate, logging every
 * 10 iterations and no checkpoints. Model, datasets, pipelines and evaluator are the config's.
 */
export function learningConfig(o: LearningOptions): Record<string, unknown> {
  const cfg = loadDemoConfig([`randomness.seed=${o.seed ?? 0}`]);
  cfg.train_cfg = { type: 'IterBasedTrainLoop', max_iters: o.iters, val_interval: o.valInterval };
  const warmup = o.warmup ?? 20;
  cfg.param_scheduler = [{ type: 'LinearLR', start_factor: 0.01, by_epoch: false, begin: 0, end: warmup }];
  if (o.milestones?.length) {
    (cfg.param_scheduler as unknown[]).push({ type: 'MultiStepLR', by_epoch: false, begin: 0, end: o.iters, milestones: o.milestones, gamma: 0.1 });
  }
  const ow = cfg.optim_wrapper as Record<string, unknown>;
  ow.optimizer = { ...(ow.optimizer as Record<string, unknown>), lr: o.lr };
  if (o.clipGrad !== null) ow.clip_grad = { max_norm: o.clipGrad ?? 35, norm_type: 2 };
  cfg.auto_scale_lr = { enable: false, base_batch_size: 2 };
  const hooks = cfg.default_hooks as Record<string, unknown>;
  hooks.checkpoint = null;
  hooks.logger = { type: 'LoggerHook', interval: 10 };
  cfg.log_processor = { type: 'LogProcessor', window_size: 10, by_epoch: false };
  if (o.classes) {
    const roi = (cfg.model as { roi_head: Record<string, Record<string, unknown>> }).roi_head;
    roi.bbox_head!.num_classes = o.classes.length;
    roi.mask_head!.num_classes = o.classes.length;
    for (const key of ['train_dataloader', 'val_dataloader']) {
      let ds = (cfg[key] as Record<string, unknown>).dataset as Record<string, unknown>;
      if (ds.dataset) ds = ds.dataset as Record<string, unknown>;
      ds.metainfo = { classes: o.classes };
    }
  }
  if (o.dataRoot) {
    const root = o.dataRoot.endsWith('/') ? o.dataRoot : `${o.dataRoot}/`;
    for (const key of ['train_dataloader', 'val_dataloader', 'test_dataloader']) {
      let ds = (cfg[key] as Record<string, unknown>).dataset as Record<string, unknown>;
      if (ds.dataset) ds = ds.dataset as Record<string, unknown>;
      ds.data_root = root;
    }
    for (const key of ['val_evaluator', 'test_evaluator']) {
      const evs = cfg[key] as Array<Record<string, unknown>>;
      for (const e of Array.isArray(evs) ? evs : [evs]) {
        if (typeof e.ann_file === 'string') e.ann_file = root + (e.ann_file as string).replace(/^.*?annotations\//, 'annotations/');
      }
    }
  }
  if (o.scale) {
    for (const key of ['train_dataloader', 'val_dataloader']) {
      let ds = (cfg[key] as Record<string, unknown>).dataset as Record<string, unknown>;
      if (ds.dataset) ds = ds.dataset as Record<string, unknown>;
      for (const t of ds.pipeline as Array<Record<string, unknown>>) if (t.type === 'Resize') t.scale = o.scale;
    }
  }
  return cfg;
}

/** One validation of a learning run. */
export interface LearningPoint {
  /** Training iterations done before this validation (0 = the untrained model). */
  iter: number;
  bboxMAP: number;
  segmMAP: number;
}

/** Result of {@link learnDemo}. */
export interface LearningResult {
  /** Validation before training, then after every `valInterval` iterations and at the end. */
  curve: LearningPoint[];
  /** Wall-clock seconds of the whole run (build, validations, training). */
  wallS: number;
  /** Process CPU seconds of the whole run. */
  cpuS: number;
  /** Last training log line. */
  lastLog: string;
  /** Logged training scalars (window means of the logger interval: `loss`, `loss_rpn_cls`, …). */
  trainLogs: Array<Record<string, number>>;
}

/**
 * Trains the demo model as {@link learningConfig} sets it up through the real runner (pipeline, SGD,
 * schedulers, hooks) on the active backend, validating the untrained model first and then every
 * `valInterval` iterations with the real CocoMetric on the demo val split.
 */
export async function learnDemo(o: LearningOptions, onLog: (line: string) => void = () => {}, ctx: BuildContext = fileContext()): Promise<LearningResult> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const curve: LearningPoint[] = [];
  let lastLog = '';
  const trainLogs: Array<Record<string, number>> = [];
  const point = (iter: number, m: Record<string, unknown>) => {
    const p = { iter, bboxMAP: Number(m['coco/bbox_mAP']), segmMAP: Number(m['coco/segm_mAP']) };
    curve.push(p);
    const c = process.cpuUsage(c0);
    onLog(`[${((performance.now() - t0) / 1000).toFixed(0)} s wall, ${((c.user + c.system) / 1e6).toFixed(0)} s cpu] iter ${iter}: bbox mAP ${p.bboxMAP.toFixed(3)}, segm mAP ${p.segmMAP.toFixed(3)}`);
  };
  let runner: BuiltRunner['runner'] | null = null;
  const built = await buildRunner(learningConfig(o), ctx, {
    mode: 'train',
    listener: (e) => {
      if (e.type === 'train-log') {
        lastLog = e.text;
        trainLogs.push(e.tag);
        onLog(e.text);
      } else if (e.type === 'val-metrics') point(runner?.iter ?? 0, e.metrics);
    },
  });
  runner = built.runner;
  try {
    const m0 = await built.runner.val();
    if (curve.length === 0) point(0, m0); // the val loop's own event normally records it
    await built.runner.train();
  } finally {
    built.detector.dispose();
  }
  const c = process.cpuUsage(c0);
  return { curve, wallS: (performance.now() - t0) / 1000, cpuS: (c.user + c.system) / 1e6, lastLog, trainLogs };
}
