/**
 * A faster PNG {@link ImageDecoder} for Node (CLI training, benches): chunks parsed here, the zlib
 * stream inflated by Node's native zlib, scan-line filters undone in JS. Non-interlaced 8-bit gray,
 * gray+alpha, RGB and RGBA (and 16-bit, reduced to the high byte as OpenCV's colour read does);
 * anything else (palette, interlaced, < 8 bits) falls back to fast-png. Node only (imports `node:zlib`).
 */
import { inflateSync } from 'node:zlib';
import { isPng, PngDecodeError } from './png.ts';
import { defaultImageDecoder, type DecodedPixels } from './transforms/loading.ts';

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** Decodes a PNG with native zlib; see the module doc for the supported formats. */
export function nodePngDecoder(bytes: Uint8Array, path: string): DecodedPixels {
  if (!isPng(bytes)) return defaultImageDecoder(bytes, path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let colorType = -1;
  let interlace = 0;
  const idat: Uint8Array[] = [];
  let sawEnd = false;
  while (p + 8 <= bytes.length) {
    const len = view.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4]!, bytes[p + 5]!, bytes[p + 6]!, bytes[p + 7]!);
    const data = bytes.subarray(p + 8, p + 8 + len);
    if (data.length < len) throw new PngDecodeError(`${path}: truncated PNG (chunk ${type} cut short)`);
    if (type === 'IHDR') {
      width = view.getUint32(p + 8);
      height = view.getUint32(p + 12);
      depth = bytes[p + 16]!;
      colorType = bytes[p + 17]!;
      interlace = bytes[p + 20]!;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    p += 12 + len;
  }
  if (!sawEnd) throw new PngDecodeError(`${path}: truncated PNG (no IEND chunk)`);
  const ch = CHANNELS[colorType];
  if (ch === undefined || interlace !== 0 || (depth !== 8 && depth !== 16)) return defaultImageDecoder(bytes, path);
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (err) {
    throw new PngDecodeError(`${path}: corrupt PNG data (${(err as Error).message})`);
  }
  const bpp = (ch * depth) / 8;
  const stride = width * bpp;
  if (raw.length < height * (stride + 1)) throw new PngDecodeError(`${path}: truncated PNG image data`);
  const img = new Uint8Array(height * stride);
  unfilter(raw, img, height, stride, bpp);
  if (depth === 8) return { width, height, channels: ch, data: img };
  const out = new Uint8Array(width * height * ch);
  for (let i = 0; i < out.length; i++) out[i] = img[2 * i]!; // big-endian: the high byte
  return { width, height, channels: ch, data: out };
}

/** Undoes PNG scan-line filters (None, Sub, Up, Average, Paeth). */
function unfilter(raw: Uint8Array, out: Uint8Array, height: number, stride: number, bpp: number): void {
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const s = y * (stride + 1) + 1;
    const o = y * stride;
    const up = o - stride;
    switch (f) {
      case 0:
        out.set(raw.subarray(s, s + stride), o);
        break;
      case 1:
        for (let x = 0; x < stride; x++) out[o + x] = raw[s + x]! + (x >= bpp ? out[o + x - bpp]! : 0);
        break;
      case 2:
        if (y === 0) out.set(raw.subarray(s, s + stride), o);
        else for (let x = 0; x < stride; x++) out[o + x] = raw[s + x]! + out[up + x]!;
        break;
      case 3:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? out[o + x - bpp]! : 0;
          const b = y > 0 ? out[up + x]! : 0;
          out[o + x] = raw[s + x]! + ((a + b) >> 1);
        }
        break;
      case 4:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? out[o + x - bpp]! : 0;
          const b = y > 0 ? out[up + x]! : 0;
          const c = x >= bpp && y > 0 ? out[up + x - bpp]! : 0;
          const pa = Math.abs(b - c);
          const pb = Math.abs(a - c);
          const pc = Math.abs(a + b - 2 * c);
          out[o + x] = raw[s + x]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        throw new PngDecodeError(`unknown PNG filter type ${f}`);
    }
  }
}
