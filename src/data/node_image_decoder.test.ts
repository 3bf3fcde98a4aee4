import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode } from 'fast-png';
import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.ts';
import { exifOrientation, JpegDecodeError, nodeImageDecoder, nodePngDecoder } from './node_image_decoder.ts';
import { PngDecodeError } from './png.ts';
import { noise, pngWithFilters } from './testing_png.ts';
import { defaultImageDecoder, LoadImageFromFile, toBgr, UnsupportedImageError } from './transforms/loading.ts';

/** fast-png's samples, 16-bit ones reduced to their high byte (what OpenCV's colour read keeps). */
function fastPngPixels(bytes: Uint8Array): { width: number; height: number; channels: number; data: Uint8Array } {
  const r = decode(bytes);
  const data = r.depth === 16 ? Uint8Array.from(r.data as Uint16Array, (v) => v >> 8) : new Uint8Array(r.data as Uint8Array);
  return { width: r.width, height: r.height, channels: r.channels, data };
}


describe('nodeImageDecoder: PNG', () => {
  it('decodes exactly like fast-png (fixture RGB images, all filter types, 16-bit, RGBA, gray)', () => {
    const dir = fixturePath('cityscapes', 'cityscapes', 'leftImg8bit', 'val', 'lindau');
    const files: Uint8Array[] = readdirSync(dir).map((f) => new Uint8Array(readFileSync(join(dir, f))));
    const w = 37;
    const h = 11;
    const grad = (n: number, m: number) => Uint8Array.from({ length: n }, (_, i) => (i * m + (i >> 3) * 17) & 255);
    files.push(encode({ width: w, height: h, data: grad(w * h * 4, 7), channels: 4, depth: 8 }));
    files.push(encode({ width: w, height: h, data: grad(w * h, 3), channels: 1, depth: 8 }));
    files.push(encode({ width: w, height: h, data: Uint16Array.from({ length: w * h * 3 }, (_, i) => i * 977), channels: 3, depth: 16 }));
    for (const ch of [1, 2, 3, 4]) files.push(pngWithFilters(w, h, ch, 8, noise(w * h * ch, ch), [0, 1, 2, 3, 4, 4, 3, 2, 1]));
    files.push(pngWithFilters(w, h, 3, 8, noise(w * h * 3, 9), [4, 3, 1])); // Paeth / Average on the first row
    for (const bytes of files) {
      const a = nodeImageDecoder(bytes, 'x.png');
      const b = fastPngPixels(bytes);
      expect([a.width, a.height, a.channels]).toEqual([b.width, b.height, b.channels]);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
      expect(Buffer.from(defaultImageDecoder(bytes, 'x.png').data).equals(Buffer.from(b.data))).toBe(true);
      // Asked for BGR: 8-bit RGB comes back already swapped, everything else as before; same pixels after toBgr.
      const c = nodeImageDecoder(bytes, 'x.png', { order: 'bgr' });
      expect(Buffer.from(toBgr(c).data).equals(Buffer.from(toBgr(b).data))).toBe(true);
      expect(c.order === 'bgr').toBe(b.channels === 3 && bytes[24] === 8);
    }
    expect(nodePngDecoder).toBe(nodeImageDecoder);
  });
  it('rejects truncated files', () => {
    const f = new Uint8Array(readFileSync(fixturePath('cityscapes', 'cityscapes', 'leftImg8bit', 'val', 'lindau', 'lindau_000079_102788_leftImg8bit.png')));
    expect(() => nodeImageDecoder(f.subarray(0, f.length - 30), 'x.png')).toThrow(PngDecodeError);
  });
});

describe('nodeImageDecoder: JPEG and other formats', () => {
  const w = 37;
  const h = 23;
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) rgba.set([x * 6, y * 10, 128 + ((x + y) & 15), 255], (y * w + x) * 4);
  }
  const jpeg = new Uint8Array(encodeJpeg({ width: w, height: h, data: rgba }, 100).data);

  it('decodes a JPEG made at test time (quality 100: within 4 levels of the source) to RGB, and to BGR through LoadImageFromFile', async () => {
    const d = nodeImageDecoder(jpeg, 'a.jpg');
    expect([d.width, d.height, d.channels]).toEqual([w, h, 3]);
    let maxDiff = 0;
    for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(d.data[i * 3 + c]! - rgba[i * 4 + c]!));
    expect(maxDiff).toBeLessThanOrEqual(4);
    const r = await new LoadImageFromFile({}, { readFile: async () => jpeg, decodeImage: nodeImageDecoder }).transform({ img_path: 'x/a.jpeg' });
    expect(r!.img_shape).toEqual([h, w]);
    expect(Array.from(r!.img!.data.subarray(0, 3))).toEqual([d.data[2], d.data[1], d.data[0]]);
  });
  it('applies the EXIF orientation like cv2.imdecode (all 8 values, both byte orders)', () => {
    // 32×16: a red block at the top-left corner, a blue one at the top-right, gray elsewhere.
    const W = 32;
    const H = 16;
    const px = new Uint8Array(W * H * 4);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const red = x < 8 && y < 8;
        const blue = x >= W - 8 && y < 8;
        px.set(red ? [250, 0, 0, 255] : blue ? [0, 0, 250, 255] : [128, 128, 128, 255], (y * W + x) * 4);
      }
    }
    const plain = new Uint8Array(encodeJpeg({ width: W, height: H, data: px }, 95).data);
    const withOrientation = (o: number, le: boolean): Uint8Array => {
      const tiff = Buffer.alloc(26);
      tiff.write(le ? 'II' : 'MM', 0, 'latin1');
      const u16 = (v: number, at: number) => (le ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
      const u32 = (v: number, at: number) => (le ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
      u16(42, 2);
      u32(8, 4);
      u16(1, 8); // one IFD0 entry: Orientation, SHORT, count 1
      u16(0x0112, 10);
      u16(3, 12);
      u32(1, 14);
      u16(o, 18);
      const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
      const seg = Buffer.alloc(4);
      seg.writeUInt16BE(0xffe1, 0);
      seg.writeUInt16BE(payload.length + 2, 2);
      return new Uint8Array(Buffer.concat([plain.subarray(0, 2), seg, payload, plain.subarray(2)]));
    };
    const corner = (d: { width: number; height: number; data: ArrayLike<number> }, x: number, y: number): string => {
      const i = (y * d.width + x) * 3;
      const [r, , b] = [d.data[i]!, d.data[i + 1]!, d.data[i + 2]!];
      return r > 200 && b < 60 ? 'red' : b > 200 && r < 60 ? 'blue' : 'gray';
    };
    // Where the red (input top-left) and blue (input top-right) blocks end up.
    const expected: Record<number, [string, string]> = {
      1: ['TL', 'TR'], 2: ['TR', 'TL'], 3: ['BR', 'BL'], 4: ['BL', 'BR'],
      5: ['TL', 'BL'], 6: ['TR', 'BR'], 7: ['BR', 'TR'], 8: ['BL', 'TL'],
    };
    for (let o = 1; o <= 8; o++) {
      const bytes = withOrientation(o, o % 2 === 0);
      const d = nodeImageDecoder(bytes, 'o.jpg');
      expect([d.width, d.height]).toEqual(o >= 5 ? [H, W] : [W, H]);
      const at: Record<string, string> = {
        TL: corner(d, 2, 2),
        TR: corner(d, d.width - 3, 2),
        BL: corner(d, 2, d.height - 3),
        BR: corner(d, d.width - 3, d.height - 3),
      };
      const [red, blue] = expected[o]!;
      expect([at[red], at[blue]], `orientation ${o}`).toEqual(['red', 'blue']);
    }
    expect(exifOrientation(new Uint8Array([0, 1, 2]))).toBe(1);
  });
  it('reports broken JPEGs and unsupported formats clearly', () => {
    expect(() => nodeImageDecoder(jpeg.subarray(0, jpeg.length >> 1), 'cut.jpg')).toThrow(JpegDecodeError);
    expect(() => nodeImageDecoder(jpeg.subarray(0, jpeg.length >> 1), 'cut.jpg')).toThrow(/cut\.jpg: cannot decode JPEG/);
    const gif = new Uint8Array([...Buffer.from('GIF89a'), 1, 0, 1, 0, 0, 0, 0]);
    expect(() => nodeImageDecoder(gif, 'a.gif')).toThrow(UnsupportedImageError);
    expect(() => nodeImageDecoder(gif, 'a.gif')).toThrow(/a\.gif: GIF images are not supported.*PNG and JPEG/);
    const webp = new Uint8Array([...Buffer.from('RIFF'), 0, 0, 0, 0, ...Buffer.from('WEBPVP8 ')]);
    expect(() => nodeImageDecoder(webp, 'b.jpg')).toThrow(/b\.jpg: WebP images are not supported/);
    expect(() => nodeImageDecoder(new Uint8Array([1, 2, 3]), 'c.png')).toThrow(/c\.png: this file format is not supported/);
  });
});
