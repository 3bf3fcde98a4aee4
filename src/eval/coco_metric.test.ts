import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath, readFixtureJson } from '../testing/fixtures';
import type { CocoDataset } from './coco';
import { CocoMetric, predictionsToCocoJson, type DetPrediction } from './coco_metric';
import { decodeRowMajor, type RLE } from './mask';

interface Det {
  image_id: number;
  category_id: number;
  score: number;
  bbox: number[];
  segmentation: RLE;
}
interface Variant {
  stats: number[];
  per_category: Record<string, { ap: number | null; ap50: number | null; ap75: number | null }>;
}

const cases = readdirSync(fixturePath('coco-eval'))
  .filter((f) => /^case_\d+$/.test(f))
  .sort();

/** Groups fixture detections into per-image model predictions (xyxy boxes, label indices). */
function toPredictions(gt: CocoDataset, dets: Det[], bitmaps = false): DetPrediction[] {
  const catIds = gt.categories.map((c) => c.id);
  return gt.images.map((img) => {
    const mine = dets.filter((d) => d.image_id === img.id);
    return {
      imgId: img.id,
      bboxes: Float64Array.from(mine.flatMap((d) => [d.bbox[0], d.bbox[1], d.bbox[0] + d.bbox[2], d.bbox[1] + d.bbox[3]])),
      scores: Float64Array.from(mine, (d) => d.score),
      labels: Int32Array.from(mine, (d) => catIds.indexOf(d.category_id)),
      masks: mine.map((d) => (bitmaps ? decodeRowMajor(d.segmentation) : d.segmentation)),
    };
  });
}

describe('CocoMetric as MMDetection runs it', () => {
  for (const name of cases) {
    it(`${name}: bbox and segm equal bbox_mmdet / segm_cocometric`, () => {
      const gt = readFixtureJson<CocoDataset>('coco-eval', name, 'gt.json');
      const dets = readFixtureJson<Det[]>('coco-eval', name, 'dt.json');
      const exp = readFixtureJson<Record<string, Variant>>('coco-eval', name, 'expected.json');
      const metric = new CocoMetric({ ann: gt, metric: ['bbox', 'segm'], classwise: true });
      metric.process(toPredictions(gt, dets, name === 'case_01'));
      const rep = metric.evaluateDetailed();
      for (const [m, key] of [
        ['bbox', 'bbox_mmdet'],
        ['segm', 'segm_cocometric'],
      ] as const) {
        rep.stats[m]!.forEach((v, i) => expect(Math.abs(v - exp[key].stats[i])).toBeLessThanOrEqual(1e-9));
        ['mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'].forEach((n, i) => {
          expect(rep.metrics[`coco/${m}_${n}`]).toBe(Number(exp[key].stats[i].toFixed(3)));
        });
        for (const row of rep.classwise[m]!) {
          const want = exp[key].per_category[String(row.categoryId)];
          expect(row.mAP).toBe(want.ap === null ? null : Number(want.ap.toFixed(3)));
          expect(row.mAP_50).toBe(want.ap50 === null ? null : Number(want.ap50.toFixed(3)));
        }
      }
      expect(metric.size).toBe(0);
    });
  }

  it('converts predictions to COCO results json (xywh, category ids, RLE from bitmaps)', () => {
    const mask = new Uint8Array(6 * 4);
    mask[1 * 4 + 2] = 1; // (y=1, x=2): column-major index 2*6+1 = 13, runs [13, 1, 10]
    const out = predictionsToCocoJson(
      [{ imgId: 3, bboxes: Float32Array.from([1.5, 2, 4, 7]), scores: Float32Array.from([0.7]), labels: [1], masks: [mask] }],
      [10, 20],
      () => [6, 4],
    );
    expect(out.bbox).toEqual([{ image_id: 3, bbox: [1.5, 2, 2.5, 5], score: Math.fround(0.7), category_id: 20 }]);
    expect(out.segm![0].segmentation).toEqual({ size: [6, 4], counts: '=1:' });
    expect(Array.from(decodeRowMajor(out.segm![0].segmentation as RLE))).toEqual(Array.from(mask));
  });

  it('encodes mask patches like full-image bitmaps', () => {
    const full = new Uint8Array(6 * 4);
    full[1 * 4 + 2] = 1;
    full[2 * 4 + 2] = 1;
    const patch = { data: Uint8Array.from([1, 1]), x: 2, y: 1, w: 1, h: 2 };
    const pred = (masks: DetPrediction['masks']): DetPrediction => ({ imgId: 3, bboxes: [2, 1, 3, 3], scores: [0.5], labels: [0], masks });
    const a = predictionsToCocoJson([pred([full])], [10], () => [6, 4]);
    const b = predictionsToCocoJson([pred([patch])], [10], () => [6, 4]);
    expect(b.segm).toEqual(a.segm);
  });

  it('with no detections at all, logs like MMDetection and reports nothing', () => {
    const gt = readFixtureJson<CocoDataset>('coco-eval', 'case_00', 'gt.json');
    const metric = new CocoMetric({ ann: gt, metric: ['bbox', 'segm'] });
    metric.process(gt.images.map((img) => ({ imgId: img.id, bboxes: [], scores: [], labels: [], masks: [] })));
    const rep = metric.evaluateDetailed();
    expect(rep.metrics).toEqual({});
    expect(rep.log).toContain('The testing results of the whole dataset is empty.');
  });

  it('rejects a label without a category, naming the prediction', () => {
    expect(() => predictionsToCocoJson([{ imgId: 1, bboxes: [0, 0, 1, 1], scores: [1], labels: [5] }], [1, 2])).toThrow(
      /predictions\[0\]\.labels\[0\]/,
    );
  });
});
