import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { createBitmapImageDecoder, pngBitDepth, pngDecodesAsStored, rgbaToBgrMirrored, rgbaToBgrPlanar, type BitmapEnvironment } from './browser_image_decoder.ts';
import { toBgr } from './transforms/loading.ts';

describe('createBitmapImageDecoder', () => {
  it('uses the injected bitmap path for 8-bit images and fast-png for 16-bit PNGs', async () => {
    const calls: string[] = [];
    const env: BitmapEnvironment = {
      createImageBitmap: async (blob) => {
        calls.push(`bitmap ${blob.size}`);
        return { width: 2, height: 1, close: () => calls.push('close') };
      },
      OffscreenCanvas: class {
        constructor(
          readonly w: number,
          readonly h: number,
        ) {
          calls.push(`canvas ${w}x${h}`);
        }
        getContext() {
          const ctx = {
            globalCompositeOperation: 'source-over',
            setTransform: (...m: number[]) => calls.push(`transform ${m.join(',')}`),
            drawImage: () => calls.push(`draw ${ctx.globalCompositeOperation}`),
            getImageData: () => ({ data: new Uint8ClampedArray([10, 20, 30, 255, 40, 50, 60, 255]) }),
          };
          return ctx;
        }
      },
    };
    const decode = createBitmapImageDecoder(env);
    const png8 = encode({ width: 2, height: 1, data: new Uint8Array([1, 2, 3, 4, 5, 6]), channels: 3, depth: 8 });
    expect(pngBitDepth(png8)).toBe(8);
    const out = await decode(png8, 'a.png');
    expect(toBgr(out).data).toEqual(new Uint8Array([30, 20, 10, 60, 50, 40]));
    expect(calls).toEqual([`bitmap ${png8.length}`, 'canvas 2x1', 'draw copy', 'close']);
    const png16 = encode({ width: 1, height: 1, data: new Uint16Array([0x1234]), channels: 1, depth: 16 });
    const g = await decode(png16, 'b.png');
    expect(Array.from(g.data)).toEqual([0x12]);
    expect(calls.length).toBe(4);
    // A second image of the same size reuses the canvas.
    await decode(png8, 'c.png');
    expect(calls.slice(4)).toEqual([`bitmap ${png8.length}`, 'draw copy', 'close']);
  });
  it('rgbaToBgrMirrored mirrors rows (aligned and unaligned input)', () => {
    const w = 3;
    const h = 2;
    const rgba = new Uint8Array(w * h * 4).map((_, i) => i);
    const want = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) want[(y * w + x) * 3 + c] = rgba[(y * w + (w - 1 - x)) * 4 + (2 - c)]!;
    expect(rgbaToBgrMirrored(rgba, w, h)).toEqual(want);
    const shifted = new Uint8Array(rgba.length + 1);
    shifted.set(rgba, 1);
    expect(rgbaToBgrMirrored(shifted.subarray(1), w, h)).toEqual(want);
  });

  it('rgbaToBgrPlanar writes BGR channel planes, mirrored or not', () => {
    const w = 3;
    const h = 2;
    const rgba = new Uint8Array(w * h * 4).map((_, i) => i);
    for (const mirror of [false, true]) {
      const want = new Uint8Array(w * h * 3);
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) want[c * w * h + y * w + x] = rgba[(y * w + (mirror ? w - 1 - x : x)) * 4 + (2 - c)]!;
      }
      expect(rgbaToBgrPlanar(rgba, w, h, mirror)).toEqual(want);
    }
  });

  it('decodeResized asks createImageBitmap for the size, mirrors in the pixel copy, declines 16-bit', async () => {
    const calls: unknown[] = [];
    const env: BitmapEnvironment = {
      createImageBitmap: async (_blob, opts) => {
        calls.push(opts);
        return { width: Number(opts!.resizeWidth ?? 4), height: Number(opts!.resizeHeight ?? 2), close: () => calls.push('close') };
      },
      OffscreenCanvas: class {
        constructor(w: number, h: number) {
          calls.push(`canvas ${w}x${h}`);
        }
        getContext() {
          const ctx = {
            globalCompositeOperation: 'source-over',
            imageSmoothingQuality: '',
            drawImage: (_img: unknown, ...a: number[]) => calls.push(a.length > 2 ? `draw ${a.join(',')} ${ctx.imageSmoothingQuality}` : 'draw'),
            getImageData: () => ({ data: new Uint8ClampedArray([10, 20, 30, 255, 40, 50, 60, 255]) }),
          };
          return ctx;
        }
      },
    };
    const decode = createBitmapImageDecoder(env, { resizeQuality: 'medium', resizeWith: 'bitmap' });
    const png8 = encode({ width: 4, height: 2, data: new Uint8Array(24), channels: 3, depth: 8 });
    const img = await decode.decodeResized!(png8, 'a.png', { width: 2, height: 1, flipHorizontal: true });
    expect(img).toEqual({ width: 2, height: 1, channels: 3, data: new Uint8Array([60, 50, 40, 30, 20, 10]) }); // mirrored
    expect(calls).toEqual([
      { resizeWidth: 2, resizeHeight: 1, resizeQuality: 'medium' }, // opaque, untagged: default colour options
      'canvas 2x1',
      'draw',
      'close',
    ]);
    const planar = await decode.decodeResized!(png8, 'a.png', { width: 2, height: 1, flipHorizontal: true, planar: true });
    expect(planar).toEqual({ width: 2, height: 1, channels: 3, data: new Uint8Array([60, 30, 50, 20, 40, 10]), planar: true });
    calls.splice(4);
    const plain = await decode.decodeResized!(png8, 'a.png', { width: 2, height: 1, flipHorizontal: false });
    expect(plain!.data).toEqual(new Uint8Array([30, 20, 10, 60, 50, 40]));
    expect(calls.slice(4)).toEqual([expect.objectContaining({ resizeWidth: 2 }), 'draw', 'close']);
    const png16 = encode({ width: 1, height: 1, data: new Uint16Array([1]), channels: 1, depth: 16 });
    expect(await decode.decodeResized!(png16, 'b.png', { width: 2, height: 2, flipHorizontal: false })).toBeNull();
    expect(createBitmapImageDecoder(env, { nativeResize: false }).decodeResized).toBeUndefined();
    // Default: full-size bitmap, scaled drawImage with smoothing quality 'low'.
    calls.length = 0;
    await createBitmapImageDecoder(env).decodeResized!(png8, 'a.png', { width: 2, height: 1, flipHorizontal: false });
    expect(calls).toEqual([{}, 'canvas 2x1', 'draw 0,0,2,1 low', 'close']);
    // With alpha the stored values are kept explicitly.
    calls.length = 0;
    const rgba = encode({ width: 4, height: 2, data: new Uint8Array(32), channels: 4, depth: 8 });
    await createBitmapImageDecoder(env).decodeResized!(rgba, 'a.png', { width: 2, height: 1, flipHorizontal: false });
    expect(calls[0]).toEqual({ colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  });

  it('pngDecodesAsStored: only opaque PNGs without colour-space chunks', () => {
    const rgb = encode({ width: 2, height: 2, data: new Uint8Array(12), channels: 3, depth: 8 });
    const gray = encode({ width: 2, height: 2, data: new Uint8Array(4), channels: 1, depth: 8 });
    const rgba = encode({ width: 2, height: 2, data: new Uint8Array(16), channels: 4, depth: 8 });
    const grayAlpha = encode({ width: 2, height: 2, data: new Uint8Array(8), channels: 2, depth: 8 });
    expect(pngDecodesAsStored(rgb)).toBe(true);
    expect(pngDecodesAsStored(gray)).toBe(true);
    expect(pngDecodesAsStored(rgba)).toBe(false);
    expect(pngDecodesAsStored(grayAlpha)).toBe(false);
    expect(pngDecodesAsStored(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe(false); // JPEG
    // A chunk inserted right after IHDR (CRC not checked by the scan).
    const withChunk = (png: Uint8Array, type: string, body: number[]): Uint8Array => {
      const chunk = new Uint8Array(12 + body.length);
      new DataView(chunk.buffer).setUint32(0, body.length);
      for (let i = 0; i < 4; i++) chunk[4 + i] = type.charCodeAt(i);
      chunk.set(body, 8);
      const at = 8 + 25; // signature + IHDR chunk
      return new Uint8Array([...png.subarray(0, at), ...chunk, ...png.subarray(at)]);
    };
    expect(pngDecodesAsStored(withChunk(rgb, 'gAMA', [0, 0, 0xb1, 0x8f]))).toBe(false);
    expect(pngDecodesAsStored(withChunk(rgb, 'iCCP', [0x61, 0, 0]))).toBe(false);
    expect(pngDecodesAsStored(withChunk(rgb, 'tRNS', [0, 1, 0, 2, 0, 3]))).toBe(false);
    expect(pngDecodesAsStored(withChunk(rgb, 'sRGB', [0]))).toBe(true);
    expect(pngDecodesAsStored(withChunk(rgb, 'pHYs', [0, 0, 0, 1, 0, 0, 0, 1, 0]))).toBe(true);
  });
});
