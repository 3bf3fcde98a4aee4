/**
 * Max-IoU assigner: every prior gets the gt it overlaps most, negative below `neg_iou_thr`, ignored
 * in between, plus low-quality matches (each gt claims its best priors).
 *
 * @see mmdet/models/task_modules/assigners/max_iou_assigner.py (MMDetection 3.3)
 */
import { bboxOverlaps } from './iou2d_calculator';

/** Constructor options (mmdet config keys). */
export interface MaxIoUAssignerConfig {
  pos_iou_thr: number;
  neg_iou_thr: number | [number, number];
  min_pos_iou?: number;
  gt_max_assign_all?: boolean;
  ignore_iof_thr?: number;
  ignore_wrt_candidates?: boolean;
  match_low_quality?: boolean;
  gpu_assign_thr?: number;
  iou_calculator?: unknown;
  [k: string]: unknown;
}

/**
 * Result of an assignment (mmdet `AssignResult`): for every prior, `gtInds` is -1 (ignored), 0
 * (negative) or the 1-based index of its gt; `labels` the gt label or -1.
 */
export interface AssignResult {
  numGts: number;
  gtInds: Int32Array;
  maxOverlaps: Float32Array;
  labels: Int32Array;
}

/** mmdet `MaxIoUAssigner`. */
export class MaxIoUAssigner {
  readonly posIouThr: number;
  readonly negIouThr: number | [number, number];
  readonly minPosIou: number;
  readonly gtMaxAssignAll: boolean;
  readonly ignoreIofThr: number;
  readonly ignoreWrtCandidates: boolean;
  readonly matchLowQuality: boolean;

  constructor(cfg: MaxIoUAssignerConfig) {
    this.posIouThr = cfg.pos_iou_thr;
    this.negIouThr = cfg.neg_iou_thr;
    this.minPosIou = cfg.min_pos_iou ?? 0;
    this.gtMaxAssignAll = cfg.gt_max_assign_all ?? true;
    this.ignoreIofThr = cfg.ignore_iof_thr ?? -1;
    this.ignoreWrtCandidates = cfg.ignore_wrt_candidates ?? true;
    this.matchLowQuality = cfg.match_low_quality ?? true;
  }

  /**
   * Assigns gts to priors.
   *
   * @param priors - `[N*4]` x1y1x2y2 (anchors or proposals).
   * @param gtBboxes - `[G*4]` x1y1x2y2.
   * @param gtLabels - `[G]` class indices.
   * @param gtBboxesIgnore - optional `[I*4]` boxes whose covered priors are ignored.
   */
  assign(
    priors: ArrayLike<number>,
    gtBboxes: ArrayLike<number>,
    gtLabels: ArrayLike<number>,
    gtBboxesIgnore?: ArrayLike<number>,
  ): AssignResult {
    const overlaps = bboxOverlaps(gtBboxes, priors);
    const res = this.assignWrtOverlaps(overlaps, gtBboxes.length / 4, priors.length / 4, gtLabels);
    if (this.ignoreIofThr > 0 && gtBboxesIgnore !== undefined && gtBboxesIgnore.length > 0 && priors.length > 0) {
      const n = priors.length / 4;
      const ni = gtBboxesIgnore.length / 4;
      const iof = this.ignoreWrtCandidates ? bboxOverlaps(priors, gtBboxesIgnore, 'iof') : bboxOverlaps(gtBboxesIgnore, priors, 'iof');
      for (let j = 0; j < n; j++) {
        let m = 0;
        for (let i = 0; i < ni; i++) m = Math.max(m, this.ignoreWrtCandidates ? iof[j * ni + i]! : iof[i * n + j]!);
        if (m > this.ignoreIofThr) res.gtInds[j] = -1;
      }
    }
    return res;
  }

  /** Assignment from an IoU matrix `[G, N]` (row-major). */
  assignWrtOverlaps(overlaps: Float32Array, numGts: number, numPriors: number, gtLabels: ArrayLike<number>): AssignResult {
    const gtInds = new Int32Array(numPriors).fill(-1);
    const maxOverlaps = new Float32Array(numPriors);
    const labels = new Int32Array(numPriors).fill(-1);
    if (numGts === 0 || numPriors === 0) {
      if (numGts === 0) gtInds.fill(0);
      return { numGts, gtInds, maxOverlaps, labels };
    }
    const argmax = new Int32Array(numPriors);
    for (let j = 0; j < numPriors; j++) {
      let best = overlaps[j]!;
      let bi = 0;
      for (let i = 1; i < numGts; i++) {
        const v = overlaps[i * numPriors + j]!;
        if (v > best) {
          best = v;
          bi = i;
        }
      }
      maxOverlaps[j] = best;
      argmax[j] = bi;
    }
    const [negLo, negHi] = typeof this.negIouThr === 'number' ? [0, this.negIouThr] : this.negIouThr;
    for (let j = 0; j < numPriors; j++) {
      const m = maxOverlaps[j]!;
      if (m >= negLo && m < negHi) gtInds[j] = 0;
      if (m >= this.posIouThr) gtInds[j] = argmax[j]! + 1;
    }
    if (this.matchLowQuality) {
      for (let i = 0; i < numGts; i++) {
        const row = i * numPriors;
        let gmax = -Infinity;
        let garg = 0;
        for (let j = 0; j < numPriors; j++) {
          if (overlaps[row + j]! > gmax) {
            gmax = overlaps[row + j]!;
            garg = j;
          }
        }
        if (gmax >= this.minPosIou) {
          if (this.gtMaxAssignAll) {
            for (let j = 0; j < numPriors; j++) if (overlaps[row + j] === gmax) gtInds[j] = i + 1;
          } else {
            gtInds[garg] = i + 1;
          }
        }
      }
    }
    for (let j = 0; j < numPriors; j++) if (gtInds[j]! > 0) labels[j] = gtLabels[gtInds[j]! - 1]!;
    return { numGts, gtInds, maxOverlaps, labels };
  }
}
