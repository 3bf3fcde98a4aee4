/**
 * Native decode-and-resize for `LoadImageFromFile` → (`LoadAnnotations`) → `Resize` / `RandomResize`
 * (→ `RandomFlip`): where the decoder can decode straight to a given size (the browser's:
 * `createImageBitmap`, then a scaled `drawImage`, or `createImageBitmap`'s own `resizeWidth` /
 * `resizeHeight`; see `../browser_image_decoder.ts`), the random draws (scale, then flip direction)
 * happen first, from the PNG header's size, and the image is decoded, resized and mirrored in one
 * native step (the mirror in the RGBA → BGR copy). Keys (`img_shape`, `ori_shape`, `scale`,
 * `scale_factor`, boxes, masks, `flip`) are computed exactly as the step-by-step transforms do; only
 * pixel values differ from OpenCV's `INTER_LINEAR` (by a few intensity units: the browser's
 * resampler is not OpenCV's). 16-bit PNGs, non-PNG files and decoders without the ability take
 * the exact path. Pure module: no DOM types.
 */
import { RandomFlip } from './flip.ts';
import { PackDetInputs } from './formatting.ts';
import { LoadAnnotations, LoadImageFromFile } from './loading.ts';
import { RandomResize, Resize } from './resize.ts';
import type { ImageU8, Results, Transform } from './types.ts';

/** What the native decoder is asked for: output size and whether to mirror horizontally. */
export interface ResizedDecodeRequest {
  width: number;
  height: number;
  flipHorizontal: boolean;
  /** Return the pixels channel-planar (CHW, {@link ImageU8.planar}); the decoder may ignore it. */
  planar?: boolean;
}

/**
 * Decodes to BGR at the requested size (mirrored when asked); null where it cannot (e.g. 16-bit),
 * then the exact path runs instead.
 */
export type ResizedImageDecoder = (bytes: Uint8Array, path: string, request: ResizedDecodeRequest) => Promise<ImageU8 | null>;

/** An image decoder function that may carry a native decode-and-resize (`decodeResized`). */
export interface NativeResizeCapable {
  decodeResized?: ResizedImageDecoder;
}

/** Size, bit depth and colour type from a PNG's IHDR; null for anything that is not a PNG. */
export function pngHeader(bytes: Uint8Array): { width: number; height: number; depth: number; colorType: number } | null {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 33 || sig.some((v, i) => bytes[i] !== v)) return null;
  if (String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!) !== 'IHDR') return null;
  const u32 = (o: number): number => ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
  return { width: u32(16), height: u32(20), depth: bytes[24]!, colorType: bytes[25]! };
}

/** A run of transforms the native path can take over, from index `start` to `end` (inclusive). */
export interface NativeResizeSpan {
  load: LoadImageFromFile;
  /** `LoadAnnotations` steps between the load and the resize (they draw nothing, read no pixels). */
  between: LoadAnnotations[];
  resize: Resize | RandomResize;
  flip: RandomFlip | null;
  decodeResized: ResizedImageDecoder;
  end: number;
  /** `PackDetInputs` follows the span: ask the decoder for channel planes, which it packs as they are. */
  planar: boolean;
}

/**
 * The span starting at `ts[start]` when it is `LoadImageFromFile` (whose decoder resizes natively
 * and whose context does not ask for `exactImageResize`) followed by `LoadAnnotations` steps, a
 * `Resize` / `RandomResize` and optionally a `RandomFlip`; else null.
 */
export function nativeResizeSpan(ts: readonly Transform[], start: number): NativeResizeSpan | null {
  const load = ts[start];
  if (!(load instanceof LoadImageFromFile) || load.ctx.exactImageResize) return null;
  const decodeResized = (load.ctx.decodeImage as NativeResizeCapable | undefined)?.decodeResized;
  if (!decodeResized) return null;
  let i = start + 1;
  const between: LoadAnnotations[] = [];
  while (ts[i] instanceof LoadAnnotations) between.push(ts[i++] as LoadAnnotations);
  const resize = ts[i];
  if (!(resize instanceof Resize || resize instanceof RandomResize)) return null;
  const flip = ts[i + 1] instanceof RandomFlip ? (ts[i + 1] as RandomFlip) : null;
  const end = flip ? i + 1 : i;
  return { load, between, resize, flip, decodeResized, end, planar: ts[end + 1] instanceof PackDetInputs };
}

/**
 * Runs a {@link NativeResizeSpan}: reads the file, and for an 8-bit (or lower) PNG draws the scale
 * and flip direction, decodes natively at the output size, then runs the annotations, the resize's
 * box / mask part and the flip. Returns `next` = the index to go on from: past the span, or
 * `start + 1` when only the load ran (not a PNG, 16-bit: the caller runs the rest as usual).
 * When the native decoder declines after the draws, the image is decoded and resized exactly with
 * the drawn values.
 */
export async function runNativeResizeSpan(span: NativeResizeSpan, results: Results, start: number): Promise<{ results: Results | null; next: number }> {
  const { load, between, resize, flip } = span;
  const bytes = await load.readBytes(results);
  if (bytes === null) return { results: null, next: span.end + 1 };
  const head = pngHeader(bytes);
  if (!head || head.depth > 8 || head.width === 0 || head.height === 0) {
    return { results: await load.fromBytes(results, bytes), next: start + 1 };
  }
  const { width: w, height: h } = head;
  const scale = resize instanceof RandomResize ? resize.randomScale() : null;
  const dir = flip ? flip.chooseDirection() : null;
  const mirror = dir === 'horizontal' || dir === 'diagonal';
  const core = resize instanceof RandomResize ? resize.resize : resize;
  if (scale) core.scale = scale;
  const [nw, nh] = core.plan(w, h).size;
  let img: ImageU8 | null = null;
  try {
    img = await span.decodeResized(bytes, results.img_path ?? '', { width: nw, height: nh, flipHorizontal: mirror, planar: span.planar });
  } catch {
    img = null; // the exact decode below reports what is wrong with the file
  }
  let r: Results | null;
  if (img) r = load.setLoaded(results, undefined, h, w);
  else r = await load.fromBytes(results, bytes);
  if (r === null) return { results: null, next: span.end + 1 };
  for (const t of between) r = t.transform(r);
  const res = img ?? undefined;
  r = resize instanceof RandomResize ? resize.resizeTo(r!, scale!, mirror, res) : resize.transform(r!, mirror, res);
  if (flip) r = flip.applyDirection(r, dir, mirror);
  return { results: r, next: span.end + 1 };
}
