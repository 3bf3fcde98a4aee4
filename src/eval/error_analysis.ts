/**
 * Error browsing on a labelled image: which detections are false positives and which ground-truth
 * objects were missed at one IoU threshold (0.5 by default), matched the way COCOeval matches one
 * IoU threshold — per class, detections in descending score order, each taking the unmatched
 * non-crowd object of highest IoU; a detection that only overlaps a crowd region (IoU with the
 * detection's area as denominator) is ignored rather than counted as a false positive. Images are
 * then ranked by their error count ("worst first"), overall or for one class.
 *
 * Pure: no DOM, no tfjs. Boxes: detections absolute `x1y1x2y2`, ground truth COCO `[x, y, w, h]`,
 * both in original-image pixels.
 */
import { boxIou } from './mask';

/** One ground-truth object of an image. */
export interface GtObject {
  /** COCO `[x, y, w, h]`, original-image pixels. */
  bbox: readonly number[];
  /** 0-based class index (the model's label space). */
  label: number;
  /** A crowd region (`iscrowd=1`): never missed, and detections on it are ignored. */
  iscrowd?: boolean;
}

/** The detections of one image (what the model returned, any score order). */
export interface DetectionSet {
  /** `[n*4]` absolute `x1y1x2y2`. */
  bboxes: ArrayLike<number>;
  /** `[n]` scores. */
  scores: ArrayLike<number>;
  /** `[n]` 0-based labels. */
  labels: ArrayLike<number>;
}

/** Per-class counts of one image. */
export interface ClassErrorCounts {
  tp: number;
  fp: number;
  missed: number;
}

/** The outcome of {@link analyzeImage}. */
export interface ImageErrors {
  /** Detection index → 'tp' | 'fp' | 'ignored' (below the score threshold: 'below'). */
  detections: Array<'tp' | 'fp' | 'ignored' | 'below'>;
  /** For each true positive detection, the index of its ground-truth object (else -1). */
  matchedGt: number[];
  /** Indices of ground-truth objects no detection matched (crowd regions excluded). */
  missed: number[];
  /** Counts per label (only labels that occur). */
  perClass: Record<number, ClassErrorCounts>;
  tp: number;
  fp: number;
  /** `fp + missed.length`. */
  errors: number;
}

/** Options of {@link analyzeImage}. */
export interface ErrorAnalysisOptions {
  /** IoU a detection needs to match an object (default 0.5). */
  iouThr?: number;
  /** Detections below this score are left out (default 0). */
  scoreThr?: number;
}

function count(rec: Record<number, ClassErrorCounts>, label: number): ClassErrorCounts {
  let c = rec[label];
  if (!c) rec[label] = c = { tp: 0, fp: 0, missed: 0 };
  return c;
}

/**
 * Classifies each detection of one image as true or false positive and lists the missed objects.
 *
 * Args:
 *   dets: the image's detections.
 *   gts: its ground-truth objects.
 *   options: IoU and score thresholds.
 * Returns:
 *   Per-detection verdicts, missed objects and counts.
 */
export function analyzeImage(dets: DetectionSet, gts: readonly GtObject[], options: ErrorAnalysisOptions = {}): ImageErrors {
  const iouThr = options.iouThr ?? 0.5;
  const scoreThr = options.scoreThr ?? 0;
  const n = dets.labels.length;
  const detections: ImageErrors['detections'] = new Array(n).fill('below');
  const matchedGt = new Array<number>(n).fill(-1);
  const perClass: Record<number, ClassErrorCounts> = {};
  const gtUsed = new Uint8Array(gts.length);
  // COCOeval visits detections by descending score (stable for ties).
  const order = Array.from({ length: n }, (_, i) => i)
    .filter((i) => dets.scores[i]! >= scoreThr)
    .sort((a, b) => dets.scores[b]! - dets.scores[a]! || a - b);
  let tp = 0;
  let fp = 0;
  for (const d of order) {
    const label = dets.labels[d]!;
    const x1 = dets.bboxes[d * 4]!;
    const y1 = dets.bboxes[d * 4 + 1]!;
    const box = [x1, y1, dets.bboxes[d * 4 + 2]! - x1, dets.bboxes[d * 4 + 3]! - y1];
    let best = -1;
    let bestIou = Math.min(iouThr, 1 - 1e-10);
    // Non-crowd objects first (COCOeval sorts crowd last and stops at the first crowd once matched).
    for (let g = 0; g < gts.length; g++) {
      const gt = gts[g]!;
      if (gt.label !== label || gt.iscrowd || gtUsed[g]) continue;
      const iou = boxIou(box, gt.bbox, false);
      if (iou >= bestIou) {
        bestIou = iou;
        best = g;
      }
    }
    if (best >= 0) {
      gtUsed[best] = 1;
      matchedGt[d] = best;
      detections[d] = 'tp';
      count(perClass, label).tp++;
      tp++;
      continue;
    }
    const onCrowd = gts.some((gt) => gt.iscrowd && gt.label === label && boxIou(box, gt.bbox, true) >= iouThr);
    if (onCrowd) {
      detections[d] = 'ignored';
      continue;
    }
    detections[d] = 'fp';
    count(perClass, label).fp++;
    fp++;
  }
  const missed: number[] = [];
  gts.forEach((gt, g) => {
    if (gt.iscrowd || gtUsed[g]) return;
    missed.push(g);
    count(perClass, gt.label).missed++;
  });
  return { detections, matchedGt, missed, perClass, tp, fp, errors: fp + missed.length };
}

/** An analysed image, for ranking. */
export interface RankedImage {
  /** Any key of the image (image id, name). */
  key: number | string;
  errors: ImageErrors;
}

/**
 * Images sorted worst first: by error count (false positives + missed), then by missed objects,
 * then by key. With `label`, only that class's errors count and images without any are dropped.
 */
export function rankImages<T extends RankedImage>(images: readonly T[], label?: number): T[] {
  const score = (e: ImageErrors): [number, number] => {
    if (label === undefined) return [e.errors, e.missed.length];
    const c = e.perClass[label];
    return c ? [c.fp + c.missed, c.missed] : [0, 0];
  };
  const rows = images.map((im) => ({ im, s: score(im.errors) }));
  const kept = label === undefined ? rows : rows.filter((r) => r.s[0] > 0);
  return kept
    .sort((a, b) => b.s[0] - a.s[0] || b.s[1] - a.s[1] || String(a.im.key).localeCompare(String(b.im.key), undefined, { numeric: true }))
    .map((r) => r.im);
}

/** Totals over many images, per class: true positives, false positives and missed objects. */
export function totalsByClass(images: readonly RankedImage[]): Record<number, ClassErrorCounts> {
  const out: Record<number, ClassErrorCounts> = {};
  for (const im of images) {
    for (const [k, c] of Object.entries(im.errors.perClass)) {
      const t = count(out, Number(k));
      t.tp += c.tp;
      t.fp += c.fp;
      t.missed += c.missed;
    }
  }
  return out;
}
