/**
 * Feature Pyramid Network (https://arxiv.org/abs/1612.03144): 1×1 lateral convs, nearest top-down
 * upsampling, 3×3 output convs, and extra levels by stride-2 max pooling (`add_extra_convs=False`).
 *
 * @see mmdet/models/necks/fpn.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module, joinKey } from '../layers/module';
import { Conv2d, xavierBound } from '../layers/nn';

/** Constructor options (mmdet config keys). */
export interface FPNConfig {
  in_channels: number[];
  out_channels: number;
  num_outs: number;
  start_level?: number;
  end_level?: number;
  add_extra_convs?: boolean | string;
  relu_before_extra_convs?: boolean;
  no_norm_on_lateral?: boolean;
  conv_cfg?: unknown;
  norm_cfg?: unknown;
  act_cfg?: unknown;
  upsample_cfg?: { mode?: string; scale_factor?: number };
  init_cfg?: unknown;
  [k: string]: unknown;
}

/** mmcv ConvModule without norm/activation: a conv stored under `<prefix>.conv`. */
class ConvModule extends Module {
  readonly conv: Conv2d;
  constructor(prefix: string, inC: number, outC: number, k: number, padding: number) {
    super(prefix);
    const b = xavierBound(inC * k * k, outC * k * k);
    this.conv = this.addModule(
      'conv',
      new Conv2d(joinKey(prefix, 'conv'), inC, outC, k, { padding, weightInit: { type: 'uniform', a: -b, b } }),
    );
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.forward(x);
  }
}

class ModuleList<M extends Module> extends Module {
  readonly items: M[] = [];
  push(m: M): M {
    this.items.push(this.addModule(String(this.items.length), m));
    return m;
  }
}

/** FPN neck: inputs C2..C5 (NHWC) → P2..P6 with `out_channels` each. */
export class FPN extends Module {
  readonly numOuts: number;
  readonly startLevel: number;
  readonly backboneEndLevel: number;
  readonly lateralConvs: ModuleList<ConvModule>;
  readonly fpnConvs: ModuleList<ConvModule>;
  readonly outChannels: number;

  constructor(cfg: FPNConfig, prefix = 'neck') {
    super(prefix);
    if (cfg.add_extra_convs !== undefined && cfg.add_extra_convs !== false) {
      throw new Error(`FPN: add_extra_convs=${JSON.stringify(cfg.add_extra_convs)} is not supported (only False)`);
    }
    if (cfg.norm_cfg != null) throw new Error('FPN: norm_cfg is not supported (only None)');
    if (cfg.upsample_cfg?.mode !== undefined && cfg.upsample_cfg.mode !== 'nearest') {
      throw new Error(`FPN: upsample mode ${cfg.upsample_cfg.mode} is not supported (only nearest)`);
    }
    this.outChannels = cfg.out_channels;
    this.numOuts = cfg.num_outs;
    this.startLevel = cfg.start_level ?? 0;
    const end = cfg.end_level ?? -1;
    this.backboneEndLevel = end === -1 || end === cfg.in_channels.length - 1 ? cfg.in_channels.length : end + 1;
    if (this.numOuts < this.backboneEndLevel - this.startLevel) {
      throw new Error(`FPN: num_outs ${this.numOuts} is smaller than the number of used input levels`);
    }
    this.lateralConvs = this.addModule('lateral_convs', new ModuleList<ConvModule>(joinKey(prefix, 'lateral_convs')));
    this.fpnConvs = this.addModule('fpn_convs', new ModuleList<ConvModule>(joinKey(prefix, 'fpn_convs')));
    for (let i = this.startLevel; i < this.backboneEndLevel; i++) {
      const j = i - this.startLevel;
      this.lateralConvs.push(new ConvModule(joinKey(this.lateralConvs.prefix, `${j}`), cfg.in_channels[i]!, cfg.out_channels, 1, 0));
      this.fpnConvs.push(new ConvModule(joinKey(this.fpnConvs.prefix, `${j}`), cfg.out_channels, cfg.out_channels, 3, 1));
    }
  }

  /** inputs: backbone maps NHWC (C2..C5) → outputs P2..P(2+num_outs-1), NHWC. */
  forward(inputs: tf.Tensor4D[]): tf.Tensor4D[] {
    const laterals = this.lateralConvs.items.map((c, i) => c.forward(inputs[i + this.startLevel]!));
    for (let i = laterals.length - 1; i > 0; i--) {
      const prev = laterals[i - 1]!;
      const up = tf.image.resizeNearestNeighbor(laterals[i]!, [prev.shape[1], prev.shape[2]], false, false);
      laterals[i - 1] = tf.add(prev, up);
    }
    const outs = laterals.map((l, i) => this.fpnConvs.items[i]!.forward(l));
    while (outs.length < this.numOuts) {
      // F.max_pool2d(x, 1, stride=2) == taking every second row and column.
      outs.push(tf.maxPool(outs[outs.length - 1]!, 1, 2, 'valid'));
    }
    return outs;
  }
}
