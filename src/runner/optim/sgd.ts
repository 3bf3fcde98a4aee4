/**
 * `torch.optim.SGD` on tfjs variables: weight decay added to the gradient, momentum buffer created
 * on the first step as a copy of that gradient, `buf = momentum * buf + (1 - dampening) * d` after,
 * optional Nesterov, then `p -= lr * update`. Runs on whatever tfjs backend is active; on `webgpu`
 * the update of one parameter is two fused kernels (`sgd_fused.ts`), elsewhere one tfjs kernel per
 * `mul`/`add`.
 *
 * @see torch/optim/sgd.py `_single_tensor_sgd` (PyTorch 1.13)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HasParamGroups, ParamGroup } from './param_group';
import { fusedSGDAvailable, sgdMomentumBuffer, sgdParamUpdate } from './sgd_fused';

/** SGD defaults (`optim_wrapper.optimizer` keys). */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weight_decay?: number;
  nesterov?: boolean;
}

/** A momentum buffer as plain data (row-major float32). */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/**
 * Optimizer state in PyTorch's `state_dict()` layout: `state` keyed by the parameter's index over
 * all groups, `param_groups` with hyper-parameters and the indices (plus `param_names`).
 */
export interface OptimizerStateDict {
  state: Record<number, { momentum_buffer: TensorData }>;
  param_groups: Array<Record<string, unknown> & { params: number[]; param_names: string[] }>;
}

/** Fills a group from the optimizer defaults (as `torch.optim.Optimizer.add_param_group`). */
export function withSGDDefaults(group: Partial<ParamGroup> & { params: string[] }, d: SGDOptions): ParamGroup {
  const out: ParamGroup = {
    lr: d.lr,
    momentum: d.momentum ?? 0,
    dampening: d.dampening ?? 0,
    weight_decay: d.weight_decay ?? 0,
    nesterov: d.nesterov ?? false,
    ...group,
  } as ParamGroup;
  if (out.lr < 0) throw new Error(`Invalid learning rate: ${out.lr}`);
  if (out.momentum < 0) throw new Error(`Invalid momentum value: ${out.momentum}`);
  if (out.weight_decay < 0) throw new Error(`Invalid weight_decay value: ${out.weight_decay}`);
  if (out.nesterov && (out.momentum <= 0 || out.dampening !== 0)) {
    throw new Error('Nesterov momentum requires a momentum and zero dampening');
  }
  return out;
}

/** Stochastic gradient descent with PyTorch's exact update order. */
export class SGD implements HasParamGroups {
  /** Config type name. */
  static readonly type = 'SGD';
  /** Parameter groups (schedulers change `lr`/`momentum` here). */
  readonly paramGroups: ParamGroup[];
  /** Momentum buffers by parameter name (non-trainable variables). */
  readonly buffers = new Map<string, tf.Variable>();
  /**
   * `'auto'`: fused update kernels where the backend has them (webgpu), else the generic path;
   * `'off'`: always the generic path (one kernel per arithmetic step, as on cpu/wasm).
   */
  fusedUpdate: 'auto' | 'off' = 'auto';

  /**
   * @param params - trainable variables by parameter name (mmdet state_dict key).
   * @param groups - parameter groups (names + overrides); defaults fill the rest.
   * @param defaults - the optimizer config (`lr`, `momentum`, …).
   */
  constructor(
    readonly params: Map<string, tf.Variable>,
    groups: Array<Partial<ParamGroup> & { params: string[] }>,
    readonly defaults: SGDOptions,
  ) {
    const seen = new Set<string>();
    this.paramGroups = groups.map((g) => {
      for (const n of g.params) {
        if (!params.has(n)) throw new Error(`SGD: parameter '${n}' of a param group is not among the model's parameters`);
        if (seen.has(n)) throw new Error('some parameters appear in more than one parameter group');
        seen.add(n);
      }
      return withSGDDefaults(g, defaults);
    });
  }

  /** Whether {@link step} runs the fused kernels now (`fusedUpdate` 'auto' on a backend that has them). */
  get usesFusedUpdate(): boolean {
    return this.fusedUpdate === 'auto' && fusedSGDAvailable();
  }

  /**
   * Applies one update with `grads` (parameter name → gradient). Parameters without a gradient are
   * skipped, as PyTorch skips `p.grad is None`. Gradients are not disposed.
   *
   * @param options.gradScale - a one-element factor every gradient is multiplied by first (the
   *   clip coefficient of `clip_grad_norm_`, so clipped gradients need not be materialised); the
   *   fused kernels apply it in the shader, the generic path with one `mul` per gradient.
   */
  step(grads: ReadonlyMap<string, tf.Tensor> | Record<string, tf.Tensor>, options: { gradScale?: tf.Tensor } = {}): void {
    const get = (n: string): tf.Tensor | undefined =>
      grads instanceof Map ? grads.get(n) : (grads as Record<string, tf.Tensor>)[n];
    const { gradScale } = options;
    if (gradScale && gradScale.size !== 1) throw new Error(`SGD.step: gradScale must have one element, got shape [${gradScale.shape}]`);
    const fused = this.usesFusedUpdate;
    for (const g of this.paramGroups) {
      if (fused) {
        this.stepGroupFused(g, get, gradScale);
        continue;
      }
      tf.tidy(() => {
        const lr = tf.scalar(-g.lr);
        const wd = g.weight_decay !== 0 ? tf.scalar(g.weight_decay) : null;
        const mom = g.momentum !== 0 ? tf.scalar(g.momentum) : null;
        const damp = g.dampening !== 0 ? tf.scalar(1 - g.dampening) : null;
        for (const name of g.params) {
          const raw = get(name);
          if (!raw) continue;
          const grad = gradScale ? tf.mul(raw, gradScale) : raw;
          const p = this.params.get(name)!;
          let d: tf.Tensor = wd ? tf.add(grad, tf.mul(p, wd)) : grad;
          if (mom) {
            let buf = this.buffers.get(name);
            if (!buf) {
              buf = tf.variable(tf.clone(d), false, `momentum_buffer/${name}/${uid()}`);
              this.buffers.set(name, buf);
            } else {
              buf.assign(tf.add(tf.mul(buf, mom), damp ? tf.mul(d, damp) : d));
            }
            d = g.nesterov ? tf.add(d, tf.mul(buf, mom)) : buf;
          }
          p.assign(tf.add(p, tf.mul(d, lr)));
        }
      });
    }
  }

  /**
   * One group's update with the fused kernels: the same branches and operation order as the
   * generic path in {@link step} (the first step's buffer is `d` itself), with every hyper-parameter
   * passed as a uniform.
   */
  private stepGroupFused(g: ParamGroup, get: (n: string) => tf.Tensor | undefined, scale: tf.Tensor | undefined): void {
    const { lr, momentum, dampening, weight_decay: weightDecay, nesterov } = g;
    for (const name of g.params) {
      const grad = get(name);
      if (!grad) continue;
      const p = this.params.get(name)!;
      tf.tidy(() => {
        let buf: tf.Variable | null = null;
        if (momentum !== 0) {
          const prev = this.buffers.get(name) ?? null;
          const next = sgdMomentumBuffer(p, grad, prev, { momentum, dampening, weightDecay }, scale);
          if (prev) {
            prev.assign(next);
            buf = prev;
          } else {
            buf = tf.variable(next, false, `momentum_buffer/${name}/${uid()}`);
            this.buffers.set(name, buf);
          }
        }
        p.assign(sgdParamUpdate(p, grad, buf, { lr, momentum, weightDecay, nesterov }, scale));
      });
    }
  }

  /** PyTorch-layout state with buffers downloaded to plain arrays. */
  async stateDict(): Promise<OptimizerStateDict> {
    const state: OptimizerStateDict['state'] = {};
    const groups: OptimizerStateDict['param_groups'] = [];
    let idx = 0;
    for (const g of this.paramGroups) {
      const ids: number[] = [];
      for (const name of g.params) {
        const buf = this.buffers.get(name);
        if (buf) state[idx] = { momentum_buffer: { shape: buf.shape.slice(), data: (await buf.data()) as Float32Array } };
        ids.push(idx++);
      }
      const { params, ...hyper } = g;
      groups.push({ ...hyper, params: ids, param_names: params.slice() });
    }
    return { state, param_groups: groups };
  }

  /**
   * Restores a state from {@link stateDict}: hyper-parameters are copied into the existing groups
   * in place (schedulers keep their references) and momentum buffers re-created.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw new Error(
        `loaded state dict has ${sd.param_groups.length} parameter groups, the optimizer has ${this.paramGroups.length}`,
      );
    }
    sd.param_groups.forEach((sg, gi) => {
      const g = this.paramGroups[gi]!;
      if (sg.params.length !== g.params.length) {
        throw new Error("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
      }
      const { params: _ids, param_names: names, ...hyper } = sg;
      if (names && names.some((n, i) => n !== g.params[i])) {
        throw new Error(`optimizer state is for other parameters (group ${gi}: '${names[0]}' vs '${g.params[0]}')`);
      }
      Object.assign(g, hyper);
      sg.params.forEach((id, k) => {
        const name = g.params[k]!;
        const s = sd.state[id];
        this.buffers.get(name)?.dispose();
        this.buffers.delete(name);
        if (s) {
          const p = this.params.get(name)!;
          if (s.momentum_buffer.shape.join() !== p.shape.join()) {
            throw new Error(`momentum buffer of '${name}' has shape [${s.momentum_buffer.shape}], the parameter [${p.shape}]`);
          }
          this.buffers.set(name, tf.variable(tf.tensor(s.momentum_buffer.data, s.momentum_buffer.shape, 'float32'), false, `momentum_buffer/${name}/${uid()}`));
        }
      });
    });
  }

  /** Frees the momentum buffers. */
  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}

let counter = 0;
function uid(): number {
  return ++counter;
}
