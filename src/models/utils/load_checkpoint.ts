/**
 * Loads a checkpoint (`src/checkpoint` reader output) into a model's variables with MMEngine's
 * `load_from` semantics (strict=False by default). Layout conversion happens in
 * `src/checkpoint/mmdet_layout.ts`; this file only assigns.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadStateDict, backboneStyleWarning, type LoadStateDictResult } from '../../checkpoint/mmdet_layout';
import type { Checkpoint } from '../../checkpoint/torch_reader';
import type { TensorRecord } from '../../checkpoint/dtypes';
import { BatchNorm2d } from '../layers/nn';
import type { Module } from '../layers/module';

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** Throw on any mismatch (MMEngine `strict=True`). */
  strict?: boolean;
  /** The config's backbone style, to warn about caffe-style checkpoints. */
  backboneStyle?: string;
  /** File name (style detection evidence). */
  fileName?: string;
}

/** What {@link loadCheckpoint} did. */
export interface LoadCheckpointResult extends LoadStateDictResult {
  /** Number of variables assigned. */
  numLoaded: number;
  /** Warning about a caffe-style checkpoint loaded into a pytorch-style backbone, or null. */
  styleWarning: string | null;
}

/** Model key → shape in the model's layout, in registration order (with BN `num_batches_tracked`). */
export function modelStateShapes(model: Module): Map<string, number[]> {
  const bnPrefixes = new Set(model.modules().filter((m) => m instanceof BatchNorm2d).map((m) => m.prefix));
  const out = new Map<string, number[]>();
  for (const [k, v] of model.stateDict()) {
    out.set(k, v.shape.slice());
    if (k.endsWith('.running_var')) {
      const p = k.slice(0, -'.running_var'.length);
      if (bnPrefixes.has(p)) out.set(`${p}.num_batches_tracked`, []);
    }
  }
  return out;
}

/**
 * Assigns checkpoint tensors to the model's variables.
 *
 * @param model - any module (usually a detector, prefix '').
 * @param source - a read checkpoint or a bare state dict.
 */
export function loadCheckpoint(
  model: Module,
  source: Checkpoint | ReadonlyMap<string, TensorRecord>,
  opts: LoadCheckpointOptions = {},
): LoadCheckpointResult {
  const expected = modelStateShapes(model);
  const res = loadStateDict(expected, source, { strict: opts.strict ?? false, expectedLayout: 'model' });
  const vars = model.stateDict();
  let numLoaded = 0;
  for (const [k, t] of res.loaded) {
    const v = vars.get(k);
    if (v === undefined || t.dtype !== 'float32') continue;
    tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, t.shape, 'float32')));
    numLoaded++;
  }
  const meta = source instanceof Map ? null : (source as Checkpoint).meta;
  const styleWarning = opts.backboneStyle ? backboneStyleWarning(meta, opts.backboneStyle, opts.fileName) : null;
  return { ...res, numLoaded, styleWarning };
}
