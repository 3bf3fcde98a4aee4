/**
 * `OptimWrapper` and `DefaultOptimWrapperConstructor` for tfjs models: builds SGD parameter groups
 * from `optim_wrapper` (with `paramwise_cfg`), computes gradients of the loss with
 * `tf.variableGrads`, clips them (`clip_grad`) and steps the optimizer.
 *
 * @see mmengine/optim/optimizer/optimizer_wrapper.py, default_constructor.py (MMEngine 0.10)
 */
import * as tf from '@tensorflow/tfjs-core';
import { variableGradsAsync } from '../../models/utils/grads';
import { clipCoef, clipGradNorm, clipGradValue, totalGradNorm } from './clip_grad';
import type { HasParamGroups, ParamGroup } from './param_group';
import { SGD, type OptimizerStateDict, type SGDOptions } from './sgd';
import { squaredL2NormFused } from './sgd_fused';

/** A named trainable parameter as the model exposes it. */
export interface NamedParameter {
  /** mmdet state_dict key (`roi_head.bbox_head.fc_cls.weight`). */
  name: string;
  /** The tfjs variable; `trainable === false` means frozen (`requires_grad=False`). */
  variable: tf.Variable;
  /** Whether the owning module is a normalisation layer (BN/GN/LN). Guessed from the name when absent. */
  isNorm?: boolean;
  /** Whether the owning module is a depth-wise convolution. */
  isDepthwiseConv?: boolean;
}

/** `paramwise_cfg` keys this constructor understands (MMEngine names). */
export interface ParamwiseCfg {
  bias_lr_mult?: number;
  bias_decay_mult?: number;
  norm_decay_mult?: number;
  dwconv_decay_mult?: number;
  flat_decay_mult?: number;
  custom_keys?: Record<string, { lr_mult?: number; decay_mult?: number; [k: string]: unknown }>;
}

const NORM_SEGMENT = /^(bn\d*|norm\d*|gn\d*|ln\d*|bn|batch_norm|layer_norm|group_norm)$/;

/**
 * Guesses whether a parameter belongs to a normalisation layer from mmdet naming: a module named
 * `bn1`/`norm`/`gn`…, or index 1 of a ResNet `downsample` (conv, BN).
 */
export function isNormParamName(name: string): boolean {
  const parts = name.split('.');
  const mod = parts[parts.length - 2];
  if (mod === undefined) return false;
  if (NORM_SEGMENT.test(mod)) return true;
  return mod === '1' && parts[parts.length - 3] === 'downsample';
}

/**
 * Parameter groups as `DefaultOptimWrapperConstructor` makes them: one group with every trainable
 * parameter when `paramwise_cfg` is empty, else one group per parameter with lr/weight decay scaled
 * by the first matching custom key (longest first, then alphabetical) or by the bias/norm rules.
 */
export function buildParamGroups(
  params: NamedParameter[],
  optimizerCfg: SGDOptions,
  paramwise: ParamwiseCfg | null | undefined,
): Array<Partial<ParamGroup> & { params: string[] }> {
  const trainable = params.filter((p) => p.variable.trainable);
  if (!paramwise || Object.keys(paramwise).length === 0) return [{ params: trainable.map((p) => p.name) }];
  const baseLr = optimizerCfg.lr;
  const baseWd = optimizerCfg.weight_decay ?? null;
  const custom = paramwise.custom_keys ?? {};
  const sortedKeys = Object.keys(custom)
    .sort()
    .sort((a, b) => b.length - a.length);
  const groups: Array<Partial<ParamGroup> & { params: string[] }> = [];
  for (const p of trainable) {
    const g: Partial<ParamGroup> & { params: string[] } = { params: [p.name] };
    const leaf = p.name.slice(p.name.lastIndexOf('.') + 1);
    const full = p.name.includes('.') ? p.name : `.${p.name}`;
    const isNorm = p.isNorm ?? isNormParamName(p.name);
    const key = sortedKeys.find((k) => full.includes(k));
    if (key !== undefined) {
      const c = custom[key]!;
      g.lr = baseLr * (c.lr_mult ?? 1);
      if (baseWd !== null) g.weight_decay = baseWd * (c.decay_mult ?? 1);
      for (const [k, v] of Object.entries(c)) g[k] = v;
    } else {
      if (leaf === 'bias' && !isNorm && paramwise.bias_lr_mult !== undefined) g.lr = baseLr * paramwise.bias_lr_mult;
      if (baseWd !== null) {
        if (isNorm && paramwise.norm_decay_mult !== undefined) g.weight_decay = baseWd * paramwise.norm_decay_mult;
        else if (leaf === 'bias' && paramwise.bias_decay_mult !== undefined) g.weight_decay = baseWd * paramwise.bias_decay_mult;
        else if (p.isDepthwiseConv && paramwise.dwconv_decay_mult !== undefined) g.weight_decay = baseWd * paramwise.dwconv_decay_mult;
        else if (p.variable.rank === 1 && paramwise.flat_decay_mult !== undefined) g.weight_decay = baseWd * paramwise.flat_decay_mult;
      }
    }
    groups.push(g);
  }
  return groups;
}

/** `clip_grad` config: `{max_norm, norm_type}` (type `'norm'`, the default) or `{type: 'value', clip_value}`. */
export interface ClipGradCfg {
  type?: 'norm' | 'value';
  max_norm?: number;
  norm_type?: number;
  clip_value?: number;
}

/** What one {@link OptimWrapper.updateParams} returns. */
export interface UpdateResult {
  /** The total loss (caller disposes). */
  loss: tf.Scalar;
  /** Total gradient norm before clipping (when `clip_grad` is set; caller disposes). */
  gradNorm?: tf.Scalar;
  /** True when the loss was not finite and no update was applied. */
  skipped?: boolean;
}

/** Wraps SGD with gradient computation and clipping, as MMEngine's `OptimWrapper`. */
export class OptimWrapper implements HasParamGroups {
  private readonly varToParam = new Map<string, string>();
  private readonly vars: tf.Variable[];

  constructor(
    readonly optimizer: SGD,
    readonly clipGrad: ClipGradCfg | null = null,
  ) {
    this.vars = [];
    for (const g of optimizer.paramGroups) {
      for (const n of g.params) {
        const v = optimizer.params.get(n)!;
        this.varToParam.set(v.name, n);
        this.vars.push(v);
      }
    }
    if (clipGrad && (clipGrad.type ?? 'norm') === 'norm' && typeof clipGrad.max_norm !== 'number') {
      throw new Error('clip_grad needs max_norm (e.g. clip_grad=dict(max_norm=35, norm_type=2))');
    }
  }

  /** The optimizer's groups (schedulers act on these). */
  get paramGroups(): ParamGroup[] {
    return this.optimizer.paramGroups;
  }

  /** Learning rate of every group (MMEngine `get_lr()['lr']`). */
  getLr(): number[] {
    return this.paramGroups.map((g) => g.lr);
  }

  /** Momentum of every group (MMEngine `get_momentum()['momentum']`). */
  getMomentum(): number[] {
    return this.paramGroups.map((g) => g.momentum);
  }

  /**
   * Forward + backward + step (`update_params`): computes the gradients of `lossFn` with respect to
   * every parameter in the groups, clips them if configured, applies SGD and frees the gradients.
   * With `checkFinite`, the loss is read first and a NaN/Inf loss skips the update (`skipped`).
   */
  async updateParams(lossFn: () => tf.Scalar | Promise<tf.Scalar>, opts: { checkFinite?: boolean } = {}): Promise<UpdateResult> {
    // The loss may be async (a two-stage detector reads proposals back between its stages), so the
    // gradient tape is kept open across awaits by the models' variableGradsAsync.
    const { value, grads } = await variableGradsAsync(async () => ({ loss: await lossFn(), extra: [] as tf.Tensor[] }), this.vars);
    const names = Object.keys(grads);
    const disposeGrads = (): void => {
      for (const k of names) grads[k]!.dispose();
    };
    if (names.length === 0) throw new Error('the loss does not depend on any trainable parameter');
    if (opts.checkFinite) {
      const v = (await value.data())[0]!;
      if (!Number.isFinite(v)) {
        disposeGrads();
        return { loss: value, skipped: true };
      }
    }
    let list = names.map((k) => grads[k]!);
    let gradNorm: tf.Scalar | undefined;
    let clipped: tf.Tensor[] | null = null;
    let gradScale: tf.Scalar | undefined;
    if (this.clipGrad && (this.clipGrad.type ?? 'norm') === 'norm' && this.optimizer.usesFusedUpdate) {
      // Fused path (webgpu): the norm from batched squared-norm kernels, and the clip coefficient
      // applied inside the SGD kernels instead of one multiply per gradient.
      const normType = this.clipGrad.norm_type ?? 2;
      gradNorm = totalGradNorm(list, normType, squaredL2NormFused);
      gradScale = clipCoef(gradNorm, this.clipGrad.max_norm as number);
    } else if (this.clipGrad) {
      if ((this.clipGrad.type ?? 'norm') === 'value') {
        clipped = clipGradValue(list, this.clipGrad.clip_value as number);
      } else {
        const r = clipGradNorm(list, this.clipGrad.max_norm as number, this.clipGrad.norm_type ?? 2);
        clipped = r.grads;
        gradNorm = r.totalNorm;
      }
      list = clipped;
    }
    const byParam = new Map<string, tf.Tensor>();
    names.forEach((k, i) => byParam.set(this.varToParam.get(k) ?? k, list[i]!));
    try {
      this.optimizer.step(byParam, { gradScale });
    } finally {
      disposeGrads();
      if (clipped) for (const t of clipped) t.dispose();
      gradScale?.dispose();
    }
    return { loss: value, gradNorm, skipped: false };
  }

  /** Optimizer state (PyTorch layout). */
  stateDict(): Promise<OptimizerStateDict> {
    return this.optimizer.stateDict();
  }

  /** Restores the optimizer state. */
  loadStateDict(sd: OptimizerStateDict): void {
    this.optimizer.loadStateDict(sd);
  }
}

/**
 * Builds the wrapper from `optim_wrapper` config (`type='OptimWrapper'`, `optimizer=dict(type='SGD', …)`,
 * optional `paramwise_cfg`, `clip_grad`).
 */
export function buildOptimWrapper(cfg: Record<string, unknown>, params: NamedParameter[]): OptimWrapper {
  const type = (cfg.type as string | undefined) ?? 'OptimWrapper';
  if (type !== 'OptimWrapper') {
    throw new Error(`optim_wrapper type '${type}' is not supported (only 'OptimWrapper'; AmpOptimWrapper needs fp16 training)`);
  }
  const acc = cfg.accumulative_counts as number | undefined;
  if (acc !== undefined && acc !== 1) throw new Error(`optim_wrapper.accumulative_counts=${acc} is not supported yet (only 1)`);
  const opt = { ...(cfg.optimizer as Record<string, unknown> | undefined) };
  if (!opt.type) throw new Error("optim_wrapper.optimizer needs a 'type'");
  if (opt.type !== 'SGD') throw new Error(`optimizer type '${String(opt.type)}' is not supported (only 'SGD')`);
  delete opt.type;
  if (typeof opt.lr !== 'number') throw new Error('optim_wrapper.optimizer.lr must be a number');
  const sgdCfg = opt as unknown as SGDOptions;
  const named = new Map(params.map((p) => [p.name, p.variable]));
  const groups = buildParamGroups(params, sgdCfg, cfg.paramwise_cfg as ParamwiseCfg | undefined);
  const sgd = new SGD(named, groups, sgdCfg);
  return new OptimWrapper(sgd, (cfg.clip_grad as ClipGradCfg | null | undefined) ?? null);
}

/** Multiplies every group's lr by `real_bs / base_bs` when `auto_scale_lr.enable` (MMEngine `scale_lr`). */
export function scaleLr(
  optim: HasParamGroups,
  autoScaleLr: { enable?: boolean; base_batch_size?: number } | null | undefined,
  batchSize: number,
  worldSize = 1,
): number | null {
  if (!autoScaleLr || !autoScaleLr.enable) return null;
  if (autoScaleLr.base_batch_size === undefined) throw new Error('Lack of `base_batch_size` in `auto_scale_lr`.');
  const ratio = (worldSize * batchSize) / autoScaleLr.base_batch_size;
  for (const g of optim.paramGroups) g.lr = g.lr * ratio;
  return ratio;
}
