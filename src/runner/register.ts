/**
 * Signs the runner's types into the project registries (PARAM_SCHEDULERS, OPTIMIZERS,
 * OPTIM_WRAPPERS, HOOKS) so the editor can complete them and `build(cfg, defaultArgs)` works
 * MMEngine-style. Idempotent.
 */
import { HOOKS, OPTIM_WRAPPERS, OPTIMIZERS, PARAM_SCHEDULERS } from '../registry/registries';
import type { ConfigDict } from '../registry/registry';
import { CheckpointHook, DistSamplerSeedHook, IterTimerHook, LoggerHook, ParamSchedulerHook, RuntimeInfoHook } from './hooks';
import type { HasParamGroups } from './optim/param_group';
import { buildOptimWrapper, type NamedParameter } from './optim/optim_wrapper';
import { buildParamScheduler, SCHEDULER_TYPE_NAMES } from './scheduler/build';

let done = false;

/** Registers the runner's types (once). */
export function registerRunnerTypes(): void {
  if (done) return;
  done = true;
  for (const type of SCHEDULER_TYPE_NAMES) {
    PARAM_SCHEDULERS.register(type, (cfg: ConfigDict) => {
      const { optimizer, epoch_length, max_epochs, max_iters, ...rest } = cfg;
      return buildParamScheduler({ type, ...rest }, optimizer as HasParamGroups, {
        epochLength: epoch_length as number | undefined,
        maxEpochs: max_epochs as number | undefined,
        maxIters: max_iters as number | undefined,
      });
    });
  }
  OPTIM_WRAPPERS.register('OptimWrapper', (cfg: ConfigDict) => {
    const { params, ...rest } = cfg;
    return buildOptimWrapper({ type: 'OptimWrapper', ...rest }, (params as NamedParameter[] | undefined) ?? []);
  });
  // SGD is built by the optim wrapper (it needs the model's parameters); registered for completion.
  OPTIMIZERS.register('SGD', (cfg: ConfigDict) => ({ type: 'SGD', ...cfg }));
  HOOKS.register('RuntimeInfoHook', () => new RuntimeInfoHook());
  HOOKS.register('IterTimerHook', () => new IterTimerHook());
  HOOKS.register('LoggerHook', (cfg) => new LoggerHook(cfg));
  HOOKS.register('ParamSchedulerHook', () => new ParamSchedulerHook());
  HOOKS.register('CheckpointHook', (cfg) => new CheckpointHook(cfg));
  HOOKS.register('DistSamplerSeedHook', () => new DistSamplerSeedHook());
}
