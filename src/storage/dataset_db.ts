/**
 * Imported datasets in IndexedDB (`detstudio-datasets`, separate from the checkpoint database): the
 * index of each dataset (COCO jsons per split, class map, import report, file list) and where its
 * image bytes live — a persisted directory handle (read in place, permission asked again after a
 * reload) or a folder of the origin private file system (OPFS, copied at import).
 *
 * Re-importing a tree with the same content fingerprint replaces the earlier row instead of adding a
 * second one. Handles are stored as opaque structured-cloneable values, so this leaf needs no DOM.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { CocoJson } from '../data/coco_types.ts';
import type { ImportIssue } from '../data/import_report.ts';

/** Name of the datasets database. */
export const DATASET_DB_NAME = 'detstudio-datasets';
/** Schema version of the datasets database. */
export const DATASET_DB_VERSION = 1;

/** Where the image bytes of a dataset are read from. */
export type DatasetSource =
  /** Static files of the app's own origin (the bundled demo), read with `fetch`. */
  | { kind: 'url'; baseUrl: string }
  /** A `FileSystemDirectoryHandle` the user granted (read in place; opaque here). */
  | { kind: 'handle'; handle: unknown; folderName: string }
  /** A folder of the origin private file system; `zip` names an archive copied there, read lazily. */
  | { kind: 'opfs'; dir: string; zip?: string };

/** One split of a stored dataset, in MMDetection config terms. */
export interface StoredSplit {
  name: string;
  /** `ann_file` relative to the dataset root. */
  annFile: string;
  /** `data_prefix.img` relative to the dataset root (ends in `/` or is `''`). */
  imgPrefix: string;
  coco: CocoJson;
}

/** A stored dataset. */
export interface DatasetRecord {
  id: string;
  name: string;
  format: 'cityscapes' | 'coco';
  /** Folder of the source tree acting as `data_root` (`''` or e.g. `cityscapes/`). */
  root: string;
  /** Content fingerprint of the imported tree (see `treeFingerprint`). */
  fingerprint: string;
  createdAt: number;
  source: DatasetSource;
  splits: StoredSplit[];
  issues: ImportIssue[];
  /** Every file path of the tree relative to `root` (for config binding checks). */
  paths: string[];
}

/** What a dataset list shows (no annotations). */
export interface DatasetSummary {
  id: string;
  name: string;
  format: 'cityscapes' | 'coco';
  createdAt: number;
  sourceKind: DatasetSource['kind'];
  images: number;
  annotations: number;
  splits: string[];
  issues: number;
}

interface DatasetDbSchema extends DBSchema {
  datasets: { key: string; value: DatasetRecord; indexes: { fingerprint: string } };
}

/** The summary of a record. */
export function summarizeDataset(r: DatasetRecord): DatasetSummary {
  let images = 0;
  let annotations = 0;
  for (const s of r.splits) {
    images += s.coco.images.length;
    annotations += s.coco.annotations?.length ?? 0;
  }
  return {
    id: r.id,
    name: r.name,
    format: r.format,
    createdAt: r.createdAt,
    sourceKind: r.source.kind,
    images,
    annotations,
    splits: r.splits.map((s) => s.name),
    issues: r.issues.filter((i) => i.severity !== 'info').length,
  };
}

/** The datasets database. */
export class DatasetDb {
  private constructor(private readonly db: IDBPDatabase<DatasetDbSchema>) {}

  /** Opens (creating) the database. */
  static async open(name = DATASET_DB_NAME): Promise<DatasetDb> {
    const db = await openDB<DatasetDbSchema>(name, DATASET_DB_VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          const store = database.createObjectStore('datasets', { keyPath: 'id' });
          store.createIndex('fingerprint', 'fingerprint');
        }
      },
    });
    return new DatasetDb(db);
  }

  /** Closes the connection. */
  close(): void {
    this.db.close();
  }

  /**
   * Stores `record`. When a dataset with the same fingerprint exists it is replaced and keeps its id
   * (re-importing a folder does not duplicate it). Returns the stored record and whether it replaced one.
   */
  async put(record: DatasetRecord): Promise<{ record: DatasetRecord; replaced: DatasetRecord | null }> {
    const tx = this.db.transaction('datasets', 'readwrite');
    const existing = (await tx.store.index('fingerprint').get(record.fingerprint)) ?? null;
    const stored = existing ? { ...record, id: existing.id } : record;
    await tx.store.put(stored);
    await tx.done;
    return { record: stored, replaced: existing };
  }

  /** The dataset with `fingerprint`, if one is stored. */
  async findByFingerprint(fingerprint: string): Promise<DatasetRecord | undefined> {
    return this.db.getFromIndex('datasets', 'fingerprint', fingerprint);
  }

  /** One dataset. */
  get(id: string): Promise<DatasetRecord | undefined> {
    return this.db.get('datasets', id);
  }

  /** Summaries of every stored dataset, newest first. */
  async list(): Promise<DatasetSummary[]> {
    const all = await this.db.getAll('datasets');
    return all.map(summarizeDataset).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
  }

  /** Deletes a dataset's row (its OPFS folder is removed by the caller). Returns the deleted record. */
  async delete(id: string): Promise<DatasetRecord | undefined> {
    const tx = this.db.transaction('datasets', 'readwrite');
    const r = await tx.store.get(id);
    if (r) await tx.store.delete(id);
    await tx.done;
    return r;
  }
}
