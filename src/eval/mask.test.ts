import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath, readFixtureJson } from '../testing/fixtures';
import {
  area,
  decode,
  decodeRowMajor,
  encode,
  encodePatchCounts,
  encodeRowMajor,
  encodeRowMajorCounts,
  fromCompressed,
  frPyObjects,
  iou,
  merge,
  toBbox,
  toCompressed,
  type RLE,
} from './mask';

interface RleRec {
  counts: string;
  size: [number, number];
  area: number;
  toBbox: number[];
}
interface MaskUtilsCase {
  h: number;
  w: number;
  polygons: (RleRec & { polygon: number[]; uncompressed_counts: number[] })[];
  frPyObjects_all_polygons_merged: RleRec;
  merge_intersect: RleRec;
  boxes: (RleRec & { box_xywh: number[] })[];
  iou: {
    dt_rles: RleRec[];
    gt_rles: RleRec[];
    iscrowd: number[];
    mask_iou: number[][];
    dt_boxes: number[][];
    gt_boxes: number[][];
    bbox_iou: number[][];
  };
  uncompressed_to_compressed: { input: { counts: number[]; size: [number, number] }; counts: string };
}

const names = readdirSync(fixturePath('coco-eval', 'maskutils'))
  .filter((f) => /^mu_\d+\.json$/.test(f))
  .sort();

function expectMatrix(got: number[][], want: number[][]): void {
  expect(got.length).toBe(want.length);
  got.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - want[i][j])).toBeLessThanOrEqual(1e-9)));
}

describe('mask RLE against pycocotools maskutils fixtures', () => {
  it('finds the fixture files', () => expect(names.length).toBeGreaterThanOrEqual(3));

  for (const name of names) {
    describe(name, () => {
      const c = readFixtureJson<MaskUtilsCase>('coco-eval', 'maskutils', name);
      const { h, w } = c;

      it('frPyObjects(polygon) counts are byte-identical, with area and toBbox', () => {
        for (const p of c.polygons) {
          const rle = frPyObjects(p.polygon, h, w);
          expect(rle.counts).toBe(p.counts);
          expect(rle.size).toEqual([h, w]);
          expect(fromCompressed(rle.counts)).toEqual(p.uncompressed_counts);
          expect(toCompressed(p.uncompressed_counts)).toBe(p.counts);
          expect(area(rle)).toBe(p.area);
          expect(toBbox(rle)).toEqual(p.toBbox);
        }
      });

      it('merges all polygons (union) and intersects them', () => {
        const rles = frPyObjects(c.polygons.map((p) => p.polygon), h, w);
        const u = merge(rles);
        expect(u.counts).toBe(c.frPyObjects_all_polygons_merged.counts);
        expect(area(u)).toBe(c.frPyObjects_all_polygons_merged.area);
        expect(toBbox(u)).toEqual(c.frPyObjects_all_polygons_merged.toBbox);
        const x = merge(rles, true);
        expect(x.counts).toBe(c.merge_intersect.counts);
        expect(area(x)).toBe(c.merge_intersect.area);
        expect(toBbox(x)).toEqual(c.merge_intersect.toBbox);
      });

      it('rasterises boxes like frBbox', () => {
        for (const b of c.boxes) {
          const rle = frPyObjects([b.box_xywh], h, w)[0];
          expect(rle.counts).toBe(b.counts);
          expect(area(rle)).toBe(b.area);
          expect(toBbox(rle)).toEqual(b.toBbox);
        }
      });

      it('mask and box IoU with crowd flags', () => {
        const dt = c.iou.dt_rles.map((r) => ({ size: r.size, counts: r.counts }) as RLE);
        const gt = c.iou.gt_rles.map((r) => ({ size: r.size, counts: r.counts }) as RLE);
        expectMatrix(iou(dt, gt, c.iou.iscrowd), c.iou.mask_iou);
        expectMatrix(iou(c.iou.dt_boxes, c.iou.gt_boxes, c.iou.iscrowd), c.iou.bbox_iou);
      });

      it('compresses uncompressed RLE', () => {
        const rle = frPyObjects(c.uncompressed_to_compressed.input, h, w);
        expect(rle.counts).toBe(c.uncompressed_to_compressed.counts);
      });

      it('decode/encode round-trips in both layouts', () => {
        for (const p of c.polygons) {
          const rle: RLE = { size: [h, w], counts: p.counts };
          const col = decode(rle);
          expect(col.reduce((s, v) => s + v, 0)).toBe(p.area);
          expect(encode(col, h, w).counts).toBe(p.counts);
          const row = decodeRowMajor(rle);
          let mismatches = 0;
          for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (row[y * w + x] !== col[x * h + y]) mismatches++;
          expect(mismatches).toBe(0);
          expect(encodeRowMajor(row, h, w).counts).toBe(p.counts);
        }
      });
    });
  }
});

describe('mask RLE edge cases', () => {
  it('encodes a mask patch like the full-image bitmap (windows inside, at the border and outside)', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const H = 13;
    const W = 11;
    for (let trial = 0; trial < 200; trial++) {
      const w = Math.floor(rand() * 8);
      const h = Math.floor(rand() * 8);
      const x = Math.floor(rand() * 16) - 3;
      const y = Math.floor(rand() * 18) - 3;
      const fill = rand();
      const data = Uint8Array.from({ length: w * h }, () => (rand() < fill ? 1 : 0));
      const full = new Uint8Array(H * W);
      for (let yy = 0; yy < h; yy++) {
        for (let xx = 0; xx < w; xx++) {
          const X = x + xx;
          const Y = y + yy;
          if (X >= 0 && X < W && Y >= 0 && Y < H) full[Y * W + X] = data[yy * w + xx];
        }
      }
      expect(Array.from(encodePatchCounts({ data, x, y, w, h }, H, W))).toEqual(Array.from(encodeRowMajorCounts(full, H, W)));
    }
  });

  it('codec handles large and negative differences', () => {
    const counts = [0, 5, 1_000_000, 3, 2, 70000, 1, 1];
    expect(fromCompressed(toCompressed(counts))).toEqual(counts);
    // values needing 7+ characters (beyond the 30-bit fast path), up to uint32
    const wide = [0, 2 ** 31 + 5, 3, 2 ** 32 - 1, 7, 2 ** 30, 2 ** 30 + 1, 1, 2 ** 29, 5, 2 ** 32 - 2, 0];
    expect(fromCompressed(toCompressed(wide))).toEqual(wide);
  });
  it('empty mask has a zero box and area', () => {
    const rle = encode(new Uint8Array(12), 3, 4);
    expect(area(rle)).toBe(0);
    expect(toBbox(rle)).toEqual([0, 0, 0, 0]);
  });
  it('rejects invalid counts characters', () => {
    expect(() => area({ size: [2, 2], counts: '~~' })).toThrow(/invalid character/);
  });
  it('crowd IoU divides by the detection area', () => {
    const gt = encodeRowMajor(Uint8Array.from([1, 1, 1, 1]), 2, 2);
    const dt = encodeRowMajor(Uint8Array.from([1, 0, 0, 0]), 2, 2);
    expect(iou([dt], [gt], [1])[0][0]).toBe(1);
    expect(iou([dt], [gt], [0])[0][0]).toBe(0.25);
  });
});

describe('src/eval stays worker-safe', () => {
  it('imports nothing from node: or the DOM outside tests', () => {
    const here = new URL('.', import.meta.url);
    const files = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const src = readFileSync(new URL(f, here), 'utf8');
      expect(src, f).not.toMatch(/from ['"]node:|import\(['"]node:|\bdocument\.|\bwindow\./);
    }
  });
});
