/**
 * PNG decoding through fast-png (a real decoder: 16-bit samples stay 16-bit, unlike canvas or
 * `createImageBitmap`, which reduce to 8 bits and would corrupt Cityscapes instance ids).
 */
import { decode } from 'fast-png';

/** A decoded PNG: `data` is row-major, interleaved `channels` samples per pixel. */
export interface DecodedPng {
  width: number;
  height: number;
  /** Samples per pixel after palette expansion (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). */
  channels: number;
  /** Bits per sample (1, 2, 4, 8 or 16; palette images are expanded to 8). */
  depth: number;
  /** Samples, `height * width * channels`; Uint16Array for 16-bit images. */
  data: Uint8Array | Uint16Array;
}

/** The file is not a PNG, or it is truncated or corrupt. */
export class PngDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PngDecodeError';
  }
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether the bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * Decodes a PNG; throws {@link PngDecodeError} with a readable reason for non-PNG, truncated or
 * corrupt input (a truncated IDAT stream fails in zlib, a short sample buffer is checked here).
 */
export function decodePng(bytes: Uint8Array): DecodedPng {
  if (!isPng(bytes)) throw new PngDecodeError('not a PNG file (bad signature)');
  let png;
  try {
    png = decode(bytes);
  } catch (err) {
    const msg = (err as Error).message || String(err);
    throw new PngDecodeError(`truncated or corrupt PNG: ${msg}`);
  }
  let { data, channels, depth } = png;
  if (png.palette) {
    const pal = png.palette;
    const n = png.width * png.height;
    const ch = pal[0]?.length ?? 3;
    const out = new Uint8Array(n * ch);
    for (let i = 0; i < n; i++) {
      const entry = pal[data[i]!];
      if (!entry) throw new PngDecodeError(`palette index ${data[i]} out of range`);
      for (let c = 0; c < ch; c++) out[i * ch + c] = entry[c]!;
    }
    data = out;
    channels = ch;
    depth = 8;
  } else if (depth < 8) {
    // fast-png returns unpacked samples for depth < 8 as 0..2^depth-1 already? Normalise to bytes.
    const max = (1 << depth) - 1;
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Math.round((data[i]! * 255) / max);
    data = out;
  }
  const expected = png.width * png.height * channels;
  if (data.length < expected) {
    throw new PngDecodeError(`truncated PNG: ${data.length} of ${expected} samples decoded`);
  }
  const typed = data instanceof Uint16Array ? data : data instanceof Uint8Array ? data : new Uint8Array(data);
  return { width: png.width, height: png.height, channels, depth, data: typed };
}
