/**
 * Fully convolutional mask head of Mask R-CNN (https://arxiv.org/abs/1703.06870): `num_convs` 3×3
 * convs + ReLU, a 2× deconv + ReLU and a 1×1 conv to one logit map per class.
 *
 * @see mmdet/models/roi_heads/mask_heads/fcn_mask_head.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module, joinKey } from '../../layers/module';
import { Conv2d, ConvTranspose2d, kaimingFanOutStd } from '../../layers/nn';
import type { CrossEntropyLoss } from '../../losses/cross_entropy_loss';
import { buildLoss } from '../../builders';
import type { ConfigDict } from '../../../registry/registry';

/** Constructor options (mmdet config keys). */
export interface FCNMaskHeadConfig {
  num_convs?: number;
  roi_feat_size?: number;
  in_channels?: number;
  conv_kernel_size?: number;
  conv_out_channels?: number;
  num_classes?: number;
  class_agnostic?: boolean;
  upsample_cfg?: { type?: string; scale_factor?: number };
  predictor_cfg?: unknown;
  loss_mask?: ConfigDict;
  init_cfg?: unknown;
  [k: string]: unknown;
}

class ConvModule extends Module {
  readonly conv: Conv2d;
  constructor(prefix: string, inC: number, outC: number, k: number) {
    super(prefix);
    this.conv = this.addModule('conv', new Conv2d(joinKey(prefix, 'conv'), inC, outC, k, { padding: (k - 1) / 2 }));
  }
}

class ModuleList extends Module {
  readonly items: ConvModule[] = [];
  push(m: ConvModule): void {
    this.items.push(this.addModule(String(this.items.length), m));
  }
}

/** mmdet `FCNMaskHead`. */
export class FCNMaskHead extends Module {
  readonly numClasses: number;
  readonly classAgnostic: boolean;
  readonly convs: ModuleList;
  readonly upsample: ConvTranspose2d;
  readonly convLogits: Conv2d;
  readonly lossMask: CrossEntropyLoss;

  constructor(cfg: FCNMaskHeadConfig, prefix = 'roi_head.mask_head') {
    super(prefix);
    const up = cfg.upsample_cfg ?? { type: 'deconv', scale_factor: 2 };
    if ((up.type ?? 'deconv') !== 'deconv') throw new Error(`FCNMaskHead: upsample ${String(up.type)} is not supported (deconv only)`);
    const sf = up.scale_factor ?? 2;
    this.numClasses = cfg.num_classes ?? 80;
    this.classAgnostic = cfg.class_agnostic ?? false;
    const inC = cfg.in_channels ?? 256;
    const convC = cfg.conv_out_channels ?? 256;
    const k = cfg.conv_kernel_size ?? 3;
    this.lossMask = buildLoss(cfg.loss_mask ?? { type: 'CrossEntropyLoss', use_mask: true, loss_weight: 1.0 }) as CrossEntropyLoss;
    this.convs = this.addModule('convs', new ModuleList(joinKey(prefix, 'convs')));
    for (let i = 0; i < (cfg.num_convs ?? 4); i++) {
      this.convs.push(new ConvModule(joinKey(this.convs.prefix, String(i)), i === 0 ? inC : convC, convC, k));
    }
    this.upsample = this.addModule('upsample', new ConvTranspose2d(joinKey(prefix, 'upsample'), convC, convC, sf, sf));
    const outC = this.classAgnostic ? 1 : this.numClasses;
    this.convLogits = this.addModule(
      'conv_logits',
      new Conv2d(joinKey(prefix, 'conv_logits'), convC, outC, 1, { weightInit: { type: 'normal', std: kaimingFanOutStd(outC, 1) } }),
    );
  }

  /** `[P, 14, 14, C]` RoI features → `[P, 28, 28, K]` mask logits (NHWC). */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let y = x;
    for (const c of this.convs.items) y = tf.relu(c.conv.forward(y));
    y = tf.relu(this.upsample.forward(y));
    return this.convLogits.forward(y);
  }
}
