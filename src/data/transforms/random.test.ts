import { describe, expect, it } from 'vitest';
import { RandomFlip } from './flip.ts';
import { rescaleSize } from './image_ops.ts';
import { RandomResize, Resize } from './resize.ts';
import { seededRng, type Results } from './types.ts';
import { buildTransform, Compose, UnknownTransformError } from './compose.ts';
import { PackDetInputs } from './formatting.ts';
import { toBgr } from './loading.ts';
import { detDataPreprocess } from './data_preprocessor.ts';

function sample(w: number, h: number): Results {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 255;
  return {
    img: { width: w, height: h, channels: 3, data },
    img_shape: [h, w],
    gt_bboxes: Float32Array.from([10, 20, 110, 220]),
    gt_masks: { n: 1, height: h, width: w, data: new Uint8Array(w * h).fill(1) },
  };
}

describe('RandomResize (mmcv semantics, Cityscapes train scale)', () => {
  it('draws edge_0 in [2048, 2048] and edge_1 in [800, 1024]; keep_ratio makes the short side 800..1024', () => {
    const t = new RandomResize({ scale: [[2048, 800], [2048, 1024]], keep_ratio: true }, seededRng(1));
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const [w, h] = t.randomScale();
      expect(w).toBe(2048);
      expect(h).toBeGreaterThanOrEqual(800);
      expect(h).toBeLessThanOrEqual(1024);
      seen.add(h);
      const size = rescaleSize([2048, 1024], [w, h]).size;
      expect(size).toEqual([2 * h, h]);
    }
    expect(seen.has(800) && seen.has(1024)).toBe(true);
  });
  it('is reproducible with a seeded rng and resizes image, boxes and masks consistently', () => {
    const a = new RandomResize({ scale: [[64, 20], [64, 40]], keep_ratio: true }, seededRng(7));
    const b = new RandomResize({ scale: [[64, 20], [64, 40]], keep_ratio: true }, seededRng(7));
    const ra = a.transform(sample(64, 32));
    const rb = b.transform(sample(64, 32));
    expect(ra.scale).toEqual(rb.scale);
    expect(ra.img_shape).toEqual([ra.img!.height, ra.img!.width]);
    expect([ra.gt_masks!.height, ra.gt_masks!.width]).toEqual(ra.img_shape);
    expect(ra.scale_factor).toEqual([ra.img!.width / 64, ra.img!.height / 32]);
  });
  it('ratio_range form scales (w, h) by a random ratio', () => {
    const t = new RandomResize({ scale: [100, 50], ratio_range: [0.5, 2.0], keep_ratio: true }, seededRng(3));
    for (let i = 0; i < 50; i++) {
      const [w, h] = t.randomScale();
      expect(w).toBeGreaterThanOrEqual(50);
      expect(w).toBeLessThanOrEqual(200);
      expect(h).toBeGreaterThanOrEqual(25);
      expect(h).toBeLessThanOrEqual(100);
      expect(Math.abs(w / 100 - h / 50)).toBeLessThan(0.03);
    }
  });
  it('Resize without keep_ratio gives unequal factors and clips boxes', () => {
    const r = new Resize({ scale: [32, 8], keep_ratio: false }).transform(sample(64, 32));
    expect(r.scale_factor).toEqual([0.5, 0.25]);
    expect(Array.from(r.gt_bboxes!)).toEqual([5, 5, 32, 8]);
  });
});

describe('RandomFlip', () => {
  it('flips with the given probability and mirrors boxes as W - x', () => {
    const t = new RandomFlip({ prob: 0.5 }, seededRng(11));
    let flips = 0;
    for (let i = 0; i < 1000; i++) {
      const r = t.transform(sample(8, 4));
      if (r.flip) {
        flips++;
        expect(r.flip_direction).toBe('horizontal');
        expect(Array.from(r.gt_bboxes!)).toEqual([8 - 110, 20, 8 - 10, 220]);
        expect(r.img!.data.subarray(0, 3)).toEqual(sample(8, 4).img!.data.subarray(21, 24));
      } else expect(r.flip_direction).toBeNull();
    }
    expect(flips).toBeGreaterThan(430);
    expect(flips).toBeLessThan(570);
  });
  it('prob=1 always flips; vertical flips y', () => {
    const r = new RandomFlip({ prob: 1.0, direction: 'vertical' }).transform(sample(8, 4));
    expect(Array.from(r.gt_bboxes!)).toEqual([10, 4 - 220, 110, 4 - 20]);
  });
});

describe('buildTransform', () => {
  it('builds by mmdet type name and explains an unknown type', () => {
    expect(buildTransform({ type: 'RandomFlip', prob: 0.5 }, { readFile: async () => new Uint8Array() }).type).toBe('RandomFlip');
    expect(() => buildTransform({ type: 'RandomFlipp' }, { readFile: async () => new Uint8Array() })).toThrow(UnknownTransformError);
  });
});

describe('Compose fuses Resize / RandomResize + RandomFlip', () => {
  const readFile = async (): Promise<Uint8Array> => new Uint8Array();
  function masked(w: number, h: number): Results {
    const r = sample(w, h);
    const m = new Uint8Array(2 * w * h);
    for (let i = 0; i < m.length; i++) m[i] = (i * 2654435761) >>> 30 === 0 ? 1 : 0;
    r.gt_masks = { n: 2, height: h, width: w, data: m };
    r.gt_bboxes = Float32Array.from([10, 20, 110, 220, 1, 2, 30, 25]);
    return r;
  }
  it.each([
    ['RandomResize', { type: 'RandomResize', scale: [[48, 20], [64, 40]], keep_ratio: true }],
    ['Resize (unequal factors)', { type: 'Resize', scale: [37, 23], keep_ratio: false }],
    ['Resize to the same size', { type: 'Resize', scale: [64, 32], keep_ratio: true }],
  ])('%s: fused run equals the steps one by one, for every flip direction', async (_name, resizeCfg) => {
    const pipeline = [resizeCfg, { type: 'RandomFlip', prob: [0.25, 0.25, 0.25], direction: ['horizontal', 'vertical', 'diagonal'] }];
    const fused = new Compose(pipeline, { readFile, rng: seededRng(5) });
    const steps = new Compose(pipeline, { readFile, rng: seededRng(5) });
    const seen = new Set<string>();
    for (let k = 0; k < 40; k++) {
      const a = (await fused.run(masked(64, 32)))!;
      let b: Results = masked(64, 32);
      for (const t of steps.transforms) b = (await t.transform(b))!;
      seen.add(String(a.flip_direction));
      expect([a.scale, a.scale_factor, a.img_shape, a.flip, a.flip_direction]).toEqual([b.scale, b.scale_factor, b.img_shape, b.flip, b.flip_direction]);
      expect([a.img!.width, a.img!.height]).toEqual([b.img!.width, b.img!.height]);
      expect(Buffer.from(a.img!.data).equals(Buffer.from(b.img!.data))).toBe(true);
      expect(Array.from(a.gt_bboxes!)).toEqual(Array.from(b.gt_bboxes!));
      expect(Buffer.from(a.gt_masks!.data).equals(Buffer.from(b.gt_masks!.data))).toBe(true);
    }
    expect(seen).toEqual(new Set(['horizontal', 'vertical', 'diagonal', 'null']));
  });
});

describe('PackDetInputs', () => {
  it('transposes HWC to CHW exactly (four-pixel word path and per-pixel fallback)', () => {
    for (const [w, h, offset] of [[8, 4, 0], [36, 10, 0], [7, 3, 0], [8, 4, 1]] as const) {
      const buf = new Uint8Array(w * h * 3 + offset);
      for (let i = 0; i < buf.length; i++) buf[i] = (i * 37 + 11) & 255;
      const data = buf.subarray(offset);
      const packed = new PackDetInputs().pack({ img: { width: w, height: h, channels: 3, data }, img_shape: [h, w] });
      expect(packed.inputs.shape).toEqual([3, h, w]);
      const want = new Uint8Array(3 * w * h);
      for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) want[k * w * h + i] = data[i * 3 + k]!;
      expect(Array.from(packed.inputs.data)).toEqual(Array.from(want));
    }
  });
});

describe('toBgr', () => {
  it('swaps RGB(A) to BGR and spreads gray, for any pixel count and alignment', () => {
    for (const c of [1, 2, 3, 4]) {
      for (const [w, h, offset] of [[8, 4, 0], [7, 3, 0], [9, 5, 4], [8, 2, 1]] as const) {
        const buf = new Uint8Array(w * h * c + offset);
        for (let i = 0; i < buf.length; i++) buf[i] = (i * 53 + 7) & 255;
        const data = buf.subarray(offset);
        const want = new Uint8Array(w * h * 3);
        for (let i = 0; i < w * h; i++) {
          const px = c >= 3 ? [data[i * c + 2]!, data[i * c + 1]!, data[i * c]!] : [data[i * c]!, data[i * c]!, data[i * c]!];
          want.set(px, i * 3);
        }
        const got = toBgr({ width: w, height: h, channels: c, data: c === 4 ? new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) : data });
        expect(Array.from(got.data), `${c} channels, ${w}x${h}+${offset}`).toEqual(Array.from(want));
      }
    }
  });
});

describe('detDataPreprocess normalise', () => {
  it('gives float32 (x - mean) / std per channel (BGR → RGB), rows of any width and alignment, zero padding', () => {
    const mean = [123.675, 116.28, 103.53];
    const std = [58.395, 57.12, 57.375];
    const f = Math.fround;
    for (const [w, h] of [[8, 4], [7, 3], [9, 5], [33, 2]] as const) {
      const data = new Uint8Array(3 * h * w);
      for (let i = 0; i < data.length; i++) data[i] = (i * 97 + 13) & 255;
      const sample = {
        inputs: { shape: [3, h, w] as [number, number, number], data },
        data_samples: { metainfo: {}, gt_instances: { bboxes: new Float32Array(0), labels: new Int32Array(0) }, ignored_instances: { bboxes: new Float32Array(0), labels: new Int32Array(0) } },
      };
      const out = detDataPreprocess([sample], { mean, std, bgr_to_rgb: true, pad_size_divisor: 8 }, false);
      const [, , H, W] = out.shape;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const want = y < h && x < w ? f(f(data[(2 - c) * h * w + y * w + x]! - f(mean[c]!)) / f(std[c]!)) : 0;
            expect(out.inputs[(c * H + y) * W + x]).toBe(want);
          }
        }
      }
    }
  });
});
