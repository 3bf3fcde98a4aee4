/**
 * Region Proposal Network head (Faster R-CNN, https://arxiv.org/abs/1506.01497): a shared 3×3 conv,
 * a 1×1 objectness conv (sigmoid, one class) and a 1×1 delta conv per level. Targets are built on
 * the CPU from anchors and gt boxes (no readback); proposals read back the per-level top-k once.
 *
 * @see mmdet/models/dense_heads/rpn_head.py, anchor_head.py, base_dense_head.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchedNmsIndices, nmsIndices } from '../../ops/nms';
import { Module, joinKey } from '../layers/module';
import { Conv2d } from '../layers/nn';
import { CrossEntropyLoss } from '../losses/cross_entropy_loss';
import { L1Loss } from '../losses/smooth_l1_loss';
import { sumTensors } from '../losses/utils';
import type { DetDataSample, Proposals } from '../structures';
import { MaxIoUAssigner } from '../task_modules/assigners/max_iou_assigner';
import { DeltaXYWHBBoxCoder } from '../task_modules/coders/delta_xywh_bbox_coder';
import { AnchorGenerator } from '../task_modules/prior_generators/anchor_generator';
import { RandomSampler, type SamplingResult } from '../task_modules/samplers/random_sampler';
import { buildTaskUtil, buildLoss } from '../builders';
import type { ConfigDict } from '../../registry/registry';

/** Constructor options (mmdet config keys). */
export interface RPNHeadConfig {
  in_channels: number;
  feat_channels?: number;
  num_classes?: number;
  num_convs?: number;
  anchor_generator: ConfigDict;
  bbox_coder?: ConfigDict;
  loss_cls?: ConfigDict;
  loss_bbox?: ConfigDict;
  train_cfg?: ConfigDict | null;
  test_cfg?: ConfigDict | null;
  reg_decoded_bbox?: boolean;
  init_cfg?: unknown;
  [k: string]: unknown;
}

/** Proposal settings (`train_cfg.rpn_proposal` / `test_cfg.rpn`). */
export interface ProposalCfg {
  nms_pre?: number;
  max_per_img?: number;
  nms?: { type?: string; iou_threshold: number };
  min_bbox_size?: number;
  [k: string]: unknown;
}

/** Raw head outputs, one entry per level, NHWC: objectness `[N,H,W,A]`, deltas `[N,H,W,4A]`. */
export interface RPNOutputs {
  clsScores: tf.Tensor4D[];
  bboxPreds: tf.Tensor4D[];
}

/** Sampling statistics of the last `loss` call (for inspection and tests). */
export interface RPNTargetStats {
  numAnchors: number;
  numPos: number;
  numNeg: number;
  avgFactor: number;
  sampling: SamplingResult[];
}

/** mmdet `RPNHead`. */
export class RPNHead extends Module {
  readonly rpnConv: Conv2d;
  readonly rpnCls: Conv2d;
  readonly rpnReg: Conv2d;
  readonly anchorGenerator: AnchorGenerator;
  readonly bboxCoder: DeltaXYWHBBoxCoder;
  readonly lossCls: CrossEntropyLoss;
  readonly lossBbox: L1Loss;
  readonly trainCfg: ConfigDict | null;
  readonly testCfg: ConfigDict | null;
  readonly numAnchors: number;
  private assigner: MaxIoUAssigner | null = null;
  private sampler: RandomSampler | null = null;
  /** Statistics of the last `loss` call. */
  lastTargets: RPNTargetStats | null = null;

  constructor(cfg: RPNHeadConfig, prefix = 'rpn_head') {
    super(prefix);
    if ((cfg.num_convs ?? 1) !== 1) throw new Error('RPNHead: only num_convs=1 is supported');
    if ((cfg.num_classes ?? 1) !== 1) throw new Error('RPNHead: num_classes must be 1');
    const feat = cfg.feat_channels ?? 256;
    this.anchorGenerator = buildTaskUtil(cfg.anchor_generator) as AnchorGenerator;
    this.numAnchors = this.anchorGenerator.numBaseAnchors;
    this.bboxCoder = buildTaskUtil(cfg.bbox_coder ?? { type: 'DeltaXYWHBBoxCoder' }) as DeltaXYWHBBoxCoder;
    this.lossCls = buildLoss(cfg.loss_cls ?? { type: 'CrossEntropyLoss', use_sigmoid: true, loss_weight: 1.0 }) as CrossEntropyLoss;
    if (!this.lossCls.useSigmoid) throw new Error('RPNHead: loss_cls must use_sigmoid=True');
    this.lossBbox = buildLoss(cfg.loss_bbox ?? { type: 'L1Loss', loss_weight: 1.0 }) as L1Loss;
    if (cfg.reg_decoded_bbox) throw new Error('RPNHead: reg_decoded_bbox=True is not supported');
    this.trainCfg = cfg.train_cfg ?? null;
    this.testCfg = cfg.test_cfg ?? null;
    const init = { type: 'normal', std: 0.01 } as const;
    this.rpnConv = this.addModule('rpn_conv', new Conv2d(joinKey(prefix, 'rpn_conv'), cfg.in_channels, feat, 3, { padding: 1, weightInit: init }));
    this.rpnCls = this.addModule('rpn_cls', new Conv2d(joinKey(prefix, 'rpn_cls'), feat, this.numAnchors, 1, { weightInit: init }));
    this.rpnReg = this.addModule('rpn_reg', new Conv2d(joinKey(prefix, 'rpn_reg'), feat, this.numAnchors * 4, 1, { weightInit: init }));
  }

  /** Per-level forward: features NHWC → objectness and deltas NHWC. */
  forward(feats: tf.Tensor4D[]): RPNOutputs {
    const clsScores: tf.Tensor4D[] = [];
    const bboxPreds: tf.Tensor4D[] = [];
    for (const x of feats) {
      const h = tf.relu(this.rpnConv.forward(x));
      clsScores.push(this.rpnCls.forward(h));
      bboxPreds.push(this.rpnReg.forward(h));
    }
    return { clsScores, bboxPreds };
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
    if (this.trainCfg === null) throw new Error('RPNHead: train_cfg (train_cfg.rpn) is required for loss()');
    this.assigner = buildTaskUtil(this.trainCfg.assigner as ConfigDict) as MaxIoUAssigner;
    this.sampler = buildTaskUtil(this.trainCfg.sampler as ConfigDict) as RandomSampler;
    if ((this.trainCfg.allowed_border as number | undefined ?? -1) >= 0) {
      throw new Error('RPNHead: allowed_border >= 0 is not supported (use -1)');
    }
  }

  /**
   * RPN losses (gt labels are treated as the single foreground class).
   *
   * @returns `loss_rpn_cls` and `loss_rpn_bbox` scalars.
   */
  loss(outs: RPNOutputs, samples: DetDataSample[]): { loss_rpn_cls: tf.Scalar; loss_rpn_bbox: tf.Scalar } {
    this.ensureTrainModules();
    const sizes = outs.clsScores.map((c) => [c.shape[1], c.shape[2]] as [number, number]);
    const anchors = this.anchorGenerator.gridPriors(sizes);
    const counts = anchors.map((a) => a.length / 4);
    const total = counts.reduce((a, b) => a + b, 0);
    const allAnchors = new Float32Array(total * 4);
    let off = 0;
    for (const a of anchors) {
      allAnchors.set(a, off);
      off += a.length;
    }
    const n = samples.length;
    const labels = new Float32Array(n * total);
    const labelW = new Float32Array(n * total);
    const bboxT = new Float32Array(n * total * 4);
    const bboxW = new Float32Array(n * total * 4);
    let avgFactor = 0;
    let numPos = 0;
    let numNeg = 0;
    const sampling: SamplingResult[] = [];
    for (let i = 0; i < n; i++) {
      const gt = samples[i]!.gt_instances;
      const gtB = gt?.bboxes ?? new Float32Array(0);
      const zeros = new Int32Array(gtB.length / 4);
      const assign = this.assigner!.assign(allAnchors, gtB, zeros, samples[i]!.ignored_instances?.bboxes);
      const res = this.sampler!.sample(assign, allAnchors, gtB, zeros);
      sampling.push(res);
      avgFactor += res.avgFactor;
      numPos += res.posInds.length;
      numNeg += res.negInds.length;
      const base = i * total;
      const targets = this.bboxCoder.encode(res.posPriors, res.posGtBboxes);
      for (let k = 0; k < res.posInds.length; k++) {
        const j = base + res.posInds[k]!;
        labels[j] = 1;
        labelW[j] = 1;
        for (let c = 0; c < 4; c++) {
          bboxT[j * 4 + c] = targets[k * 4 + c]!;
          bboxW[j * 4 + c] = 1;
        }
      }
      for (let k = 0; k < res.negInds.length; k++) labelW[base + res.negInds[k]!] = 1;
    }
    this.lastTargets = { numAnchors: total, numPos, numNeg, avgFactor, sampling };
    return tf.tidy(() => {
      const lt = tf.tensor2d(labels, [n, total]);
      const lw = tf.tensor2d(labelW, [n, total]);
      const bt = tf.tensor3d(bboxT, [n, total, 4]);
      const bw = tf.tensor3d(bboxW, [n, total, 4]);
      const clsLosses: tf.Tensor[] = [];
      const bboxLosses: tf.Tensor[] = [];
      let start = 0;
      for (let l = 0; l < counts.length; l++) {
        const c = counts[l]!;
        const cls = outs.clsScores[l]!.reshape([n, c]);
        const reg = outs.bboxPreds[l]!.reshape([n, c, 4]);
        clsLosses.push(this.lossCls.forward(cls, lt.slice([0, start], [n, c]), lw.slice([0, start], [n, c]), avgFactor));
        bboxLosses.push(this.lossBbox.forward(reg, bt.slice([0, start, 0], [n, c, 4]), bw.slice([0, start, 0], [n, c, 4]), avgFactor));
        start += c;
      }
      return {
        loss_rpn_cls: sumTensors(clsLosses) as tf.Scalar,
        loss_rpn_bbox: sumTensors(bboxLosses) as tf.Scalar,
      };
    });
  }

  /**
   * Proposals per image: per level top `nms_pre` sigmoid scores, decode + clip, drop empty boxes,
   * NMS per level (class-batched by level id), keep `max_per_img`. Reads back once per image.
   *
   * @param outs - head outputs (their values only; no gradient flows into proposals).
   * @param samples - per-image metainfo (`img_shape` for clipping).
   * @param cfg - `train_cfg.rpn_proposal` or `test_cfg.rpn`.
   */
  async predictProposals(outs: RPNOutputs, samples: DetDataSample[], cfg: ProposalCfg): Promise<Proposals[]> {
    const sizes = outs.clsScores.map((c) => [c.shape[1], c.shape[2]] as [number, number]);
    const anchors = this.anchorGenerator.gridPriors(sizes);
    const nmsPre = cfg.nms_pre ?? -1;
    const results: Proposals[] = [];
    for (let i = 0; i < samples.length; i++) {
      const imgShape = samples[i]!.metainfo.img_shape;
      const levelCounts: number[] = [];
      const packed = tf.tidy(() => {
        const parts: tf.Tensor2D[] = [];
        for (let l = 0; l < anchors.length; l++) {
          const c = anchors[l]!.length / 4;
          const cls = outs.clsScores[l]!.slice([i, 0, 0, 0], [1, -1, -1, -1]).reshape([c]);
          const reg = outs.bboxPreds[l]!.slice([i, 0, 0, 0], [1, -1, -1, -1]).reshape([c, 4]);
          let scores = tf.sigmoid(cls) as tf.Tensor1D;
          let deltas = reg as tf.Tensor2D;
          let pri = tf.tensor2d(anchors[l]!, [c, 4]);
          if (nmsPre > 0 && nmsPre < c) {
            const { values, indices } = tf.topk(scores, nmsPre, true);
            scores = values as tf.Tensor1D;
            deltas = tf.gather(deltas, indices) as tf.Tensor2D;
            pri = tf.gather(pri, indices) as tf.Tensor2D;
          }
          levelCounts.push(scores.shape[0]);
          const boxes = this.bboxCoder.decode(pri, deltas, imgShape);
          parts.push(tf.concat([boxes, scores.reshape([-1, 1])], 1) as tf.Tensor2D);
        }
        return tf.concat(parts, 0);
      });
      const vals = await packed.data();
      packed.dispose();
      results.push(rpnPostProcess(vals as Float32Array, levelCounts, cfg));
    }
    return results;
  }
}

/**
 * Post-processing of decoded per-level candidates (CPU): min-size filter, NMS per level, top-k.
 *
 * @param packed - `[M*5]` rows (x1, y1, x2, y2, score), levels concatenated in order.
 * @param levelCounts - rows per level.
 */
export function rpnPostProcess(packed: Float32Array, levelCounts: number[], cfg: ProposalCfg): Proposals {
  const minSize = cfg.min_bbox_size ?? -1;
  const boxes: number[] = [];
  const scores: number[] = [];
  const lvl: number[] = [];
  let r = 0;
  for (let l = 0; l < levelCounts.length; l++) {
    for (let k = 0; k < levelCounts[l]!; k++, r++) {
      const o = r * 5;
      const w = packed[o + 2]! - packed[o]!;
      const h = packed[o + 3]! - packed[o + 1]!;
      if (minSize >= 0 && !(w > minSize && h > minSize)) continue;
      boxes.push(packed[o]!, packed[o + 1]!, packed[o + 2]!, packed[o + 3]!);
      scores.push(packed[o + 4]!);
      lvl.push(l);
    }
  }
  const iou = cfg.nms?.iou_threshold ?? 0.7;
  const n = scores.length;
  let keep: Int32Array;
  if (n < 10000) {
    keep = batchedNmsIndices(boxes, scores, lvl, iou);
  } else {
    // mmcv's batched_nms with >= split_thr boxes: NMS per group, then a global score sort.
    const kept: number[] = [];
    for (let l = 0; l < levelCounts.length; l++) {
      const idx: number[] = [];
      for (let j = 0; j < n; j++) if (lvl[j] === l) idx.push(j);
      const b = new Float32Array(idx.length * 4);
      const s = new Float32Array(idx.length);
      idx.forEach((j, t) => {
        for (let c = 0; c < 4; c++) b[t * 4 + c] = boxes[j * 4 + c]!;
        s[t] = scores[j]!;
      });
      for (const t of nmsIndices(b, s, iou)) kept.push(idx[t]!);
    }
    kept.sort((a, b) => scores[b]! - scores[a]! || a - b);
    keep = Int32Array.from(kept);
  }
  const maxPer = cfg.max_per_img ?? keep.length;
  const m = Math.min(maxPer, keep.length);
  const outB = new Float32Array(m * 4);
  const outS = new Float32Array(m);
  for (let t = 0; t < m; t++) {
    const j = keep[t]!;
    for (let c = 0; c < 4; c++) outB[t * 4 + c] = boxes[j * 4 + c]!;
    outS[t] = scores[j]!;
  }
  return { bboxes: outB, scores: outS };
}
