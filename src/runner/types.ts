/**
 * The interfaces through which the runner sees the model and the evaluator, and the events it
 * emits. The Mask R-CNN model, the datasets and CocoMetric implement these (see `build.ts`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { NamedParameter } from './optim/optim_wrapper';

/** What `model.loss(batch)` returns: mmdet's loss dict (values summed into `loss` when the key contains `loss`). */
export interface LossOutput {
  /** `loss_rpn_cls`, `loss_cls`, `acc`, … (scalar tensors or lists of them, as mmdet returns). */
  losses: Record<string, tf.Tensor | tf.Tensor[]>;
  /** Extra plain scalars to log (optional). */
  parsedLog?: Record<string, number>;
}

/** A trainable detector as the runner needs it. `S` is one sample (pipeline output), `P` one prediction. */
export interface RunnerModel<S = unknown, P = unknown> {
  /** Every parameter with its mmdet state_dict key; frozen ones have `variable.trainable === false`. */
  namedParameters(): NamedParameter[];
  /** Forward in loss mode for a batch (list of samples). Called while a gradient tape records; may be async. */
  loss(batch: S[]): LossOutput | Promise<LossOutput>;
  /** Forward in predict mode; one prediction per sample. */
  predict(batch: S[]): P[] | Promise<P[]>;
  /** Switches train/inference behaviour (`model.train(mode)`). */
  setTraining?(training: boolean): void;
  /** All weights and buffers by mmdet key (for checkpoints). Defaults to the named parameters. */
  stateDict?(): Map<string, tf.Tensor>;
  /** Loads weights and buffers by mmdet key (resume). Defaults to assigning the named parameters. */
  loadStateDict?(sd: Map<string, tf.Tensor>): void;
  /** States of the model's own random sources (e.g. proposal samplers) by name, saved with checkpoints. */
  randomState?(): Record<string, number>;
  /** Restores states returned by {@link randomState} (resume). */
  setRandomState?(state: Record<string, number>): void;
}

/** An evaluator (`val_evaluator`): accumulates predictions, then computes metrics. */
export interface RunnerEvaluator<S = unknown, P = unknown> {
  process(batch: S[], predictions: P[]): void | Promise<void>;
  /** Metrics of everything processed since the last call (e.g. `coco/bbox_mAP`). */
  evaluate(size: number): Promise<Record<string, number | string>>;
}

/** Events for the UI / worker / CLI. */
export type RunnerEvent =
  | { type: 'log'; level: 'info' | 'warning' | 'error'; text: string }
  | { type: 'train-log'; step: number; tag: Record<string, number>; text: string }
  | { type: 'val-metrics'; mode: 'val' | 'test'; step: number; epoch: number; metrics: Record<string, number | string>; tag: Record<string, unknown>; text: string }
  | { type: 'checkpoint-saved'; id: string; name: string; epoch: number; iter: number; best: boolean }
  | { type: 'checkpoint-deleted'; id: string; name: string }
  | { type: 'progress'; mode: 'train' | 'val' | 'test'; epoch: number; iter: number; maxIters: number; batchIdx: number; batches: number }
  | { type: 'stopped'; reason: 'finished' | 'requested' | 'non-finite-loss'; message: string; epoch: number; iter: number };

/** Receives runner events. */
export type RunnerListener = (e: RunnerEvent) => void;
