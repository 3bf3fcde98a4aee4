/**
 * `PackDetInputs`: image HWC → CHW (still uint8, BGR), instances split into `gt_instances`
 * (ignore flag 0) and `ignored_instances` (crowd), metainfo from `meta_keys`.
 *
 * @see mmdet/datasets/transforms/formatting.py (3.3)
 */
import type { BitmapMasks, Results, Transform } from './types.ts';

/** `InstanceData` of a sample: boxes `[n*4]` float32 x1y1x2y2, labels, bitmap masks. */
export interface InstanceData {
  bboxes: Float32Array;
  labels: Int32Array;
  masks?: BitmapMasks;
}

/** A `DetDataSample` as plain data. */
export interface DetDataSample {
  metainfo: Record<string, unknown>;
  gt_instances: InstanceData;
  ignored_instances: InstanceData;
}

/** What `PackDetInputs` returns: `inputs` is CHW uint8 (BGR) with its shape. */
export interface PackedInputs {
  inputs: { shape: [number, number, number]; data: Uint8Array };
  data_samples: DetDataSample;
}

/** Options of {@link PackDetInputs}. */
export interface PackDetInputsCfg {
  meta_keys?: string[];
}

/** MMDetection's default `meta_keys`. */
export const DEFAULT_META_KEYS = ['img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip', 'flip_direction'];

function selectInstances(results: Results, keep: number[]): InstanceData {
  const b = results.gt_bboxes ?? new Float32Array(0);
  const l = results.gt_bboxes_labels ?? new Int32Array(0);
  const out: InstanceData = {
    bboxes: new Float32Array(keep.length * 4),
    labels: new Int32Array(keep.length),
  };
  keep.forEach((k, i) => {
    out.bboxes.set(b.subarray(k * 4, k * 4 + 4), i * 4);
    out.labels[i] = l[k]!;
  });
  const m = results.gt_masks;
  if (m) {
    const plane = m.height * m.width;
    const data = new Uint8Array(keep.length * plane);
    keep.forEach((k, i) => data.set(m.data.subarray(k * plane, (k + 1) * plane), i * plane));
    out.masks = { n: keep.length, height: m.height, width: m.width, data };
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * 3-channel HWC → CHW four pixels at a time: three little-endian words hold 4 interleaved pixels
 * (`c0 c1 c2 c0 | c1 c2 c0 c1 | c2 c0 c1 c2`), one word per plane takes their 4 samples. Needs
 * `plane % 4 === 0` and a 4-aligned `src`.
 */
function hwcToChw3Words(src: Uint8Array, chw: Uint8Array, plane: number): void {
  const s32 = new Uint32Array(src.buffer, src.byteOffset, (plane * 3) >> 2);
  const o32 = new Uint32Array(chw.buffer, chw.byteOffset, (plane * 3) >> 2);
  const q4 = plane >> 2;
  for (let q = 0, s = 0; q < q4; q++, s += 3) {
    const a = s32[s]!;
    const b = s32[s + 1]!;
    const c = s32[s + 2]!;
    o32[q] = (a & 0xff) | ((a >>> 24) << 8) | (((b >>> 16) & 0xff) << 16) | (((c >>> 8) & 0xff) << 24);
    o32[q4 + q] = ((a >>> 8) & 0xff) | ((b & 0xff) << 8) | ((b >>> 24) << 16) | (((c >>> 16) & 0xff) << 24);
    o32[2 * q4 + q] = ((a >>> 16) & 0xff) | (((b >>> 8) & 0xff) << 8) | ((c & 0xff) << 16) | ((c >>> 24) << 24);
  }
}

/** `PackDetInputs`: the last step of a pipeline; its results are `{inputs, data_samples}` ({@link PackedInputs}). */
export class PackDetInputs implements Transform {
  readonly type = 'PackDetInputs';
  private readonly metaKeys: string[];

  constructor(cfg: PackDetInputsCfg = {}) {
    this.metaKeys = cfg.meta_keys ?? DEFAULT_META_KEYS;
  }

  /** Packs results into model inputs. */
  pack(results: Results): PackedInputs {
    const img = results.img;
    if (!img) throw new Error('PackDetInputs: results has no img');
    const { height: h, width: w, channels: c } = img;
    const plane = h * w;
    const src = img.data;
    // Channel planes (written by the native decode span) pack as they are.
    const chw = img.planar ? src : new Uint8Array(c * h * w);
    if (!img.planar) {
      if (c === 3 && LITTLE_ENDIAN && plane % 4 === 0 && src.byteOffset % 4 === 0) hwcToChw3Words(src, chw, plane);
      else if (c === 3) {
        for (let i = 0, s = 0; i < plane; i++, s += 3) {
          chw[i] = src[s]!;
          chw[plane + i] = src[s + 1]!;
          chw[2 * plane + i] = src[s + 2]!;
        }
      } else for (let i = 0, s = 0; i < plane; i++, s += c) for (let k = 0; k < c; k++) chw[k * plane + i] = src[s + k]!;
    }
    const flags = results.gt_ignore_flags;
    const n = results.gt_bboxes ? results.gt_bboxes.length / 4 : 0;
    const valid: number[] = [];
    const ignored: number[] = [];
    for (let i = 0; i < n; i++) (flags && flags[i] ? ignored : valid).push(i);
    const metainfo: Record<string, unknown> = {};
    for (const k of this.metaKeys) if (k in results) metainfo[k] = results[k];
    return {
      inputs: { shape: [c, h, w], data: chw },
      data_samples: { metainfo, gt_instances: selectInstances(results, valid), ignored_instances: selectInstances(results, ignored) },
    };
  }

  transform(results: Results): Results {
    return this.pack(results) as unknown as Results;
  }
}
