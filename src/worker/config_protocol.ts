/**
 * Requests of the config worker, which resolves configs, computes diagnostics, completions and
 * hovers off the main thread (a runaway config can then never freeze the tab: the client kills and
 * restarts the worker instead). The result types are plain data shared with the editor store.
 */
import type { DatasetFacts } from '../data/binding.ts';
import type { RequestSpec } from './protocol.ts';

/** A diagnostic in one file, with offsets into its text. */
export interface EditorDiagnostic {
  severity: 'error' | 'warning' | 'info';
  message: string;
  /** Start offset (UTF-16 code units). */
  from: number;
  /** End offset. */
  to: number;
  /** A one-click fix: replace each range by its text. */
  quickFix?: { title: string; edits: { from: number; to: number; insert: string }[] };
}

/** One key the config changes relative to its merged bases. */
export interface DiffItem {
  /** Dotted key path, e.g. `model.roi_head.bbox_head.num_classes`. */
  path: string;
  kind: 'added' | 'changed' | 'removed';
  /** The bases' value (one line of Python). */
  before?: string;
  /** The resolved value. */
  after?: string;
  /** `file:line` where the resolved value is written. */
  origin?: string;
}

/** The result of analysing one version of one file. */
export interface ConfigAnalysis {
  /** Tree path of the file, e.g. `cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py`. */
  path: string;
  /** The text that was analysed (to drop stale results). */
  text: string;
  diagnostics: EditorDiagnostic[];
  /** Pretty text of the resolved config, or the formatted error that stopped resolution. */
  resolved: { ok: true; text: string } | { ok: false; error: string };
  /** What the file changes relative to its merged bases; null when it did not resolve. */
  diff: DiffItem[] | null;
  /** Number of `_base_` entries (0: nothing to diff against). */
  baseCount: number;
  /** Wall time of the analysis in milliseconds. */
  ms: number;
}

/** A completion candidate at the cursor. */
export interface ConfigCompletion {
  label: string;
  /** What is inserted (defaults to the label). */
  insertText?: string;
  kind: 'type' | 'key' | 'value';
  detail?: string;
  documentation?: string;
  /** Range of text the completion replaces (offsets). */
  from?: number;
  to?: number;
}

/** What hovering over a key shows. */
export interface ConfigHover {
  /** Markdown lines. */
  contents: string[];
  from: number;
  to: number;
}

/** Where the text to analyse comes from: the user's layer over the built-in tree. */
export interface WorkspaceSnapshot {
  /** The user's files (their configs and edited built-ins), tree path → text. */
  userFiles: Record<string, string>;
}

/** Requests the config worker answers. */
export type ConfigRequests = {
  /** Analyses a file; with `datasets`, its dataset sections are also checked against them (binding diagnostics). */
  analyze: RequestSpec<WorkspaceSnapshot & { path: string; datasets?: DatasetFacts[] }, ConfigAnalysis>;
  /** Summaries of the available datasets (the demo under `demoBaseUrl` and those stored in IndexedDB). */
  datasets: RequestSpec<{ demoBaseUrl: string }, DatasetFacts[]>;
  complete: RequestSpec<WorkspaceSnapshot & { path: string; offset: number }, ConfigCompletion[]>;
  hover: RequestSpec<WorkspaceSnapshot & { path: string; offset: number }, ConfigHover | null>;
};

/** The config worker pushes no events. */
export type ConfigEvents = Record<string, never>;
