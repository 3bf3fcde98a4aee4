/**
 * Parameter groups as `torch.optim.Optimizer.param_groups` holds them: a list of parameters plus the
 * hyper-parameters (`lr`, `momentum`, `weight_decay`, …) that schedulers read and write in place.
 *
 * @see torch/optim/optimizer.py (PyTorch 1.13), mmengine/optim/optimizer/optimizer_wrapper.py
 */

/**
 * One parameter group. `params` holds parameter names (mmdet state_dict keys); the numeric keys are
 * the hyper-parameters. Schedulers add `initial_<name>` keys as MMEngine does.
 */
export interface ParamGroup {
  /** Names of the parameters in this group (mmdet state_dict keys). */
  params: string[];
  /** Learning rate. */
  lr: number;
  /** Momentum factor (0 disables the momentum buffer). */
  momentum: number;
  /** Dampening for momentum. */
  dampening: number;
  /** L2 penalty added to the gradient. */
  weight_decay: number;
  /** Nesterov momentum. */
  nesterov: boolean;
  /** Further hyper-parameters (`initial_lr`, custom paramwise keys, …). */
  [key: string]: unknown;
}

/** Anything that exposes `param_groups` to parameter schedulers (an optimizer or its wrapper). */
export interface HasParamGroups {
  /** The optimizer's parameter groups, modified in place by schedulers. */
  readonly paramGroups: ParamGroup[];
}

/** Reads a numeric hyper-parameter of a group, failing clearly when it is absent. */
export function groupValue(group: ParamGroup, key: string): number {
  const v = group[key];
  if (typeof v !== 'number') {
    throw new Error(`param group has no numeric '${key}' (got ${JSON.stringify(v)})`);
  }
  return v;
}

/** Plain-data copy of the groups without their parameter lists (for state dicts and logs). */
export function groupHyperParams(groups: ParamGroup[]): Array<Record<string, unknown>> {
  return groups.map((g) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(g)) if (k !== 'params') out[k] = v;
    return out;
  });
}
