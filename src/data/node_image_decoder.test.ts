import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.ts';
import { nodePngDecoder } from './node_image_decoder.ts';
import { PngDecodeError } from './png.ts';
import { defaultImageDecoder } from './transforms/loading.ts';

describe('nodePngDecoder', () => {
  it('decodes exactly like fast-png (fixture RGB images, all filter types, 16-bit, RGBA, gray)', () => {
    const dir = fixturePath('cityscapes', 'cityscapes', 'leftImg8bit', 'val', 'lindau');
    const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    const w = 37;
    const h = 11;
    const grad = (n: number, m: number) => Uint8Array.from({ length: n }, (_, i) => (i * m + (i >> 3) * 17) & 255);
    files.push(Buffer.from(encode({ width: w, height: h, data: grad(w * h * 4, 7), channels: 4, depth: 8 })));
    files.push(Buffer.from(encode({ width: w, height: h, data: grad(w * h, 3), channels: 1, depth: 8 })));
    files.push(Buffer.from(encode({ width: w, height: h, data: Uint16Array.from({ length: w * h * 3 }, (_, i) => i * 977), channels: 3, depth: 16 })));
    for (const f of files) {
      const bytes = new Uint8Array(f);
      const a = nodePngDecoder(bytes, 'x.png');
      const b = defaultImageDecoder(bytes, 'x.png');
      expect([a.width, a.height, a.channels]).toEqual([b.width, b.height, b.channels]);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    }
  });
  it('rejects truncated files', () => {
    const f = new Uint8Array(readFileSync(fixturePath('cityscapes', 'cityscapes', 'leftImg8bit', 'val', 'lindau', 'lindau_000079_102788_leftImg8bit.png')));
    expect(() => nodePngDecoder(f.subarray(0, f.length - 30), 'x.png')).toThrow(PngDecodeError);
  });
});
