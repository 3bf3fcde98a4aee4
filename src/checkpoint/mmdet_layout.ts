/**
 * The one place where MMDetection state-dict tensors are mapped to and from the tfjs model's
 * variables, plus MMEngine's `load_from` semantics.
 *
 * Layouts: the model runs NHWC, so every 4-D weight is permuted with (2, 3, 1, 0): a `Conv2d`
 * weight OIHW `[out, in, kh, kw]` becomes HWIO `[kh, kw, in, out]` (tfjs `conv2d`), and the
 * `ConvTranspose2d` weight of `roi_head.mask_head.upsample` `[in, out, kh, kw]` becomes
 * `[kh, kw, out, in]`, which is exactly the filter tfjs `conv2dTranspose` takes. `Linear` weights
 * stay `[out, in]` (the model computes `matMul(x, w, false, true)`); note `shared_fcs.0` expects
 * its input flattened in PyTorch's C,H,W order. 1-D tensors (biases, BN affine and running
 * stats) are unchanged; `num_batches_tracked` stays int64 so it can be exported again.
 *
 * @see mmengine/runner/checkpoint.py (`load_checkpoint`, `load_state_dict`) at v0.10
 */
import { DTYPE_SIZE, isTensorRecord, toFloat32, type TensorRecord } from './dtypes.ts';
import { CheckpointError } from './errors.ts';
import type { Checkpoint } from './torch_reader.ts';

/** A tensor in the model's layout: float32 weights, or int64 counters (`num_batches_tracked`). */
export interface ModelTensor {
  dtype: 'float32' | 'int64';
  shape: number[];
  data: Float32Array | BigInt64Array;
}

/** Whether a key names a BatchNorm `num_batches_tracked` counter. */
export function isNumBatchesTracked(key: string): boolean {
  return key.endsWith('num_batches_tracked');
}

/** Shape of a checkpoint (PyTorch-layout) tensor in the model's layout. */
export function toModelShape(shape: readonly number[]): number[] {
  return shape.length === 4 ? [shape[2]!, shape[3]!, shape[1]!, shape[0]!] : shape.slice();
}

/** Shape of a model-layout tensor in PyTorch's layout (inverse of {@link toModelShape}). */
export function toCheckpointShape(shape: readonly number[]): number[] {
  return shape.length === 4 ? [shape[3]!, shape[2]!, shape[0]!, shape[1]!] : shape.slice();
}

/**
 * Reverses the axes of a row-major 3-D array `[x, y, z]` into `[z, y, x]`, tiled for cache
 * locality. With `z = kh*kw` this is the 4-D permutation (2, 3, 1, 0) OIHW → HWIO, and with
 * `x = kh*kw`, `z = out` its inverse.
 */
function reverseAxes3(src: Float32Array, x: number, y: number, z: number): Float32Array {
  const out = new Float32Array(src.length);
  const T = 32;
  const yz = y * z;
  const yx = y * x;
  for (let i0 = 0; i0 < x; i0 += T) {
    const i1 = Math.min(x, i0 + T);
    for (let j = 0; j < y; j++) {
      for (let k0 = 0; k0 < z; k0 += T) {
        const k1 = Math.min(z, k0 + T);
        for (let i = i0; i < i1; i++) {
          const s = i * yz + j * z;
          const o = j * x + i;
          for (let k = k0; k < k1; k++) out[o + k * yx] = src[s + k]!;
        }
      }
    }
  }
  return out;
}

/**
 * A checkpoint tensor in the model's layout: float types become float32 (float16/bfloat16 decoded
 * exactly), 4-D weights are permuted OIHW → HWIO, `num_batches_tracked` stays int64.
 *
 * @param key state-dict key (used for `num_batches_tracked` and error messages).
 */
export function toModelLayout(key: string, tensor: TensorRecord): ModelTensor {
  if (tensor.dtype === 'int64' && isNumBatchesTracked(key)) {
    return { dtype: 'int64', shape: tensor.shape.slice(), data: tensor.data as BigInt64Array };
  }
  const data = toFloat32(tensor);
  if (tensor.shape.length === 4) return { dtype: 'float32', shape: toModelShape(tensor.shape), data: reverseAxes3(data, tensor.shape[0]!, tensor.shape[1]!, tensor.shape[2]! * tensor.shape[3]!) };
  if (tensor.shape.length > 4) throw new CheckpointError(`tensor '${key}' has rank ${tensor.shape.length}; the model has no such variables`);
  return { dtype: 'float32', shape: tensor.shape.slice(), data };
}

/**
 * A model variable back in PyTorch's layout for export: 4-D HWIO → OIHW, float32 (int64 kept for
 * `num_batches_tracked`).
 *
 * @param shape the variable's shape in the model's layout.
 */
export function fromModelLayout(key: string, data: Float32Array | BigInt64Array, shape: readonly number[]): TensorRecord {
  let n = 1;
  for (const d of shape) n *= d;
  if (n !== data.length) throw new CheckpointError(`'${key}': shape [${shape}] needs ${n} values, got ${data.length}`);
  if (data instanceof BigInt64Array) return { dtype: 'int64', shape: shape.slice(), data };
  if (shape.length === 4) return { dtype: 'float32', shape: toCheckpointShape(shape), data: reverseAxes3(data, shape[0]! * shape[1]!, shape[2]!, shape[3]!) };
  return { dtype: 'float32', shape: shape.slice(), data };
}

/** One tensor skipped because its shape differs from the model's (PyTorch layout shapes). */
export interface ShapeMismatch {
  key: string;
  ckptShape: number[];
  modelShape: number[];
}

/** Result of {@link loadStateDict}. */
export interface LoadStateDictResult {
  /** Tensors to assign, keyed by model key, in the model's layout. */
  loaded: Map<string, ModelTensor>;
  /** Model keys the checkpoint lacks (`num_batches_tracked` excluded, as MMEngine does). */
  missing: string[];
  /** Checkpoint keys (after revision) the model lacks. */
  unexpected: string[];
  /** Tensors skipped for a different shape; the model keeps its initialisation. */
  shapeMismatch: ShapeMismatch[];
  /** MMEngine's single warning text, or `null` when everything matched. */
  warning: string | null;
  /**
   * One line for the UI: how many tensors were loaded, skipped, missing and unexpected, with a
   * hint when nothing matched (a checkpoint of another architecture).
   */
  summary: string;
}

/** Options of {@link loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * Key rewrites applied in order, MMEngine's `revise_keys` (default `[[/^module./, '']]` exactly as
   * MMEngine's `r'^module.'`, which strips DataParallel prefixes).
   */
  reviseKeys?: ReadonlyArray<readonly [RegExp, string]>;
  /** Throw instead of warning (MMEngine `strict=True`; `load_from` uses `false`). */
  strict?: boolean;
  /** The layout of the expected shapes: PyTorch's (default) or the model's (HWIO for 4-D). */
  expectedLayout?: 'checkpoint' | 'model';
}

function torchSize(shape: readonly number[]): string {
  return `torch.Size([${shape.join(', ')}])`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * MMEngine's `load_checkpoint(model, …, strict=False, revise_keys=[(r'^module.', '')])` as used by
 * `load_from`: takes the state dict (a checkpoint's `state_dict`, already unwrapped by the reader),
 * rewrites keys, and matches them against the model's expected shapes. Shape-mismatched tensors are
 * skipped and reported; missing and unexpected keys are reported; all of it in ONE warning worded
 * as MMEngine logs it.
 *
 * @param expected the model's variables: key → shape (PyTorch layout unless `expectedLayout: 'model'`),
 *   in the model's registration order (the order of `missing`).
 * @param source a checkpoint or a bare state dict.
 * @throws CheckpointError with the same text when `strict` and anything differs.
 */
export function loadStateDict(
  expected: ReadonlyMap<string, readonly number[]> | Readonly<Record<string, readonly number[]>>,
  source: Checkpoint | ReadonlyMap<string, TensorRecord>,
  options: LoadStateDictOptions = {},
): LoadStateDictResult {
  const exp = new Map<string, number[]>();
  const entries = expected instanceof Map ? [...expected.entries()] : Object.entries(expected);
  for (const [k, s] of entries as [string, readonly number[]][]) {
    exp.set(k, options.expectedLayout === 'model' ? toCheckpointShape(s) : s.slice());
  }
  const sd = source instanceof Map ? source : (source as Checkpoint).stateDict;
  const revise = options.reviseKeys ?? [[/^module./, '']];
  const revised = new Map<string, TensorRecord>();
  for (const [k0, t] of sd) {
    let k = k0;
    for (const [re, rep] of revise) k = k.replace(re, rep);
    if (!isTensorRecord(t)) continue;
    revised.set(k, t);
  }
  const loaded = new Map<string, ModelTensor>();
  const shapeMismatch: ShapeMismatch[] = [];
  const missing: string[] = [];
  for (const [k, shape] of exp) {
    const t = revised.get(k);
    if (!t) {
      if (!isNumBatchesTracked(k)) missing.push(k);
      continue;
    }
    if (!sameShape(t.shape, shape)) {
      shapeMismatch.push({ key: k, ckptShape: t.shape.slice(), modelShape: shape.slice() });
      continue;
    }
    loaded.set(k, toModelLayout(k, t));
  }
  const unexpected = [...revised.keys()].filter((k) => !exp.has(k));
  const lines: string[] = [];
  for (const m of shapeMismatch) {
    lines.push(
      `size mismatch for ${m.key}: copying a param with shape ${torchSize(m.ckptShape)} from checkpoint, ` +
        `the shape in current model is ${torchSize(m.modelShape)}.`,
    );
  }
  if (unexpected.length) lines.push(`unexpected key in source state_dict: ${unexpected.join(', ')}\n`);
  if (missing.length) lines.push(`missing keys in source state_dict: ${missing.join(', ')}\n`);
  let warning: string | null = null;
  if (lines.length) {
    warning = ['The model and loaded state dict do not match exactly\n', ...lines].join('\n');
    if (options.strict) throw new CheckpointError(warning, { missing, unexpected, shapeMismatch });
  }
  let summary =
    `loaded ${loaded.size} of the model's ${exp.size} tensors; ${shapeMismatch.length} skipped for a size mismatch, ` +
    `${missing.length} missing, ${unexpected.length} unexpected`;
  if (loaded.size === 0 && exp.size > 0) {
    summary += revised.size
      ? ' - no tensor of the checkpoint matches the model: is it a checkpoint of another architecture or model?'
      : ' - the checkpoint has no tensors';
  }
  return { loaded, missing, unexpected, shapeMismatch, warning, summary };
}

/** What the checkpoint says about its backbone's style, with the evidence. */
export interface BackboneStyleEvidence {
  style: 'caffe' | 'pytorch' | null;
  evidence: string[];
}

/**
 * Detects a caffe-style (Detectron, BGR 0–255 input, stride on the 1x1 conv) ResNet backbone from a
 * checkpoint's meta (its embedded `config` text or dict, `img_norm_cfg`) and, optionally, its file
 * name or URL (`…_r50_caffe_fpn_…`). MMDetection 2.x checkpoints embed the config in `meta.config`.
 */
export function detectBackboneStyle(meta: unknown, fileName?: string): BackboneStyleEvidence {
  const evidence: string[] = [];
  let caffe = false;
  let pytorch = false;
  const m = (meta ?? {}) as Record<string, unknown>;
  const cfg = m.config;
  const text = typeof cfg === 'string' ? cfg : cfg && typeof cfg === 'object' ? JSON.stringify(cfg) : '';
  if (text) {
    if (/['"]?style['"]?\s*[=:]\s*['"]caffe['"]/.test(text)) (caffe = true), evidence.push("meta.config sets backbone style='caffe'");
    if (/['"]?style['"]?\s*[=:]\s*['"]pytorch['"]/.test(text)) (pytorch = true), evidence.push("meta.config sets backbone style='pytorch'");
    if (/resnet\d+_caffe/.test(text)) (caffe = true), evidence.push('meta.config initialises from a caffe ResNet (…resnet50_caffe)');
    if (/mean\s*[=:]\s*\[\s*103\.53/.test(text)) (caffe = true), evidence.push('meta.config normalises with the BGR caffe mean [103.53, 116.28, 123.675]');
  }
  const norm = m.img_norm_cfg as { mean?: number[] } | undefined;
  if (norm && Array.isArray(norm.mean) && Math.abs((norm.mean[0] ?? 0) - 103.53) < 0.01) {
    caffe = true;
    evidence.push('meta.img_norm_cfg has the BGR caffe mean');
  }
  if (fileName && /[_-]caffe[_-]/.test(fileName.split(/[\\/]/).pop() ?? '')) {
    caffe = true;
    evidence.push(`the file name '${fileName.split(/[\\/]/).pop()}' says caffe`);
  }
  return { style: caffe ? 'caffe' : pytorch ? 'pytorch' : null, evidence };
}

/**
 * The warning to show when a checkpoint's backbone is caffe-style but the config's backbone is
 * `style='pytorch'` (as in the tutorial's `load_from`), else `null`.
 */
export function backboneStyleWarning(meta: unknown, configStyle: string, fileName?: string): string | null {
  const det = detectBackboneStyle(meta, fileName);
  if (det.style !== 'caffe' || configStyle === 'caffe') return null;
  return (
    `The checkpoint's backbone was trained caffe-style (${det.evidence.join('; ')}), but the config's backbone ` +
    `has style='${configStyle}'. The weights still load (same keys and shapes), but caffe-style ResNets put the ` +
    "stride on the 1x1 conv and expect BGR 0-255 input with mean [103.53, 116.28, 123.675] and std [1, 1, 1]; use " +
    "style='caffe' and the matching data_preprocessor (bgr_to_rgb=False), or a pytorch-style checkpoint."
  );
}

/** Bytes a state dict's tensors occupy. */
export function stateDictBytes(sd: ReadonlyMap<string, TensorRecord>): number {
  let n = 0;
  for (const t of sd.values()) n += t.data.length * DTYPE_SIZE[t.dtype];
  return n;
}
