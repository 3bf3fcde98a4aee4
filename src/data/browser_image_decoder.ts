/**
 * An {@link ImageDecoder} for the browser / Web Worker: `createImageBitmap` + `OffscreenCanvas`
 * (native JPEG and 8-bit PNG decoding, much faster than JS; for 8-bit PNGs also decode straight
 * to a resized, optionally mirrored size: `decodeResized`, used by `Compose`, see
 * `transforms/browser_fast_path.ts`), with fast-png kept for 16-bit PNGs (a
 * canvas would reduce them to 8 bits). The environment is injected (default `globalThis`) through a
 * small structural type, so this module needs no DOM typings and is testable in Node with a fake.
 */
import type { NativeResizeCapable, ResizedDecodeRequest } from './transforms/browser_fast_path.ts';
import { defaultImageDecoder, toBgr, type DecodedPixels, type ImageDecoder } from './transforms/loading.ts';
import type { ImageU8 } from './transforms/types.ts';

/** What the decoder needs from the environment. */
export interface BitmapEnvironment {
  createImageBitmap(blob: Blob, options?: Record<string, unknown>): Promise<{ width: number; height: number; close(): void }>;
  OffscreenCanvas: new (
    w: number,
    h: number,
  ) => {
    getContext(kind: '2d', options?: Record<string, unknown>): {
      globalCompositeOperation: string;
      imageSmoothingEnabled?: boolean;
      imageSmoothingQuality?: string;
      drawImage(image: unknown, x: number, y: number, w?: number, h?: number): void;
      getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
    } | null;
  };
}

/** Bit depth of a PNG from its IHDR (byte 24), or 0 for non-PNG bytes. */
export function pngBitDepth(bytes: Uint8Array): number {
  const sig = bytes.length > 25 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  return sig ? bytes[24]! : 0;
}

/** RGBA → BGR with each row mirrored (`out[y][x] = in[y][w - 1 - x]`), reading 32-bit words. */
export function rgbaToBgrMirrored(rgba: Uint8Array | Uint8ClampedArray, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  const aligned = rgba.byteOffset % 4 === 0 && LITTLE_ENDIAN;
  const s32 = aligned ? new Uint32Array(rgba.buffer, rgba.byteOffset, w * h) : null;
  for (let y = 0, o = 0; y < h; y++) {
    const last = y * w + w - 1;
    if (s32) {
      for (let x = 0; x < w; x++, o += 3) {
        const p = s32[last - x]!;
        out[o] = (p >>> 16) & 0xff;
        out[o + 1] = (p >>> 8) & 0xff;
        out[o + 2] = p & 0xff;
      }
    } else {
      for (let x = 0; x < w; x++, o += 3) {
        const s = (last - x) * 4;
        out[o] = rgba[s + 2]!;
        out[o + 1] = rgba[s + 1]!;
        out[o + 2] = rgba[s]!;
      }
    }
  }
  return out;
}

/**
 * RGBA → BGR channel planes (CHW, the layout `PackDetInputs` produces), each row mirrored when
 * `mirror` (`out[c][y][x] = in[y][w - 1 - x][2 - c]`).
 */
export function rgbaToBgrPlanar(rgba: Uint8Array | Uint8ClampedArray, w: number, h: number, mirror: boolean): Uint8Array {
  const plane = w * h;
  const out = new Uint8Array(plane * 3);
  const b = out.subarray(0, plane);
  const g = out.subarray(plane, 2 * plane);
  const r = out.subarray(2 * plane);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const step = mirror ? -4 : 4;
    for (let x = 0, s = (mirror ? row + w - 1 : row) * 4; x < w; x++, s += step) {
      r[row + x] = rgba[s]!;
      g[row + x] = rgba[s + 1]!;
      b[row + x] = rgba[s + 2]!;
    }
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** PNG chunks that make a browser convert colours (an ICC profile, gamma, primaries, coding-independent code points). */
const COLOUR_CHUNKS = new Set(['iCCP', 'gAMA', 'cHRM', 'cICP', 'mDCV']);

/**
 * Whether `createImageBitmap` may decode this file with its default options and still return the
 * stored values: an 8-bit-or-less PNG without alpha (colour type 0, 2 or 3, no `tRNS`: premultiplying
 * by 255 changes nothing) and without colour-space chunks (an untagged or `sRGB`-tagged image is
 * drawn as sRGB, no conversion). The default options skip a copy in Chromium (28 vs 32.6 ms for a
 * 2048×1024 RGB PNG, bench/data_browser.bench.ts); any other file gets `colorSpaceConversion` and
 * `premultiplyAlpha` `'none'`. Reads the chunk headers before `IDAT` only.
 */
export function pngDecodesAsStored(bytes: Uint8Array): boolean {
  if (pngBitDepth(bytes) === 0 || bytes.length < 33) return false;
  const colorType = bytes[25]!;
  if (colorType !== 0 && colorType !== 2 && colorType !== 3) return false;
  const type = (o: number): string => String.fromCharCode(bytes[o]!, bytes[o + 1]!, bytes[o + 2]!, bytes[o + 3]!);
  for (let o = 8; o + 8 <= bytes.length; ) {
    const len = ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
    const t = type(o + 4);
    if (t === 'IDAT' || t === 'IEND') return true;
    if (t === 'tRNS' || COLOUR_CHUNKS.has(t)) return false;
    o += 12 + len;
  }
  return false;
}

/**
 * The file as a Blob. The Blob constructor copies the bytes itself; only a view of a
 * SharedArrayBuffer, which it refuses, is copied first.
 */
function blobOf(bytes: Uint8Array): Blob {
  return new Blob([bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)]);
}

/** `createImageBitmap` options that keep the stored values (see {@link pngDecodesAsStored}). */
function bitmapOptions(bytes: Uint8Array): Record<string, unknown> {
  return pngDecodesAsStored(bytes) ? {} : { colorSpaceConversion: 'none', premultiplyAlpha: 'none' };
}

/** `createImageBitmap`'s `resizeQuality` values. */
export type ResizeQuality = 'pixelated' | 'low' | 'medium' | 'high';

/** Options of {@link createBitmapImageDecoder}. */
export interface BitmapDecoderOptions {
  /**
   * Attach `decodeResized` (decode straight to the resized size, see
   * `transforms/browser_fast_path.ts`); default true. False keeps the exact OpenCV-equal resize.
   */
  nativeResize?: boolean;
  /** Resampler of the native resize; default {@link DEFAULT_RESIZE_QUALITY}. */
  resizeQuality?: ResizeQuality;
  /**
   * Where the native resize happens: `'canvas'` (default: full-size `createImageBitmap`, then a
   * scaled `drawImage` with `imageSmoothingQuality`) or `'bitmap'` (`createImageBitmap`'s own
   * `resizeWidth` / `resizeHeight` / `resizeQuality`, slower in Chromium 156 with the
   * `'none'` colour / alpha options that keep the stored values).
   */
  resizeWith?: 'canvas' | 'bitmap';
}

/**
 * The `resizeQuality` closest to OpenCV `INTER_LINEAR` on the pipeline fixtures in Chromium
 * (measured by e2e/specs/pipeline_browser.spec.ts).
 */
export const DEFAULT_RESIZE_QUALITY: ResizeQuality = 'low';

/** Default of {@link BitmapDecoderOptions.resizeWith} (the faster one in bench/data_browser.bench.ts). */
export const DEFAULT_RESIZE_WITH: 'canvas' | 'bitmap' = 'canvas';

/**
 * Creates a decoder using the environment's bitmap decoding. Pixel values are kept as stored
 * (`colorSpaceConversion: 'none'`, `premultiplyAlpha: 'none'`, or the defaults where they change
 * nothing: {@link pngDecodesAsStored}); output is RGBA (4 channels). The
 * canvas is kept between calls of the same image size (drawn with the `copy` operation, so nothing
 * of the previous image shows through transparent pixels).
 */
export function createBitmapImageDecoder(
  env: BitmapEnvironment = globalThis as unknown as BitmapEnvironment,
  options: BitmapDecoderOptions = {},
): ImageDecoder & NativeResizeCapable {
  let canvas: { w: number; h: number; ctx: NonNullable<ReturnType<InstanceType<BitmapEnvironment['OffscreenCanvas']>['getContext']>> } | null = null;
  const decode = async (bytes: Uint8Array, path: string): Promise<DecodedPixels> => {
    if (pngBitDepth(bytes) === 16) return defaultImageDecoder(bytes, path);
    const bmp = await env.createImageBitmap(blobOf(bytes), bitmapOptions(bytes));
    try {
      if (!canvas || canvas.w !== bmp.width || canvas.h !== bmp.height) {
        const ctx = new env.OffscreenCanvas(bmp.width, bmp.height).getContext('2d', { willReadFrequently: true });
        if (!ctx) throw new Error(`${path}: no 2d context for decoding`);
        ctx.globalCompositeOperation = 'copy';
        canvas = { w: bmp.width, h: bmp.height, ctx };
      }
      canvas.ctx.drawImage(bmp, 0, 0);
      const { data } = canvas.ctx.getImageData(0, 0, bmp.width, bmp.height);
      return { width: bmp.width, height: bmp.height, channels: 4, data };
    } finally {
      bmp.close();
    }
  };
  if (options.nativeResize === false) return decode;
  const quality = options.resizeQuality ?? DEFAULT_RESIZE_QUALITY;
  let small: { w: number; h: number; ctx: NonNullable<ReturnType<InstanceType<BitmapEnvironment['OffscreenCanvas']>['getContext']>> } | null = null;
  /**
   * Decode, resize (scaled draw or `createImageBitmap`), RGBA → BGR (mirrored in the same copy when
   * asked; channel planes when `planar`).
   */
  const decodeResized = async (bytes: Uint8Array, path: string, req: ResizedDecodeRequest): Promise<ImageU8 | null> => {
    if (pngBitDepth(bytes) === 16) return null;
    const { width, height, flipHorizontal, planar } = req;
    const byBitmap = (options.resizeWith ?? DEFAULT_RESIZE_WITH) === 'bitmap';
    const bmp = await env.createImageBitmap(blobOf(bytes), {
      ...bitmapOptions(bytes),
      ...(byBitmap ? { resizeWidth: width, resizeHeight: height, resizeQuality: quality } : {}),
    });
    try {
      if (byBitmap && (bmp.width !== width || bmp.height !== height)) return null;
      if (!small || small.w !== width || small.h !== height) {
        const ctx = new env.OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
        if (!ctx) throw new Error(`${path}: no 2d context for decoding`);
        ctx.globalCompositeOperation = 'copy';
        small = { w: width, h: height, ctx };
      }
      if (byBitmap) small.ctx.drawImage(bmp, 0, 0);
      else {
        small.ctx.imageSmoothingEnabled = quality !== 'pixelated';
        if (quality !== 'pixelated') small.ctx.imageSmoothingQuality = quality;
        small.ctx.drawImage(bmp, 0, 0, width, height);
      }
      const { data } = small.ctx.getImageData(0, 0, width, height);
      if (planar) return { width, height, channels: 3, data: rgbaToBgrPlanar(data, width, height, flipHorizontal), planar: true };
      if (flipHorizontal) return { width, height, channels: 3, data: rgbaToBgrMirrored(data, width, height) };
      return toBgr({ width, height, channels: 4, data });
    } finally {
      bmp.close();
    }
  };
  return Object.assign(decode, { decodeResized });
}
