/**
 * Requests and events of the training worker (`train.worker.ts`), as a kind → payload map on the
 * shared protocol (`protocol.ts`). Everything here is plain, structured-cloneable data: tensors stay
 * in the worker, the main thread gets losses, metrics, log lines and checkpoint summaries.
 */
import type { RequestSpec } from './protocol.ts';

/** Where the training images and annotation files come from. */
export type DatasetSource =
  /** The bundled demo dataset, fetched same-origin (`public/demo/...` → `/demo/...`). */
  | { kind: 'demo' }
  /**
   * A dataset imported into the studio (dataset pane). Hook for the dataset store: the worker asks
   * its {@link DatasetReaderFactory} for a reader of this id.
   */
  | { kind: 'imported'; datasetId: string };

/** What `start` trains. */
export interface StartTrainingRequest {
  /** Tree path of the config (e.g. `demo/mask-rcnn_r18_fpn_8xb2-demo_cityscapes.py`). */
  path: string;
  /** The user's config layer (their files and edited built-ins), tree path → text. */
  userFiles: Record<string, string>;
  /** `--cfg-options` style overrides (`train_cfg.max_iters=4`), applied after the file. */
  cfgOptions?: string[];
  dataset: DatasetSource;
  /** Force a backend (default: WebGPU on a hardware adapter, else wasm). */
  backend?: 'webgpu' | 'wasm';
  /** Display name of the run (defaults to the config name and a timestamp). */
  runName?: string;
}

/** What `resumeFrom` continues. */
export interface ResumeTrainingRequest {
  /** Run the checkpoint belongs to (its config text and scalars are reused). */
  runId: string;
  /** Checkpoint id; the run's latest checkpoint when omitted. */
  checkpointId?: string;
  dataset: DatasetSource;
  backend?: 'webgpu' | 'wasm';
}

/** State of the training session. */
export type TrainingStatus = 'idle' | 'starting' | 'running' | 'pausing' | 'paused' | 'stopping' | 'finished' | 'stopped' | 'failed';

/** Why a session is paused. */
export type PauseReason = 'user' | 'device-lost' | 'storage-quota';

/** Why a session ended badly (shown with a tailored message). */
export type FailureKind = 'non-finite-loss' | 'out-of-memory' | 'device-lost' | 'locked' | 'config' | 'error';

/** What `start` / `resumeFrom` answer once training has begun. */
export interface StartedInfo {
  runId: string;
  runName: string;
  backend: { name: string; notice: string };
  maxIters: number;
  maxEpochs: number;
  /** Warnings raised while building (skipped evaluators, load_from report…). */
  warnings: string[];
}

/** A run as listed for the training and checkpoints panes. */
export interface RunSummary {
  id: string;
  name: string;
  created: string;
  updated: string;
  status: string;
  /** Number of logged scalar rows. */
  points: number;
  hasConfig: boolean;
}

/** One listed checkpoint. */
export interface CheckpointSummary {
  id: string;
  runId: string;
  name: string;
  epoch: number;
  iter: number;
  sizeBytes: number;
  metrics?: Record<string, number>;
  date: string;
}

/** Storage usage as the browser reports it. */
export interface StorageInfo {
  usage: number;
  quota: number;
  persisted: boolean;
}

/** Export formats. */
export type ExportFormat = 'pth' | 'safetensors' | 'bundle' | 'config' | 'log' | 'scalars';

/** An exported file: bytes (transferred) and a suggested file name. */
export interface ExportedFile {
  fileName: string;
  mime: string;
  bytes: Uint8Array;
}

/** Progress of a long request (export, import). */
export interface ByteProgress {
  phase: string;
  done: number;
  total: number;
}

/** An imported weights file, usable as `load_from`. */
export interface ImportedWeights {
  /** The `load_from` value that refers to it (`weights://<name>`). */
  uri: string;
  name: string;
  sizeBytes: number;
  tensors: number;
  format: 'pth' | 'safetensors';
  date: string;
}

/** Requests the training worker answers. */
export type TrainRequests = {
  /** Starts training a config (refused when another tab or session trains). Resolves once running. */
  start: RequestSpec<StartTrainingRequest, StartedInfo>;
  /** Resumes a stored run from a checkpoint with identical optimizer and scheduler state. */
  resumeFrom: RequestSpec<ResumeTrainingRequest, StartedInfo>;
  /** Pauses after the current iteration. */
  pause: RequestSpec<void, TrainingStatus>;
  /** Continues a paused session (after a storage-quota pause, retries the save first). */
  resume: RequestSpec<void, TrainingStatus>;
  /** Stops after the current iteration. */
  stop: RequestSpec<void, TrainingStatus>;
  /** Runs with their status and number of logged points. */
  listRuns: RequestSpec<void, RunSummary[]>;
  /** A run's logged scalars (scalars.json rows) for the charts. */
  runScalars: RequestSpec<{ runId: string }, Array<Record<string, number | string>>>;
  /** Checkpoints of one run, or of every run. */
  listCheckpoints: RequestSpec<{ runId?: string }, CheckpointSummary[]>;
  deleteCheckpoint: RequestSpec<{ id: string }, void>;
  deleteRun: RequestSpec<{ runId: string }, void>;
  storage: RequestSpec<void, StorageInfo | null>;
  /** Exports a checkpoint (pth / safetensors), its config, or the run's logs. */
  export: RequestSpec<{ runId: string; checkpointId?: string; format: ExportFormat; withOptimizer?: boolean }, ExportedFile, ByteProgress>;
  /** Stores a dropped `.pth` / `.safetensors` so `load_from='weights://name'` reads it. */
  importWeights: RequestSpec<{ name: string; bytes: Uint8Array }, ImportedWeights, ByteProgress>;
  listWeights: RequestSpec<void, ImportedWeights[]>;
  deleteWeights: RequestSpec<{ uri: string }, void>;
};

/** One logged training step: the runner's `train-log` tag (LogProcessor-smoothed values). */
export interface TrainLogEvent {
  step: number;
  /** `lr`, `loss`, every `loss_*`, `acc`, `time`, `data_time`, `eta`, `memory`, `epoch`, `iter`… */
  tag: Record<string, number>;
  text: string;
}

/** A validation result. */
export interface ValMetricsEvent {
  step: number;
  epoch: number;
  /** Iteration count when the validation ran. */
  iter: number;
  metrics: Record<string, number | string>;
  text: string;
}

/** Events the training worker pushes. */
export type TrainEvents = {
  status: { status: TrainingStatus; runId: string | null; reason?: PauseReason; failure?: FailureKind; message?: string };
  backend: { name: string; notice: string };
  log: { level: 'info' | 'warning' | 'error'; text: string; line: string };
  'train-log': TrainLogEvent;
  'val-metrics': ValMetricsEvent;
  progress: { mode: 'train' | 'val' | 'test'; epoch: number; iter: number; maxIters: number; batchIdx: number; batches: number };
  'checkpoint-saved': { runId: string; id: string; name: string; epoch: number; iter: number; best: boolean };
  'checkpoint-deleted': { runId: string; id: string; name: string };
};
