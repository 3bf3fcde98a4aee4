/**
 * `DetDataPreprocessor` math on typed arrays: per image BGR → RGB, float32 `(x - mean) / std`, stack
 * with bottom/right zero padding to the batch maximum rounded up to `pad_size_divisor`, metainfo
 * `batch_input_shape` / `pad_shape`, and (training, `pad_mask`) `gt_instances.masks` padded to the batch
 * shape (`ignored_instances` masks are left as they are).
 *
 * @see mmdet/models/data_preprocessors/data_preprocessor.py, mmengine/model/base_model/data_preprocessor.py
 */
import type { DetDataSample, PackedInputs } from './formatting.ts';

/** Options of {@link detDataPreprocess} (the config keys). */
export interface DetDataPreprocessorCfg {
  mean?: [number, number, number] | number[];
  std?: [number, number, number] | number[];
  bgr_to_rgb?: boolean;
  rgb_to_bgr?: boolean;
  pad_size_divisor?: number;
  pad_value?: number;
  pad_mask?: boolean;
  mask_pad_value?: number;
  boxtype2tensor?: boolean;
}

/** A preprocessed batch: `inputs` is `N×C×H×W` float32. */
export interface PreprocessedBatch {
  inputs: Float32Array;
  shape: [number, number, number, number];
  data_samples: DetDataSample[];
}

const f32 = Math.fround;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * `out[d + x] = lut[src[so + x]]` for `x < w`; where `src32` (a word view of `src`) is given, the
 * aligned middle of the row is read four samples per 32-bit load.
 */
function normaliseRow(src: Uint8Array, src32: Uint32Array | null, so: number, out: Float32Array, d: number, w: number, lut: Float32Array): void {
  let x = 0;
  if (src32) {
    for (; x < w && ((so + x) & 3) !== 0; x++) out[d + x] = lut[src[so + x]!]!;
    for (let q = (so + x) >> 2; x + 4 <= w; x += 4, q++) {
      const v = src32[q]!;
      out[d + x] = lut[v & 0xff]!;
      out[d + x + 1] = lut[(v >>> 8) & 0xff]!;
      out[d + x + 2] = lut[(v >>> 16) & 0xff]!;
      out[d + x + 3] = lut[v >>> 24]!;
    }
  }
  for (; x < w; x++) out[d + x] = lut[src[so + x]!]!;
}

/** Runs `DetDataPreprocessor.forward(data, training)` on a list of packed samples. */
export function detDataPreprocess(samples: PackedInputs[], cfg: DetDataPreprocessorCfg, training: boolean): PreprocessedBatch {
  if (samples.length === 0) throw new Error('DetDataPreprocessor: empty batch');
  const swap = Boolean(cfg.bgr_to_rgb || cfg.rgb_to_bgr);
  const mean = cfg.mean ? cfg.mean.map(f32) : null;
  const std = cfg.std ? cfg.std.map(f32) : null;
  if ((mean === null) !== (std === null)) throw new Error('DetDataPreprocessor: mean and std must both be set or both be None');
  const div = cfg.pad_size_divisor ?? 1;
  const padValue = cfg.pad_value ?? 0;
  const c = samples[0]!.inputs.shape[0];
  let maxH = 0;
  let maxW = 0;
  for (const s of samples) {
    if (s.inputs.shape[0] !== c) throw new Error('DetDataPreprocessor: images have different channel counts');
    maxH = Math.max(maxH, s.inputs.shape[1]);
    maxW = Math.max(maxW, s.inputs.shape[2]);
  }
  const H = Math.ceil(maxH / div) * div;
  const W = Math.ceil(maxW / div) * div;
  const n = samples.length;
  const out = new Float32Array(n * c * H * W);
  if (padValue !== 0) out.fill(padValue);
  samples.forEach((s, b) => {
    const [, h, w] = s.inputs.shape;
    const src = s.inputs.data;
    for (let ch = 0; ch < c; ch++) {
      const srcCh = swap && c === 3 ? 2 - ch : ch;
      // uint8 input: the float32 result `(x - mean) / std` of each of the 256 values, computed once.
      const lut = new Float32Array(256);
      const m = mean ? mean[ch]! : 0;
      const sd = std ? std[ch]! : 1;
      for (let v = 0; v < 256; v++) lut[v] = mean ? f32(f32(v - m) / sd) : v;
      const srcBase = srcCh * h * w;
      const dstBase = (b * c + ch) * H * W;
      const src32 = LITTLE_ENDIAN && src.byteOffset % 4 === 0 ? new Uint32Array(src.buffer, src.byteOffset, src.length >> 2) : null;
      for (let y = 0; y < h; y++) normaliseRow(src, src32, srcBase + y * w, out, dstBase + y * W, w, lut);
    }
  });
  const dataSamples = samples.map((s) => {
    const [, h, w] = s.inputs.shape;
    const ds: DetDataSample = {
      metainfo: { ...s.data_samples.metainfo, batch_input_shape: [H, W], pad_shape: [Math.ceil(h / div) * div, Math.ceil(w / div) * div] },
      gt_instances: { ...s.data_samples.gt_instances },
      ignored_instances: s.data_samples.ignored_instances,
    };
    const m = ds.gt_instances.masks;
    if (training && cfg.pad_mask && m) {
      const padVal = cfg.mask_pad_value ?? 0;
      const data = new Uint8Array(m.n * H * W);
      if (padVal !== 0) data.fill(padVal);
      for (let k = 0; k < m.n; k++) {
        for (let y = 0; y < m.height; y++) {
          const s0 = (k * m.height + y) * m.width;
          data.set(m.data.subarray(s0, s0 + m.width), (k * H + y) * W);
        }
      }
      ds.gt_instances.masks = { n: m.n, height: H, width: W, data };
    }
    return ds;
  });
  return { inputs: out, shape: [n, c, H, W], data_samples: dataSamples };
}
