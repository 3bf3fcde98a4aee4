/**
 * Build helpers used inside model code: they go through the registries, so config `type` names
 * resolve exactly as in MMDetection. `src/models/register.ts` must have been imported (the package
 * entry `src/models/index.ts` does it).
 */
import { MODELS, TASK_UTILS } from '../registry/registries';
import type { ConfigDict } from '../registry/registry';

/** Builds a task utility (assigner, sampler, coder, prior generator) from its config. */
export function buildTaskUtil(cfg: ConfigDict, defaultArgs?: ConfigDict): unknown {
  return TASK_UTILS.build(cfg, defaultArgs);
}

/** Builds a loss from its config. */
export function buildLoss(cfg: ConfigDict): unknown {
  return MODELS.build(cfg);
}

/** Builds a sub-module (backbone, neck, head) from its config with a state_dict key prefix. */
export function buildModule(cfg: ConfigDict, prefix: string): unknown {
  return MODELS.build(cfg, { __prefix__: prefix });
}

/** Splits the `__prefix__` argument that {@link buildModule} passes to module builders. */
export function takePrefix(args: ConfigDict, fallback: string): [ConfigDict, string] {
  const { __prefix__, ...rest } = args;
  return [rest, typeof __prefix__ === 'string' ? __prefix__ : fallback];
}
