/**
 * The import report: every bad or notable input with its path and a reason, plus progress events.
 * Plain data (structured-cloneable), so it crosses the worker boundary as is.
 */

/** How bad an entry is: `error` = the file was skipped; `warning` = imported with a caveat; `info` = a note. */
export type IssueSeverity = 'error' | 'warning' | 'info';

/** Machine-readable reason of an {@link ImportIssue}. */
export type IssueCode =
  | 'image_without_gtfine'
  | 'gtfine_without_image'
  | 'unexpected_file_name'
  | 'png_unreadable'
  | 'instance_ids_not_16bit'
  | 'polygons_fallback'
  | 'invalid_json'
  | 'unknown_label'
  | 'unknown_category'
  | 'dangling_image_id'
  | 'missing_image_file'
  | 'duplicate_image_id'
  | 'invalid_annotation'
  | 'no_dataset_found';

/** One line of the import report. */
export interface ImportIssue {
  severity: IssueSeverity;
  code: IssueCode;
  /** Path of the offending file, relative to the imported root. */
  path: string;
  /** Human-readable reason. */
  reason: string;
}

/** Progress of an import (emitted after every file). */
export interface ImportProgress {
  /** What is being done, e.g. `convert train`. */
  phase: string;
  done: number;
  total: number;
  /** Items per second since the phase started. */
  rate: number;
  /** Seconds left at the current rate (`Infinity` before the first item). */
  etaSeconds: number;
  /** The file just processed. */
  path?: string;
}

/** Options shared by the importers. */
export interface ImportOptions {
  /** Cancels the import; the promise rejects with an `AbortError`. */
  signal?: AbortSignal;
  /** Receives progress events. */
  onProgress?: (p: ImportProgress) => void;
  /** Clock in milliseconds (injectable for tests). */
  now?: () => number;
}

/** Throws the signal's reason as an `AbortError` if it is aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) {
    const err = new Error('The import was cancelled.');
    err.name = 'AbortError';
    throw err;
  }
}

/** Tracks done/total and emits {@link ImportProgress} with rate and ETA. */
export class ProgressMeter {
  private done = 0;
  private readonly start: number;
  private readonly now: () => number;

  constructor(
    private readonly phase: string,
    private readonly total: number,
    private readonly options: ImportOptions,
  ) {
    this.now = options.now ?? (() => (typeof performance !== 'undefined' ? performance.now() : Date.now()));
    this.start = this.now();
  }

  /** Counts one item and reports. */
  tick(path?: string): void {
    this.done++;
    const elapsed = (this.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const left = this.total - this.done;
    const etaSeconds = left === 0 ? 0 : rate > 0 ? left / rate : Infinity;
    this.options.onProgress?.({ phase: this.phase, done: this.done, total: this.total, rate, etaSeconds, path });
  }
}
