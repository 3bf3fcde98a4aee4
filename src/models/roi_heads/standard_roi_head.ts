/**
 * Standard RoI head of Faster / Mask R-CNN: assigns and samples proposals (CPU), pools RoI features,
 * runs the box head (and mask head on positives), computes targets and losses, and post-processes
 * detections (multi-class NMS, mask pasting).
 *
 * @see mmdet/models/roi_heads/standard_roi_head.py, bbox_heads/bbox_head.py,
 *   mask_heads/fcn_mask_head.py, layers/bbox_nms.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchedNmsIndices } from '../../ops/nms';
import { roiAlign } from '../../ops/roi_align';
import { Module } from '../layers/module';
import type { DetDataSample, DetResult, Proposals } from '../structures';
import type { MaxIoUAssigner } from '../task_modules/assigners/max_iou_assigner';
import type { RandomSampler, SamplingResult } from '../task_modules/samplers/random_sampler';
import { buildModule, buildTaskUtil } from '../builders';
import type { ConfigDict } from '../../registry/registry';
import type { ConvFCBBoxHead } from './bbox_heads/convfc_bbox_head';
import type { FCNMaskHead } from './mask_heads/fcn_mask_head';
import { pasteMask } from './mask_heads/paste_mask';
import { SingleRoIExtractor } from './roi_extractors/single_roi_extractor';

/** Constructor options (mmdet config keys). */
export interface StandardRoIHeadConfig {
  bbox_roi_extractor?: ConfigDict;
  bbox_head?: ConfigDict;
  mask_roi_extractor?: ConfigDict;
  mask_head?: ConfigDict;
  shared_head?: ConfigDict | null;
  train_cfg?: ConfigDict | null;
  test_cfg?: ConfigDict | null;
  init_cfg?: unknown;
  [k: string]: unknown;
}

/** Sampling statistics of the last `loss` call. */
export interface RoITargetStats {
  sampling: SamplingResult[];
  numPos: number;
  numNeg: number;
}

/** Turns per-image box lists into RoIs `[K*5]` (batch_idx, x1, y1, x2, y2) (mmdet `bbox2roi`). */
export function bbox2roi(boxList: Float32Array[]): Float32Array {
  const total = boxList.reduce((a, b) => a + b.length / 4, 0);
  const out = new Float32Array(total * 5);
  let r = 0;
  boxList.forEach((boxes, i) => {
    for (let k = 0; k < boxes.length / 4; k++, r++) {
      out[r * 5] = i;
      for (let c = 0; c < 4; c++) out[r * 5 + 1 + c] = boxes[k * 4 + c]!;
    }
  });
  return out;
}

function concatF32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** mmdet `StandardRoIHead` (no shared head). */
export class StandardRoIHead extends Module {
  readonly bboxRoiExtractor: SingleRoIExtractor;
  readonly bboxHead: ConvFCBBoxHead;
  readonly maskRoiExtractor: SingleRoIExtractor | null;
  readonly maskHead: FCNMaskHead | null;
  readonly trainCfg: ConfigDict | null;
  readonly testCfg: ConfigDict | null;
  private assigner: MaxIoUAssigner | null = null;
  private sampler: RandomSampler | null = null;
  /** Statistics of the last `loss` call. */
  lastTargets: RoITargetStats | null = null;

  constructor(cfg: StandardRoIHeadConfig, prefix = 'roi_head') {
    super(prefix);
    if (cfg.shared_head != null) throw new Error('StandardRoIHead: shared_head is not supported');
    if (cfg.bbox_roi_extractor == null || cfg.bbox_head == null) throw new Error('StandardRoIHead: bbox_roi_extractor and bbox_head are required');
    this.bboxRoiExtractor = buildModule(cfg.bbox_roi_extractor, `${prefix}.bbox_roi_extractor`) as SingleRoIExtractor;
    this.bboxHead = this.addModule('bbox_head', buildModule(cfg.bbox_head, `${prefix}.bbox_head`) as ConvFCBBoxHead);
    if (cfg.mask_head != null) {
      if (cfg.mask_roi_extractor == null) throw new Error('StandardRoIHead: share_roi_extractor is not supported; set mask_roi_extractor');
      this.maskRoiExtractor = buildModule(cfg.mask_roi_extractor, `${prefix}.mask_roi_extractor`) as SingleRoIExtractor;
      this.maskHead = this.addModule('mask_head', buildModule(cfg.mask_head, `${prefix}.mask_head`) as FCNMaskHead);
    } else {
      this.maskRoiExtractor = null;
      this.maskHead = null;
    }
    this.trainCfg = cfg.train_cfg ?? null;
    this.testCfg = cfg.test_cfg ?? null;
  }

  /** Whether a mask branch exists. */
  get withMask(): boolean {
    return this.maskHead !== null;
  }

  /** Box branch: RoI features → `clsScore [K, C+1]`, `bboxPred [K, 4C]`, plus the pooled features. */
  bboxForward(feats: tf.Tensor4D[], rois: Float32Array): { clsScore: tf.Tensor2D; bboxPred: tf.Tensor2D; bboxFeats: tf.Tensor4D } {
    const bboxFeats = this.bboxRoiExtractor.forward(feats, rois);
    return { ...this.bboxHead.forward(bboxFeats), bboxFeats };
  }

  /** Mask branch: RoI features (14×14) → logits `[K, 28, 28, C]`. */
  maskForward(feats: tf.Tensor4D[], rois: Float32Array): { maskPreds: tf.Tensor4D; maskFeats: tf.Tensor4D } {
    if (this.maskHead === null || this.maskRoiExtractor === null) throw new Error('StandardRoIHead: no mask head');
    const maskFeats = this.maskRoiExtractor.forward(feats, rois);
    return { maskPreds: this.maskHead.forward(maskFeats), maskFeats };
  }

  /** State of the sampler's random generator (null without a train_cfg), for checkpoints. */
  samplerState(): number | null {
    if (this.trainCfg === null) return null;
    this.ensureTrainModules();
    return this.sampler!.getState();
  }

  /** Restores the sampler's random generator (resume). */
  setSamplerState(state: number): void {
    this.ensureTrainModules();
    this.sampler!.setState(state);
  }

  private ensureTrainModules(): void {
    if (this.assigner !== null) return;
    if (this.trainCfg === null) throw new Error('StandardRoIHead: train_cfg (train_cfg.rcnn) is required for loss()');
    this.assigner = buildTaskUtil(this.trainCfg.assigner as ConfigDict) as MaxIoUAssigner;
    this.sampler = buildTaskUtil(this.trainCfg.sampler as ConfigDict) as RandomSampler;
  }

  /**
   * R-CNN losses for a batch.
   *
   * @param feats - FPN maps NHWC.
   * @param proposals - per-image proposals (detached, CPU).
   * @param samples - per-image ground truth.
   * @returns `loss_cls`, `acc` (percent), `loss_bbox` and, with a mask head, `loss_mask`.
   */
  loss(feats: tf.Tensor4D[], proposals: Proposals[], samples: DetDataSample[]): Record<string, tf.Scalar> {
    this.ensureTrainModules();
    const sampling: SamplingResult[] = [];
    for (let i = 0; i < samples.length; i++) {
      const gt = samples[i]!.gt_instances;
      const gtB = gt?.bboxes ?? new Float32Array(0);
      const gtL = gt?.labels ?? new Int32Array(0);
      const assign = this.assigner!.assign(proposals[i]!.bboxes, gtB, gtL, samples[i]!.ignored_instances?.bboxes);
      sampling.push(this.sampler!.sample(assign, proposals[i]!.bboxes, gtB, gtL));
    }
    let numPos = 0;
    let numNeg = 0;
    for (const s of sampling) {
      numPos += s.posInds.length;
      numNeg += s.negInds.length;
    }
    this.lastTargets = { sampling, numPos, numNeg };
    const rois = bbox2roi(sampling.map((s) => concatF32([s.posPriors, s.negPriors])));
    const k = rois.length / 5;
    const numClasses = this.bboxHead.numClasses;
    const labels = new Int32Array(k).fill(numClasses);
    const bboxT = new Float32Array(k * 4);
    const bboxW = new Float32Array(k * 4);
    let r = 0;
    for (const s of sampling) {
      const t = this.bboxHead.bboxCoder.encode(s.posPriors, s.posGtBboxes);
      for (let p = 0; p < s.posInds.length; p++, r++) {
        labels[r] = s.posGtLabels[p]!;
        for (let c = 0; c < 4; c++) {
          bboxT[r * 4 + c] = t[p * 4 + c]!;
          bboxW[r * 4 + c] = 1;
        }
      }
      r += s.negInds.length;
    }
    const out: Record<string, tf.Scalar> = {};
    const bbox = tf.tidy(() => {
      const { clsScore, bboxPred } = this.bboxForward(feats, rois);
      const lab = tf.tensor1d(labels, 'int32');
      const lossCls = this.bboxHead.lossCls.forward(clsScore, lab, tf.ones([k]), Math.max(k, 1)) as tf.Scalar;
      const acc = tf.mul(tf.mean(tf.cast(tf.equal(tf.argMax(clsScore, 1), lab), 'float32')), 100) as tf.Scalar;
      let sel: tf.Tensor2D;
      if (this.bboxHead.regClassAgnostic) {
        sel = bboxPred;
      } else {
        // float one-hot (mixing dtypes would insert a Cast of the prediction into the gradient path)
        const oh = tf.cast(tf.oneHot(lab, numClasses + 1), 'float32').slice([0, 0], [k, numClasses]).reshape([k, numClasses, 1]);
        sel = tf.sum(tf.mul(bboxPred.reshape([k, numClasses, 4]), oh), 1) as tf.Tensor2D;
      }
      const lossBbox = this.bboxHead.lossBbox.forward(sel, tf.tensor2d(bboxT, [k, 4]), tf.tensor2d(bboxW, [k, 4]), k) as tf.Scalar;
      return { loss_cls: lossCls, acc, loss_bbox: lossBbox };
    });
    Object.assign(out, bbox);
    if (this.withMask) out.loss_mask = this.maskLoss(feats, sampling, samples);
    return out;
  }

  /** Mask loss on the positive RoIs, targets by RoIAlign of the gt bitmaps (threshold 0.5). */
  private maskLoss(feats: tf.Tensor4D[], sampling: SamplingResult[], samples: DetDataSample[]): tf.Scalar {
    const posRois = bbox2roi(sampling.map((s) => s.posPriors));
    const p = posRois.length / 5;
    if (p === 0) return tf.scalar(0);
    const maskSize = (this.trainCfg?.mask_size as number | undefined) ?? 28;
    return tf.tidy(() => {
      const { maskPreds } = this.maskForward(feats, posRois);
      const targets: tf.Tensor[] = [];
      const labels: number[] = [];
      sampling.forEach((s, i) => {
        const n = s.posInds.length;
        if (n === 0) return;
        const masks = samples[i]!.gt_instances?.masks;
        if (masks === undefined) throw new Error('StandardRoIHead: gt_instances.masks are required by the mask head');
        const { height: h, width: w } = masks;
        const rois = new Float32Array(n * 5);
        for (let q = 0; q < n; q++) {
          rois[q * 5] = s.posAssignedGtInds[q]!;
          rois[q * 5 + 1] = Math.min(Math.max(s.posPriors[q * 4]!, 0), w);
          rois[q * 5 + 2] = Math.min(Math.max(s.posPriors[q * 4 + 1]!, 0), h);
          rois[q * 5 + 3] = Math.min(Math.max(s.posPriors[q * 4 + 2]!, 0), w);
          rois[q * 5 + 4] = Math.min(Math.max(s.posPriors[q * 4 + 3]!, 0), h);
          labels.push(s.posGtLabels[q]!);
        }
        const gtMap = tf.cast(tf.tensor4d(masks.data, [masks.count, h, w, 1], 'int32'), 'float32') as tf.Tensor4D;
        const t = roiAlign(gtMap, tf.tensor2d(rois, [n, 5]), { outputSize: maskSize, spatialScale: 1, samplingRatio: 0, aligned: true });
        targets.push(tf.cast(tf.greaterEqual(t, 0.5), 'float32').reshape([n, maskSize, maskSize]));
      });
      const target = (targets.length === 1 ? targets[0]! : tf.concat(targets, 0)) as tf.Tensor3D;
      return this.maskHead!.lossMask.maskLoss(maskPreds, target, tf.tensor1d(labels, 'int32')) as tf.Scalar;
    });
  }

  /**
   * Detections per image: box branch on the proposals, per-class decode, multi-class NMS, top-k,
   * then masks pasted at the original (`rescale`) or resized image size.
   */
  async predict(feats: tf.Tensor4D[], proposals: Proposals[], samples: DetDataSample[], rescale = true): Promise<DetResult[]> {
    const cfg = this.testCfg ?? {};
    const scoreThr = (cfg.score_thr as number | undefined) ?? 0.05;
    const iouThr = ((cfg.nms as ConfigDict | undefined)?.iou_threshold as number | undefined) ?? 0.5;
    const maxPer = (cfg.max_per_img as number | undefined) ?? 100;
    const maskThr = (cfg.mask_thr_binary as number | undefined) ?? 0.5;
    const numClasses = this.bboxHead.numClasses;
    const rois = bbox2roi(proposals.map((p) => p.bboxes));
    const k = rois.length / 5;
    const results: DetResult[] = [];
    let vals: Float32Array = new Float32Array(0);
    const agn = this.bboxHead.regClassAgnostic;
    const width = numClasses + 1 + 4 * numClasses;
    if (k > 0) {
      const packed = tf.tidy(() => {
        const { clsScore, bboxPred } = this.bboxForward(feats, rois);
        const scores = tf.softmax(clsScore);
        const parts: tf.Tensor2D[] = [];
        let start = 0;
        proposals.forEach((p, i) => {
          const n = p.bboxes.length / 4;
          if (n === 0) return;
          const pri = tf.tensor2d(p.bboxes, [n, 4]);
          const d = bboxPred.slice([start, 0], [n, -1]) as tf.Tensor2D;
          let boxes = this.bboxHead.bboxCoder.decode(pri, d, samples[i]!.metainfo.img_shape);
          if (agn) boxes = tf.tile(boxes, [1, numClasses]);
          parts.push(tf.concat([scores.slice([start, 0], [n, -1]), boxes], 1) as tf.Tensor2D);
          start += n;
        });
        return tf.concat(parts, 0);
      });
      vals = (await packed.data()) as Float32Array;
      packed.dispose();
    }
    let row = 0;
    for (let i = 0; i < samples.length; i++) {
      const n = proposals[i]!.bboxes.length / 4;
      const cb: number[] = [];
      const cs: number[] = [];
      const cl: number[] = [];
      for (let q = 0; q < n; q++, row++) {
        const o = row * width;
        for (let c = 0; c < numClasses; c++) {
          const s = vals[o + c]!;
          if (s > scoreThr) {
            const b = o + numClasses + 1 + c * 4;
            cb.push(vals[b]!, vals[b + 1]!, vals[b + 2]!, vals[b + 3]!);
            cs.push(s);
            cl.push(c);
          }
        }
      }
      const keep = batchedNmsIndices(cb, cs, cl, iouThr).slice(0, maxPer);
      const bboxes = new Float32Array(keep.length * 4);
      const scores = new Float32Array(keep.length);
      const labels = new Int32Array(keep.length);
      keep.forEach((j, t) => {
        for (let c = 0; c < 4; c++) bboxes[t * 4 + c] = cb[j * 4 + c]!;
        scores[t] = cs[j]!;
        labels[t] = cl[j]!;
      });
      results.push({ bboxes, scores, labels });
    }
    if (this.withMask) await this.predictMask(feats, samples, results, rescale, maskThr);
    else if (rescale) for (let i = 0; i < samples.length; i++) rescaleBoxes(results[i]!, samples[i]!);
    return results;
  }

  private async predictMask(feats: tf.Tensor4D[], samples: DetDataSample[], results: DetResult[], rescale: boolean, thr: number): Promise<void> {
    const rois = bbox2roi(results.map((r) => r.bboxes));
    const d = rois.length / 5;
    let probs: Float32Array = new Float32Array(0);
    let mh = 28;
    let mw = 28;
    if (d > 0) {
      const t = tf.tidy(() => {
        const { maskPreds } = this.maskForward(feats, rois);
        const [, h, w, c] = maskPreds.shape;
        const labels = Int32Array.from(results.flatMap((r) => Array.from(r.labels)));
        const sel = this.maskHead!.classAgnostic
          ? maskPreds.reshape([d, h, w])
          : tf.sum(tf.mul(tf.sigmoid(maskPreds), tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), c), 'float32').reshape([d, 1, 1, c])), -1);
        return this.maskHead!.classAgnostic ? tf.sigmoid(sel) : sel;
      });
      [, mh, mw] = t.shape as [number, number, number];
      probs = (await t.data()) as Float32Array;
      t.dispose();
    }
    let off = 0;
    results.forEach((res, i) => {
      const meta = samples[i]!.metainfo;
      const ori = meta.ori_shape ?? meta.img_shape;
      const sf = meta.scale_factor ?? [1, 1];
      let imgH: number;
      let imgW: number;
      if (rescale) {
        rescaleBoxes(res, samples[i]!);
        [imgH, imgW] = ori;
      } else {
        imgH = Math.round(ori[0] * Math.fround(sf[1]));
        imgW = Math.round(ori[1] * Math.fround(sf[0]));
      }
      const n = res.labels.length;
      const data = new Uint8Array(n * imgH * imgW);
      for (let q = 0; q < n; q++, off++) {
        const m = pasteMask(probs.subarray(off * mh * mw, (off + 1) * mh * mw), mh, mw, res.bboxes.subarray(q * 4, q * 4 + 4), imgH, imgW, thr);
        data.set(m, q * imgH * imgW);
      }
      res.masks = { data, count: n, height: imgH, width: imgW };
    });
  }
}

/** Divides boxes by the float32 scale factor `(w, h, w, h)` in place (mmdet `rescale=True`). */
export function rescaleBoxes(res: DetResult, sample: DetDataSample): void {
  const sf = sample.metainfo.scale_factor;
  if (sf === undefined) return;
  const sx = Math.fround(sf[0]);
  const sy = Math.fround(sf[1]);
  for (let q = 0; q < res.bboxes.length / 4; q++) {
    res.bboxes[q * 4] = res.bboxes[q * 4]! / sx;
    res.bboxes[q * 4 + 1] = res.bboxes[q * 4 + 1]! / sy;
    res.bboxes[q * 4 + 2] = res.bboxes[q * 4 + 2]! / sx;
    res.bboxes[q * 4 + 3] = res.bboxes[q * 4 + 3]! / sy;
  }
}
