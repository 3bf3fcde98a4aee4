/**
 * `Resize` (mmdet, on mmcv's) and `RandomResize` (mmcv): image by `cv2.resize` INTER_LINEAR,
 * boxes scaled by `scale_factor = (new_w / w, new_h / h)` in float32 and clipped, masks by
 * INTER_NEAREST.
 *
 * @see mmdet/datasets/transforms/transforms.py `Resize`, mmcv/transforms/processing.py `RandomResize` (mmcv 2.1)
 */
import { flipHorizontal, rescaleSize, resizeBilinear, resizeNearestPlanes } from './image_ops.ts';
import { defaultRng, randint, type ImageU8, type Results, type Rng, type Transform } from './types.ts';

type Scale = [number, number];

/** Options of {@link Resize}. */
export interface ResizeCfg {
  /** Target `(w, h)` or a single edge. */
  scale?: number | Scale;
  scale_factor?: number | Scale;
  keep_ratio?: boolean;
  clip_object_border?: boolean;
  backend?: string;
  interpolation?: string;
}

const f32 = Math.fround;

/** `Resize`: `keep_ratio` uses mmcv `rescale_size`, otherwise the exact `(w, h)`. */
export class Resize implements Transform {
  readonly type: string = 'Resize';
  /** Target `(w, h)`; `RandomResize` sets it per sample. */
  scale: Scale | null;
  private readonly scaleFactor: Scale | null;
  private readonly keepRatio: boolean;
  private readonly clip: boolean;

  constructor(cfg: ResizeCfg) {
    if (cfg.interpolation !== undefined && cfg.interpolation !== 'bilinear') {
      throw new Error(`Resize: interpolation='${cfg.interpolation}' is not supported (only 'bilinear')`);
    }
    if (cfg.scale === undefined && cfg.scale_factor === undefined) throw new Error('Resize: `scale` and `scale_factor` can not both be None');
    this.scale = cfg.scale === undefined ? null : typeof cfg.scale === 'number' ? [cfg.scale, cfg.scale] : [cfg.scale[0], cfg.scale[1]];
    this.scaleFactor =
      cfg.scale_factor === undefined ? null : typeof cfg.scale_factor === 'number' ? [cfg.scale_factor, cfg.scale_factor] : cfg.scale_factor;
    this.keepRatio = cfg.keep_ratio ?? false;
    this.clip = cfg.clip_object_border ?? true;
  }

  /**
   * The target `(w, h)` asked for (`results.scale`) and the output size `(new_w, new_h)` for an
   * image of `w × h` (mmcv `rescale_size` with `keep_ratio`, else the target itself).
   */
  plan(w: number, h: number): { scale: Scale; size: Scale } {
    let scale: Scale;
    if (this.scale) scale = this.scale;
    else {
      const [fx, fy] = this.scaleFactor!;
      scale = [Math.trunc(w * fx + 0.5), Math.trunc(h * fy + 0.5)];
    }
    return { scale, size: this.keepRatio ? rescaleSize([w, h], scale).size : [scale[0], scale[1]] };
  }

  /**
   * Resizes image, boxes and masks. `mirrorImage` also mirrors the image horizontally in the same
   * pass (a following horizontal `RandomFlip` fused in by `Compose`); boxes and masks are left
   * unflipped for the flip step. `resized`: the image already at the output size (and mirrored
   * when `mirrorImage`), made by a native decoder (`browser_fast_path.ts`); the input size is then
   * `results.img_shape` and only boxes, masks and the keys are computed here.
   */
  transform(results: Results, mirrorImage = false, resized?: ImageU8): Results {
    const img = results.img;
    let h: number;
    let w: number;
    if (resized) {
      if (!results.img_shape) throw new Error('Resize: results has no img_shape');
      [h, w] = results.img_shape;
    } else {
      if (!img) throw new Error('Resize: results has no img');
      h = img.height;
      w = img.width;
    }
    const { scale, size } = this.plan(w, h);
    results.scale = scale;
    const [nw, nh] = size;
    if (resized) {
      if (resized.width !== nw || resized.height !== nh) {
        throw new Error(`Resize: the natively resized image is ${resized.width}×${resized.height}, expected ${nw}×${nh}`);
      }
      results.img = resized;
    } else if (nw !== w || nh !== h) results.img = resizeBilinear(img!, nw, nh, { flipHorizontal: mirrorImage });
    else if (mirrorImage) results.img = { ...img!, data: flipHorizontal(img!.data, 1, h, w, img!.channels) };
    const sx = nw / w;
    const sy = nh / h;
    results.img_shape = [nh, nw];
    results.scale_factor = [sx, sy];
    results.keep_ratio = this.keepRatio;
    if (results.gt_bboxes) {
      const b = results.gt_bboxes;
      const fx = f32(sx);
      const fy = f32(sy);
      for (let i = 0; i < b.length; i += 4) {
        b[i] = f32(b[i]! * fx);
        b[i + 1] = f32(b[i + 1]! * fy);
        b[i + 2] = f32(b[i + 2]! * fx);
        b[i + 3] = f32(b[i + 3]! * fy);
        if (this.clip) {
          b[i] = Math.min(Math.max(b[i]!, 0), nw);
          b[i + 1] = Math.min(Math.max(b[i + 1]!, 0), nh);
          b[i + 2] = Math.min(Math.max(b[i + 2]!, 0), nw);
          b[i + 3] = Math.min(Math.max(b[i + 3]!, 0), nh);
        }
      }
    }
    const m = results.gt_masks;
    if (m) {
      // BitmapMasks.rescale(scale) / resize(img_shape): the same size as the image here.
      const [mw, mh] = this.keepRatio ? rescaleSize([m.width, m.height], scale).size : [nw, nh];
      results.gt_masks = { n: m.n, height: mh, width: mw, data: resizeNearestPlanes(m.data, m.n, m.height, m.width, mh, mw) };
    }
    return results;
  }
}

/** Options of {@link RandomResize}. */
export interface RandomResizeCfg {
  /** `[(w0, h0), (w1, h1)]` (sample each edge between), or one `(w, h)` with `ratio_range`. */
  scale: Scale | Scale[];
  ratio_range?: [number, number];
  resize_type?: string;
  keep_ratio?: boolean;
  clip_object_border?: boolean;
  [key: string]: unknown;
}

/**
 * mmcv `RandomResize`: with two scales, `edge_0 = randint(min(w0, w1), max(w0, w1) + 1)` and
 * `edge_1 = randint(min(h0, h1), max(h0, h1) + 1)`, target `(edge_0, edge_1)`; with `ratio_range`,
 * `int(w * r), int(h * r)` for `r` uniform in the range. Then `Resize` to that target.
 */
export class RandomResize implements Transform {
  readonly type = 'RandomResize';
  private readonly scales: Scale | Scale[];
  private readonly ratioRange: [number, number] | null;
  readonly resize: Resize;

  constructor(
    cfg: RandomResizeCfg,
    private readonly rng: Rng = defaultRng,
  ) {
    const { scale, ratio_range, resize_type, ...resizeKwargs } = cfg;
    if (resize_type !== undefined && resize_type !== 'Resize') throw new Error(`RandomResize: resize_type='${resize_type}' is not supported`);
    this.scales = scale;
    this.ratioRange = ratio_range ?? null;
    const isPair = Array.isArray(scale) && typeof scale[0] === 'number';
    if (isPair && !this.ratioRange) throw new Error('RandomResize: a single scale needs ratio_range');
    if (!isPair && (!Array.isArray(scale) || scale.length !== 2)) throw new Error('RandomResize: scale must be (w, h) with ratio_range or a list of two (w, h)');
    this.resize = new Resize({ ...(resizeKwargs as ResizeCfg), scale: [1, 1] });
  }

  /** Draws the target `(w, h)` for one sample (`_random_scale`). */
  randomScale(): Scale {
    const s = this.scales;
    if (typeof s[0] === 'number') {
      const [lo, hi] = this.ratioRange!;
      const r = this.rng.random() * (hi - lo) + lo;
      const [w, h] = s as Scale;
      return [Math.trunc(w * r), Math.trunc(h * r)];
    }
    const [a, b] = s as Scale[];
    const e0 = randint(this.rng, Math.min(a![0], b![0]), Math.max(a![0], b![0]) + 1);
    const e1 = randint(this.rng, Math.min(a![1], b![1]), Math.max(a![1], b![1]) + 1);
    return [e0, e1];
  }

  transform(results: Results, mirrorImage = false): Results {
    return this.resizeTo(results, this.randomScale(), mirrorImage);
  }

  /** The `Resize` step for an already drawn `scale` (see {@link Resize.transform} for `mirrorImage` and `resized`). */
  resizeTo(results: Results, scale: Scale, mirrorImage = false, resized?: ImageU8): Results {
    results.scale = scale;
    this.resize.scale = scale;
    return this.resize.transform(results, mirrorImage, resized);
  }
}
