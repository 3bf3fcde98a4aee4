/**
 * Pure-JS reference of `torch.optim.SGD` and `clip_grad_norm_` on plain arrays, used to test the
 * tfjs implementation. `round` selects the arithmetic: identity for float64, `Math.fround` to mimic
 * PyTorch's float32 kernels (every op rounded to float32, hyper-parameters cast to float32).
 *
 * @see torch/optim/sgd.py `_single_tensor_sgd` and torch/nn/utils/clip_grad.py (PyTorch 1.13)
 */
import type { ParamGroup } from './param_group';

/** Rounding applied after every arithmetic op. */
export type Rounding = (x: number) => number;

/** float64 arithmetic (no extra rounding). */
export const float64: Rounding = (x) => x;
/** float32 arithmetic, as PyTorch's float32 CPU kernels. */
export const float32: Rounding = Math.fround;

/**
 * SGD on named flat arrays. Momentum buffers live in `state` (name → buffer), created on the first
 * step as a copy of the (decayed) gradient, exactly as PyTorch does.
 */
export class SGDReference {
  /** Momentum buffers by parameter name. */
  readonly state = new Map<string, Float64Array>();

  /**
   * @param params - parameter values by name (updated in place).
   * @param paramGroups - groups naming the parameters and holding lr/momentum/…
   * @param round - arithmetic rounding ({@link float64} or {@link float32}).
   */
  constructor(
    readonly params: Map<string, Float64Array>,
    readonly paramGroups: ParamGroup[],
    readonly round: Rounding = float64,
  ) {}

  /** One optimizer step with the given gradients (missing gradients skip the parameter). */
  step(grads: Map<string, Float64Array>): void {
    const r = this.round;
    for (const g of this.paramGroups) {
      const lr = r(g.lr);
      const wd = r(g.weight_decay);
      const mom = r(g.momentum);
      const damp = r(1 - g.dampening);
      if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
        throw new Error('Nesterov momentum requires a momentum and zero dampening');
      }
      for (const name of g.params) {
        const p = this.params.get(name);
        const grad = grads.get(name);
        if (!p || !grad) continue;
        const d = new Float64Array(p.length);
        for (let i = 0; i < p.length; i++) d[i] = g.weight_decay !== 0 ? r(grad[i]! + r(wd * p[i]!)) : grad[i]!;
        let upd: Float64Array = d;
        if (g.momentum !== 0) {
          let buf = this.state.get(name);
          if (!buf) {
            buf = Float64Array.from(d);
            this.state.set(name, buf);
          } else {
            for (let i = 0; i < p.length; i++) buf[i] = r(r(buf[i]! * mom) + (g.dampening === 0 ? d[i]! : r(d[i]! * damp)));
          }
          if (g.nesterov) {
            upd = new Float64Array(p.length);
            for (let i = 0; i < p.length; i++) upd[i] = r(d[i]! + r(buf[i]! * mom));
          } else {
            upd = buf;
          }
        }
        for (let i = 0; i < p.length; i++) p[i] = r(p[i]! + r(-lr * upd[i]!));
      }
    }
  }
}

/**
 * `clip_grad_norm_` on flat arrays (in place): total = norm of the per-tensor norms, every gradient
 * multiplied by `min(max_norm / (total + 1e-6), 1)`. Returns the total norm.
 */
export function clipGradNormReference(grads: Float64Array[], maxNorm: number, normType = 2): number {
  if (grads.length === 0) return 0;
  let total: number;
  if (normType === Infinity) {
    total = 0;
    for (const g of grads) for (const v of g) total = Math.max(total, Math.abs(v));
  } else {
    let acc = 0;
    for (const g of grads) {
      let s = 0;
      for (const v of g) s += Math.abs(v) ** normType;
      acc += (s ** (1 / normType)) ** normType;
    }
    total = acc ** (1 / normType);
  }
  const coef = Math.min(maxNorm / (total + 1e-6), 1);
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  return total;
}
