/**
 * Data structures the transforms pass along, as typed arrays (no tfjs): images HWC uint8 in BGR
 * order (what mmcv's cv2 decoding gives), boxes float32 `x1y1x2y2`, bitmap masks uint8.
 */
import type { InstanceInfo } from '../coco_dataset.ts';

/** An 8-bit image, row-major HWC. Pipeline images are BGR with 3 channels (OpenCV order). */
export interface ImageU8 {
  height: number;
  width: number;
  channels: number;
  /** `height * width * channels` bytes: interleaved (HWC), or channel planes (CHW) when `planar`. */
  data: Uint8Array;
  /**
   * Channel-planar (CHW) data — the layout `PackDetInputs` produces, so it packs without a copy.
   * Only the native decode span makes it, and only when `PackDetInputs` is the very next step
   * (`browser_fast_path.ts`); every other image is interleaved (HWC).
   */
  planar?: boolean;
}

/** MMDetection `BitmapMasks`: `n` masks of `height × width`, stored back to back (row-major, 0/1). */
export interface BitmapMasks {
  n: number;
  height: number;
  width: number;
  /** `n * height * width` bytes; mask k starts at `k * height * width`. */
  data: Uint8Array;
}

/** The results dict that flows through a pipeline (keys as in MMDetection). */
export interface Results {
  img_path?: string;
  img_id?: number;
  height?: number;
  width?: number;
  seg_map_path?: string | null;
  instances?: InstanceInfo[];
  img?: ImageU8;
  /** `[h, w]` of the current image. */
  img_shape?: [number, number];
  /** `[h, w]` as loaded. */
  ori_shape?: [number, number];
  /** `[n * 4]` float32, `x1y1x2y2` in the current image's pixels. */
  gt_bboxes?: Float32Array;
  /** `[n]` labels (int64 in MMDetection). */
  gt_bboxes_labels?: Int32Array;
  /** `[n]` 1 = crowd / ignored. */
  gt_ignore_flags?: Uint8Array;
  gt_masks?: BitmapMasks;
  /** Target `(w, h)` given to `Resize`. */
  scale?: [number, number];
  /** `(w_scale, h_scale)` actually applied. */
  scale_factor?: [number, number];
  keep_ratio?: boolean;
  flip?: boolean;
  flip_direction?: string | null;
  [key: string]: unknown;
}

/** A pipeline step: MMCV's `BaseTransform.transform`. Returning `null` drops the sample. */
export interface Transform {
  /** The mmdet `type` name. */
  readonly type: string;
  transform(results: Results): Results | null | Promise<Results | null>;
}

/** Uniform random numbers; inject a seeded one for reproducible augmentation. */
export interface Rng {
  /** Uniform in `[0, 1)`. */
  random(): number;
}

/** `np.random.randint(low, high)`: an integer in `[low, high)`. */
export function randint(rng: Rng, low: number, high: number): number {
  return low + Math.floor(rng.random() * (high - low));
}

/** Plain-data state of a {@link seededRng} generator (saved into checkpoints so a resumed run draws the same). */
export interface RngState {
  /** Generator kind; only `mulberry32` exists. */
  type: 'mulberry32';
  /** The 32-bit counter (unsigned). */
  state: number;
}

/** An {@link Rng} whose position can be read and restored. */
export interface StatefulRng extends Rng {
  /** The current state (a copy). */
  getState(): RngState;
  /** Continues from a state returned by {@link getState}. */
  setState(state: RngState): void;
}

/** True when an {@link Rng} can report and restore its state. */
export function isStatefulRng(rng: Rng | undefined): rng is StatefulRng {
  return rng !== undefined && typeof (rng as StatefulRng).getState === 'function' && typeof (rng as StatefulRng).setState === 'function';
}

/** A small seeded generator (mulberry32) with a saveable state; `Math.random` is used when no Rng is injected. */
export function seededRng(seed: number): StatefulRng {
  let a = seed >>> 0;
  return {
    random(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    getState: () => ({ type: 'mulberry32', state: a }),
    setState(st: RngState): void {
      if (st?.type !== 'mulberry32' || !Number.isInteger(st.state) || st.state < 0 || st.state > 0xffffffff) {
        throw new Error(`not a mulberry32 generator state: ${JSON.stringify(st)}`);
      }
      a = st.state >>> 0;
    },
  };
}

/** `Math.random` as an {@link Rng}. */
export const defaultRng: Rng = { random: () => Math.random() };
