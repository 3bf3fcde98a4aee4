/**
 * Small interfaces through which the runner sees datasets (the dataset issue's Cityscapes/COCO
 * datasets implement them).
 */

/** Width/height of a sample before the pipeline (what `get_data_info(idx)` reports). */
export interface DataInfo {
  width: number;
  height: number;
  [key: string]: unknown;
}

/** A map-style dataset: `length` samples, each produced (pipeline applied) by `get(i)`. */
export interface RunnerDataset<S = unknown> {
  /** Number of samples. */
  readonly length: number;
  /** Sample `i` after the data pipeline. */
  get(i: number): S | Promise<S>;
  /** Raw annotation info of sample `i` (needed by `AspectRatioBatchSampler`). */
  getDataInfo?(i: number): DataInfo;
  /** Dataset meta (`classes`, `palette`, …), saved into checkpoints as `dataset_meta`. */
  readonly metainfo?: Record<string, unknown>;
}
