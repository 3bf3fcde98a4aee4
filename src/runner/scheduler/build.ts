/**
 * Builds parameter schedulers from config dicts as MMEngine's `Runner._build_param_scheduler` does:
 * default `end` from the train loop (max epochs or max iters), `convert_to_iter_based` through
 * each class's `build_iter_from_epoch` (begin/end/step sizes/milestones/T_max times the epoch length).
 *
 * @see mmengine/runner/runner.py (`_build_param_scheduler`), mmengine/optim/scheduler/*.py
 */
import type { HasParamGroups } from '../optim/param_group';
import {
  ConstantParamScheduler,
  CosineAnnealingParamScheduler,
  ExponentialParamScheduler,
  INF,
  LinearParamScheduler,
  MultiStepParamScheduler,
  type ParamScheduler,
  PolyParamScheduler,
  StepParamScheduler,
} from './param_scheduler';

type Ctor = new (optimizer: HasParamGroups, paramName: string, opts: never) => ParamScheduler;

/** Which base class and parameter each registered scheduler `type` uses. */
const SCHEDULER_TYPES: Record<string, { cls: Ctor; param: string | null; kind: Kind }> = {};
type Kind = 'linear' | 'multistep' | 'step' | 'constant' | 'exponential' | 'cosine' | 'poly';

const FAMILIES: Array<[Kind, Ctor, string]> = [
  ['linear', LinearParamScheduler as Ctor, 'Linear'],
  ['multistep', MultiStepParamScheduler as Ctor, 'MultiStep'],
  ['step', StepParamScheduler as Ctor, 'Step'],
  ['constant', ConstantParamScheduler as Ctor, 'Constant'],
  ['exponential', ExponentialParamScheduler as Ctor, 'Exponential'],
  ['cosine', CosineAnnealingParamScheduler as Ctor, 'CosineAnnealing'],
  ['poly', PolyParamScheduler as Ctor, 'Poly'],
];
for (const [kind, cls, stem] of FAMILIES) {
  SCHEDULER_TYPES[`${stem}LR`] = { cls, param: 'lr', kind };
  SCHEDULER_TYPES[`${stem}Momentum`] = { cls, param: 'momentum', kind };
  SCHEDULER_TYPES[`${stem}ParamScheduler`] = { cls, param: null, kind };
}

/** Scheduler `type` names this runner understands. */
export const SCHEDULER_TYPE_NAMES: readonly string[] = Object.keys(SCHEDULER_TYPES).sort();

/** Loop lengths used to fill defaults and convert epoch-based schedulers. */
export interface SchedulerBuildContext {
  /** Max epochs of the train loop (epoch-based loops). */
  maxEpochs?: number;
  /** Max iterations of the train loop. */
  maxIters?: number;
  /** Batches per epoch (`len(train_dataloader)`); needed by `convert_to_iter_based`. */
  epochLength?: number;
}

/** Converts epoch-based kwargs to iteration-based ones (`build_iter_from_epoch`). */
function convertToIterBased(kind: Kind, args: Record<string, unknown>, epochLength: number | undefined, type: string): void {
  if (args.by_epoch === false) throw new Error(`${type}: Only epoch-based kwargs whose \`by_epoch=True\` can be converted to iter-based.`);
  if (!(typeof epochLength === 'number' && epochLength > 0)) {
    throw new Error(`${type}: \`epoch_length\` must be a positive integer, but got ${String(epochLength)}.`);
  }
  const L = epochLength;
  args.by_epoch = false;
  const begin = (args.begin as number | undefined) ?? 0;
  args.begin = Math.trunc(begin * L);
  const end = (args.end as number | undefined) ?? INF;
  if (end !== INF) args.end = Math.trunc(end * L);
  if (kind === 'step') args.step_size = (args.step_size as number) * L;
  if (kind === 'multistep') args.milestones = (args.milestones as number[]).map((m) => m * L);
  if (kind === 'cosine' && args.T_max !== undefined && args.T_max !== null) args.T_max = (args.T_max as number) * L;
}

/**
 * Builds one scheduler from a config dict (`{type: 'LinearLR', start_factor: 0.001, …}`).
 *
 * @throws Error naming the unknown type and the known ones.
 */
export function buildParamScheduler(
  cfg: Record<string, unknown>,
  optimizer: HasParamGroups,
  ctx: SchedulerBuildContext = {},
): ParamScheduler {
  const args: Record<string, unknown> = structuredClone(cfg);
  const type = args.type;
  delete args.type;
  if (typeof type !== 'string') throw new Error(`param_scheduler entry needs a string 'type', got ${JSON.stringify(cfg)}`);
  const spec = SCHEDULER_TYPES[type];
  if (!spec) {
    throw new Error(
      `${type} is not in the mmengine::parameter scheduler registry. Known types: ${SCHEDULER_TYPE_NAMES.join(', ')}`,
    );
  }
  const byEpoch = args.by_epoch === undefined ? true : Boolean(args.by_epoch);
  if (args.end === undefined) {
    const d = byEpoch ? ctx.maxEpochs : ctx.maxIters;
    if (d !== undefined) args.end = d;
  }
  const convert = Boolean(args.convert_to_iter_based);
  delete args.convert_to_iter_based;
  if (convert) convertToIterBased(spec.kind, args, ctx.epochLength, type);
  let paramName = spec.param;
  if (paramName === null) {
    if (typeof args.param_name !== 'string') throw new Error(`${type} needs a 'param_name' (e.g. 'lr')`);
    paramName = args.param_name;
  }
  delete args.param_name;
  delete args.verbose;
  const s = new spec.cls(optimizer, paramName, args as never);
  (s as { type: string }).type = type;
  return s;
}

/** Builds a list (or a single dict) of scheduler configs in order. */
export function buildParamSchedulers(
  cfg: Record<string, unknown> | Array<Record<string, unknown>> | null | undefined,
  optimizer: HasParamGroups,
  ctx: SchedulerBuildContext = {},
): ParamScheduler[] {
  if (cfg === null || cfg === undefined) return [];
  const list = Array.isArray(cfg) ? cfg : [cfg];
  return list.map((c) => buildParamScheduler(c, optimizer, ctx));
}
