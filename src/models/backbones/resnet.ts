/**
 * ResNet backbone (Deep Residual Learning, https://arxiv.org/abs/1512.03385) on NHWC tensors, with
 * MMDetection's options: depth 18/34/50/101, `style` pytorch (stride on the 3×3 conv) or caffe (stride
 * on the first 1×1 conv), `frozen_stages`, `norm_eval`, `base_channels`, `stem_channels`, `out_indices`.
 *
 * @see mmdet/models/backbones/resnet.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module, joinKey } from '../layers/module';
import { BatchNorm2d, Conv2d, maxPool3x3s2 } from '../layers/nn';

/** Constructor options (mmdet config keys). */
export interface ResNetConfig {
  depth: number;
  in_channels?: number;
  stem_channels?: number | null;
  base_channels?: number;
  num_stages?: number;
  strides?: number[];
  dilations?: number[];
  out_indices?: number[];
  style?: 'pytorch' | 'caffe';
  deep_stem?: boolean;
  avg_down?: boolean;
  frozen_stages?: number;
  norm_cfg?: { type?: string; requires_grad?: boolean; eps?: number };
  norm_eval?: boolean;
  with_cp?: boolean;
  zero_init_residual?: boolean;
  init_cfg?: unknown;
  pretrained?: unknown;
  [k: string]: unknown;
}

interface Block extends Module {
  forward(x: tf.Tensor4D): tf.Tensor4D;
}

class Downsample extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(prefix: string, inC: number, outC: number, stride: number, eps: number) {
    super(prefix);
    this.conv = this.addModule('0', new Conv2d(joinKey(prefix, '0'), inC, outC, 1, { stride, bias: false }));
    this.bn = this.addModule('1', new BatchNorm2d(joinKey(prefix, '1'), outC, eps));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.bn.forward(this.conv.forward(x));
  }
}

/** ResNet BasicBlock (two 3×3 convs, expansion 1). */
export class BasicBlock extends Module implements Block {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Downsample | null;

  constructor(prefix: string, inplanes: number, planes: number, stride: number, withDownsample: boolean, eps: number) {
    super(prefix);
    this.conv1 = this.addModule('conv1', new Conv2d(joinKey(prefix, 'conv1'), inplanes, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(joinKey(prefix, 'bn1'), planes, eps));
    this.conv2 = this.addModule('conv2', new Conv2d(joinKey(prefix, 'conv2'), planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.addModule('bn2', new BatchNorm2d(joinKey(prefix, 'bn2'), planes, eps));
    this.downsample = withDownsample
      ? this.addModule('downsample', new Downsample(joinKey(prefix, 'downsample'), inplanes, planes, stride, eps))
      : null;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    let out = tf.relu(this.bn1.forward(this.conv1.forward(x)));
    out = this.bn2.forward(this.conv2.forward(out));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return tf.relu(tf.add(out, identity)) as tf.Tensor4D;
  }
}

/** ResNet Bottleneck (1×1, 3×3, 1×1, expansion 4); stride on conv2 (pytorch) or conv1 (caffe). */
export class Bottleneck extends Module implements Block {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Downsample | null;

  constructor(
    prefix: string,
    inplanes: number,
    planes: number,
    stride: number,
    withDownsample: boolean,
    style: 'pytorch' | 'caffe',
    eps: number,
  ) {
    super(prefix);
    const s1 = style === 'pytorch' ? 1 : stride;
    const s2 = style === 'pytorch' ? stride : 1;
    this.conv1 = this.addModule('conv1', new Conv2d(joinKey(prefix, 'conv1'), inplanes, planes, 1, { stride: s1, bias: false }));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(joinKey(prefix, 'bn1'), planes, eps));
    this.conv2 = this.addModule('conv2', new Conv2d(joinKey(prefix, 'conv2'), planes, planes, 3, { stride: s2, padding: 1, bias: false }));
    this.bn2 = this.addModule('bn2', new BatchNorm2d(joinKey(prefix, 'bn2'), planes, eps));
    this.conv3 = this.addModule('conv3', new Conv2d(joinKey(prefix, 'conv3'), planes, planes * 4, 1, { bias: false }));
    this.bn3 = this.addModule('bn3', new BatchNorm2d(joinKey(prefix, 'bn3'), planes * 4, eps));
    this.downsample = withDownsample
      ? this.addModule('downsample', new Downsample(joinKey(prefix, 'downsample'), inplanes, planes * 4, stride, eps))
      : null;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    let out = tf.relu(this.bn1.forward(this.conv1.forward(x)));
    out = tf.relu(this.bn2.forward(this.conv2.forward(out)));
    out = this.bn3.forward(this.conv3.forward(out));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return tf.relu(tf.add(out, identity)) as tf.Tensor4D;
  }
}

const ARCH: Record<number, { block: 'basic' | 'bottleneck'; stages: number[] }> = {
  18: { block: 'basic', stages: [2, 2, 2, 2] },
  34: { block: 'basic', stages: [3, 4, 6, 3] },
  50: { block: 'bottleneck', stages: [3, 4, 6, 3] },
  101: { block: 'bottleneck', stages: [3, 4, 23, 3] },
  152: { block: 'bottleneck', stages: [3, 8, 36, 3] },
};

class ResLayer extends Module {
  readonly blocks: Block[] = [];
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let y = x;
    for (const b of this.blocks) y = b.forward(y);
    return y;
  }
  push(b: Block): void {
    this.blocks.push(this.addModule(String(this.blocks.length), b));
  }
}

/** ResNet backbone returning the feature maps of `out_indices` (C2..C5 for 0..3), NHWC. */
export class ResNet extends Module {
  readonly depth: number;
  readonly outIndices: number[];
  readonly frozenStages: number;
  readonly normEval: boolean;
  readonly style: 'pytorch' | 'caffe';
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: ResLayer[] = [];
  /** Output channels per stage (`base_channels * 2^i * expansion`). */
  readonly stageChannels: number[] = [];

  constructor(cfg: ResNetConfig, prefix = 'backbone') {
    super(prefix);
    const arch = ARCH[cfg.depth];
    if (arch === undefined) throw new Error(`invalid depth ${cfg.depth} for resnet (expected one of 18, 34, 50, 101, 152)`);
    if (cfg.deep_stem) throw new Error('ResNet: deep_stem=True is not supported');
    if (cfg.avg_down) throw new Error('ResNet: avg_down=True is not supported');
    const numStages = cfg.num_stages ?? 4;
    if (numStages < 1 || numStages > 4) throw new Error(`ResNet: num_stages must be in 1..4, got ${numStages}`);
    const strides = cfg.strides ?? [1, 2, 2, 2];
    const dilations = cfg.dilations ?? [1, 1, 1, 1];
    if (dilations.some((d) => d !== 1)) throw new Error('ResNet: dilations other than 1 are not supported');
    const normType = cfg.norm_cfg?.type ?? 'BN';
    if (normType !== 'BN' && normType !== 'SyncBN') throw new Error(`ResNet: norm_cfg.type ${normType} is not supported (BN only)`);
    const eps = cfg.norm_cfg?.eps ?? 1e-5;
    this.depth = cfg.depth;
    this.style = cfg.style ?? 'pytorch';
    if (this.style !== 'pytorch' && this.style !== 'caffe') throw new Error(`ResNet: style must be 'pytorch' or 'caffe', got ${String(this.style)}`);
    this.outIndices = cfg.out_indices ?? [0, 1, 2, 3];
    if (this.outIndices.some((i) => i < 0 || i >= numStages)) throw new Error(`ResNet: out_indices ${JSON.stringify(this.outIndices)} out of range for ${numStages} stages`);
    this.frozenStages = cfg.frozen_stages ?? -1;
    this.normEval = cfg.norm_eval ?? true;
    const inChannels = cfg.in_channels ?? 3;
    const base = cfg.base_channels ?? 64;
    const stem = cfg.stem_channels ?? base;

    this.conv1 = this.addModule('conv1', new Conv2d(joinKey(prefix, 'conv1'), inChannels, stem, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(joinKey(prefix, 'bn1'), stem, eps));
    let inplanes = stem;
    const expansion = arch.block === 'basic' ? 1 : 4;
    for (let i = 0; i < numStages; i++) {
      const planes = base * 2 ** i;
      const name = `layer${i + 1}`;
      const layer = this.addModule(name, new ResLayer(joinKey(prefix, name)));
      const stride = strides[i] ?? 1;
      for (let b = 0; b < arch.stages[i]!; b++) {
        const s = b === 0 ? stride : 1;
        const ds = b === 0 && (stride !== 1 || inplanes !== planes * expansion);
        const key = joinKey(layer.prefix, String(b));
        layer.push(
          arch.block === 'basic'
            ? new BasicBlock(key, inplanes, planes, s, ds, eps)
            : new Bottleneck(key, inplanes, planes, s, ds, this.style, eps),
        );
        inplanes = planes * expansion;
      }
      this.layers.push(layer);
      this.stageChannels.push(planes * expansion);
    }
    if (cfg.norm_cfg?.requires_grad === false) {
      for (const m of this.modules()) if (m instanceof BatchNorm2d) m.requiresGrad(false);
    }
    this.freezeStages();
    this.train(true);
  }

  private frozenModules(): Module[] {
    const out: Module[] = [];
    if (this.frozenStages >= 0) out.push(this.conv1, this.bn1);
    for (let i = 1; i <= Math.min(this.frozenStages, this.layers.length); i++) out.push(this.layers[i - 1]!);
    return out;
  }

  private freezeStages(): void {
    for (const m of this.frozenModules()) m.requiresGrad(false);
  }

  /** Training mode keeps frozen stages in eval and, with `norm_eval`, every BN in eval (mmdet). */
  override train(mode = true): this {
    super.train(mode);
    if (mode) {
      for (const m of this.frozenModules()) m.train(false);
      if (this.normEval) for (const m of this.modules()) if (m instanceof BatchNorm2d) m.train(false);
    }
    return this;
  }

  /** x `[N, H, W, 3]` → feature maps of `out_indices` (stride 4, 8, 16, 32), NHWC. */
  forward(x: tf.Tensor4D): tf.Tensor4D[] {
    let y = tf.relu(this.bn1.forward(this.conv1.forward(x)));
    y = maxPool3x3s2(y);
    const outs: tf.Tensor4D[] = [];
    for (let i = 0; i < this.layers.length; i++) {
      y = this.layers[i]!.forward(y);
      if (this.outIndices.includes(i)) outs.push(y);
    }
    return outs;
  }
}
