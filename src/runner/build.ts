/**
 * Integration glue: builds a {@link Runner} from a resolved MMDetection config with the project's
 * real modules — the detector from `src/models` (`model`), datasets and pipelines from `src/data`
 * (`train/val/test_dataloader.dataset`, `RepeatDataset` included), `CocoMetric` from `src/eval`
 * (`val_evaluator` / `test_evaluator`) and `load_from` through `src/checkpoint`'s MMEngine
 * semantics (shape-mismatched heads skipped and reported).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readCheckpoint, loadStateDict, type LoadStateDictResult, fromModelLayout, type TensorRecord } from '../checkpoint';
import { buildDataset, type CocoDatasetCfg, type IndexedDataset } from '../data/datasets';
import type { PipelineContext } from '../data/transforms/compose';
import { isStatefulRng, seededRng, type StatefulRng } from '../data/transforms/types';
import { syncRandomSeed } from './data/rng';
import type { PackedInputs } from '../data/transforms/formatting';
import { CocoMetric, type DetPrediction } from '../eval/coco_metric';
import { buildDetector, type TwoStageDetector } from '../models';
import { BatchNorm2d } from '../models/layers/nn';
import type { DetDataSample, DetResult } from '../models/structures';
import type { CheckpointRecord, CheckpointStore } from './checkpoint_store';
import type { RunnerDataset } from './data/types';
import type { NamedParameter } from './optim/optim_wrapper';
import { Runner } from './runner';
import type { RunnerEvaluator, RunnerListener, RunnerModel } from './types';

type Cfg = Record<string, unknown>;

/** File access and decoding for datasets, annotation files and `load_from`. */
export interface BuildContext extends PipelineContext {
  /** Reads `load_from` (a path, or a URL the host downloads and caches). Defaults to `readFile`. */
  readCheckpoint?(pathOrUrl: string): Promise<Uint8Array>;
}

/** Adapts a `src/data` dataset (pipeline output = packed inputs) to the runner's interface. */
export function runnerDataset(ds: IndexedDataset): RunnerDataset<PackedInputs> {
  return {
    get length() {
      return ds.length;
    },
    get: async (i) => (await ds.getItem(i)) as unknown as PackedInputs,
    getDataInfo: (i) => {
      const d = ds.getDataInfo(i) as unknown as { width: number; height: number };
      return { ...d, width: d.width, height: d.height };
    },
    metainfo: ds.metainfo as unknown as Record<string, unknown>,
  };
}

/** The data pipeline's `DetDataSample` in the model's structures (`BitmapMasks.n` → `count`). */
function toModelSample(p: PackedInputs): DetDataSample {
  const d = p.data_samples;
  const m = d.gt_instances.masks;
  return {
    metainfo: d.metainfo as DetDataSample['metainfo'],
    gt_instances: {
      bboxes: d.gt_instances.bboxes,
      labels: d.gt_instances.labels,
      ...(m ? { masks: { data: m.data, count: m.n, height: m.height, width: m.width } } : {}),
    },
    ignored_instances: { bboxes: d.ignored_instances.bboxes },
  };
}

/** The detector seen by the runner: packed inputs → data preprocessor → `loss` / `predict`. */
export class DetectorAdapter implements RunnerModel<PackedInputs, DetResult> {
  constructor(readonly detector: TwoStageDetector) {}

  namedParameters(): NamedParameter[] {
    const norms = new Set<string>();
    for (const m of this.detector.modules()) if (m instanceof BatchNorm2d) norms.add(m.prefix);
    return [...this.detector.namedParameters()].map(([name, variable]) => ({
      name,
      variable,
      isNorm: norms.has(name.slice(0, name.lastIndexOf('.'))),
    }));
  }

  private inputs(batch: PackedInputs[]): { inputs: tf.Tensor4D; samples: DetDataSample[] } {
    const samples = batch.map((p) => toModelSample(p));
    // CHW → HWC on the CPU side, as float32: an int32 transpose compiles to invalid WGSL on tfjs's
    // WebGPU backend (wrong inputs there), and the pixel values are exact in float32 anyway.
    const images = batch.map((p) => {
      const [c, h, w] = p.inputs.shape;
      const src = p.inputs.data;
      const hwc = new Float32Array(c * h * w);
      for (let k = 0; k < c; k++) {
        const plane = k * h * w;
        for (let i = 0; i < h * w; i++) hwc[i * c + k] = src[plane + i]!;
      }
      return tf.tensor3d(hwc, [h, w, c], 'float32');
    });
    const inputs = this.detector.dataPreprocessor.forward(images, samples);
    tf.dispose(images);
    return { inputs, samples };
  }

  async loss(batch: PackedInputs[]) {
    const { inputs, samples } = this.inputs(batch);
    return { losses: await this.detector.loss(inputs, samples) };
  }

  /**
   * Predictions as plain arrays. Runs in an engine scope so that every tensor created while
   * predicting is freed afterwards (nothing else runs tfjs ops meanwhile in the runner).
   */
  async predict(batch: PackedInputs[]): Promise<DetResult[]> {
    const engine = tf.engine() as unknown as { startScope(name?: string): void; endScope(result?: unknown): void };
    engine.startScope('predict');
    try {
      const { inputs, samples } = this.inputs(batch);
      return await this.detector.predict(inputs, samples, true);
    } finally {
      engine.endScope();
    }
  }

  setTraining(training: boolean): void {
    this.detector.train(training);
  }

  randomState(): Record<string, number> {
    const out: Record<string, number> = {};
    const rpn = this.detector.rpnHead.samplerState();
    if (rpn !== null) out['rpn_head.sampler'] = rpn;
    const roi = this.detector.roiHead.samplerState();
    if (roi !== null) out['roi_head.sampler'] = roi;
    return out;
  }

  setRandomState(state: Record<string, number>): void {
    for (const [k, v] of Object.entries(state)) {
      if (k === 'rpn_head.sampler') this.detector.rpnHead.setSamplerState(v);
      else if (k === 'roi_head.sampler') this.detector.roiHead.setSamplerState(v);
      else throw new Error(`unknown random source in the checkpoint: ${k}`);
    }
  }

  stateDict(): Map<string, tf.Tensor> {
    return this.detector.stateDict();
  }

  loadStateDict(sd: Map<string, tf.Tensor>): void {
    const vars = this.detector.stateDict();
    for (const [k, t] of sd) {
      const v = vars.get(k);
      if (!v) throw new Error(`unexpected key in the resumed state: ${k}`);
      if (v.shape.join() !== t.shape.join()) throw new Error(`'${k}': resumed shape [${t.shape}] vs model [${v.shape}]`);
      v.assign(t.dtype === v.dtype ? t : tf.cast(t, v.dtype));
    }
  }
}

/** `CocoMetric` entries of a `val_evaluator`, fed with the detector's predictions. */
export class CocoEvaluator implements RunnerEvaluator<PackedInputs, DetResult> {
  constructor(readonly metrics: CocoMetric[]) {}

  process(batch: PackedInputs[], preds: DetResult[]): void {
    const out: DetPrediction[] = batch.map((p, i) => {
      const r = preds[i]!;
      const meta = (p.data_samples as unknown as DetDataSample).metainfo;
      const pred: DetPrediction = { imgId: meta.img_id as number, bboxes: r.bboxes, scores: r.scores, labels: r.labels };
      if (r.masks) {
        const size = r.masks.height * r.masks.width;
        pred.masks = Array.from({ length: r.masks.count }, (_, k) => r.masks!.data.subarray(k * size, (k + 1) * size));
      }
      return pred;
    });
    for (const m of this.metrics) m.process(out);
  }

  async evaluate(): Promise<Record<string, number>> {
    const res: Record<string, number> = {};
    for (const m of this.metrics) {
      Object.assign(res, m.evaluate());
      m.reset();
    }
    return res;
  }
}

async function buildEvaluator(
  cfgV: unknown,
  ctx: BuildContext,
  classes: string[] | undefined,
  warn: (s: string) => void,
): Promise<CocoEvaluator | undefined> {
  if (cfgV === null || cfgV === undefined) return undefined;
  const list = (Array.isArray(cfgV) ? cfgV : [cfgV]) as Cfg[];
  const metrics: CocoMetric[] = [];
  for (const c of list) {
    if (c.type !== 'CocoMetric') {
      warn(`${String(c.type)} is not supported in DetStudio and is skipped (the COCO metric on the converted json is computed instead)`);
      continue;
    }
    if (typeof c.ann_file !== 'string') throw new Error('CocoMetric needs ann_file');
    const ann = JSON.parse(new TextDecoder().decode(await ctx.readFile(c.ann_file)));
    if (c.format_only) throw new Error('CocoMetric(format_only=True) is not supported');
    metrics.push(
      new CocoMetric({
        ann,
        metric: c.metric as 'bbox' | 'segm' | Array<'bbox' | 'segm'> | undefined,
        classwise: Boolean(c.classwise),
        proposalNums: c.proposal_nums as number[] | undefined,
        classes,
        prefix: (c.prefix as string | undefined) ?? 'coco',
      }),
    );
  }
  return metrics.length ? new CocoEvaluator(metrics) : undefined;
}

/** Loads `load_from` into the detector with MMEngine's non-strict semantics; returns the report. */
export async function loadFrom(detector: TwoStageDetector, path: string, ctx: BuildContext): Promise<LoadStateDictResult> {
  const bytes = await (ctx.readCheckpoint ?? ctx.readFile)(path);
  const ckpt = readCheckpoint(bytes);
  const vars = detector.stateDict();
  const expected = new Map<string, number[]>();
  for (const [k, v] of vars) expected.set(k, v.shape.slice());
  // The model keeps no BatchNorm `num_batches_tracked` counters (they only matter for BN with
  // momentum=None); PyTorch would load them silently, so they are not reported as unexpected.
  const bnPrefixes = new Set<string>();
  for (const m of detector.modules()) if (m instanceof BatchNorm2d) bnPrefixes.add(m.prefix);
  const sd = new Map([...ckpt.stateDict].filter(([k]) => !(k.endsWith('.num_batches_tracked') && bnPrefixes.has(k.replace(/^module\./, '').slice(0, -'.num_batches_tracked'.length)))));
  const res = loadStateDict(expected, sd, { expectedLayout: 'model' });
  for (const [k, t] of res.loaded) {
    const v = vars.get(k)!;
    const data = t.data instanceof BigInt64Array ? Float32Array.from(t.data, (x) => Number(x)) : t.data;
    const tensor = tf.tensor(data, t.shape, v.dtype === 'int32' ? 'int32' : 'float32');
    v.assign(tensor);
    tensor.dispose();
  }
  return res;
}

/** The run's seed and the pipeline contexts of {@link pipelineContexts}. */
export interface PipelineContexts {
  /** `randomness.seed`, or one drawn as MMEngine's `sync_random_seed` does. */
  seed: number;
  /** Context of the train dataset: its own random stream {@link trainRng}. */
  trainCtx: BuildContext;
  /** Context of the val/test datasets: a separate stream, so validating never moves the train draws. */
  evalCtx: BuildContext;
  /** The train pipeline's random source (saved in checkpoints, restored on resume). */
  trainRng: StatefulRng;
}

/**
 * Random sources of the pipelines (RandomFlip, RandomResize), seeded from the run's seed as MMEngine
 * seeds numpy: one stream for the train dataset and another for val/test (MMEngine's loaders have
 * their own worker processes, seeded alike), so a validation cannot shift the training draws. A
 * caller-supplied `ctx.rng` with a saveable state serves as the train stream.
 */
export function pipelineContexts(cfg: Cfg, ctx: BuildContext): PipelineContexts {
  const s = (cfg.randomness as { seed?: unknown } | undefined)?.seed;
  const seed = typeof s === 'number' ? s : syncRandomSeed();
  if (ctx.rng !== undefined && !isStatefulRng(ctx.rng)) {
    throw new Error('the pipeline rng must be saveable (getState/setState) so checkpoints can resume its draws; use seededRng');
  }
  const trainRng = ctx.rng ?? seededRng(seed);
  return { seed, trainCtx: { ...ctx, rng: trainRng }, evalCtx: { ...ctx, rng: seededRng(seed) }, trainRng };
}

/** What {@link buildRunner} produced. */
export interface BuiltRunner {
  runner: Runner<PackedInputs, DetResult>;
  detector: TwoStageDetector;
  /** `load_from` report (null when not loaded). */
  loadReport: LoadStateDictResult | null;
  /** Warnings raised while building (skipped evaluators, model notes). */
  warnings: string[];
}

/** Options of {@link buildRunner}. */
export interface BuildRunnerOptions {
  /** Build the train dataloader (train) or only the test one (test). */
  mode: 'train' | 'test';
  store?: CheckpointStore | null;
  listener?: RunnerListener;
  cfgText?: string;
  experimentName?: string;
}

/**
 * Builds the detector, datasets, evaluators and the runner from a resolved config. `load_from` is
 * applied for training when `resume` is false.
 */
export async function buildRunner(cfg: Cfg, ctxIn: BuildContext, opts: BuildRunnerOptions): Promise<BuiltRunner> {
  const warnings: string[] = [];
  const { seed, trainCtx, evalCtx, trainRng } = pipelineContexts(cfg, ctxIn);
  const detector = buildDetector(cfg.model as Cfg);
  warnings.push(...detector.warnings);
  const dsCfg = (key: string) => (cfg[key] as Cfg | undefined)?.dataset as (CocoDatasetCfg & { dataset?: CocoDatasetCfg; times?: number }) | undefined;
  let trainDataset: RunnerDataset<PackedInputs> | undefined;
  let valDataset: RunnerDataset<PackedInputs> | undefined;
  let testDataset: RunnerDataset<PackedInputs> | undefined;
  if (opts.mode === 'train') {
    const t = dsCfg('train_dataloader');
    if (!t) throw new Error('train_dataloader.dataset is missing');
    trainDataset = runnerDataset(await buildDataset(t, trainCtx));
    const v = dsCfg('val_dataloader');
    if (v && cfg.val_cfg !== null) valDataset = runnerDataset(await buildDataset(v, evalCtx));
  } else {
    const t = dsCfg('test_dataloader');
    if (!t) throw new Error('test_dataloader.dataset is missing');
    testDataset = runnerDataset(await buildDataset(t, evalCtx));
  }
  const classes = ((trainDataset ?? testDataset)?.metainfo?.classes as string[] | undefined) ?? undefined;
  const valEvaluator = valDataset ? await buildEvaluator(cfg.val_evaluator, ctxIn, classes, (s) => warnings.push(s)) : undefined;
  const testEvaluator = testDataset ? await buildEvaluator(cfg.test_evaluator, ctxIn, classes, (s) => warnings.push(s)) : undefined;
  let loadReport: LoadStateDictResult | null = null;
  if (opts.mode === 'train' && typeof cfg.load_from === 'string' && !cfg.resume) {
    loadReport = await loadFrom(detector, cfg.load_from, ctxIn);
    if (loadReport.warning) warnings.push(loadReport.warning);
  }
  const runner = new Runner<PackedInputs, DetResult>({
    cfg,
    model: new DetectorAdapter(detector),
    trainDataset,
    valDataset,
    testDataset,
    valEvaluator,
    testEvaluator,
    store: opts.store ?? null,
    listener: opts.listener,
    cfgText: opts.cfgText,
    experimentName: opts.experimentName,
    seed,
    trainPipelineRng: trainRng,
  });
  for (const w of warnings) runner.warn(w);
  return { runner, detector, loadReport, warnings };
}

/**
 * The MMDetection `.pth` object of a checkpoint record: `meta`, `state_dict` in PyTorch layout
 * (4-D weights OIHW), and MMEngine's `optimizer` / `param_schedulers` / `message_hub` entries.
 * DetStudio's extra resume state rides in `meta` (`meta.sampler`, `meta.pipeline_rng`,
 * `meta.metrics`), which MMEngine carries along untouched.
 */
export function mmdetCheckpointFromRecord(rec: CheckpointRecord): Record<string, unknown> {
  const sd = new Map<string, TensorRecord>();
  for (const [k, t] of Object.entries(rec.state_dict)) {
    const data = t.dtype === 'float32' ? (t.data as Float32Array) : BigInt64Array.from(t.data as Int32Array, (x) => BigInt(x));
    sd.set(k, fromModelLayout(k, data, t.shape));
  }
  const meta: Record<string, unknown> = {
    ...rec.meta,
    ...(rec.sampler ? { sampler: rec.sampler } : {}),
    ...(rec.pipeline_rng ? { pipeline_rng: rec.pipeline_rng } : {}),
    ...(rec.model_rng ? { model_rng: rec.model_rng } : {}),
    ...(rec.metrics ? { metrics: rec.metrics } : {}),
  };
  const out: Record<string, unknown> = { meta, state_dict: sd };
  if (rec.message_hub) out.message_hub = rec.message_hub;
  if (rec.optimizer) {
    const state = new Map<number, unknown>();
    const names = rec.optimizer.param_groups.flatMap((g) => g.param_names);
    const shapes = new Map(Object.entries(rec.state_dict).map(([k, t]) => [k, t.shape]));
    for (const [id, s] of Object.entries(rec.optimizer.state)) {
      const name = names[Number(id)]!;
      const shape = shapes.get(name) ?? s.momentum_buffer.shape;
      state.set(Number(id), { momentum_buffer: fromModelLayout(name, s.momentum_buffer.data, shape) });
    }
    out.optimizer = { state, param_groups: rec.optimizer.param_groups };
  }
  if (rec.param_schedulers) out.param_schedulers = rec.param_schedulers;
  return out;
}
