/**
 * `LoadImageFromFile` (mmcv) and `LoadAnnotations` (mmdet): read and decode the image to BGR uint8,
 * turn `instances` into `gt_bboxes`, `gt_bboxes_labels`, `gt_ignore_flags` and `gt_masks`.
 *
 * @see mmcv/transforms/loading.py (2.1), mmdet/datasets/transforms/loading.py (3.3)
 */
import { decodeRowMajor, frPyObjects, merge, type RLE } from '../../eval/mask.ts';
import { decodePng, isPng } from '../png.ts';
import type { BitmapMasks, ImageU8, Results, Transform } from './types.ts';

/** Decoded 8-bit pixels as a decoder returns them, RGB(A) or gray order. */
export interface DecodedPixels {
  width: number;
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB (or BGR, see `order`), 4 RGBA. */
  channels: number;
  data: Uint8Array | Uint8ClampedArray;
  /**
   * Order of 3-channel data: `'rgb'` (the default when absent) or `'bgr'`, which a decoder may
   * return when asked for it through {@link DecodeHints} (it then skips a conversion pass).
   */
  order?: 'rgb' | 'bgr';
}

/** What the caller would like from a decoder; a decoder may ignore it (then it returns RGB order). */
export interface DecodeHints {
  /** `'bgr'`: 3-channel BGR is wanted (OpenCV order), so a decoder that can write it directly should. */
  order?: 'bgr';
}

/**
 * An image decoder: bytes → 8-bit pixels in RGB(A) order (or BGR when {@link DecodeHints} ask for it
 * and the decoder can). In the browser worker: `createBitmapImageDecoder` (createImageBitmap +
 * OffscreenCanvas for 8-bit PNG and JPEG); in Node: `nodeImageDecoder` (PNG + JPEG); without one,
 * {@link defaultImageDecoder} (PNG).
 */
export type ImageDecoder = (bytes: Uint8Array, path: string, hints?: DecodeHints) => DecodedPixels | Promise<DecodedPixels>;

/** Reads a file of the dataset (a {@link FileTree}'s `read`, `fetch`, `fs.readFile`…). */
export type FileReader = (path: string) => Promise<Uint8Array>;

/** The image format is not supported by the default decoder. */
export class UnsupportedImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedImageError';
  }
}

/**
 * Default decoder, pure JS (works in Node, workers and tests): PNG via `png.ts` (8- or 16-bit;
 * 16-bit samples are reduced to their high byte as OpenCV's `IMREAD_COLOR` does). JPEG and other
 * formats raise {@link UnsupportedImageError}: inject `nodeImageDecoder` (Node: PNG + JPEG) or
 * `createBitmapImageDecoder` (browser) for them.
 */
export function defaultImageDecoder(bytes: Uint8Array, path: string): DecodedPixels {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    throw new UnsupportedImageError(
      `${path}: JPEG needs an image decoder that reads it (Node: nodeImageDecoder from src/data/node_image_decoder.ts; browser: createBitmapImageDecoder); the default decoder reads PNG only`,
    );
  }
  if (!isPng(bytes)) throw new UnsupportedImageError(`${path}: not a PNG file (the default decoder reads PNG only)`);
  const png = decodePng(bytes);
  let data: Uint8Array;
  if (png.depth === 16) {
    const src = png.data as Uint16Array;
    data = new Uint8Array(src.length);
    for (let i = 0; i < src.length; i++) data[i] = src[i]! >> 8;
  } else data = png.data as Uint8Array;
  return { width: png.width, height: png.height, channels: png.channels, data };
}

/**
 * Converts decoded RGB(A)/gray pixels to the pipeline's 3-channel BGR (OpenCV `IMREAD_COLOR`).
 * Pixels a decoder already wrote as BGR (`order: 'bgr'`) are taken as they are, without a copy.
 */
export function toBgr(p: DecodedPixels): ImageU8 {
  if (p.order === 'bgr' && p.channels === 3 && p.data instanceof Uint8Array) {
    return { width: p.width, height: p.height, channels: 3, data: p.data };
  }
  const n = p.width * p.height;
  const out = new Uint8Array(n * 3);
  const c = p.channels;
  const d = p.data;
  let start = 0;
  if (c === 4 && LITTLE_ENDIAN && d.byteOffset % 4 === 0) start = rgbaToBgrWords(d, out, n);
  if (c === 3 || c === 4) {
    for (let i = start, s = start * c, o = start * 3; i < n; i++, s += c, o += 3) {
      out[o] = d[s + 2]!;
      out[o + 1] = d[s + 1]!;
      out[o + 2] = d[s]!;
    }
  } else if (c === 1 || c === 2) {
    for (let i = 0, s = 0, o = 0; i < n; i++, s += c, o += 3) out[o] = out[o + 1] = out[o + 2] = d[s]!;
  } else throw new UnsupportedImageError(`cannot convert ${c}-channel pixels to BGR`);
  return { width: p.width, height: p.height, channels: 3, data: out };
}

const BGR_HINTS: DecodeHints = Object.freeze({ order: 'bgr' });

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * RGBA → BGR four pixels at a time (four words in, three out: `b0 g0 r0 b1 | g1 r1 b2 g2 |
 * r2 b3 g3 r3`, low byte first). Returns how many pixels it wrote (a multiple of 4).
 */
function rgbaToBgrWords(d: Uint8Array | Uint8ClampedArray, out: Uint8Array, n: number): number {
  const groups = n >> 2;
  const s32 = new Uint32Array(d.buffer, d.byteOffset, groups * 4);
  const o32 = new Uint32Array(out.buffer, out.byteOffset, groups * 3);
  for (let g = 0, s = 0, o = 0; g < groups; g++, s += 4, o += 3) {
    const p0 = s32[s]!;
    const p1 = s32[s + 1]!;
    const p2 = s32[s + 2]!;
    const p3 = s32[s + 3]!;
    o32[o] = ((p0 >>> 16) & 0xff) | (p0 & 0xff00) | ((p0 & 0xff) << 16) | (((p1 >>> 16) & 0xff) << 24);
    o32[o + 1] = ((p1 >>> 8) & 0xff) | ((p1 & 0xff) << 8) | (((p2 >>> 16) & 0xff) << 16) | (((p2 >>> 8) & 0xff) << 24);
    o32[o + 2] = (p2 & 0xff) | (((p3 >>> 16) & 0xff) << 8) | (((p3 >>> 8) & 0xff) << 16) | ((p3 & 0xff) << 24);
  }
  return groups * 4;
}

/** Context the loading transforms need: how to read files and decode images. */
export interface LoadingContext {
  readFile: FileReader;
  decodeImage?: ImageDecoder;
  /**
   * Forces the exact path (decode, then OpenCV-equal `cv2.resize`) even where `decodeImage` can
   * decode straight to the resized size natively (see `browser_fast_path.ts`). Default false.
   */
  exactImageResize?: boolean;
}

/** Options of {@link LoadImageFromFile}. */
export interface LoadImageFromFileCfg {
  to_float32?: boolean;
  color_type?: string;
  imdecode_backend?: string;
  backend_args?: unknown;
  ignore_empty?: boolean;
}

/** `LoadImageFromFile`: sets `img` (BGR HWC uint8), `img_shape` and `ori_shape`. */
export class LoadImageFromFile implements Transform {
  readonly type = 'LoadImageFromFile';
  private readonly ignoreEmpty: boolean;

  constructor(
    cfg: LoadImageFromFileCfg,
    /** File access and decoder (read by the native decode-and-resize path of `Compose`). */
    readonly ctx: LoadingContext,
  ) {
    if (cfg.to_float32) throw new Error('LoadImageFromFile: to_float32=True is not supported (images stay uint8)');
    if (cfg.color_type !== undefined && cfg.color_type !== 'color') {
      throw new Error(`LoadImageFromFile: color_type='${cfg.color_type}' is not supported (only 'color')`);
    }
    this.ignoreEmpty = cfg.ignore_empty ?? false;
  }

  async transform(results: Results): Promise<Results | null> {
    const bytes = await this.readBytes(results);
    return bytes === null ? null : this.fromBytes(results, bytes);
  }

  /** Reads the file of `results.img_path`; null where it fails and `ignore_empty` is set. */
  async readBytes(results: Results): Promise<Uint8Array | null> {
    const path = results.img_path;
    if (!path) throw new Error('LoadImageFromFile: results has no img_path');
    try {
      return await this.ctx.readFile(path);
    } catch (err) {
      if (this.ignoreEmpty) return null;
      throw err;
    }
  }

  /** The rest of {@link transform} once the file is read: decodes `bytes` and sets the keys. */
  async fromBytes(results: Results, bytes: Uint8Array): Promise<Results | null> {
    const path = results.img_path ?? '';
    let img: ImageU8;
    try {
      img = toBgr(await (this.ctx.decodeImage ?? defaultImageDecoder)(bytes, path, BGR_HINTS));
    } catch (err) {
      if (this.ignoreEmpty) return null;
      throw err;
    }
    return this.setLoaded(results, img, img.height, img.width);
  }

  /**
   * Sets `img` (possibly already resized by a native decoder, see `browser_fast_path.ts`, or
   * undefined until then), and `img_shape` / `ori_shape` = the file's `h × w`.
   */
  setLoaded(results: Results, img: ImageU8 | undefined, h: number, w: number): Results {
    if (img) results.img = img;
    else delete results.img;
    results.img_shape = [h, w];
    results.ori_shape = [h, w];
    return results;
  }
}

/** Options of {@link LoadAnnotations}. */
export interface LoadAnnotationsCfg {
  with_bbox?: boolean;
  with_label?: boolean;
  with_mask?: boolean;
  with_seg?: boolean;
  poly2mask?: boolean;
  box_type?: string;
  backend_args?: unknown;
}

/** One instance's mask as a row-major 0/1 bitmap (`_poly2mask`). */
function annToMask(mask: unknown, h: number, w: number): Uint8Array {
  let rle: RLE;
  if (Array.isArray(mask)) rle = merge(frPyObjects(mask as number[][], h, w));
  else if (Array.isArray((mask as RLE).counts)) rle = frPyObjects(mask as RLE, h, w);
  else rle = mask as RLE;
  return decodeRowMajor(rle);
}

/** `LoadAnnotations(with_bbox, with_label, with_mask)` with `poly2mask=True` (bitmap masks). */
export class LoadAnnotations implements Transform {
  readonly type = 'LoadAnnotations';
  private readonly withBbox: boolean;
  private readonly withLabel: boolean;
  private readonly withMask: boolean;

  constructor(cfg: LoadAnnotationsCfg = {}) {
    this.withBbox = cfg.with_bbox ?? true;
    this.withLabel = cfg.with_label ?? true;
    this.withMask = cfg.with_mask ?? false;
    if (cfg.with_seg) throw new Error('LoadAnnotations: with_seg=True is not supported');
    if (cfg.poly2mask === false) throw new Error('LoadAnnotations: poly2mask=False (PolygonMasks) is not supported');
    if (cfg.box_type !== undefined && cfg.box_type !== 'hbox') throw new Error(`LoadAnnotations: box_type='${cfg.box_type}' is not supported`);
  }

  transform(results: Results): Results {
    const instances = results.instances ?? [];
    const n = instances.length;
    if (this.withBbox) {
      const boxes = new Float32Array(n * 4);
      instances.forEach((inst, i) => boxes.set(inst.bbox, i * 4));
      results.gt_bboxes = boxes;
      results.gt_ignore_flags = Uint8Array.from(instances, (i) => i.ignore_flag);
    }
    if (this.withLabel) results.gt_bboxes_labels = Int32Array.from(instances, (i) => i.bbox_label);
    if (this.withMask) {
      const [h, w] = results.ori_shape ?? [results.height ?? 0, results.width ?? 0];
      const masks: BitmapMasks = { n, height: h, width: w, data: new Uint8Array(n * h * w) };
      const flags = new Uint8Array(n);
      instances.forEach((inst, i) => {
        flags[i] = inst.ignore_flag;
        let m = inst.mask as unknown;
        if (Array.isArray(m)) {
          const polys = (m as number[][]).filter((p) => p.length % 2 === 0 && p.length >= 6);
          if (polys.length === 0) {
            flags[i] = 1; // invalid polygons: the instance is ignored, its mask left empty
            return;
          }
          m = polys;
        } else if (!m || typeof m !== 'object' || !('counts' in m) || !('size' in m)) {
          flags[i] = 1;
          return;
        }
        const bitmap = annToMask(m, h, w);
        if (bitmap.length === h * w) masks.data.set(bitmap, i * h * w);
      });
      results.gt_masks = masks;
      results.gt_ignore_flags = flags;
    }
    return results;
  }
}
