/**
 * Basic layers with PyTorch semantics on NHWC activations: Conv2d (HWIO filters), BatchNorm2d,
 * Linear (weights `[out, in]`), ConvTranspose2d (filters `[kh, kw, out, in]`), ReLU, max pooling.
 * Checkpoint tensors are converted to these layouts by `src/checkpoint/mmdet_layout.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module, type Init } from './module';

/** Kaiming-normal (fan_out, ReLU gain) std for a conv of `out` filters and `k`×`k` kernel. */
export function kaimingFanOutStd(out: number, k: number): number {
  return Math.sqrt(2 / (out * k * k));
}

/** Xavier-uniform bound for fan_in/fan_out. */
export function xavierBound(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Filter gradient of a conv as k×k strided slices of the padded input times `dy` (one matMul per
 * kernel tap). Mathematically identical to Conv2DBackpropFilter; used on the pure-JS `cpu` backend,
 * whose own Conv2DBackpropFilter is ~50× slower than its forward conv.
 */
function filterGradByTaps(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, stride: number, padding: number): tf.Tensor4D {
  const [n, , , cin] = x.shape;
  const [, ho, wo, cout] = dy.shape;
  const dy2 = dy.reshape([n * ho * wo, cout]);
  if (k === 1 && stride === 1 && padding === 0) {
    return tf.matMul(x.reshape([n * ho * wo, cin]), dy2, true, false).reshape([1, 1, cin, cout]) as tf.Tensor4D;
  }
  let xp = padding > 0 ? tf.pad(x, [[0, 0], [padding, padding], [padding, padding], [0, 0]]) : x;
  const taps: tf.Tensor2D[] = [];
  if (stride === 1) {
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        const xs = tf.slice(xp, [0, a, b, 0], [n, ho, wo, cin]);
        taps.push(tf.matMul(xs.reshape([n * ho * wo, cin]), dy2, true, false));
      }
    }
  } else {
    // Split rows and columns by phase (index mod stride) once, so every tap is a plain slice.
    const s = stride;
    const hs = Math.ceil(xp.shape[1] / s) * s;
    const ws = Math.ceil(xp.shape[2] / s) * s;
    if (hs !== xp.shape[1] || ws !== xp.shape[2]) xp = tf.pad(xp, [[0, 0], [0, hs - xp.shape[1]], [0, ws - xp.shape[2]], [0, 0]]);
    const ph = tf.transpose(xp.reshape([n, hs / s, s, ws / s, s, cin]), [2, 4, 0, 1, 3, 5]);
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        const xs = tf.slice(ph, [a % s, b % s, 0, Math.floor(a / s), Math.floor(b / s), 0], [1, 1, n, ho, wo, cin]);
        taps.push(tf.matMul(xs.reshape([n * ho * wo, cin]), dy2, true, false));
      }
    }
  }
  return tf.stack(taps).reshape([k, k, cin, cout]) as tf.Tensor4D;
}

/**
 * `conv2d` NHWC/HWIO with symmetric zero padding. On the `cpu` backend the filter gradient goes
 * through {@link filterGradByTaps}; elsewhere tfjs's own gradient is used.
 */
export function conv2dPadded(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number, padding: number): tf.Tensor4D {
  const pad: Pad4 | 'valid' = padding === 0 ? 'valid' : [[0, 0], [padding, padding], [padding, padding], [0, 0]];
  if (tf.getBackend() !== 'cpu') return tf.conv2d(x, filter, stride, pad);
  const k = filter.shape[0];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, fi, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xi, fi]);
    return {
      value: tf.conv2d(xi, fi, stride, pad),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, fs] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dx = tf.conv2dTranspose(dy, fs, xs.shape, stride, pad);
        return [dx, filterGradByTaps(xs, dy, k, stride, padding)];
      },
    };
  });
  return op(x, filter) as tf.Tensor4D;
}

/** Options of {@link Conv2d}. */
export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  bias?: boolean;
  weightInit?: Init;
  biasInit?: Init;
}

/** `nn.Conv2d` on NHWC input; `weight` is `[kh, kw, in, out]` (HWIO), `bias` `[out]`. */
export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly stride: number;
  readonly padding: number;

  constructor(prefix: string, inChannels: number, outChannels: number, kernelSize: number, opts: Conv2dOptions = {}) {
    super(prefix);
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.weight = this.addParam('weight', [kernelSize, kernelSize, inChannels, outChannels], opts.weightInit ?? {
      type: 'normal',
      std: kaimingFanOutStd(outChannels, kernelSize),
    });
    this.bias = opts.bias === false ? null : this.addParam('bias', [outChannels], opts.biasInit ?? { type: 'zeros' });
  }

  /** x `[N, H, W, Cin]` → `[N, H', W', Cout]`. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const y = conv2dPadded(x, this.weight as tf.Tensor4D, this.stride, this.padding);
    return this.bias === null ? y : tf.add(y, this.bias);
  }
}

/** `nn.ConvTranspose2d` with kernel == stride and no padding; `weight` is `[kh, kw, out, in]`. */
export class ConvTranspose2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly stride: number;
  readonly outChannels: number;

  constructor(prefix: string, inChannels: number, outChannels: number, kernelSize: number, stride: number) {
    super(prefix);
    if (kernelSize !== stride) throw new Error(`ConvTranspose2d: only kernel_size == stride is supported, got ${kernelSize}/${stride}`);
    this.stride = stride;
    this.outChannels = outChannels;
    this.weight = this.addParam('weight', [kernelSize, kernelSize, outChannels, inChannels], {
      type: 'normal',
      std: kaimingFanOutStd(outChannels, kernelSize),
    });
    this.bias = this.addParam('bias', [outChannels], { type: 'zeros' });
  }

  /**
   * x `[N, H, W, Cin]` → `[N, H*s, W*s, Cout]`. With kernel == stride the output taps never overlap,
   * so this is one matMul `[N*H*W, Cin] · [Cin, s*s*Cout]` followed by a depth-to-space reshuffle
   * (exactly `conv2dTranspose`, with cheap gradients on every backend).
   */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w, cin] = x.shape;
    const s = this.stride;
    const co = this.outChannels;
    const wm = tf.transpose(this.weight, [3, 0, 1, 2]).reshape([cin, s * s * co]);
    const y = tf.matMul(x.reshape([n * h * w, cin]), wm as tf.Tensor2D).reshape([n, h, w, s, s, co]);
    const out = tf.transpose(y, [0, 1, 3, 2, 4, 5]).reshape([n, h * s, w * s, co]) as tf.Tensor4D;
    return tf.add(out, this.bias);
  }
}

/** `nn.Linear`; `weight` is `[out, in]` as in PyTorch, applied as `x · weightᵀ + bias`. */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(prefix: string, inFeatures: number, outFeatures: number, weightInit?: Init, biasInit?: Init) {
    super(prefix);
    const b = xavierBound(inFeatures, outFeatures);
    this.weight = this.addParam('weight', [outFeatures, inFeatures], weightInit ?? { type: 'uniform', a: -b, b });
    this.bias = this.addParam('bias', [outFeatures], biasInit ?? { type: 'zeros' });
  }

  /** x `[N, in]` → `[N, out]`. */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.weight as tf.Tensor2D, false, true), this.bias);
  }
}

/**
 * `nn.BatchNorm2d` over the channel (last) axis. In eval mode (or when frozen) it uses the running
 * statistics; in training mode it normalises with batch statistics and updates the running ones
 * (momentum 0.1, unbiased variance), as PyTorch.
 */
export class BatchNorm2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly eps: number;
  readonly momentum: number;

  constructor(prefix: string, channels: number, eps = 1e-5, momentum = 0.1) {
    super(prefix);
    this.eps = eps;
    this.momentum = momentum;
    this.weight = this.addParam('weight', [channels], { type: 'ones' });
    this.bias = this.addParam('bias', [channels], { type: 'zeros' });
    this.runningMean = this.addBuffer('running_mean', [channels], { type: 'zeros' });
    this.runningVar = this.addBuffer('running_var', [channels], { type: 'ones' });
  }

  /** x `[N, H, W, C]` → same shape. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    if (!this.training) {
      // y = x * scale + shift with scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
      const scale = tf.mul(this.weight, tf.rsqrt(tf.add(this.runningVar, this.eps)));
      const shift = tf.sub(this.bias, tf.mul(this.runningMean, scale));
      return tf.add(tf.mul(x, scale), shift);
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const count = x.shape[0] * x.shape[1] * x.shape[2];
    tf.tidy(() => {
      const m = this.momentum;
      const unbiased = tf.mul(variance, count / Math.max(count - 1, 1));
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
    });
    const scale = tf.mul(this.weight, tf.rsqrt(tf.add(variance, this.eps)));
    return tf.add(tf.mul(tf.sub(x, mean), scale), this.bias);
  }
}

/** 3×3 stride-2 pad-1 max pooling as ResNet's stem uses it (`nn.MaxPool2d(3, 2, 1)`). */
export function maxPool3x3s2(x: tf.Tensor4D): tf.Tensor4D {
  // Pad with a very negative value so padded cells never win (PyTorch pads with -inf).
  const padded = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ], -3.4e38);
  return tf.maxPool(padded, 3, 2, 'valid');
}
