/**
 * Box head with shared fully connected layers (`Shared2FCBBoxHead`: two shared FCs, then a
 * classification FC over K+1 classes — background last — and a class-specific regression FC).
 *
 * @see mmdet/models/roi_heads/bbox_heads/convfc_bbox_head.py, bbox_head.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module, joinKey } from '../../layers/module';
import { Linear, xavierBound } from '../../layers/nn';
import type { CrossEntropyLoss } from '../../losses/cross_entropy_loss';
import type { L1Loss } from '../../losses/smooth_l1_loss';
import type { DeltaXYWHBBoxCoder } from '../../task_modules/coders/delta_xywh_bbox_coder';
import { buildLoss, buildTaskUtil } from '../../builders';
import type { ConfigDict } from '../../../registry/registry';

/** Constructor options (mmdet config keys). */
export interface ConvFCBBoxHeadConfig {
  num_shared_convs?: number;
  num_shared_fcs?: number;
  num_cls_convs?: number;
  num_cls_fcs?: number;
  num_reg_convs?: number;
  num_reg_fcs?: number;
  in_channels?: number;
  fc_out_channels?: number;
  roi_feat_size?: number;
  num_classes?: number;
  reg_class_agnostic?: boolean;
  reg_decoded_bbox?: boolean;
  with_avg_pool?: boolean;
  bbox_coder?: ConfigDict;
  loss_cls?: ConfigDict;
  loss_bbox?: ConfigDict;
  init_cfg?: unknown;
  [k: string]: unknown;
}

class ModuleList extends Module {
  readonly items: Linear[] = [];
  push(m: Linear): void {
    this.items.push(this.addModule(String(this.items.length), m));
  }
}

/** mmdet `ConvFCBBoxHead` restricted to shared FCs (what `Shared2FCBBoxHead` uses). */
export class ConvFCBBoxHead extends Module {
  readonly numClasses: number;
  readonly roiFeatSize: number;
  readonly inChannels: number;
  readonly regClassAgnostic: boolean;
  readonly sharedFcs: ModuleList;
  readonly fcCls: Linear;
  readonly fcReg: Linear;
  readonly bboxCoder: DeltaXYWHBBoxCoder;
  readonly lossCls: CrossEntropyLoss;
  readonly lossBbox: L1Loss;

  constructor(cfg: ConvFCBBoxHeadConfig, prefix = 'roi_head.bbox_head') {
    super(prefix);
    for (const k of ['num_shared_convs', 'num_cls_convs', 'num_cls_fcs', 'num_reg_convs', 'num_reg_fcs'] as const) {
      if ((cfg[k] ?? 0) !== 0) throw new Error(`ConvFCBBoxHead: ${k} > 0 is not supported`);
    }
    if (cfg.with_avg_pool) throw new Error('ConvFCBBoxHead: with_avg_pool=True is not supported');
    if (cfg.reg_decoded_bbox) throw new Error('ConvFCBBoxHead: reg_decoded_bbox=True is not supported');
    this.numClasses = cfg.num_classes ?? 80;
    this.roiFeatSize = cfg.roi_feat_size ?? 7;
    this.inChannels = cfg.in_channels ?? 256;
    this.regClassAgnostic = cfg.reg_class_agnostic ?? false;
    const fcOut = cfg.fc_out_channels ?? 1024;
    const numShared = cfg.num_shared_fcs ?? 2;
    this.bboxCoder = buildTaskUtil(
      cfg.bbox_coder ?? { type: 'DeltaXYWHBBoxCoder', target_means: [0, 0, 0, 0], target_stds: [0.1, 0.1, 0.2, 0.2] },
    ) as DeltaXYWHBBoxCoder;
    this.lossCls = buildLoss(cfg.loss_cls ?? { type: 'CrossEntropyLoss', use_sigmoid: false, loss_weight: 1.0 }) as CrossEntropyLoss;
    if (this.lossCls.useSigmoid) throw new Error('ConvFCBBoxHead: sigmoid classification is not supported');
    this.lossBbox = buildLoss(cfg.loss_bbox ?? { type: 'L1Loss', loss_weight: 1.0 }) as L1Loss;
    // Parameter creation order follows mmdet's key order: fc_cls, fc_reg, shared_fcs.
    const lastDim = numShared > 0 ? fcOut : this.inChannels * this.roiFeatSize ** 2;
    this.fcCls = this.addModule('fc_cls', new Linear(joinKey(prefix, 'fc_cls'), lastDim, this.numClasses + 1, { type: 'normal', std: 0.01 }));
    const regOut = this.regClassAgnostic ? 4 : 4 * this.numClasses;
    this.fcReg = this.addModule('fc_reg', new Linear(joinKey(prefix, 'fc_reg'), lastDim, regOut, { type: 'normal', std: 0.001 }));
    this.sharedFcs = this.addModule('shared_fcs', new ModuleList(joinKey(prefix, 'shared_fcs')));
    let inDim = this.inChannels * this.roiFeatSize ** 2;
    for (let i = 0; i < numShared; i++) {
      const b = xavierBound(inDim, fcOut);
      this.sharedFcs.push(new Linear(joinKey(this.sharedFcs.prefix, String(i)), inDim, fcOut, { type: 'uniform', a: -b, b }));
      inDim = fcOut;
    }
  }

  /**
   * @param roiFeats - `[K, s, s, C]` NHWC RoI features.
   * @returns `clsScore` `[K, K+1]` and `bboxPred` `[K, 4K]` (or `[K, 4]` class-agnostic).
   */
  forward(roiFeats: tf.Tensor4D): { clsScore: tf.Tensor2D; bboxPred: tf.Tensor2D } {
    const k = roiFeats.shape[0];
    // mmdet flattens NCHW (c, y, x); the FC weights keep that column order.
    let x = tf.transpose(roiFeats, [0, 3, 1, 2]).reshape([k, -1]) as tf.Tensor2D;
    for (const fc of this.sharedFcs.items) x = tf.relu(fc.forward(x));
    return { clsScore: this.fcCls.forward(x), bboxPred: this.fcReg.forward(x) };
  }
}

/** mmdet `Shared2FCBBoxHead` (two shared FCs). */
export class Shared2FCBBoxHead extends ConvFCBBoxHead {
  constructor(cfg: ConvFCBBoxHeadConfig, prefix = 'roi_head.bbox_head') {
    super({ ...cfg, num_shared_convs: 0, num_shared_fcs: 2, num_cls_convs: 0, num_cls_fcs: 0, num_reg_convs: 0, num_reg_fcs: 0 }, prefix);
  }
}
