/**
 * Requests of the predict worker, which builds a detector from a config and a checkpoint, runs it
 * on single images (dropped files, validation images) and on a whole validation split (COCO metrics,
 * results json, per-image ground truth for error browsing). Results are plain data: boxes, scores,
 * labels and masks cropped to their extent, so nothing image-sized per detection crosses the worker
 * boundary.
 */
import type { ClasswiseRow } from '../eval/coco_metric.ts';
import type { GtObject } from '../eval/error_analysis.ts';
import type { MaskPatch } from '../eval/mask.ts';
import type { StoredCheckpointInfo } from '../storage/checkpoint_db.ts';
import type { RequestSpec } from './protocol.ts';

/** Where the config comes from: a file of the tree (built-in or the user's) or a run's saved text. */
export type ConfigSource =
  | { kind: 'path'; path: string; userFiles: Record<string, string> }
  | { kind: 'text'; name: string; text: string };

/** Where the weights come from: a dropped `.pth` / `.safetensors`, or a checkpoint in IndexedDB. */
export type CheckpointSource =
  | { kind: 'file'; name: string; bytes: Uint8Array }
  | { kind: 'stored'; id: string; name: string }
  /** An http(s) URL (e.g. MMDetection's COCO weights): downloaded once, hash-checked, cached. */
  | { kind: 'url'; url: string; name: string };

/** What `load` reports about the model it built. */
export interface ModelInfo {
  /** Config name (tree path or run name). */
  configName: string;
  checkpointName: string;
  /** Class names (dataset metainfo of the config), one per label. */
  classes: string[];
  /** RGB colour per class (the dataset palette, e.g. Cityscapes'). */
  palette: Array<[number, number, number]>;
  /** `test_cfg.rcnn.score_thr`: the model drops detections below it. */
  scoreThr: number;
  /** The test pipeline's Resize `scale` (w, h), when there is one. */
  testScale: [number, number] | null;
  /** Tensors loaded / total in the model. */
  loaded: number;
  total: number;
  /** MMEngine-style notes: missing, unexpected, shape-mismatched keys. */
  warnings: string[];
  /** Backend name and its one-line notice. */
  backend: string;
  backendNotice: string;
}

/** The detections of one image. */
export interface ImagePrediction {
  /** File name (or the dataset's `file_name`). */
  name: string;
  /** Image id in the annotation file (validation images). */
  imgId?: number;
  /** Size of the frame the coordinates are in: the image, or its downscaled copy (see `notice`). */
  width: number;
  height: number;
  /** Size of the file as decoded before any downscaling. */
  originalWidth: number;
  originalHeight: number;
  /** Network input `[h, w]` (after the test pipeline's Resize, before padding). */
  inputShape: [number, number];
  /** Set when the image was downscaled before inference. */
  notice: string | null;
  /** Milliseconds for pipeline + model on this image. */
  ms: number;
  /** `[n*4]` absolute `x1y1x2y2` in frame pixels, scores descending. */
  bboxes: Float32Array;
  scores: Float32Array;
  labels: Int32Array;
  /** One mask per detection, cropped to its foreground extent (empty masks are 0x0), or null (no mask head). */
  masks: MaskPatch[] | null;
}

/** One validation image with its predictions and ground truth. */
export interface ValImageResult {
  prediction: ImagePrediction;
  /** Ground truth in the model's labels (annotations of unknown categories left out). */
  gt: GtObject[];
  /** URL the image was read from (for display). */
  url: string;
}

/** Which validation split to run. */
export interface ValSplitSpec {
  /** Absolute URL of the dataset root, ending in `/` (e.g. `https://host/demo/cityscapes/`). */
  baseUrl: string;
  /** Annotation file, relative to the root. */
  annFile: string;
  /** Image folder, relative to the root, ending in `/`. */
  imgPrefix: string;
  /** Run only the first `limit` images (default all). */
  limit?: number;
}

/** The outcome of a validation run. */
export interface ValRunResult {
  images: number;
  /** MMEngine-style metrics (`coco/bbox_mAP`, …). */
  metrics: Record<string, number>;
  /** Per-class AP tables. */
  classwise: { bbox?: ClasswiseRow[]; segm?: ClasswiseRow[] };
  /** COCO results json as MMDetection's `results2json` writes it (`detstudio eval --results` reads these). */
  resultsJson: { bbox: string; segm?: string };
  /** Mean milliseconds per image. */
  msPerImage: number;
  /** Log lines of the evaluation (summary and tables). */
  log: string[];
}

/** One run with its stored checkpoints. */
export interface StoredRun {
  runId: string;
  runName: string;
  /** The resolved config text the run trained with. */
  configText?: string;
  checkpoints: StoredCheckpointInfo[];
}

/** Requests the predict worker answers. */
export type PredictRequests = {
  /** Sets the backend up (WebGPU on a real adapter, else wasm). */
  init: RequestSpec<void, { backend: string; notice: string }>;
  /** Runs and checkpoints in the browser's checkpoint database. */
  listStored: RequestSpec<void, StoredRun[]>;
  /** Builds the detector and loads the weights. */
  load: RequestSpec<{ config: ConfigSource; checkpoint: CheckpointSource }, ModelInfo>;
  /** Predicts one image. */
  predict: RequestSpec<{ name: string; bytes: Uint8Array; imgId?: number }, ImagePrediction>;
  /** Predicts and evaluates a validation split; each image is reported as progress. */
  predictSplit: RequestSpec<ValSplitSpec, ValRunResult, { done: number; total: number; item: ValImageResult }>;
};

/** The predict worker pushes no events. */
export type PredictEvents = Record<string, never>;
