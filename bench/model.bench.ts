/**
 * Model speed on the tiny fixture Mask R-CNN (1×3×128×192, `shared/fixtures/tiny-mask-rcnn`):
 * backbone+neck forward, `predict` and one `lossAndGrads` (forward + backward, deterministic
 * "take all" sampling of the mmdet-losses fixture) on the default backend (WebGPU if a hardware
 * adapter exists, else wasm) and on cpu with BENCH_MODEL_CPU=1. Also counts GPU→CPU readbacks
 * (backend `read`/`readSync` calls) per call. Median of BENCH_ITERS (default 3) after one warm-up.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../src/ops/backend';
import { readFixtureBytes, readFixtureJson } from '../src/testing/fixtures';
import { buildTinyDetector, readNchwAsNhwc, tinyConfig, unpackBits } from '../src/models/testing/tiny';
import type { DetDataSample } from '../src/models/structures';

const ITERS = Number(process.env.BENCH_ITERS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Counts backend reads while `f` runs. */
async function countReads<T>(f: () => Promise<T>): Promise<{ value: T; reads: number; ms: number }> {
  const backend = tf.backend() as unknown as { read: (id: object) => Promise<unknown>; readSync: (id: object) => unknown };
  const read = backend.read.bind(backend);
  const readSync = backend.readSync.bind(backend);
  let reads = 0;
  backend.read = (id) => {
    reads++;
    return read(id);
  };
  backend.readSync = (id) => {
    reads++;
    return readSync(id);
  };
  const t0 = performance.now();
  try {
    const value = await f();
    return { value, reads, ms: performance.now() - t0 };
  } finally {
    backend.read = read;
    backend.readSync = readSync;
  }
}

function sample(): DetDataSample {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const gt: any = readFixtureJson('mmdet-losses', 'case_0', 'gt.json');
  const inst: { bbox: number[]; label: number }[] = gt.instances;
  return {
    metainfo: { img_shape: [128, 192], ori_shape: [128, 192], scale_factor: [1, 1] },
    gt_instances: {
      bboxes: Float32Array.from(inst.flatMap((i) => i.bbox)),
      labels: Int32Array.from(inst.map((i) => i.label)),
      masks: unpackBits(readFixtureBytes('mmdet-losses', 'case_0', 'gt_masks.bin'), inst.length, 128, 192),
    },
  };
}

async function onBackend(prefer?: BackendName): Promise<Record<string, unknown>> {
  const info = await initBackend({ prefer });
  const model = buildTinyDetector(tinyConfig('l1'));
  const input = readNchwAsNhwc([1, 3, 128, 192], 'mmdet-losses', 'case_0', 'input.bin');
  const out: Record<string, unknown> = { backend: tf.getBackend(), info };
  const feat: number[] = [];
  const pred: number[] = [];
  const step: number[] = [];
  let predReads = 0;
  let stepReads = 0;
  let peak = 0;
  for (let i = 0; i <= ITERS; i++) {
    model.train(false);
    const f = await countReads(async () => {
      const fs = model.extractFeat(input);
      await fs[fs.length - 1]!.data();
      tf.dispose(fs);
    });
    const p = await countReads(() => model.predict(input, [sample()], true));
    model.train();
    const s = await countReads(async () => {
      const r = await model.lossAndGrads(input, [sample()]);
      peak = Math.max(peak, tf.memory().numBytes);
      await r.value.data();
      tf.dispose([r.value, ...Object.values(r.grads), ...Object.values(r.extra)]);
    });
    if (i === 0) continue;
    feat.push(f.ms);
    pred.push(p.ms);
    step.push(s.ms);
    predReads = p.reads;
    stepReads = s.reads - 1; // minus the final loss read done here for timing
  }
  model.dispose();
  input.dispose();
  Object.assign(out, {
    extract_feat_ms: +median(feat).toFixed(1),
    predict_ms: +median(pred).toFixed(1),
    loss_and_grads_ms: +median(step).toFixed(1),
    readbacks_predict: predReads,
    readbacks_loss_and_grads: stepReads,
    peak_tensor_MiB: +(peak / 2 ** 20).toFixed(1),
  });
  return out;
}

/** Bench entry (see bench/run.ts). */
export async function run(): Promise<Record<string, unknown>> {
  const res: Record<string, unknown> = { input: [1, 3, 128, 192], iters: ITERS };
  try {
    res.default = await onBackend();
  } catch (e) {
    res.default = { error: (e as Error).message };
  }
  if (process.env.BENCH_MODEL_CPU === '1') res.cpu = await onBackend('cpu');
  return res;
}
