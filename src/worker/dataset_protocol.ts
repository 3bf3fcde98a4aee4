/**
 * Requests of the dataset worker, which imports, stores and reads datasets off the main thread:
 * walking a dropped folder, converting Cityscapes, copying into OPFS, decoding thumbnails and
 * rendering instance overlays. Results are plain data (plus `ImageBitmap`s, which the structured
 * clone moves cheaply).
 */
import type { BindingDiagnostic } from '../data/binding.ts';
import type { DatasetStatistics, DroppedImage } from '../data/coco_dataset.ts';
import type { ImportIssue, ImportProgress } from '../data/import_report.ts';
import type { DatasetSummary } from '../storage/dataset_db.ts';
import type { RequestSpec } from './protocol.ts';

/** Id of the bundled demo dataset (never stored; always listed). */
export const DEMO_DATASET_ID = 'demo';

/** A file of a dropped folder that had no handle (the `webkitGetAsEntry` / `<input>` fallback). */
export interface LooseFile {
  /** Path relative to the dropped folder's parent (`cityscapes/leftImg8bit/...`). */
  path: string;
  file: Blob;
}

/** What to import. */
export type ImportSource =
  /** A `FileSystemDirectoryHandle` (drop or `showDirectoryPicker`). */
  | { kind: 'handle'; handle: unknown; name: string }
  /** Files of a folder without a handle (copied into OPFS). */
  | { kind: 'files'; files: LooseFile[]; name: string }
  /** A `.zip` (copied into OPFS as one archive and read lazily). */
  | { kind: 'zip'; file: Blob; name: string };

/** Where the image bytes of an imported folder are kept. */
export type StorageMode = 'handle' | 'opfs';

/** Result of an import. */
export interface ImportResult {
  /** The stored dataset, or null when nothing importable was found. */
  summary: DatasetSummary | null;
  /** Every bad or notable input. */
  issues: ImportIssue[];
  /** True when a dataset with the same content was replaced (not duplicated). */
  replaced: boolean;
  /** Wall time in milliseconds. */
  ms: number;
}

/** One image as the browser lists it. */
export interface ImageEntry {
  /** `<split index>:<image id>`. */
  key: string;
  split: string;
  id: number;
  fileName: string;
  width: number;
  height: number;
  /** Labels (metainfo order) of its non-crowd instances, sorted, unique. */
  labels: number[];
  instances: number;
  crowd: number;
}

/** One split of an opened dataset. */
export interface SplitInfo {
  name: string;
  annFile: string;
  imgPrefix: string;
  images: number;
  stats: DatasetStatistics;
  /** Images the training filter (`filter_empty_gt=True, min_size=32`, as the Cityscapes config) drops. */
  dropped: DroppedImage[];
}

/** An opened dataset: everything the browser shows except pixels. */
export interface DatasetIndex {
  id: string;
  name: string;
  format: 'cityscapes' | 'coco';
  sourceKind: DatasetSummary['sourceKind'];
  /** A folder handle without read permission (ask again with a user gesture), by folder name. */
  needsPermission: string | null;
  /** The folder handle to call `requestPermission` on (from a click), when `needsPermission` is set. */
  permissionHandle: unknown;
  classes: string[];
  palette: Array<[number, number, number]>;
  splits: SplitInfo[];
  images: ImageEntry[];
  /** Statistics over all splits. */
  stats: DatasetStatistics;
  issues: ImportIssue[];
}

/** One instance of an image view. */
export interface ViewInstance {
  /** Label in metainfo order (-1 when the category is not a dataset class). */
  label: number;
  name: string;
  /** COCO `[x, y, w, h]`, pixels. */
  bbox: [number, number, number, number];
  area: number;
  crowd: boolean;
}

/** An image with its instances rendered. */
export interface ImageView {
  key: string;
  fileName: string;
  width: number;
  height: number;
  image: ImageBitmap;
  /** Instance masks in the palette, crowd regions hatched; same size as `image`. */
  overlay: ImageBitmap;
  instances: ViewInstance[];
}

/** One dataset section of the resolved config and how it binds to the dataset. */
export interface BindingSection {
  /** Config path, e.g. `train_dataloader.dataset`. */
  key: string;
  type: string;
  dataRoot: string;
  annFile: string;
  imgPrefix: string;
  /** True when `ann_file` names an annotation file of this dataset. */
  matches: boolean;
  diagnostics: BindingDiagnostic[];
}

/** Result of a binding check. */
export interface BindingReport {
  configPath: string;
  /** Why the config could not be checked (it does not resolve), or null. */
  error: string | null;
  sections: BindingSection[];
}

/** Storage used and available for this origin. */
export interface StorageInfo {
  usage: number;
  quota: number;
}

/** Requests the dataset worker answers. */
export type DatasetRequests = {
  list: RequestSpec<{ demoBaseUrl: string }, DatasetSummary[]>;
  import: RequestSpec<{ source: ImportSource; mode: StorageMode }, ImportResult, ImportProgress>;
  open: RequestSpec<{ id: string; demoBaseUrl: string }, DatasetIndex>;
  thumbnails: RequestSpec<{ id: string; keys: string[]; size: number }, Array<ImageBitmap | null>>;
  image: RequestSpec<{ id: string; key: string }, ImageView>;
  delete: RequestSpec<{ id: string }, void>;
  binding: RequestSpec<{ id: string; configPath: string; userFiles: Record<string, string> }, BindingReport>;
  storage: RequestSpec<void, StorageInfo | null>;
};

/** The dataset worker pushes no events. */
export type DatasetEvents = Record<string, never>;
