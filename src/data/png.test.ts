import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.ts';
import { decodePng, PngDecodeError } from './png.ts';
import { noise, pngWithFilters } from './testing_png.ts';


describe('decodePng', () => {
  it('gives the samples fast-png gives: fixture PNGs (RGB, 16-bit instanceIds, gray labelIds) and every filter type, channel count and depth', () => {
    const files: Uint8Array[] = [];
    for (const sub of [['leftImg8bit', 'val', 'lindau'], ['gtFine', 'val', 'lindau']]) {
      const dir = fixturePath('cityscapes', 'cityscapes', ...sub);
      for (const f of readdirSync(dir).filter((f) => f.endsWith('.png'))) files.push(new Uint8Array(readFileSync(join(dir, f))));
    }
    const w = 29;
    const h = 13;
    for (const depth of [8, 16] as const) {
      for (const ch of [1, 2, 3, 4]) {
        const n = (w * h * ch * depth) / 8;
        files.push(pngWithFilters(w, h, ch, depth, noise(n, ch + depth), [0, 1, 2, 3, 4, 4, 3, 2, 1]));
        files.push(pngWithFilters(w, h, ch, depth, noise(n, ch * depth), [4, 3, 1, 0]));
      }
    }
    files.push(encode({ width: w, height: h, data: noise(w * h * 3, 5), channels: 3, depth: 8 }));
    expect(files.length).toBeGreaterThan(20);
    for (const bytes of files) {
      const ref = decode(bytes);
      const got = decodePng(bytes);
      expect([got.width, got.height, got.channels, got.depth]).toEqual([ref.width, ref.height, ref.channels, ref.depth]);
      expect(got.data.constructor).toBe(ref.depth === 16 ? Uint16Array : Uint8Array);
      expect(Array.from(got.data)).toEqual(Array.from(ref.data));
    }
  });
  it('reads 1-bit gray and 4-bit palette images through fast-png (unpacked, scaled, expanded)', () => {
    const gray1 = pngWithFilters(9, 2, 1, 1, new Uint8Array([0b01010101, 0, 0b11000000, 0b10000000]), [0, 2]);
    const d = decodePng(gray1);
    expect([d.width, d.height, d.channels, d.depth]).toEqual([9, 2, 1, 1]);
    expect(Array.from(d.data)).toEqual([0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 255, 0, 0, 0, 0, 0, 0, 255]);
    const pal4 = pngWithFilters(3, 1, 1, 4, new Uint8Array([0x21, 0x00]), [0], [10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const p = decodePng(pal4);
    expect([p.width, p.height, p.channels, p.depth]).toEqual([3, 1, 3, 8]);
    expect(Array.from(p.data)).toEqual([70, 80, 90, 40, 50, 60, 10, 20, 30]);
  });
  it('rejects non-PNG, truncated and corrupt files with PngDecodeError', () => {
    const good = pngWithFilters(31, 17, 3, 8, noise(31 * 17 * 3, 1), [1, 4]);
    expect(() => decodePng(new Uint8Array([1, 2, 3]))).toThrow(/not a PNG/);
    expect(() => decodePng(good.subarray(0, good.length - 12))).toThrow(PngDecodeError); // no IEND
    expect(() => decodePng(good.subarray(0, good.length >> 1))).toThrow(PngDecodeError); // IDAT cut short
    // A complete chunk structure whose zlib stream ends early.
    const short = pngWithFilters(31, 17, 3, 8, noise(31 * 17 * 3, 1), [1, 4]);
    const ihdrEnd = 8 + 25;
    const idatLen = new DataView(short.buffer).getUint32(ihdrEnd);
    const cut = new Uint8Array(short);
    cut.fill(0, ihdrEnd + 8 + 2, ihdrEnd + 8 + idatLen); // stored garbage after the zlib header
    expect(() => decodePng(cut)).toThrow(PngDecodeError);
  });
});
