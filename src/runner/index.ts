/**
 * The training runner (MMEngine's Runner for DetStudio): build it from a resolved config with
 * {@link buildRunner} (real model, datasets, metric) or construct {@link Runner} with injected parts.
 * Runs in a Web Worker and in Node. The Node-only file store lives in `./node/file_checkpoint_store`.
 */
export { registerRunnerTypes } from './register';
export { Runner, parseLosses, type RunnerOptions, type TrainResult } from './runner';
export { buildRunner, loadFrom, runnerDataset, pipelineContexts, DetectorAdapter, CocoEvaluator, mmdetCheckpointFromRecord, type BuildContext, type BuildRunnerOptions, type BuiltRunner, type PipelineContexts } from './build';
export type { RunnerEvent, RunnerListener, RunnerModel, RunnerEvaluator, LossOutput } from './types';
export { MemoryCheckpointStore, recordSizeBytes, type CheckpointStore, type CheckpointRecord, type CheckpointInfo, type CheckpointMeta, type TensorData } from './checkpoint_store';
export { PRIORITY, RuntimeInfoHook, IterTimerHook, LoggerHook, ParamSchedulerHook, CheckpointHook, DistSamplerSeedHook, type Hook } from './hooks';
export { LogProcessor, pyExp, pyFixed, pyTimedelta } from './logging/log_processor';
export { MessageHub, HistoryBuffer } from './logging/message_hub';
export { OptimWrapper, buildOptimWrapper, buildParamGroups, scaleLr, isNormParamName, type NamedParameter, type ParamwiseCfg, type ClipGradCfg } from './optim/optim_wrapper';
export { SGD, type SGDOptions, type OptimizerStateDict } from './optim/sgd';
export { SGDReference, clipGradNormReference, float32, float64 } from './optim/sgd_reference';
export { clipGradNorm, clipGradValue } from './optim/clip_grad';
export type { ParamGroup, HasParamGroups } from './optim/param_group';
export { buildParamScheduler, buildParamSchedulers, SCHEDULER_TYPE_NAMES, type SchedulerBuildContext } from './scheduler/build';
export * from './scheduler/param_scheduler';
export { DefaultSampler, BatchSampler, AspectRatioBatchSampler, DataLoader, type DataLoaderOptions, type SamplerState } from './data/sampler';
export { RepeatDataset } from './data/dataset_wrappers';
export { MT19937, randperm, syncRandomSeed } from './data/rng';
export type { RunnerDataset, DataInfo } from './data/types';
