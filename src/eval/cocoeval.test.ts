import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath, readFixtureJson } from '../testing/fixtures';
import { COCO, CocoFormatError, type CocoDataset } from './coco';
import { COCOeval, formatFixed, linspace } from './cocoeval';

interface Variant {
  maxDets: number[];
  bbox_dropped?: boolean;
  stats: number[];
  per_category: Record<string, { ap: number | null; ap50: number | null; ap75: number | null; ar: number | null; recall_per_iou?: number[] }>;
}
type Expected = Record<'bbox' | 'bbox_mmdet' | 'segm' | 'segm_mmdet' | 'segm_cocometric', Variant>;

const cases = readdirSync(fixturePath('coco-eval'))
  .filter((f) => /^case_\d+$/.test(f))
  .sort();

function close(got: number | null | undefined, want: number | null): void {
  if (want === null) {
    expect(got ?? null).toBeNull();
    return;
  }
  expect(got).not.toBeNull();
  expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(1e-9);
}

function run(gtJson: unknown, dtJson: unknown[], iouType: 'bbox' | 'segm', maxDets: number[]): COCOeval {
  const gt = new COCO(structuredClone(gtJson));
  const E = new COCOeval(gt, gt.loadRes(structuredClone(dtJson)), iouType);
  E.params.maxDets = maxDets;
  E.evaluate();
  E.accumulate();
  E.summarize();
  return E;
}

describe('COCOeval against pycocotools 2.0.11 fixtures', () => {
  it('finds the cases', () => expect(cases.length).toBeGreaterThanOrEqual(5));

  for (const name of cases) {
    describe(name, () => {
      const gtJson = readFixtureJson<CocoDataset>('coco-eval', name, 'gt.json');
      const dtJson = readFixtureJson<Record<string, unknown>[]>('coco-eval', name, 'dt.json');
      const expected = readFixtureJson<Expected>('coco-eval', name, 'expected.json');
      for (const variant of ['bbox', 'bbox_mmdet', 'segm', 'segm_mmdet', 'segm_cocometric'] as const) {
        it(variant, () => {
          const exp = expected[variant];
          const dets = variant === 'segm_cocometric' ? dtJson.map(({ bbox: _drop, ...rest }) => rest) : dtJson;
          const E = run(gtJson, dets, variant.startsWith('bbox') ? 'bbox' : 'segm', exp.maxDets);
          expect(E.stats).toHaveLength(12);
          E.stats.forEach((v, i) => close(v, exp.stats[i]));
          const pc = E.perCategory();
          expect([...pc.keys()].sort((a, b) => a - b)).toEqual(Object.keys(exp.per_category).map(Number).sort((a, b) => a - b));
          for (const [cid, want] of Object.entries(exp.per_category)) {
            const got = pc.get(Number(cid))!;
            close(got.ap, want.ap);
            close(got.ap50, want.ap50);
            close(got.ap75, want.ap75);
            close(got.ar, want.ar);
            want.recall_per_iou?.forEach((v, t) => close(got.recallPerIou[t], v));
          }
        });
      }
    });
  }
});

describe('COCOeval details', () => {
  const gt: CocoDataset = {
    images: [{ id: 1, height: 100, width: 100 }],
    categories: [{ id: 7, name: 'a' }],
    annotations: [{ id: 0, image_id: 1, category_id: 7, bbox: [10, 10, 20, 20], area: 400, iscrowd: 0 }],
  };
  it('thresholds are numpy linspace values', () => {
    expect(linspace(0.5, 0.95, 10)[5]).toBe(0.75);
    expect(linspace(0, 1, 101)[100]).toBe(1);
  });
  it('a match to a ground truth with id 0 counts as a false positive (pycocotools quirk)', () => {
    const E = run(gt, [{ image_id: 1, category_id: 7, bbox: [10, 10, 20, 20], score: 0.9 }], 'bbox', [1, 10, 100]);
    expect(E.stats[0]).toBe(0);
    const gt1 = structuredClone(gt);
    gt1.annotations![0].id = 1;
    expect(run(gt1, [{ image_id: 1, category_id: 7, bbox: [10, 10, 20, 20], score: 0.9 }], 'bbox', [1, 10, 100]).stats[0]).toBeCloseTo(1, 12);
  });
  it('stats[0] is -1 when no maxDets equals 100', () => {
    const gt1 = structuredClone(gt);
    gt1.annotations![0].id = 1;
    const E = run(gt1, [{ image_id: 1, category_id: 7, bbox: [10, 10, 20, 20], score: 0.9 }], 'bbox', [1, 10, 50]);
    expect(E.stats[0]).toBe(-1);
    expect(E.stats[1]).toBeCloseTo(1, 12);
  });
  it('formats like Python (ties to even on the exact value)', () => {
    expect(formatFixed(0.0625, 3)).toBe('0.062');
    expect(formatFixed(0.4333333, 3)).toBe('0.433');
    expect(formatFixed(-1, 3)).toBe('-1.000');
  });

  describe('bad input names the offending record', () => {
    const good = { image_id: 1, category_id: 7, bbox: [1, 2, 3, 4], score: 0.5 };
    const load = (dets: unknown): unknown => new COCO(structuredClone(gt)).loadRes(dets);
    it('unknown image id', () => expect(() => load([good, { ...good, image_id: 5 }])).toThrow(/results\[1\]\.image_id/));
    it('unknown category', () => expect(() => load([good, { ...good, category_id: 3 }])).toThrow(/results\[1\]\.category_id/));
    it('NaN score', () => expect(() => load([{ ...good, score: Number.NaN }])).toThrow(/results\[0\]\.score/));
    it('missing score', () => expect(() => load([good, { image_id: 1, category_id: 7, bbox: [1, 2, 3, 4] }])).toThrow(/results\[1\]\.score/));
    it('bad bbox', () => expect(() => load([good, { ...good, bbox: [1, 2, 3] }])).toThrow(/results\[1\]\.bbox/));
    it('empty results', () => expect(() => load([])).toThrow(CocoFormatError));
    it('not a list', () => expect(() => load({})).toThrow(/list/));
    it('RLE size differs from the image', () => {
      expect(() => load([{ image_id: 1, category_id: 7, score: 1, segmentation: { size: [10, 10], counts: '0PZ2' } }])).toThrow(
        /results\[0\]\.segmentation\.size.*\[100, 100\]/,
      );
    });
    it('RLE runs not covering the image', () => {
      expect(() => load([{ image_id: 1, category_id: 7, score: 1, segmentation: { size: [100, 100], counts: [5, 5] } }])).toThrow(
        /results\[0\]\.segmentation\.counts/,
      );
    });
    it('polygon with fewer than 3 points in the ground truth (segm)', () => {
      const g = structuredClone(gt);
      g.annotations![0].segmentation = [[1, 1, 5, 5]];
      const coco = new COCO(g);
      const E = new COCOeval(coco, coco.loadRes([good]), 'segm');
      expect(() => E.evaluate()).toThrow(/annotations\[0\]\.segmentation\[0\].*3 points/);
    });
    it('ground truth missing iscrowd / duplicate ids', () => {
      const g = structuredClone(gt) as unknown as { annotations: Record<string, unknown>[] };
      delete g.annotations[0].iscrowd;
      expect(() => new COCO(g)).toThrow(/annotations\[0\]\.iscrowd/);
      const g2 = structuredClone(gt);
      g2.annotations!.push({ ...g2.annotations![0] });
      expect(() => new COCO(g2)).toThrow(/annotations\[1\]\.id: duplicate/);
    });
  });
});
