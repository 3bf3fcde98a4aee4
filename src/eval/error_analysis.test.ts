import { describe, expect, it } from 'vitest';
import { analyzeImage, rankImages, totalsByClass, type GtObject } from './error_analysis';

const dets = (rows: Array<[number, number, number, number, number, number]>) => ({
  bboxes: Float32Array.from(rows.flatMap((r) => r.slice(0, 4))),
  scores: Float32Array.from(rows.map((r) => r[4])),
  labels: Int32Array.from(rows.map((r) => r[5])),
});

describe('analyzeImage', () => {
  const gts: GtObject[] = [
    { bbox: [0, 0, 10, 10], label: 0 },
    { bbox: [20, 20, 10, 10], label: 1 },
    { bbox: [50, 50, 10, 10], label: 0 },
  ];

  it('matches at IoU 0.5 per class and lists misses', () => {
    const r = analyzeImage(
      dets([
        [0, 0, 10, 10, 0.9, 0], // exact → tp
        [20, 20, 30, 30, 0.8, 0], // right place, wrong class → fp; gt 1 missed
        [1, 0, 11, 10, 0.7, 0], // duplicate of the first object → fp
      ]),
      gts,
    );
    expect(r.detections).toEqual(['tp', 'fp', 'fp']);
    expect(r.matchedGt).toEqual([0, -1, -1]);
    expect(r.missed).toEqual([1, 2]);
    expect(r.tp).toBe(1);
    expect(r.fp).toBe(2);
    expect(r.errors).toBe(4);
    expect(r.perClass[0]).toEqual({ tp: 1, fp: 2, missed: 1 });
    expect(r.perClass[1]).toEqual({ tp: 0, fp: 0, missed: 1 });
  });

  it('uses the 0.5 threshold inclusively and visits higher scores first', () => {
    // IoU of [0,0,10,10] with [0,0,10,20]... box of area 200 overlapping 100: IoU exactly 0.5.
    const half = analyzeImage(dets([[0, 0, 10, 20, 0.3, 0]]), [{ bbox: [0, 0, 10, 10], label: 0 }]);
    expect(half.detections).toEqual(['tp']);
    const below = analyzeImage(dets([[0, 0, 10, 21, 0.3, 0]]), [{ bbox: [0, 0, 10, 10], label: 0 }]);
    expect(below.detections).toEqual(['fp']);
    // The lower-scored exact box comes second and becomes the duplicate.
    const order = analyzeImage(
      dets([
        [0, 0, 10, 10, 0.2, 0],
        [0, 0, 10, 12, 0.6, 0],
      ]),
      [{ bbox: [0, 0, 10, 10], label: 0 }],
    );
    expect(order.detections).toEqual(['fp', 'tp']);
  });

  it('ignores detections on crowd regions and never counts crowds as missed', () => {
    const r = analyzeImage(dets([[100, 100, 110, 110, 0.9, 0]]), [{ bbox: [90, 90, 100, 100], label: 0, iscrowd: true }]);
    expect(r.detections).toEqual(['ignored']);
    expect(r.missed).toEqual([]);
    expect(r.errors).toBe(0);
  });

  it('leaves out detections below the score threshold', () => {
    const r = analyzeImage(dets([[0, 0, 10, 10, 0.1, 0]]), [{ bbox: [0, 0, 10, 10], label: 0 }], { scoreThr: 0.5 });
    expect(r.detections).toEqual(['below']);
    expect(r.missed).toEqual([0]);
  });
});

describe('rankImages', () => {
  const mk = (key: string, d: Parameters<typeof dets>[0], g: GtObject[]) => ({ key, errors: analyzeImage(dets(d), g) });
  const images = [
    mk('a', [[0, 0, 10, 10, 0.9, 0]], [{ bbox: [0, 0, 10, 10], label: 0 }]), // perfect
    mk('b', [], [{ bbox: [0, 0, 10, 10], label: 1 }, { bbox: [30, 30, 5, 5], label: 1 }]), // 2 missed (class 1)
    mk('c', [[0, 0, 10, 10, 0.9, 0], [40, 40, 50, 50, 0.5, 0]], [{ bbox: [0, 0, 10, 10], label: 0 }]), // 1 fp (class 0)
    mk('d', [[0, 0, 5, 5, 0.9, 0]], [{ bbox: [30, 30, 10, 10], label: 0 }]), // 1 fp + 1 missed (class 0)
  ];

  it('sorts worst first, missed breaking ties', () => {
    expect(rankImages(images).map((i) => i.key)).toEqual(['b', 'd', 'c', 'a']);
  });

  it('ranks one class and drops images without its errors', () => {
    expect(rankImages(images, 0).map((i) => i.key)).toEqual(['d', 'c']);
    expect(rankImages(images, 1).map((i) => i.key)).toEqual(['b']);
    expect(rankImages(images, 5)).toEqual([]);
  });

  it('totals per class', () => {
    expect(totalsByClass(images)).toEqual({ 0: { tp: 2, fp: 2, missed: 1 }, 1: { tp: 0, fp: 0, missed: 2 } });
  });
});
