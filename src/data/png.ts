/**
 * PNG decoding in pure JS (a real decoder: 16-bit samples stay 16-bit, unlike canvas or
 * `createImageBitmap`, which reduce to 8 bits and would corrupt Cityscapes instance ids).
 *
 * Non-interlaced 8- and 16-bit gray, gray+alpha, RGB and RGBA — every image of a Cityscapes or COCO
 * tree — are read here: chunks parsed, the zlib stream inflated by fflate into a buffer of the
 * expected size, scan-line filters undone by {@link unfilterRow}. Palette, interlaced and < 8-bit
 * images go through fast-png.
 */
import { decode } from 'fast-png';
import { unzlibSync } from 'fflate';

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

/** Samples per pixel of the PNG colour types read without fast-png (0 gray, 2 RGB, 4 gray+alpha, 6 RGBA). */
export const PNG_COLOR_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** Whether the bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** IHDR fields and the IDAT payload of a PNG, as {@link readPngChunks} finds them. */
export interface PngChunks {
  width: number;
  height: number;
  /** Bits per sample. */
  depth: number;
  colorType: number;
  interlace: number;
  /** The IDAT chunks' data, in order (one zlib stream). */
  idat: Uint8Array[];
}

/**
 * Walks the chunks of a PNG (signature already checked); throws {@link PngDecodeError} when a chunk
 * is cut short or there is no IEND. `path` prefixes the messages.
 */
export function readPngChunks(bytes: Uint8Array, path = ''): PngChunks {
  const where = path ? `${path}: ` : '';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: PngChunks = { width: 0, height: 0, depth: 0, colorType: -1, interlace: 0, idat: [] };
  let p = 8;
  while (p + 8 <= bytes.length) {
    const len = view.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4]!, bytes[p + 5]!, bytes[p + 6]!, bytes[p + 7]!);
    const data = bytes.subarray(p + 8, p + 8 + len);
    if (data.length < len) throw new PngDecodeError(`${where}truncated PNG (chunk ${type} cut short)`);
    if (type === 'IHDR') {
      out.width = view.getUint32(p + 8);
      out.height = view.getUint32(p + 12);
      out.depth = bytes[p + 16]!;
      out.colorType = bytes[p + 17]!;
      out.interlace = bytes[p + 20]!;
    } else if (type === 'IDAT') out.idat.push(data);
    else if (type === 'IEND') return out;
    p += 12 + len;
  }
  throw new PngDecodeError(`${where}truncated PNG (no IEND chunk)`);
}

/** The IDAT chunks as one zlib stream (no copy when there is a single chunk). */
export function concatIdat(idat: Uint8Array[]): Uint8Array {
  if (idat.length === 1) return idat[0]!;
  const out = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of idat) (out.set(c, o), (o += c.length));
  return out;
}

/**
 * Decodes a PNG; throws {@link PngDecodeError} with a readable reason for non-PNG, truncated or
 * corrupt input.
 */
export function decodePng(bytes: Uint8Array): DecodedPng {
  if (!isPng(bytes)) throw new PngDecodeError('not a PNG file (bad signature)');
  const c = readPngChunks(bytes);
  const ch = PNG_COLOR_CHANNELS[c.colorType];
  if (ch === undefined || c.interlace !== 0 || (c.depth !== 8 && c.depth !== 16)) return decodeWithFastPng(bytes);
  const bpp = (ch * c.depth) / 8;
  const stride = c.width * bpp;
  const rawLength = c.height * (stride + 1);
  const raw = new Uint8Array(rawLength);
  let inflated: Uint8Array;
  try {
    inflated = unzlibSync(concatIdat(c.idat), { out: raw });
  } catch (err) {
    throw new PngDecodeError(`truncated or corrupt PNG: ${(err as Error).message || String(err)}`);
  }
  if (inflated.length < rawLength) {
    throw new PngDecodeError(`truncated PNG: ${Math.floor(inflated.length / (stride + 1))} of ${c.height} rows decoded`);
  }
  const img = new Uint8Array(c.height * stride);
  for (let y = 0; y < c.height; y++) unfilterRow(inflated, y * (stride + 1), img, y * stride, y > 0 ? (y - 1) * stride : -1, stride, bpp);
  if (c.depth === 8) return { width: c.width, height: c.height, channels: ch, depth: 8, data: img };
  const n = c.width * c.height * ch;
  const data = new Uint16Array(n);
  for (let i = 0, s = 0; i < n; i++, s += 2) data[i] = (img[s]! << 8) | img[s + 1]!; // big-endian samples
  return { width: c.width, height: c.height, channels: ch, depth: 16, data };
}

/** Palette, interlaced and < 8-bit PNGs, through fast-png. */
function decodeWithFastPng(bytes: Uint8Array): DecodedPng {
  let png;
  try {
    png = decode(bytes);
  } catch (err) {
    const msg = (err as Error).message || String(err);
    throw new PngDecodeError(`truncated or corrupt PNG: ${msg}`);
  }
  let { data, channels, depth } = png;
  // fast-png leaves samples of < 8 bits packed (rows padded to whole bytes): unpack them first.
  if (depth < 8) data = unpackBits(data as Uint8Array, png.width, png.height, channels, depth);
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
    // Gray samples 0 … 2^depth - 1 scaled to bytes.
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

/** Unpacks `depth`-bit samples (1, 2 or 4; MSB first, each row padded to a byte) into one byte each. */
function unpackBits(packed: Uint8Array, w: number, h: number, ch: number, depth: number): Uint8Array {
  const perRow = w * ch;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  if (packed.length < rowBytes * h) return packed; // reported as truncated by the caller
  const out = new Uint8Array(perRow * h);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < h; y++) {
    for (let i = 0; i < perRow; i++) {
      const bit = i * depth;
      out[y * perRow + i] = (packed[y * rowBytes + (bit >> 3)]! >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/**
 * Undoes one scan line's filter (None, Sub, Up, Average, Paeth): `raw[s]` is the filter byte and
 * `raw[s + 1 …]` the filtered row; the row is written to `out[o …]`. `up` is the offset of the
 * previous unfiltered row in `out` (-1 for the first row), `bpp` the bytes per pixel (at least 1).
 */
export function unfilterRow(raw: Uint8Array, s: number, out: Uint8Array, o: number, up: number, stride: number, bpp: number): void {
  const f = raw[s]!;
  s += 1;
  switch (f) {
    case 0:
      out.set(raw.subarray(s, s + stride), o);
      break;
    case 1:
      if (bpp === 3) subRow3(raw, s, out, o, stride);
      else {
        for (let x = 0; x < bpp; x++) out[o + x] = raw[s + x]!;
        for (let x = bpp; x < stride; x++) out[o + x] = raw[s + x]! + out[o + x - bpp]!;
      }
      break;
    case 2:
      if (up < 0) out.set(raw.subarray(s, s + stride), o);
      else if (LITTLE_ENDIAN && ((out.byteOffset + o) & 3) === 0 && ((out.byteOffset + up) & 3) === 0) upRowWords(raw, s, out, o, up, stride);
      else for (let x = 0; x < stride; x++) out[o + x] = raw[s + x]! + out[up + x]!;
      break;
    case 3:
      if (up < 0) {
        for (let x = 0; x < bpp; x++) out[o + x] = raw[s + x]!;
        for (let x = bpp; x < stride; x++) out[o + x] = raw[s + x]! + (out[o + x - bpp]! >> 1);
      } else {
        for (let x = 0; x < bpp; x++) out[o + x] = raw[s + x]! + (out[up + x]! >> 1);
        for (let x = bpp; x < stride; x++) out[o + x] = raw[s + x]! + ((out[o + x - bpp]! + out[up + x]!) >> 1);
      }
      break;
    case 4:
      if (up < 0) {
        // Without a row above, Paeth reduces to Sub.
        for (let x = 0; x < bpp; x++) out[o + x] = raw[s + x]!;
        for (let x = bpp; x < stride; x++) out[o + x] = raw[s + x]! + out[o + x - bpp]!;
      } else if (bpp === 3) paethRow3(raw, s, out, o, up, stride);
      else {
        for (let x = 0; x < bpp; x++) out[o + x] = raw[s + x]! + out[up + x]!;
        for (let x = bpp; x < stride; x++) {
          const a = out[o + x - bpp]!;
          const b = out[up + x]!;
          const c = out[up + x - bpp]!;
          const pa = b > c ? b - c : c - b;
          const pb = a > c ? a - c : c - a;
          const pcs = a + b - 2 * c;
          const pc = pcs < 0 ? -pcs : pcs;
          out[o + x] = raw[s + x]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
      }
      break;
    default:
      throw new PngDecodeError(`unknown PNG filter type ${f}`);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Up filter on word-aligned rows: the filtered row copied in, then the row above added four bytes
 * per 32-bit word (each byte modulo 256: low 7 bits summed, top bits by xor).
 */
function upRowWords(raw: Uint8Array, s: number, out: Uint8Array, o: number, up: number, stride: number): void {
  out.set(raw.subarray(s, s + stride), o);
  const n = stride >> 2;
  const o32 = new Uint32Array(out.buffer, out.byteOffset + o, n);
  const u32 = new Uint32Array(out.buffer, out.byteOffset + up, n);
  for (let i = 0; i < n; i++) {
    const a = o32[i]!;
    const b = u32[i]!;
    o32[i] = ((a & 0x7f7f7f7f) + (b & 0x7f7f7f7f)) ^ ((a ^ b) & 0x80808080);
  }
  for (let x = n << 2; x < stride; x++) out[o + x] = raw[s + x]! + out[up + x]!;
}

/** Sub filter for 3-byte pixels, the running left pixel kept in locals. */
function subRow3(raw: Uint8Array, s: number, out: Uint8Array, o: number, stride: number): void {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  for (let x = 0; x < stride; x += 3) {
    a0 = (raw[s + x]! + a0) & 255;
    a1 = (raw[s + x + 1]! + a1) & 255;
    a2 = (raw[s + x + 2]! + a2) & 255;
    out[o + x] = a0;
    out[o + x + 1] = a1;
    out[o + x + 2] = a2;
  }
}

/** Paeth predictor of left `a`, up `b`, upper-left `c`. */
function paeth(a: number, b: number, c: number): number {
  const pa = b > c ? b - c : c - b;
  const pb = a > c ? a - c : c - a;
  const pcs = a + b - 2 * c;
  const pc = pcs < 0 ? -pcs : pcs;
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Paeth filter for 3-byte pixels with a row above, left and upper-left pixels kept in locals. */
function paethRow3(raw: Uint8Array, s: number, out: Uint8Array, o: number, up: number, stride: number): void {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  for (let x = 0; x < stride; x += 3) {
    const b0 = out[up + x]!;
    const b1 = out[up + x + 1]!;
    const b2 = out[up + x + 2]!;
    a0 = (raw[s + x]! + paeth(a0, b0, c0)) & 255;
    a1 = (raw[s + x + 1]! + paeth(a1, b1, c1)) & 255;
    a2 = (raw[s + x + 2]! + paeth(a2, b2, c2)) & 255;
    out[o + x] = a0;
    out[o + x + 1] = a1;
    out[o + x + 2] = a2;
    c0 = b0;
    c1 = b1;
    c2 = b2;
  }
}
