/**
 * What the predict worker does, free of worker plumbing so that it runs (and is tested) in Node:
 * resolve a config, build its detector, load a checkpoint (a `.pth` / `.safetensors` file or a
 * checkpoint record of the browser's database) with MMEngine's non-strict semantics, run the
 * config's test pipeline (LoadImageFromFile → Resize → PackDetInputs, annotations left out) and the
 * detector's `predict` on images, and evaluate a validation split with `CocoMetric`.
 *
 * Bad input gets named errors with actionable messages: {@link NotAnImageError},
 * {@link CorruptImageError}, {@link ImageTooLargeError}, {@link ClassCountMismatchError},
 * {@link CheckpointLoadError}. Huge images are downscaled before inference with a notice.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadStateDict, readCheckpoint, type TensorRecord } from '../checkpoint/index.ts';
import { MemoryFS, formatConfigError, resolveText, toPlainJSON } from '../config/index.ts';
import { DetStudioError } from '../core/errors.ts';
import { CITYSCAPES_METAINFO, COCO_METAINFO } from '../data/coco_dataset.ts';
import { Compose } from '../data/transforms/compose.ts';
import type { PackedInputs } from '../data/transforms/formatting.ts';
import { resizeBilinear } from '../data/transforms/image_ops.ts';
import type { DecodedPixels } from '../data/transforms/loading.ts';
import { CocoMetric, type DetPrediction } from '../eval/coco_metric.ts';
import type { GtObject } from '../eval/error_analysis.ts';
import type { MaskPatch } from '../eval/mask.ts';
import { buildDetector, type DetDataSample, type DetResult, type TwoStageDetector } from '../models/index.ts';
import { BatchNorm2d } from '../models/layers/nn.ts';
import { mmdetCheckpointFromRecord } from '../runner/build.ts';
import type { CheckpointRecord } from '../runner/checkpoint_store.ts';
import type { StoredCheckpointInfo } from '../storage/checkpoint_db.ts';
import type {
  CheckpointSource,
  ConfigSource,
  ImagePrediction,
  ModelInfo,
  StoredRun,
  ValImageResult,
  ValRunResult,
  ValSplitSpec,
} from './predict_protocol.ts';

type Cfg = Record<string, unknown>;

/** Images whose longer side exceeds this are downscaled before inference (with a notice). */
export const MAX_IMAGE_SIDE = 4096;
/** Images with more pixels than this are refused (decoding alone would need gigabytes). */
export const MAX_IMAGE_PIXELS = 100_000_000;

/** The file is not an image (no PNG / JPEG / WebP / GIF / BMP signature). */
export class NotAnImageError extends DetStudioError {
  constructor(name: string, what: string) {
    super('NotAnImageError', `${name} is not an image (${what}). Drop PNG or JPEG files.`, { name });
  }
}

/** The file looks like an image but cannot be decoded. */
export class CorruptImageError extends DetStudioError {
  constructor(name: string, reason: string) {
    super('CorruptImageError', `${name} could not be decoded: the file is corrupt or truncated (${reason}).`, { name });
  }
}

/** The image is too large to decode, or its network input exceeds the GPU's buffer limit. */
export class ImageTooLargeError extends DetStudioError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('ImageTooLargeError', message, details);
  }
}

/** The checkpoint's class count differs from the config's `num_classes`. */
export class ClassCountMismatchError extends DetStudioError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('ClassCountMismatchError', message, details);
  }
}

/** The checkpoint could not be read or does not fit the config's model at all. */
export class CheckpointLoadError extends DetStudioError {
  constructor(message: string) {
    super('CheckpointLoadError', message);
  }
}

/** The config does not resolve or lacks what inference needs. */
export class PredictConfigError extends DetStudioError {
  constructor(message: string) {
    super('PredictConfigError', message);
  }
}

/** What the tasks need from their host (worker or Node). */
export interface PredictEnv {
  /** The built-in config tree, tree path → text. */
  builtins: Readonly<Record<string, string>>;
  /**
   * Decodes an image to 8-bit RGB(A). `maxSide`: the host may decode at a smaller size whose longer
   * side is at most this (the browser's `createImageBitmap` resize); otherwise it is downscaled here.
   */
  decodeImage(bytes: Uint8Array, name: string, maxSide?: number): Promise<DecodedPixels>;
  /** Reads a URL (validation images and annotation files). */
  fetchBytes(url: string): Promise<Uint8Array>;
  /**
   * Downloads checkpoint weights from an http(s) URL, once (the host caches them and checks the hash
   * in the file name). Absent where downloads are not possible.
   */
  fetchWeights?(url: string): Promise<Uint8Array>;
  /** Opens the checkpoint database (absent where there is none, e.g. Node). */
  checkpointDb?(): Promise<{
    listRunInfos(): Promise<Array<{ id: string; name: string; configText?: string }>>;
    listCheckpoints(runId: string): Promise<StoredCheckpointInfo[]>;
    loadCheckpoint<R>(id: string): Promise<R>;
  }>;
  /** Device limits of the backend in use (WebGPU), or null. */
  limits?(): Record<string, number> | null;
  /** Name and notice of the backend in use. */
  backend?(): { name: string; notice: string };
}

/** Format of an image file from its first bytes, or null when it is none of the known ones. */
export function sniffImage(bytes: Uint8Array): 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | null {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'gif';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  return null;
}

/** Width and height from a PNG's IHDR or a JPEG's SOF marker, without decoding; null if unknown. */
export function imageHeaderSize(bytes: Uint8Array): { width: number; height: number } | null {
  const kind = sniffImage(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (kind === 'png' && bytes.length >= 24) return { width: dv.getUint32(16), height: dv.getUint32(20) };
  if (kind === 'jpeg') {
    let i = 2;
    while (i + 9 < bytes.length) {
      if (bytes[i] !== 0xff) return null;
      const marker = bytes[i + 1]!;
      if (marker === 0xff) {
        i++;
        continue;
      }
      const len = dv.getUint16(i + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: dv.getUint16(i + 5), width: dv.getUint16(i + 7) };
      }
      i += 2 + len;
    }
  }
  return null;
}

/** Resolves a config source to a plain dict. */
export function resolvePredictConfig(source: ConfigSource, builtins: Readonly<Record<string, string>>): { cfg: Cfg; name: string } {
  const root = '/builtin/configs';
  const files: Record<string, string> = {};
  for (const [p, t] of Object.entries(builtins)) files[`${root}/${p}`] = t;
  let path: string;
  let text: string | undefined;
  if (source.kind === 'path') {
    for (const [p, t] of Object.entries(source.userFiles)) files[`${root}/${p}`] = t;
    path = `${root}/${source.path}`;
    text = files[path];
    if (text === undefined) throw new PredictConfigError(`No config '${source.path}'.`);
  } else {
    path = `${root}/__run__/${source.name.replace(/[^\w.-]/g, '_')}.py`;
    text = source.text;
    files[path] = text;
  }
  const res = resolveText(text, path, new MemoryFS(files));
  if (!res.ok) throw new PredictConfigError(formatConfigError(res.error).split(`${root}/`).join(''));
  const cfg = toPlainJSON(res.cfg) as Cfg;
  if (!cfg.model || typeof cfg.model !== 'object') throw new PredictConfigError('The config has no `model`.');
  return { cfg, name: source.kind === 'path' ? source.path : source.name };
}

function get(obj: unknown, path: string): unknown {
  let o = obj;
  for (const k of path.split('.')) {
    if (!o || typeof o !== 'object') return undefined;
    o = (o as Cfg)[k];
  }
  return o;
}

/** The test dataset's config (`test_dataloader.dataset`, inside a RepeatDataset if wrapped). */
function testDatasetCfg(cfg: Cfg): Cfg | undefined {
  for (const key of ['test_dataloader', 'val_dataloader']) {
    let ds = get(cfg, `${key}.dataset`) as Cfg | undefined;
    if (ds && (ds.type === 'RepeatDataset' || ds.type === 'ClassBalancedDataset')) ds = ds.dataset as Cfg | undefined;
    if (ds) return ds;
  }
  return undefined;
}

/** A distinct colour per class when the dataset has no palette (golden-angle hues). */
function generatedPalette(n: number): Array<[number, number, number]> {
  // HSL(h, 60%, 55%) → RGB.
  const a = 0.6 * Math.min(0.55, 1 - 0.55);
  return Array.from({ length: n }, (_, i) => {
    const h = (i * 137.508) % 360;
    const f = (k: number) => {
      const kk = (k + h / 30) % 12;
      return Math.round(255 * (0.55 - a * Math.max(-1, Math.min(kk - 3, 9 - kk, 1))));
    };
    return [f(0), f(8), f(4)] as [number, number, number];
  });
}

/** Class names and palette of the config's test dataset (metainfo, else the dataset type's METAINFO). */
export function classesOf(cfg: Cfg, numClasses: number): { classes: string[]; palette: Array<[number, number, number]>; note: string | null } {
  const ds = testDatasetCfg(cfg);
  const meta = (ds?.metainfo ?? {}) as { classes?: unknown; palette?: unknown };
  const base = ds?.type === 'CityscapesDataset' ? CITYSCAPES_METAINFO : ds?.type === 'CocoDataset' ? COCO_METAINFO : null;
  const classes = Array.isArray(meta.classes) ? (meta.classes as string[]).map(String) : base ? [...base.classes] : [];
  let palette = Array.isArray(meta.palette) ? (meta.palette as Array<[number, number, number]>) : base?.palette && !Array.isArray(meta.classes) ? base.palette.map((c) => [...c] as [number, number, number]) : [];
  let note: string | null = null;
  if (classes.length !== numClasses) {
    note = `The dataset lists ${classes.length} classes but the model has num_classes=${numClasses}; labels beyond the list are shown as 'class N'.`;
    for (let i = classes.length; i < numClasses; i++) classes.push(`class ${i}`);
  }
  if (palette.length < classes.length) palette = [...palette, ...generatedPalette(classes.length).slice(palette.length)];
  return { classes: classes.slice(0, Math.max(numClasses, 0)), palette: palette.slice(0, Math.max(numClasses, 0)), note };
}

/** Bounding window of a plane's foreground, as a {@link MaskPatch} (0x0 when empty). */
export function cropMask(plane: Uint8Array, h: number, w: number): MaskPatch {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let first = -1;
    for (let x = 0; x < w; x++) {
      if (plane[row + x]) {
        first = x;
        break;
      }
    }
    if (first < 0) continue;
    let last = first;
    for (let x = w - 1; x > first; x--) {
      if (plane[row + x]) {
        last = x;
        break;
      }
    }
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
    if (y < y0) y0 = y;
    y1 = y;
  }
  if (x1 < 0) return { data: new Uint8Array(0), x: 0, y: 0, w: 0, h: 0 };
  const pw = x1 - x0 + 1;
  const ph = y1 - y0 + 1;
  const data = new Uint8Array(pw * ph);
  for (let y = 0; y < ph; y++) data.set(plane.subarray((y0 + y) * w + x0, (y0 + y) * w + x0 + pw), y * pw);
  return { data, x: x0, y: y0, w: pw, h: ph };
}

/** Downscales RGB(A) pixels so that the longer side is `maxSide` (bilinear, OpenCV-exact). */
function downscale(p: DecodedPixels, maxSide: number): DecodedPixels {
  const s = maxSide / Math.max(p.width, p.height);
  const w = Math.max(1, Math.round(p.width * s));
  const h = Math.max(1, Math.round(p.height * s));
  const out = resizeBilinear({ width: p.width, height: p.height, channels: p.channels, data: p.data instanceof Uint8Array ? p.data : new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength) }, w, h);
  return { width: w, height: h, channels: p.channels, data: out.data };
}

/** The loaded model and everything needed to run it. */
interface Loaded {
  detector: TwoStageDetector;
  pipeline: Compose;
  info: ModelInfo;
  cfg: Cfg;
}

/** Builds detectors, loads weights and predicts (one model at a time). */
export class Predictor {
  private model: Loaded | null = null;
  /** Bytes of the image being predicted (read by the pipeline's LoadImageFromFile). */
  private current: { name: string; pixels: DecodedPixels } | null = null;

  constructor(private readonly env: PredictEnv) {}

  /** Info of the loaded model, or null. */
  get info(): ModelInfo | null {
    return this.model?.info ?? null;
  }

  /** Runs and checkpoints of the browser's database (empty where there is none). */
  async listStored(): Promise<StoredRun[]> {
    if (!this.env.checkpointDb) return [];
    const db = await this.env.checkpointDb();
    const out: StoredRun[] = [];
    for (const run of await db.listRunInfos()) {
      const checkpoints = await db.listCheckpoints(run.id);
      if (checkpoints.length) out.push({ runId: run.id, runName: run.name, configText: run.configText, checkpoints });
    }
    return out;
  }

  private async stateDictOf(source: CheckpointSource): Promise<Map<string, TensorRecord>> {
    if (source.kind === 'url') {
      if (!/^https?:\/\//.test(source.url)) throw new CheckpointLoadError(`'${source.url}' is not an http(s) URL.`);
      if (!this.env.fetchWeights) throw new CheckpointLoadError('Downloads are not available here: download the file yourself and drop it.');
      const bytes = await this.env.fetchWeights(source.url);
      return this.stateDictOf({ kind: 'file', name: source.name, bytes });
    }
    if (source.kind === 'file') {
      try {
        return readCheckpoint(source.bytes).stateDict;
      } catch (e) {
        throw new CheckpointLoadError(`${source.name} is not a readable checkpoint: ${(e as Error).message}. Drop a PyTorch .pth or a .safetensors file.`);
      }
    }
    if (!this.env.checkpointDb) throw new CheckpointLoadError('No checkpoint database here.');
    const db = await this.env.checkpointDb();
    const rec = await db.loadCheckpoint<CheckpointRecord>(source.id);
    return mmdetCheckpointFromRecord(rec).state_dict as Map<string, TensorRecord>;
  }

  /**
   * Builds the config's detector and loads the checkpoint into it (non-strict, like MMEngine's
   * `load_checkpoint`), after checking that the class counts agree.
   */
  async load(config: ConfigSource, checkpoint: CheckpointSource): Promise<ModelInfo> {
    const { cfg, name } = resolvePredictConfig(config, this.env.builtins);
    const numClasses = Number(get(cfg, 'model.roi_head.bbox_head.num_classes'));
    const sd = await this.stateDictOf(checkpoint);
    const fcCls = sd.get('roi_head.bbox_head.fc_cls.weight') ?? sd.get('module.roi_head.bbox_head.fc_cls.weight');
    if (fcCls && Number.isFinite(numClasses) && fcCls.shape[0]! - 1 !== numClasses) {
      const k = fcCls.shape[0]! - 1;
      throw new ClassCountMismatchError(
        `${checkpoint.name} predicts ${k} classes (roi_head.bbox_head.fc_cls.weight is [${fcCls.shape.join(', ')}]) but ${name} has num_classes=${numClasses}. ` +
          `Pick the config the checkpoint was trained with, or set model.roi_head.bbox_head.num_classes=${k} and model.roi_head.mask_head.num_classes=${k}.`,
        { checkpointClasses: k, configClasses: numClasses },
      );
    }
    // tfjs variables have global names: the previous model must be gone before a new one is built.
    this.unload();
    let detector: TwoStageDetector;
    try {
      detector = buildDetector(cfg.model as Cfg);
    } catch (e) {
      throw new PredictConfigError(`The model of ${name} could not be built: ${(e as Error).message}`);
    }
    const warnings: string[] = [...detector.warnings];
    try {
      const vars = detector.stateDict();
      const expected = new Map<string, number[]>();
      for (const [k, v] of vars) expected.set(k, v.shape.slice());
      const bn = new Set<string>();
      for (const m of detector.modules()) if (m instanceof BatchNorm2d) bn.add(m.prefix);
      const filtered = new Map([...sd].filter(([k]) => !(k.endsWith('.num_batches_tracked') && bn.has(k.replace(/^module\./, '').slice(0, -'.num_batches_tracked'.length)))));
      const res = loadStateDict(expected, filtered, { expectedLayout: 'model' });
      if (res.loaded.size === 0) {
        throw new CheckpointLoadError(`${checkpoint.name} has no weights for this model (${res.summary}).`);
      }
      for (const [k, t] of res.loaded) {
        const v = vars.get(k)!;
        const data = t.data instanceof BigInt64Array ? Float32Array.from(t.data, (x) => Number(x)) : t.data;
        const tensor = tf.tensor(data as Float32Array, t.shape, v.dtype === 'int32' ? 'int32' : 'float32');
        v.assign(tensor);
        tensor.dispose();
      }
      if (res.warning) warnings.push(res.warning);
      detector.train(false);
      const ds = testDatasetCfg(cfg);
      const steps = ((ds?.pipeline ?? get(cfg, 'test_pipeline')) as Array<Cfg & { type: string }> | undefined) ?? [];
      if (!steps.length) throw new PredictConfigError(`${name} has no test pipeline (test_dataloader.dataset.pipeline).`);
      // Annotations are not needed to predict (dropped images have none).
      const pipeline = new Compose(
        steps.filter((s) => s.type !== 'LoadAnnotations'),
        {
          readFile: async () => new Uint8Array(0),
          decodeImage: () => {
            if (!this.current) throw new Error('no current image');
            return this.current.pixels;
          },
        },
      );
      const resize = steps.find((s) => s.type === 'Resize') as { scale?: unknown } | undefined;
      const scale = Array.isArray(resize?.scale) && resize.scale.length === 2 ? (resize.scale as [number, number]) : null;
      const meta = classesOf(cfg, numClasses);
      if (meta.note) warnings.push(meta.note);
      const backend = this.env.backend?.() ?? { name: tf.getBackend(), notice: '' };
      const info: ModelInfo = {
        configName: name,
        checkpointName: checkpoint.name,
        classes: meta.classes,
        palette: meta.palette,
        scoreThr: Number(get(cfg, 'model.test_cfg.rcnn.score_thr') ?? 0),
        testScale: scale,
        loaded: res.loaded.size,
        total: vars.size,
        warnings,
        backend: backend.name,
        backendNotice: backend.notice,
      };
      this.model = { detector, pipeline, info, cfg };
      return info;
    } catch (e) {
      detector.dispose();
      throw e;
    }
  }

  /** Frees the model's weights. */
  unload(): void {
    this.model?.detector.dispose();
    this.model = null;
  }

  /** Checks, decodes (downscaling huge images) and predicts one image. */
  async predict(name: string, bytes: Uint8Array, imgId?: number): Promise<ImagePrediction> {
    const model = this.model;
    if (!model) throw new PredictConfigError('Load a checkpoint first.');
    const kind = sniffImage(bytes);
    if (!kind) {
      const what = bytes.length === 0 ? 'the file is empty' : 'no PNG, JPEG, WebP, GIF or BMP signature';
      throw new NotAnImageError(name, what);
    }
    const header = imageHeaderSize(bytes);
    if (header && header.width * header.height > MAX_IMAGE_PIXELS) {
      throw new ImageTooLargeError(
        `${name} is ${header.width}×${header.height} (${((header.width * header.height) / 1e6).toFixed(0)} MP): more than the ${MAX_IMAGE_PIXELS / 1e6} MP that can be decoded here. Downscale it first.`,
        { width: header.width, height: header.height },
      );
    }
    const t0 = performance.now();
    let pixels: DecodedPixels;
    try {
      pixels = await this.env.decodeImage(bytes, name, header && Math.max(header.width, header.height) > MAX_IMAGE_SIDE ? MAX_IMAGE_SIDE : undefined);
    } catch (e) {
      throw new CorruptImageError(name, (e as Error).message || String(e));
    }
    if (!pixels.width || !pixels.height) throw new CorruptImageError(name, 'zero-sized image');
    const originalWidth = header?.width ?? pixels.width;
    const originalHeight = header?.height ?? pixels.height;
    if (Math.max(pixels.width, pixels.height) > MAX_IMAGE_SIDE) pixels = downscale(pixels, MAX_IMAGE_SIDE);
    const notice =
      pixels.width !== originalWidth || pixels.height !== originalHeight
        ? `${name} is ${originalWidth}×${originalHeight}; it was downscaled to ${pixels.width}×${pixels.height} before inference (images are limited to ${MAX_IMAGE_SIDE} px per side).`
        : null;
    this.current = { name, pixels };
    let packed: PackedInputs;
    try {
      const r = await model.pipeline.run({ img_path: name, img_id: imgId ?? 0 });
      if (!r) throw new Error('the test pipeline dropped the image');
      packed = r as unknown as PackedInputs;
    } finally {
      this.current = null;
    }
    const [, ih, iw] = packed.inputs.shape;
    this.checkGpuLimits(model, ih, iw, name);
    const res = await this.runModel(model.detector, packed);
    const ms = performance.now() - t0;
    let masks: MaskPatch[] | null = null;
    if (res.masks) {
      const { height: h, width: w, data } = res.masks;
      masks = Array.from({ length: res.masks.count }, (_, k) => cropMask(data.subarray(k * h * w, (k + 1) * h * w), h, w));
    }
    return {
      name,
      ...(imgId !== undefined ? { imgId } : {}),
      width: pixels.width,
      height: pixels.height,
      originalWidth,
      originalHeight,
      inputShape: [ih, iw],
      notice,
      ms,
      bboxes: res.bboxes,
      scores: res.scores,
      labels: res.labels,
      masks,
    };
  }

  /**
   * Data preprocessor + `predict` on one packed image. The CHW uint8 image becomes an HWC float32
   * tensor on the CPU side (an int32 transpose compiles to invalid WGSL in tfjs-backend-webgpu 4.22),
   * and every tensor made while predicting is freed afterwards.
   */
  private async runModel(detector: TwoStageDetector, packed: PackedInputs): Promise<DetResult> {
    const [c, h, w] = packed.inputs.shape;
    const src = packed.inputs.data;
    const hwc = new Float32Array(h * w * c);
    const plane = h * w;
    for (let i = 0; i < plane; i++) for (let k = 0; k < c; k++) hwc[i * c + k] = src[k * plane + i]!;
    const engine = tf.engine() as unknown as { startScope(name?: string): void; endScope(result?: unknown): void };
    engine.startScope('predict');
    try {
      const image = tf.tensor3d(hwc, [h, w, c], 'float32');
      const samples: DetDataSample[] = [{ metainfo: { ...(packed.data_samples.metainfo as DetDataSample['metainfo']) } }];
      const inputs = detector.dataPreprocessor.forward([image], samples);
      return (await detector.predict(inputs, samples, true))[0]!;
    } finally {
      engine.endScope();
    }
  }

  /** Refuses a network input whose largest feature map exceeds the GPU's storage-buffer limit. */
  private checkGpuLimits(model: Loaded, h: number, w: number, name: string): void {
    const limit = this.env.limits?.()?.maxStorageBufferBindingSize;
    if (!limit) return;
    const stem = Number(get(model.cfg, 'model.backbone.stem_channels') ?? get(model.cfg, 'model.backbone.base_channels') ?? 64);
    const base = Number(get(model.cfg, 'model.backbone.base_channels') ?? 64);
    // Stem output (stride 2) and C2 (stride 4, 4x base channels) are the largest maps.
    const ph = Math.ceil(h / 32) * 32;
    const pw = Math.ceil(w / 32) * 32;
    const bytes = 4 * Math.max((stem * ph * pw) / 4, (4 * base * ph * pw) / 16);
    if (bytes > limit) {
      throw new ImageTooLargeError(
        `${name}: the network input ${pw}×${ph} needs ${(bytes / 2 ** 20).toFixed(0)} MiB feature maps, more than this GPU allows per buffer ` +
          `(${(limit / 2 ** 20).toFixed(0)} MiB). Lower the Resize scale of the config's test_pipeline.`,
        { bytes, limit },
      );
    }
  }

  /**
   * Predicts every image of a validation split, reporting each with its ground truth, then
   * evaluates with `CocoMetric` (bbox + segm, classwise) and writes the COCO results json.
   */
  async predictSplit(spec: ValSplitSpec, onItem: (done: number, total: number, item: ValImageResult) => void, signal?: AbortSignal): Promise<ValRunResult> {
    const model = this.model;
    if (!model) throw new PredictConfigError('Load a checkpoint first.');
    const annUrl = spec.baseUrl + spec.annFile;
    const ann = JSON.parse(new TextDecoder().decode(await this.env.fetchBytes(annUrl))) as {
      images: Array<{ id: number; file_name: string; width: number; height: number }>;
      annotations: Array<{ image_id: number; category_id: number; bbox: number[]; iscrowd?: number }>;
      categories: Array<{ id: number; name: string }>;
    };
    const classes = model.info.classes;
    const labelOfCat = new Map<number, number>();
    for (const c of ann.categories) {
      const l = classes.indexOf(c.name);
      if (l >= 0) labelOfCat.set(c.id, l);
    }
    const known = classes.filter((c) => ann.categories.some((k) => k.name === c));
    const withMasks = model.detector.roiHead.withMask;
    const metric = new CocoMetric({ ann, metric: withMasks ? ['bbox', 'segm'] : 'bbox', classwise: true, classes: known.length === classes.length ? classes : undefined });
    const gtByImage = new Map<number, GtObject[]>();
    for (const a of ann.annotations) {
      const label = labelOfCat.get(a.category_id);
      if (label === undefined) continue;
      let list = gtByImage.get(a.image_id);
      if (!list) gtByImage.set(a.image_id, (list = []));
      list.push({ bbox: a.bbox, label, iscrowd: Boolean(a.iscrowd) });
    }
    const images = spec.limit !== undefined ? ann.images.slice(0, spec.limit) : ann.images;
    let totalMs = 0;
    for (let i = 0; i < images.length; i++) {
      if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
      const im = images[i]!;
      const url = spec.baseUrl + spec.imgPrefix + im.file_name;
      const pred = await this.predict(im.file_name, await this.env.fetchBytes(url), im.id);
      totalMs += pred.ms;
      const p: DetPrediction = { imgId: im.id, bboxes: pred.bboxes, scores: pred.scores, labels: pred.labels };
      if (pred.masks) p.masks = pred.masks;
      // Masks and boxes are in the frame of the decoded image; a downscaled validation image would not match its annotations.
      if (pred.width === im.width && pred.height === im.height) metric.process(p);
      onItem(i + 1, images.length, { prediction: pred, gt: gtByImage.get(im.id) ?? [], url });
    }
    // The results json first: evaluating consumes the metric's collected results.
    const results = metric.toCocoResults();
    const report = metric.evaluateDetailed();
    return {
      images: images.length,
      metrics: report.metrics,
      classwise: report.classwise,
      resultsJson: { bbox: JSON.stringify(results.bbox), ...(results.segm ? { segm: JSON.stringify(results.segm) } : {}) },
      msPerImage: images.length ? totalMs / images.length : 0,
      log: report.log,
    };
  }
}
