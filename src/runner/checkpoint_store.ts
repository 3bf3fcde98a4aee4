/**
 * Where `CheckpointHook` puts checkpoints: a small store interface (the IndexedDB/OPFS store of the
 * checkpoint issue implements it too) and an in-memory implementation.
 */
import type { OptimizerStateDict } from './optim/sgd';
import type { RngState } from '../data/transforms/types';
import type { SamplerState } from './data/sampler';

/** A tensor as plain data (row-major). */
export interface TensorData {
  dtype: 'float32' | 'int32' | 'int64';
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

/** Checkpoint meta as MMEngine writes it (`epoch`, `iter`, `seed`, `cfg`, `dataset_meta`, …). */
export interface CheckpointMeta {
  /** Epochs completed (MMEngine `meta.epoch`). */
  epoch: number;
  /** Iterations completed (MMEngine `meta.iter`). */
  iter: number;
  /** Random seed of the run. */
  seed: number;
  /** The resolved config as text (Python), when known. */
  cfg?: string;
  /** Dataset meta (`classes`, `palette`). */
  dataset_meta?: Record<string, unknown>;
  /** ISO time of the save. */
  time: string;
  experiment_name?: string;
  [key: string]: unknown;
}

/** Everything a resumable checkpoint holds (MMEngine's `save_checkpoint` plus sampler and pipeline RNG state). */
export interface CheckpointRecord {
  /** File-style name (`epoch_3.pth`, `best_coco_bbox_mAP_epoch_3.pth`, `iter_500.pth`). */
  name: string;
  meta: CheckpointMeta;
  /** Model weights and buffers by mmdet state_dict key. */
  state_dict: Record<string, TensorData>;
  /** SGD state (momentum buffers) in PyTorch's layout. */
  optimizer?: OptimizerStateDict;
  /** One state dict per parameter scheduler, in config order. */
  param_schedulers?: Array<Record<string, unknown>>;
  /** Message hub (log histories, runtime info). */
  message_hub?: Record<string, unknown>;
  /** Sampler state (seed, epoch) — not in MMEngine checkpoints, which re-derive it from the seed. */
  sampler?: SamplerState;
  /**
   * State of the train pipeline's random source (RandomFlip / RandomResize draws) as of the last
   * trained batch, so a resumed run draws what the uninterrupted one would. Absent in records of
   * older DetStudio versions (resume then warns and starts the stream afresh). Not in MMEngine
   * checkpoints; the `.pth` keeps it in `meta.pipeline_rng`.
   */
  pipeline_rng?: RngState;
  /**
   * States of the model's own random sources (the RPN and R-CNN `RandomSampler`s) by module path;
   * the `.pth` keeps them in `meta.model_rng`.
   */
  model_rng?: Record<string, number>;
  /** Validation metrics known at save time. */
  metrics?: Record<string, number>;
}

/** One listed checkpoint. */
export interface CheckpointInfo {
  id: string;
  name: string;
  epoch: number;
  iter: number;
  /** Bytes of tensor data (weights + optimizer state). */
  sizeBytes: number;
  metrics?: Record<string, number>;
  /** ISO time of the save. */
  date: string;
}

/** Storage of checkpoints. `save` must be atomic: a failed save leaves no visible record. */
export interface CheckpointStore {
  /** Saves a record and returns its id. */
  save(record: CheckpointRecord): Promise<string>;
  /** Lists the records, oldest first. */
  list(): Promise<CheckpointInfo[]>;
  /** Loads a record by id. */
  load(id: string): Promise<CheckpointRecord>;
  /** Deletes a record by id (no error when absent). */
  delete(id: string): Promise<void>;
}

/** Bytes of tensor data in a record. */
export function recordSizeBytes(r: CheckpointRecord): number {
  let n = 0;
  for (const t of Object.values(r.state_dict)) n += t.data.byteLength;
  if (r.optimizer) for (const s of Object.values(r.optimizer.state)) n += s.momentum_buffer.data.byteLength;
  return n;
}

/** Copies tensor buffers so the stored record cannot change afterwards. */
function cloneRecord(r: CheckpointRecord): CheckpointRecord {
  return structuredClone(r);
}

/** Keeps checkpoints in memory (tests, and the worker until a persistent store is attached). */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly records = new Map<string, { record: CheckpointRecord; info: CheckpointInfo }>();
  private next = 1;

  async save(record: CheckpointRecord): Promise<string> {
    const id = String(this.next++);
    const copy = cloneRecord(record);
    this.records.set(id, {
      record: copy,
      info: {
        id,
        name: record.name,
        epoch: record.meta.epoch,
        iter: record.meta.iter,
        sizeBytes: recordSizeBytes(record),
        metrics: record.metrics ? { ...record.metrics } : undefined,
        date: record.meta.time,
      },
    });
    return id;
  }

  async list(): Promise<CheckpointInfo[]> {
    return [...this.records.values()].map((r) => ({ ...r.info }));
  }

  async load(id: string): Promise<CheckpointRecord> {
    const r = this.records.get(id);
    if (!r) throw new Error(`checkpoint '${id}' not found`);
    return cloneRecord(r.record);
  }

  async delete(id: string): Promise<void> {
    this.records.delete(id);
  }
}
