/**
 * The checkpoint database's schema and its numbered migrations (tldraw's tlschema idea): each
 * migration upgrades from version N-1 to N and runs inside IndexedDB's versionchange transaction.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction } from 'idb';

/** Name of the IndexedDB database holding runs and checkpoints. */
export const CHECKPOINT_DB_NAME = 'detstudio-checkpoints';

/** A checkpoint's row: everything but the tensor bytes, which live in `chunks`. Written last. */
export interface CheckpointRow {
  id: string;
  runId: string;
  name: string;
  epoch: number;
  iter: number;
  /** ISO date of the save. */
  date: string;
  sizeBytes: number;
  chunkCount: number;
  metrics?: Record<string, number>;
  /** The record with typed arrays replaced by payload references (see payload.ts). */
  skeleton: unknown;
  /** Schema version the row was written with. */
  schema: number;
}

/** A training run: what the charts and the Resume button need after a reload. */
export interface RunRow {
  id: string;
  /** Display name. */
  name: string;
  /** ISO date of creation. */
  created: string;
  /** ISO date of the last update. */
  updated: string;
  /** Resolved config text (Python) the run trains. */
  configText?: string;
  /** Id of the dataset it trains on. */
  datasetId?: string;
  /** 'running' | 'paused' | 'stopped' | 'finished' | 'failed'. */
  status: string;
  /**
   * Logged scalars (one object per logged step, MMEngine scalars.json keys), for the charts. Since
   * version 3 the database keeps them in `scalarChunks` (append-only) and this field of a stored row
   * holds only rows written before; `CheckpointDb.getRun` returns the whole list.
   */
  scalars: Array<Record<string, number | string>>;
}

/** A chunk of a run's logged scalars: rows in logged order, appended, never rewritten by a flush. */
export interface ScalarChunkRow {
  runId: string;
  /** 0, 1, 2, … in logged order. */
  index: number;
  rows: Array<Record<string, number | string>>;
}

/**
 * A chunk of a run's MMEngine text log (`<date> - mmengine - INFO - …` lines). The log is
 * append-only: a flush tops up the last chunk to `LOG_CHUNK_LINES` lines and writes the rest as
 * new chunks under the next indices, so a write costs at most one chunk more than the new lines,
 * however long the run's log is.
 */
export interface LogChunkRow {
  runId: string;
  /** 0, 1, 2, … in the order the lines were logged. */
  index: number;
  lines: string[];
}

/** idb typing of the database. */
export interface CheckpointDbSchema extends DBSchema {
  checkpoints: { key: string; value: CheckpointRow; indexes: { runId: string } };
  /** Packed tensor bytes: key `${checkpointId}#${chunkIndex}`. */
  chunks: { key: string; value: { checkpointId: string; index: number; bytes: ArrayBuffer }; indexes: { checkpointId: string } };
  runs: { key: string; value: RunRow };
  /** Text-log chunks: key `[runId, index]` (since version 2). */
  logs: { key: [string, number]; value: LogChunkRow };
  /** Logged-scalar chunks: key `[runId, index]` (since version 3). */
  scalarChunks: { key: [string, number]; value: ScalarChunkRow };
}

type Tx = IDBPTransaction<CheckpointDbSchema, Array<'checkpoints' | 'chunks' | 'runs' | 'logs' | 'scalarChunks'>, 'versionchange'>;

/** Migrations in order; index i upgrades version i to i + 1. */
export const MIGRATIONS: Array<(db: IDBPDatabase<CheckpointDbSchema>, tx: Tx) => void> = [
  // 0 → 1: initial layout.
  (db) => {
    const ck = db.createObjectStore('checkpoints', { keyPath: 'id' });
    ck.createIndex('runId', 'runId');
    const chunks = db.createObjectStore('chunks');
    chunks.createIndex('checkpointId', 'checkpointId');
    db.createObjectStore('runs', { keyPath: 'id' });
  },
  // 1 → 2: the runs' text logs, append-only chunks keyed by [runId, index] (runs of version 1
  // simply have no stored log: their lines lived in the worker's memory only).
  (db) => {
    db.createObjectStore('logs', { keyPath: ['runId', 'index'] });
  },
  // 2 → 3: logged scalars as append-only chunks keyed by [runId, index], so a flush writes the new
  // rows only (it rewrote the whole run row, 10^5 rows of a long run, every 2 s). Rows stored
  // inline by earlier versions stay where they are and are read first.
  (db) => {
    db.createObjectStore('scalarChunks', { keyPath: ['runId', 'index'] });
  },
];

/** Current schema version. */
export const SCHEMA_VERSION = MIGRATIONS.length;
