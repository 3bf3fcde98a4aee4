/**
 * Checkpoints and training runs in IndexedDB (through `idb`), surviving reloads and crashes.
 *
 * A save is atomic as seen by readers: the tensor bytes are written first, as a few packed chunks
 * (payload.ts), each in its own transaction; the checkpoint row that makes them visible is written
 * last, in one transaction with the pruning of older checkpoints. A tab closed or killed mid-save
 * leaves only unreferenced chunks, which `open` sweeps; the previous checkpoints stay intact.
 * A save in progress holds a Web Lock (shared by every tab and worker, released when its context
 * closes or crashes), so a sweep run by another tab or worker leaves that save's chunks alone.
 * A full disk (QuotaExceededError) deletes the partial chunks and raises {@link StorageQuotaError}.
 */
import { type IDBPDatabase, openDB } from 'idb';
import { joinPayloads, splitPayloads } from './payload';
import { CHECKPOINT_DB_NAME, type CheckpointDbSchema, type CheckpointRow, MIGRATIONS, type RunRow, type ScalarChunkRow, SCHEMA_VERSION } from './schema';

/** Most lines in one stored text-log chunk. */
export const LOG_CHUNK_LINES = 1000;

/** Most rows in one stored scalars chunk. */
export const SCALAR_CHUNK_ROWS = 1000;

/** Key range of every text-log or scalars chunk of a run (keys are `[runId, index]`). */
function runRange(runId: string): IDBKeyRange {
  return IDBKeyRange.bound([runId, 0], [runId, Number.MAX_SAFE_INTEGER]);
}

/** A run's scalars: rows stored inline by schema versions before 3, then the chunks in order. */
function joinScalars(inline: RunRow['scalars'] | undefined, chunks: readonly ScalarChunkRow[]): RunRow['scalars'] {
  const out = inline ? inline.slice() : [];
  for (const c of [...chunks].sort((a, b) => a.index - b.index)) for (const r of c.rows) out.push(r);
  return out;
}

/** Raised when the browser's storage quota is exhausted during a save. Nothing else is lost. */
export class StorageQuotaError extends Error {
  override name = 'StorageQuotaError';
}

/** What a stored checkpoint record must have (the runner's CheckpointRecord fits). */
export interface StorableRecord {
  name: string;
  meta: { epoch: number; iter: number; time: string };
  metrics?: Record<string, number>;
}

/** A listed checkpoint (the runner's CheckpointInfo shape). */
export interface StoredCheckpointInfo {
  id: string;
  name: string;
  epoch: number;
  iter: number;
  sizeBytes: number;
  metrics?: Record<string, number>;
  date: string;
}

function isQuotaError(e: unknown): boolean {
  const n = (e as { name?: string } | null)?.name;
  return n === 'QuotaExceededError' || n === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** Prefix of the Web Lock a save holds from before its first chunk write until its row is committed. */
const SAVE_LOCK_PREFIX = 'detstudio-checkpoint-save:';

/** The part of the Web Locks API used here. */
interface Locks {
  request<T>(name: string, fn: () => Promise<T>): Promise<T>;
  query(): Promise<{ held?: Array<{ name?: string }> }>;
}

/** Web Locks where the platform has them (browsers, their workers); undefined in Node. */
function webLocks(): Locks | undefined {
  return (globalThis as { navigator?: { locks?: Locks } }).navigator?.locks;
}

/** Test hook: lets a test kill a save after a number of chunk writes. */
export interface SaveFaults {
  /** Called before each chunk write with its index; throwing aborts the save there. */
  beforeChunk?(index: number): void;
}

/** The database: runs and their checkpoints. */
export class CheckpointDb {
  private constructor(readonly db: IDBPDatabase<CheckpointDbSchema>) {}

  /**
   * Opens (creating or migrating) the database and sweeps chunks no checkpoint row references
   * (left by a save that was interrupted).
   */
  static async open(name = CHECKPOINT_DB_NAME): Promise<CheckpointDb> {
    const db = await openDB<CheckpointDbSchema>(name, SCHEMA_VERSION, {
      upgrade(database, oldVersion, _newVersion, tx) {
        for (let v = oldVersion; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(database, tx as never);
      },
    });
    const store = new CheckpointDb(db);
    await store.sweepOrphans();
    return store;
  }

  /** Closes the connection. */
  close(): void {
    this.db.close();
  }

  /**
   * Deletes chunks whose checkpoint row does not exist, except those of saves still in progress in
   * any tab or worker (they hold their save lock). Returns how many were deleted.
   */
  async sweepOrphans(): Promise<number> {
    const read = this.db.transaction(['chunks', 'checkpoints'], 'readonly');
    const rows0 = new Set(await read.objectStore('checkpoints').getAllKeys());
    const owners = new Set<string>();
    let cursor = await read.objectStore('chunks').index('checkpointId').openKeyCursor();
    while (cursor) {
      if (!rows0.has(cursor.key)) owners.add(cursor.key);
      cursor = await cursor.continue();
    }
    await read.done;
    if (owners.size === 0) return 0;
    // An owner whose lock is free now has either committed its row since (checked again below) or died.
    const held = new Set(((await webLocks()?.query())?.held ?? []).map((l) => l.name));
    const tx = this.db.transaction(['chunks', 'checkpoints'], 'readwrite');
    const rows = new Set(await tx.objectStore('checkpoints').getAllKeys());
    let n = 0;
    for (const id of owners) {
      if (rows.has(id) || held.has(SAVE_LOCK_PREFIX + id)) continue;
      for (const k of await tx.objectStore('chunks').index('checkpointId').getAllKeys(id)) {
        await tx.objectStore('chunks').delete(k);
        n++;
      }
    }
    await tx.done;
    return n;
  }

  // ---- runs -------------------------------------------------------------------------------

  /**
   * Creates or replaces a run row; `run.scalars` replaces the run's stored scalars (rewritten as
   * chunks: this costs the whole history, so the training loop appends with appendScalars).
   */
  async putRun(run: RunRow): Promise<void> {
    const tx = this.db.transaction(['runs', 'scalarChunks'], 'readwrite');
    const chunks = tx.objectStore('scalarChunks');
    const done: Array<Promise<unknown>> = [chunks.delete(runRange(run.id)), tx.objectStore('runs').put({ ...run, scalars: [] })];
    for (let i = 0, index = 0; i < run.scalars.length; i += SCALAR_CHUNK_ROWS) {
      done.push(chunks.put({ runId: run.id, index: index++, rows: run.scalars.slice(i, i + SCALAR_CHUNK_ROWS) }));
    }
    await Promise.all([...done, tx.done]);
  }

  /** A run by id with all its logged scalars, or undefined. */
  async getRun(id: string): Promise<RunRow | undefined> {
    const tx = this.db.transaction(['runs', 'scalarChunks'], 'readonly');
    const [row, chunks] = await Promise.all([tx.objectStore('runs').get(id), tx.objectStore('scalarChunks').getAll(runRange(id))]);
    await tx.done;
    if (!row) return undefined;
    return { ...row, scalars: joinScalars(row.scalars, chunks) };
  }

  /** All runs with their logged scalars, most recently updated first. */
  async listRuns(): Promise<RunRow[]> {
    const tx = this.db.transaction(['runs', 'scalarChunks'], 'readonly');
    const [rows, chunks] = await Promise.all([tx.objectStore('runs').getAll(), tx.objectStore('scalarChunks').getAll()]);
    await tx.done;
    const byRun = new Map<string, ScalarChunkRow[]>();
    for (const c of chunks) {
      const list = byRun.get(c.runId);
      if (list) list.push(c);
      else byRun.set(c.runId, [c]);
    }
    return rows
      .map((r) => ({ ...r, scalars: joinScalars(r.scalars, byRun.get(r.id) ?? []) }))
      .sort((a, b) => b.updated.localeCompare(a.updated));
  }

  /**
   * All runs without their logged scalars (only how many there are), most recently updated first:
   * what run lists need. Reads one chunk per run: every chunk but a run's last holds exactly
   * {@link SCALAR_CHUNK_ROWS} rows (putRun writes full chunks, appendScalars tops up the last).
   */
  async listRunInfos(): Promise<Array<Omit<RunRow, 'scalars'> & { points: number }>> {
    const tx = this.db.transaction(['runs', 'scalarChunks'], 'readonly');
    const chunks = tx.objectStore('scalarChunks');
    const out: Array<Omit<RunRow, 'scalars'> & { points: number }> = [];
    for (const { scalars, ...info } of await tx.objectStore('runs').getAll()) {
      const n = await chunks.count(runRange(info.id));
      const last = n > 0 ? await chunks.openCursor(runRange(info.id), 'prev') : null;
      out.push({ ...info, points: (scalars?.length ?? 0) + (n > 0 ? (n - 1) * SCALAR_CHUNK_ROWS + (last?.value.rows.length ?? 0) : 0) });
    }
    await tx.done;
    return out.sort((a, b) => b.updated.localeCompare(a.updated));
  }

  /**
   * Appends logged scalars to a run (the charts' history): the run's last chunk is topped up to
   * {@link SCALAR_CHUNK_ROWS} rows, the rest goes to new chunks, so a flush writes at most about
   * one chunk more than its rows however long the history is.
   */
  async appendScalars(runId: string, rows: RunRow['scalars']): Promise<void> {
    const tx = this.db.transaction(['runs', 'scalarChunks'], 'readwrite');
    const runs = tx.objectStore('runs');
    const chunks = tx.objectStore('scalarChunks');
    const run = await runs.get(runId);
    if (!run) throw new Error(`run '${runId}' not found`);
    if (rows.length > 0) {
      const last = await chunks.openCursor(runRange(runId), 'prev');
      let rest = rows;
      let index = last ? last.value.index + 1 : 0;
      if (last && last.value.rows.length < SCALAR_CHUNK_ROWS) {
        const take = SCALAR_CHUNK_ROWS - last.value.rows.length;
        await chunks.put({ ...last.value, rows: [...last.value.rows, ...rows.slice(0, take)] });
        rest = rows.slice(take);
      }
      for (let i = 0; i < rest.length; i += SCALAR_CHUNK_ROWS) await chunks.put({ runId, index: index++, rows: rest.slice(i, i + SCALAR_CHUNK_ROWS) });
    }
    run.updated = new Date().toISOString();
    await runs.put(run);
    await tx.done;
  }

  /** Deletes a run with all its checkpoints, its logged scalars and its text log. */
  async deleteRun(runId: string): Promise<void> {
    for (const c of await this.listCheckpoints(runId)) await this.deleteCheckpoint(c.id);
    await this.db.delete('logs', runRange(runId));
    await this.db.delete('scalarChunks', runRange(runId));
    await this.db.delete('runs', runId);
  }

  // ---- text logs ------------------------------------------------------------------------------

  /**
   * Appends lines to a run's text log, in one transaction: the last chunk is topped up to
   * {@link LOG_CHUNK_LINES} lines and the rest goes to new chunks; full chunks are never rewritten.
   * The transaction is opened before the first await, so a read started later (readLog) sees these
   * lines.
   */
  async appendLog(runId: string, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const tx = this.db.transaction('logs', 'readwrite');
    const last = await tx.store.openCursor(runRange(runId), 'prev');
    let rest = lines;
    let index = last ? last.value.index + 1 : 0;
    if (last && last.value.lines.length < LOG_CHUNK_LINES) {
      const take = LOG_CHUNK_LINES - last.value.lines.length;
      await tx.store.put({ ...last.value, lines: [...last.value.lines, ...lines.slice(0, take)] });
      rest = lines.slice(take);
    }
    for (let i = 0; i < rest.length; i += LOG_CHUNK_LINES) {
      await tx.store.put({ runId, index: index++, lines: rest.slice(i, i + LOG_CHUNK_LINES) });
    }
    await tx.done;
  }

  /**
   * A run's stored text log, oldest line first; with `tail`, only (about) the last `tail` lines
   * (whole chunks are read from the end until enough lines are collected, then trimmed).
   */
  async readLog(runId: string, opts: { tail?: number } = {}): Promise<string[]> {
    if (opts.tail === undefined) return (await this.db.getAll('logs', runRange(runId))).flatMap((c) => c.lines);
    const parts: string[][] = [];
    let n = 0;
    const tx = this.db.transaction('logs', 'readonly');
    let cursor = await tx.store.openCursor(runRange(runId), 'prev');
    while (cursor && n < opts.tail) {
      parts.push(cursor.value.lines);
      n += cursor.value.lines.length;
      cursor = await cursor.continue();
    }
    await tx.done;
    const out = parts.reverse().flat();
    return out.length > opts.tail ? out.slice(out.length - opts.tail) : out;
  }

  // ---- checkpoints --------------------------------------------------------------------------

  /**
   * Saves a checkpoint of a run atomically and returns its id. `prune` names checkpoints of the
   * run to delete in the same transaction that makes the new one visible (max_keep_ckpts).
   */
  async saveCheckpoint<R extends StorableRecord>(runId: string, record: R, opts: { prune?: string[]; faults?: SaveFaults } = {}): Promise<string> {
    const id = `${runId}:${record.name}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const locks = webLocks();
    return locks ? locks.request(SAVE_LOCK_PREFIX + id, () => this.writeCheckpoint(id, runId, record, opts)) : this.writeCheckpoint(id, runId, record, opts);
  }

  private async writeCheckpoint<R extends StorableRecord>(id: string, runId: string, record: R, opts: { prune?: string[]; faults?: SaveFaults }): Promise<string> {
    const { skeleton, chunks, bytes } = splitPayloads(record);
    try {
      for (let i = 0; i < chunks.length; i++) {
        opts.faults?.beforeChunk?.(i);
        await this.db.put('chunks', { checkpointId: id, index: i, bytes: chunks[i]! }, `${id}#${i}`);
      }
      const row: CheckpointRow = {
        id, runId, name: record.name, epoch: record.meta.epoch, iter: record.meta.iter, date: record.meta.time,
        sizeBytes: bytes, chunkCount: chunks.length, metrics: record.metrics ? { ...record.metrics } : undefined,
        skeleton, schema: SCHEMA_VERSION,
      };
      const tx = this.db.transaction(['checkpoints', 'chunks'], 'readwrite');
      await tx.objectStore('checkpoints').put(row);
      for (const old of opts.prune ?? []) await this.deleteInTx(tx, old);
      await tx.done;
    } catch (e) {
      await this.deleteChunks(id).catch(() => undefined);
      if (isQuotaError(e)) {
        throw new StorageQuotaError(
          `Browser storage is full: checkpoint '${record.name}' (${(bytes / 2 ** 20).toFixed(1)} MB) could not be saved. ` +
            'Earlier checkpoints are intact. Free space by deleting old checkpoints or datasets, then resume.');
      }
      throw e;
    }
    return id;
  }

  /** Checkpoints of a run, oldest first (by iteration). */
  async listCheckpoints(runId: string): Promise<StoredCheckpointInfo[]> {
    const rows = await this.db.getAllFromIndex('checkpoints', 'runId', runId);
    return rows
      .sort((a, b) => a.iter - b.iter || a.date.localeCompare(b.date))
      .map((r) => ({ id: r.id, name: r.name, epoch: r.epoch, iter: r.iter, sizeBytes: r.sizeBytes, metrics: r.metrics, date: r.date }));
  }

  /** Loads a checkpoint record (typed arrays restored). Throws if it or any of its bytes is missing. */
  async loadCheckpoint<R>(id: string): Promise<R> {
    const row = await this.db.get('checkpoints', id);
    if (!row) throw new Error(`checkpoint '${id}' not found`);
    const chunks: ArrayBuffer[] = [];
    for (let i = 0; i < row.chunkCount; i++) {
      const c = await this.db.get('chunks', `${id}#${i}`);
      if (!c) throw new Error(`checkpoint '${row.name}' is damaged: its data chunk ${i} of ${row.chunkCount} is missing`);
      chunks.push(c.bytes);
    }
    return joinPayloads(row.skeleton as R, chunks);
  }

  /** Deletes a checkpoint and its bytes (no error when absent). */
  async deleteCheckpoint(id: string): Promise<void> {
    const tx = this.db.transaction(['checkpoints', 'chunks'], 'readwrite');
    await this.deleteInTx(tx, id);
    await tx.done;
  }

  private async deleteInTx(
    tx: import('idb').IDBPTransaction<CheckpointDbSchema, ['checkpoints', 'chunks'], 'readwrite'>, id: string,
  ): Promise<void> {
    await tx.objectStore('checkpoints').delete(id);
    const keys = await tx.objectStore('chunks').index('checkpointId').getAllKeys(id);
    for (const k of keys) await tx.objectStore('chunks').delete(k);
  }

  private async deleteChunks(id: string): Promise<void> {
    const tx = this.db.transaction('chunks', 'readwrite');
    const keys = await tx.store.index('checkpointId').getAllKeys(id);
    for (const k of keys) await tx.store.delete(k);
    await tx.done;
  }
}

/**
 * One run's checkpoints behind the runner's `CheckpointStore` interface (save/list/load/delete).
 */
export class IndexedDbCheckpointStore<R extends StorableRecord> {
  constructor(private readonly db: CheckpointDb, readonly runId: string) {}

  save(record: R): Promise<string> {
    return this.db.saveCheckpoint(this.runId, record);
  }

  list(): Promise<StoredCheckpointInfo[]> {
    return this.db.listCheckpoints(this.runId);
  }

  load(id: string): Promise<R> {
    return this.db.loadCheckpoint<R>(id);
  }

  delete(id: string): Promise<void> {
    return this.db.deleteCheckpoint(id);
  }
}

/** Storage usage and quota (bytes) where the platform reports them, else undefined. */
export async function storageEstimate(): Promise<{ usage: number; quota: number; persisted: boolean } | undefined> {
  const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
  if (!storage?.estimate) return undefined;
  const e = await storage.estimate();
  const persisted = storage.persisted ? await storage.persisted() : false;
  return { usage: e.usage ?? 0, quota: e.quota ?? 0, persisted };
}

/** Asks the browser to keep this origin's storage under pressure (`navigator.storage.persist()`). */
export async function requestPersistentStorage(): Promise<boolean> {
  const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
  return storage?.persist ? storage.persist() : false;
}
