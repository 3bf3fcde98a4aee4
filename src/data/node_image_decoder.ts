/**
 * The {@link ImageDecoder} for Node (CLI, benches): PNG and JPEG, chosen by the file's signature
 * (as OpenCV's `imdecode` does), with a clear error for any other format.
 *
 * - PNG: chunks parsed and scan-line filters undone by `png.ts`'s helpers, the zlib stream inflated
 *   by Node's native zlib (several times faster than the pure-JS inflate). Non-interlaced 8-bit gray, gray+alpha, RGB and RGBA (and 16-bit, reduced to the high byte
 *   as OpenCV's colour read does); anything else (palette, interlaced, < 8 bits) falls back to
 *   fast-png. Asked for BGR ({@link DecodeHints}), 8-bit RGB is written in BGR order while the
 *   filters are undone, which saves the loader a conversion pass.
 * - JPEG (baseline and progressive, gray, YCbCr, CMYK/YCCK): jpeg-js, a pure-JS decoder. Its IDCT
 *   and chroma upsampling are not libjpeg-turbo's, so pixels can differ from OpenCV's by a few
 *   levels. The EXIF orientation is applied, as `cv2.imdecode(IMREAD_COLOR)` (mmcv's `'color'`)
 *   and the browser's `createImageBitmap` do.
 *
 * Node only (imports `node:zlib`).
 */
import { inflateSync } from 'node:zlib';
import { decode as decodeJpegJs } from 'jpeg-js';
import { concatIdat, isPng, PNG_COLOR_CHANNELS, PngDecodeError, readPngChunks, unfilterRow } from './png.ts';
import { defaultImageDecoder, UnsupportedImageError, type DecodedPixels, type DecodeHints } from './transforms/loading.ts';

/** Whether the bytes start like a JPEG file (SOI marker followed by another marker). */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** The file is a JPEG that cannot be decoded (truncated, corrupt or an unsupported coding). */
export class JpegDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JpegDecodeError';
  }
}

/** Names of formats recognised by signature that this decoder does not read. */
function sniffOtherFormat(b: Uint8Array): string | null {
  const ascii = (from: number, to: number): string => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'GIF';
  if (b.length >= 2 && ascii(0, 2) === 'BM') return 'BMP';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'WebP';
  if (b.length >= 4 && (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*')) return 'TIFF';
  if (b.length >= 12 && ascii(4, 8) === 'ftyp') return 'HEIF/AVIF';
  return null;
}

/**
 * Decodes a PNG or JPEG file (by signature, whatever its extension); see the module doc. Throws
 * {@link PngDecodeError} / {@link JpegDecodeError} for broken files and {@link UnsupportedImageError}
 * (naming the format when it is recognised) for anything else.
 */
export function nodeImageDecoder(bytes: Uint8Array, path: string, hints?: DecodeHints): DecodedPixels {
  if (isPng(bytes)) return decodePngNative(bytes, path, hints);
  if (isJpeg(bytes)) return decodeJpeg(bytes, path);
  const other = sniffOtherFormat(bytes);
  throw new UnsupportedImageError(
    `${path}: ${other ? `${other} images are` : 'this file format is'} not supported (${bytes.length} bytes); ` +
      'the Node decoder reads PNG and JPEG — convert the image to one of them',
  );
}

/**
 * The same decoder under its former name (it used to read PNG only).
 *
 * @deprecated Use {@link nodeImageDecoder}.
 */
export const nodePngDecoder = nodeImageDecoder;

/** Decodes a JPEG with jpeg-js to RGB (gray and CMYK converted as jpeg-js does). */
export function decodeJpeg(bytes: Uint8Array, path: string): DecodedPixels {
  let img;
  try {
    img = decodeJpegJs(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: true, maxMemoryUsageInMB: 1024 });
  } catch (err) {
    throw new JpegDecodeError(`${path}: cannot decode JPEG (${(err as Error).message || String(err)})`);
  }
  if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 3) {
    throw new JpegDecodeError(`${path}: truncated or corrupt JPEG (no complete frame decoded)`);
  }
  const exif = (img as { exifBuffer?: Uint8Array }).exifBuffer;
  return applyExifOrientation({ width: img.width, height: img.height, channels: 3, data: img.data }, exif ? exifOrientation(exif) : 1);
}

/**
 * The EXIF orientation tag (0x0112 in IFD0) of an APP1 payload after `Exif\0` (a padding byte may
 * lead the TIFF header); 1 when absent or unreadable.
 */
export function exifOrientation(exif: Uint8Array): number {
  let t = 0;
  while (t < 2 && !(exif[t] === 0x49 && exif[t + 1] === 0x49) && !(exif[t] === 0x4d && exif[t + 1] === 0x4d)) t++;
  if (t === 2 || exif.length < t + 8) return 1;
  const view = new DataView(exif.buffer, exif.byteOffset + t, exif.byteLength - t);
  const le = exif[t] === 0x49;
  const ifd = view.getUint32(4, le);
  if (ifd + 2 > view.byteLength) return 1;
  const n = view.getUint16(ifd, le);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > view.byteLength) return 1;
    if (view.getUint16(e, le) === 0x0112) {
      const v = view.getUint16(e + 8, le);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

/**
 * Turns pixels stored with EXIF orientation `o` upright, as OpenCV's `ApplyExifOrientation` does:
 * 2 mirror, 3 rotate 180°, 4 flip vertically, 5 transpose, 6 rotate 90° clockwise, 7 transverse,
 * 8 rotate 90° counter-clockwise (5–8 swap width and height).
 */
export function applyExifOrientation(p: DecodedPixels, o: number): DecodedPixels {
  if (o <= 1 || o > 8) return p;
  const { width: w, height: h, channels: c, data: src } = p;
  const swap = o >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(ow * oh * c);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      let sx: number;
      let sy: number;
      switch (o) {
        case 2:
          sx = w - 1 - ox;
          sy = oy;
          break;
        case 3:
          sx = w - 1 - ox;
          sy = h - 1 - oy;
          break;
        case 4:
          sx = ox;
          sy = h - 1 - oy;
          break;
        case 5:
          sx = oy;
          sy = ox;
          break;
        case 6:
          sx = oy;
          sy = h - 1 - ox;
          break;
        case 7:
          sx = w - 1 - oy;
          sy = h - 1 - ox;
          break;
        default:
          sx = w - 1 - oy;
          sy = ox;
          break;
      }
      const s = (sy * w + sx) * c;
      const d = (oy * ow + ox) * c;
      for (let k = 0; k < c; k++) out[d + k] = src[s + k]!;
    }
  }
  return { ...p, width: ow, height: oh, data: out };
}

/** PNG with native zlib (see the module doc for the formats it reads itself). */
function decodePngNative(bytes: Uint8Array, path: string, hints?: DecodeHints): DecodedPixels {
  const { width, height, depth, colorType, interlace, idat } = readPngChunks(bytes, path);
  const ch = PNG_COLOR_CHANNELS[colorType];
  if (ch === undefined || interlace !== 0 || (depth !== 8 && depth !== 16)) return defaultImageDecoder(bytes, path);
  const bpp = (ch * depth) / 8;
  const stride = width * bpp;
  const rawLength = height * (stride + 1);
  let raw: Uint8Array;
  try {
    // One output chunk of the expected size: no concatenation of 16 KiB pieces.
    raw = inflateSync(concatIdat(idat), { chunkSize: Math.max(64, rawLength + 64) });
  } catch (err) {
    throw new PngDecodeError(`${path}: corrupt PNG data (${(err as Error).message})`);
  }
  if (raw.length < rawLength) throw new PngDecodeError(`${path}: truncated PNG image data`);
  if (depth === 8 && ch === 3 && hints?.order === 'bgr') {
    return { width, height, channels: 3, data: unfilterToBgr(raw, height, stride), order: 'bgr' };
  }
  const img = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    unfilterRow(raw, y * (stride + 1), img, y * stride, y > 0 ? (y - 1) * stride : -1, stride, bpp);
  }
  if (depth === 8) return { width, height, channels: ch, data: img };
  const out = new Uint8Array(width * height * ch);
  for (let i = 0; i < out.length; i++) out[i] = img[2 * i]!; // big-endian: the high byte
  return { width, height, channels: ch, data: out };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * 8-bit RGB scan lines undone into a BGR image: each row in a scratch row, then written swapped
 * (four pixels per three 32-bit words where rows are word-aligned on a little-endian machine).
 */
function unfilterToBgr(raw: Uint8Array, height: number, stride: number): Uint8Array {
  const out = new Uint8Array(height * stride);
  const rows = new Uint8Array(2 * stride); // current and previous row, RGB
  const words = LITTLE_ENDIAN && stride % 12 === 0;
  const rows32 = words ? new Uint32Array(rows.buffer) : null;
  const out32 = words ? new Uint32Array(out.buffer) : null;
  let cur = 0;
  let prev = -1;
  for (let y = 0; y < height; y++) {
    unfilterRow(raw, y * (stride + 1), rows, cur, prev, stride, 3);
    if (rows32 && out32) {
      // In: r0 g0 b0 r1 | g1 b1 r2 g2 | b2 r3 g3 b3 (low byte first); out: b0 g0 r0 b1 | g1 r1 b2 g2 | r2 b3 g3 r3.
      for (let s = cur >> 2, o = (y * stride) >> 2, end = s + stride / 4; s < end; s += 3, o += 3) {
        const a = rows32[s]!;
        const b = rows32[s + 1]!;
        const c = rows32[s + 2]!;
        out32[o] = ((a >>> 16) & 0xff) | (a & 0xff00) | ((a & 0xff) << 16) | (((b >>> 8) & 0xff) << 24);
        out32[o + 1] = (b & 0xff) | ((a >>> 24) << 8) | ((c & 0xff) << 16) | ((b >>> 24) << 24);
        out32[o + 2] = ((b >>> 16) & 0xff) | ((c >>> 24) << 8) | (c & 0xff0000) | (((c >>> 8) & 0xff) << 24);
      }
    } else {
      for (let x = 0, o = y * stride, s = cur; x < stride; x += 3, o += 3, s += 3) {
        out[o] = rows[s + 2]!;
        out[o + 1] = rows[s + 1]!;
        out[o + 2] = rows[s]!;
      }
    }
    prev = cur;
    cur = stride - cur;
  }
  return out;
}
