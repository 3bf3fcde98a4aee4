/**
 * Test helpers (Node only): PNG files built by hand, so the decoders meet every filter type, channel
 * count, bit depth, palettes and split IDAT streams.
 */
import { deflateSync } from 'node:zlib';

/** A PNG whose rows use the filter types of `filters` in turn (filtered here, deflated by zlib). */
export function pngWithFilters(w: number, h: number, ch: number, depth: 1 | 4 | 8 | 16, samples: Uint8Array, filters: number[], palette?: number[]): Uint8Array {
  const bpp = Math.max(1, (ch * depth) / 8);
  const stride = Math.ceil((w * ch * depth) / 8);
  const raw = new Uint8Array(h * (stride + 1));
  const at = (y: number, x: number): number => (y < 0 || x < 0 ? 0 : samples[y * stride + x]!);
  for (let y = 0; y < h; y++) {
    const f = filters[y % filters.length]!;
    raw[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const a = at(y, x - bpp);
      const b = at(y - 1, x);
      const c = at(y - 1, x - bpp);
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f]!;
      raw[y * (stride + 1) + 1 + x] = (samples[y * stride + x]! - pred) & 255;
    }
  }
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, Buffer.from(data), Buffer.alloc(4)]); // CRC not checked by the decoders
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = depth;
  ihdr[9] = palette ? 3 : { 1: 0, 2: 4, 3: 2, 4: 6 }[ch]!;
  const z = deflateSync(raw);
  // The stream split over two IDAT chunks, as encoders do for big images.
  const idat = [chunk('IDAT', z.subarray(0, z.length >> 1)), chunk('IDAT', z.subarray(z.length >> 1))];
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const plte = palette ? [chunk('PLTE', new Uint8Array(palette))] : [];
  return new Uint8Array(Buffer.concat([sig, chunk('IHDR', ihdr), ...plte, ...idat, chunk('IEND', new Uint8Array())]));
}

/** Deterministic pseudo-random bytes. */
export const noise = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => ((i * 2654435761 + seed) >>> 13) & 255);
