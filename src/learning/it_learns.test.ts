/**
 * "It learns" (issue 6 part 6, issue 9 item 4): the demo Mask R-CNN (the real demo config, inheriting
 * the real bases: ResNet-18, FPN 64, trained from a fixed-seed random init) is trained through the
 * real runner on the wasm training backend on the demo train split and validated on the demo val
 * split with the config's real CocoMetric. Nothing is mocked; the numbers come from training.
 *
 * STATUS: both training variants run only with DETSTUDIO_SLOW=1. The reduced-cost variant (2 classes,
 * 128×64, 100 iterations, ~2 minutes of CPU) passed its assertions in one run and diverged (loss 66)
 * in a second run made while other parts of the code base were changing, so it is not yet stable
 * enough for the default suite; the full demo run (~2 s of CPU per iteration on one wasm thread, see
 * bench/train_step.bench.ts) needs ~14 minutes and has not been run to the end yet. The default
 * suite only checks the learning configuration.
 */
// Vitest loads tfjs-core's CommonJS build for bare imports while the setup's gradient registrations
// come from its ES build; initialise the ES build too (as src/runner/build_train.test.ts does).
import '@tensorflow/tfjs-core/dist/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../ops/backend';
import { learnDemo, learningConfig, type LearningOptions } from './demo_training';

const SLOW = process.env.DETSTUDIO_SLOW === '1';
const log = (s: string) => process.stderr.write(`${s}\n`);

beforeAll(async () => {
  if (!SLOW) return;
  const info = await initBackend({ prefer: 'wasm', forTraining: true });
  expect(info.name).toBe('wasm');
});

/**
 * Default variant: the demo config restricted to its two most frequent classes (person, car:
 * 137 of the 218 train instances) at 128×64 instead of 256×128, SGD lr 0.02 with 20 warm-up
 * iterations and gradient clipping at 35, seed 0.
 */
const FAST_ITERS = 100;
// Measured with this exact test (seed 0, wasm SIMD, one thread; 118 s of process CPU in all, 647 s
// wall on a heavily loaded 2-core box): logged loss 2.875 (iters 1-10) -> 1.217 (91-100),
// loss_rpn_cls 0.676 -> 0.139, bbox mAP 0.000 -> 0.003, segm mAP 0.000 -> 0.002. Another 100-iteration
// trajectory of the same setup (validating at 50 too, which changes the run) read bbox mAP 0.061
// (mAP_50 0.16) / segm 0.051 at 100 and bbox 0.086 / segm 0.057 at 150: 100 iterations are too
// early to assert more than "rises" on mAP. The 0.5 goal needs the slow variant.
const FAST: LearningOptions = { iters: FAST_ITERS, valInterval: FAST_ITERS, lr: 0.02, warmup: 20, scale: [128, 64], classes: ['person', 'car'], seed: 0 };

/**
 * Full demo variant (DETSTUDIO_SLOW=1): all 8 classes at 256×128, the demo's batch 2; ~2.1 s of CPU
 * per iteration, ~14 minutes in all. NOT yet run to completion on wasm: a run of this setup read
 * bbox mAP 0.000 after 40 iterations (PyTorch reaches 0.65–0.87 after 384, issue 9); whether 384
 * iterations reach 0.5 here is still to be measured.
 */
const FULL: LearningOptions = { iters: 384, valInterval: 96, lr: 0.02, warmup: 20, seed: 0 };

describe('learning configuration', () => {
  it('keeps the demo model and data, restricting classes and scale as asked', () => {
    const cfg = learningConfig(FAST) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(cfg.model.backbone.depth).toBe(18);
    expect(cfg.model.neck.out_channels).toBe(64);
    expect(cfg.model.roi_head.bbox_head.num_classes).toBe(2);
    expect(cfg.model.roi_head.mask_head.num_classes).toBe(2);
    expect(cfg.train_cfg).toEqual({ type: 'IterBasedTrainLoop', max_iters: FAST.iters, val_interval: FAST.iters });
    expect(cfg.train_dataloader.dataset.dataset.metainfo).toEqual({ classes: ['person', 'car'] });
    expect(cfg.val_dataloader.dataset.metainfo).toEqual({ classes: ['person', 'car'] });
    expect(cfg.train_dataloader.dataset.dataset.pipeline.find((t: { type: string }) => t.type === 'Resize').scale).toEqual([128, 64]);
    expect(cfg.val_evaluator[0].type).toBe('CocoMetric');
    expect(cfg.optim_wrapper.optimizer.lr).toBe(0.02);
    const full = learningConfig(FULL) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(full.model.roi_head.bbox_head.num_classes).toBe(8);
    expect(full.train_dataloader.batch_size).toBe(2);
  });
});

describe('the demo Mask R-CNN learns on wasm', () => {
  it.runIf(SLOW)(
    `person+car at 128x64, ${FAST.iters} iterations: losses fall, bbox and segm mAP rise above the untrained model's ~0`,
    async () => {
      const r = await learnDemo(FAST, log);
      log(`fast variant: ${JSON.stringify(r.curve)} in ${r.wallS.toFixed(0)} s wall, ${r.cpuS.toFixed(0)} s cpu`);
      const first = r.curve[0]!;
      const last = r.curve[r.curve.length - 1]!;
      expect(first.iter).toBe(0);
      expect(last.iter).toBe(FAST.iters);
      expect(first.bboxMAP).toBeLessThan(0.02);
      const l0 = r.trainLogs[0]!;
      const l1 = r.trainLogs[r.trainLogs.length - 1]!;
      expect(l1.loss!).toBeLessThan(0.6 * l0.loss!);
      expect(l1.loss_rpn_cls!).toBeLessThan(0.5 * l0.loss_rpn_cls!);
      expect(last.bboxMAP).toBeGreaterThan(first.bboxMAP);
      expect(last.segmMAP).toBeGreaterThan(first.segmMAP);
    },
    1_800_000,
  );

  it.runIf(SLOW)(
    `full demo config (8 classes, 256x128): bbox mAP >= 0.5 after ${FULL.iters} iterations, segm mAP rises`,
    async () => {
      const r = await learnDemo(FULL, log);
      log(`full variant: ${JSON.stringify(r.curve)} in ${r.wallS.toFixed(0)} s wall, ${r.cpuS.toFixed(0)} s cpu`);
      const first = r.curve[0]!;
      const last = r.curve[r.curve.length - 1]!;
      expect(first.bboxMAP).toBeLessThan(0.02);
      expect(last.bboxMAP).toBeGreaterThanOrEqual(0.5);
      expect(last.segmMAP).toBeGreaterThan(first.segmMAP);
    },
    7_200_000,
  );
});
