/**
 * What the training worker does, as a class over injected parts (config tree, checkpoint database,
 * dataset readers, backend set-up, lock) so it runs and is tested in Node: resolve the config, build
 * the real runner (`src/runner/build.ts`), train with pause / resume / stop, persist checkpoints and
 * the charts' scalars in IndexedDB, classify faults (non-finite loss, out of memory, WebGPU device
 * lost, storage quota), export checkpoints and keep imported weights for `load_from`.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { readCheckpoint, writePthParts, writeSafetensorsParts, type TensorRecord } from '../checkpoint/index.ts';
import { MemoryFS, formatConfigError, prettyText, resolveConfig, toPlainJSON } from '../config/index.ts';
import type { FileReader, ImageDecoder } from '../data/transforms/loading.ts';
import type { BuildContext, BuildRunnerOptions, BuiltRunner } from '../runner/build.ts';
import type { CheckpointInfo, CheckpointRecord, CheckpointStore } from '../runner/checkpoint_store.ts';
import type { Hook } from '../runner/hooks.ts';
import type { RunnerEvent } from '../runner/types.ts';
import { type CheckpointDb, IndexedDbCheckpointStore, StorageQuotaError } from '../storage/checkpoint_db.ts';
import type { RunRow } from '../storage/schema.ts';
import { CONFIG_ROOT, toAbsolute } from './config_tasks.ts';
import type {
  ByteProgress,
  CheckpointSummary,
  DatasetSource,
  ExportFormat,
  ExportedFile,
  FailureKind,
  ImportedWeights,
  PauseReason,
  ResumeTrainingRequest,
  RunSummary,
  StartTrainingRequest,
  StartedInfo,
  StorageInfo,
  TrainEvents,
  TrainingStatus,
} from './train_protocol.ts';

type Cfg = Record<string, unknown>;

/** Scheme of `load_from` values that name a weights file imported into the studio. */
export const WEIGHTS_SCHEME = 'weights://';

// ---------------------------------------------------------------------------------------------
// Small pieces (exported for tests)
// ---------------------------------------------------------------------------------------------

/**
 * Maps a dataset path from a config (`public/demo/cityscapes/annotations/x.json`, as `data_root`
 * writes it for the CLI) to the URL Vite serves it at (`/demo/cityscapes/annotations/x.json`).
 */
export function demoUrl(path: string): string {
  let p = path.replace(/\\/g, '/').replace(/^\.\//, '');
  if (p.startsWith('public/')) p = p.slice('public'.length);
  else if (!p.startsWith('/')) p = `/${p}`;
  return p.replace(/\/{2,}/g, '/');
}

/** A {@link FileReader} fetching the demo dataset same-origin. */
export function demoReader(fetchFn: typeof fetch = fetch, base = ''): FileReader {
  return async (path) => {
    const url = base + demoUrl(path);
    const res = await fetchFn(url);
    if (!res.ok) throw new Error(`cannot read ${path} (${url}: HTTP ${res.status})`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

/** A gate the train loop waits at while paused. */
export class PauseGate {
  private waiters: Array<() => void> = [];
  private pausedAt: number | null = null;
  /** Seconds spent paused so far (subtracted from the runner's clock so timings and ETA ignore pauses). */
  pausedSeconds = 0;

  constructor(private readonly clock: () => number = () => performance.now() / 1000) {}

  get paused(): boolean {
    return this.pausedAt !== null;
  }

  pause(): void {
    if (this.pausedAt === null) this.pausedAt = this.clock();
  }

  resume(): void {
    if (this.pausedAt !== null) this.pausedSeconds += this.clock() - this.pausedAt;
    this.pausedAt = null;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves immediately when running, else when resumed. */
  wait(): Promise<void> {
    if (this.pausedAt === null) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Out-of-memory errors of tfjs backends and of the JS heap. */
export function isOutOfMemory(err: unknown): boolean {
  const m = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? String(err)}`;
  return /out of memory|\bOOM\b|allocation failed|Cannot enlarge memory|maxBufferSize|maxStorageBufferBindingSize|exceeds the (maximum|max)|Invalid typed array length|Array buffer allocation/i.test(m);
}

/** The message shown for an out-of-memory failure. */
export function outOfMemoryMessage(backend: string, err: unknown): string {
  return (
    `Ran out of memory on ${backend} (${(err as Error)?.message ?? String(err)}). ` +
    'Train at a smaller scale: a smaller Resize scale in train_pipeline (e.g. img_scale = (1024, 512)), ' +
    'train_dataloader.batch_size=1, or fewer RoIs (train_cfg.rcnn.sampler.num).'
  );
}

/** MMEngine's text-log line prefix (`2026/01/02 03:04:05 - mmengine - INFO - …`). */
export function logLine(level: 'info' | 'warning' | 'error', text: string, d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const ts = `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return `${ts} - mmengine - ${level.toUpperCase()} - ${text}`;
}

/**
 * Keeps a run's scalars consistent for a resume from iteration `iter`: rows from the first train
 * row past `iter` on were logged after the checkpoint and will be logged again.
 */
export function truncateScalars(rows: Array<Record<string, number | string>>, iter: number): Array<Record<string, number | string>> {
  const cut = rows.findIndex((r) => 'lr' in r && typeof r.step === 'number' && r.step > iter);
  return cut < 0 ? rows : rows.slice(0, cut);
}

/** Resolves a config (tree path + user layer) into the runner's dict and its Python text. */
export function resolveForTraining(
  builtins: Readonly<Record<string, string>>,
  req: { path: string; userFiles: Record<string, string>; cfgOptions?: string[] },
): { cfg: Cfg; text: string } {
  const files: Record<string, string> = {};
  for (const [p, t] of Object.entries(builtins)) files[toAbsolute(p)] = t;
  for (const [p, t] of Object.entries(req.userFiles)) files[toAbsolute(p)] = t;
  const abs = toAbsolute(req.path);
  if (files[abs] === undefined) throw new TrainingError('config', `No config '${req.path}'.`);
  const res = resolveConfig(abs, new MemoryFS(files), {
    cfgOptions: req.cfgOptions && req.cfgOptions.length ? req.cfgOptions : undefined,
    builtinRoot: CONFIG_ROOT,
  });
  if (!res.ok) throw new TrainingError('config', formatConfigError(res.error).split(`${CONFIG_ROOT}/`).join(''));
  return { cfg: toPlainJSON(res.cfg) as Cfg, text: prettyText(res.cfg) };
}

/** Resolves the Python text a run stored (a flat, resolved config). */
export function resolveStoredText(text: string): { cfg: Cfg; text: string } {
  const path = `${CONFIG_ROOT}/__run__.py`;
  const res = resolveConfig(path, new MemoryFS({ [path]: text }), { builtinRoot: CONFIG_ROOT });
  if (!res.ok) throw new TrainingError('config', `the run's stored config no longer resolves: ${formatConfigError(res.error)}`);
  return { cfg: toPlainJSON(res.cfg) as Cfg, text };
}

/** An error with a failure kind the UI explains. */
export class TrainingError extends Error {
  constructor(readonly kind: FailureKind, message: string) {
    super(message);
    this.name = 'TrainingError';
  }
}

// ---------------------------------------------------------------------------------------------
// Imported weights (load_from)
// ---------------------------------------------------------------------------------------------

interface WeightsSchema extends DBSchema {
  files: { key: string; value: ImportedWeights & { bytes: ArrayBuffer } };
}

/** Weights files the user dropped onto the studio, in their own IndexedDB database. */
export class WeightsStore {
  private constructor(private readonly db: IDBPDatabase<WeightsSchema>) {}

  static async open(name = 'detstudio-weights'): Promise<WeightsStore> {
    const db = await openDB<WeightsSchema>(name, 1, {
      upgrade(d) {
        d.createObjectStore('files', { keyPath: 'uri' });
      },
    });
    return new WeightsStore(db);
  }

  /** Validates (parses) and stores a weights file; the returned `uri` is the `load_from` value. */
  async put(name: string, bytes: Uint8Array): Promise<ImportedWeights> {
    const clean = name.replace(/[^A-Za-z0-9._-]+/g, '_');
    let tensors: number;
    try {
      tensors = readCheckpoint(bytes).stateDict.size;
    } catch (e) {
      throw new Error(`${name} is not a readable .pth or .safetensors file: ${(e as Error).message}`);
    }
    if (tensors === 0) throw new Error(`${name} holds no tensors (no state_dict)`);
    const info: ImportedWeights = {
      uri: `${WEIGHTS_SCHEME}${clean}`,
      name: clean,
      sizeBytes: bytes.byteLength,
      tensors,
      format: /\.safetensors$/i.test(name) ? 'safetensors' : 'pth',
      date: new Date().toISOString(),
    };
    const copy = bytes.slice().buffer as ArrayBuffer;
    try {
      await this.db.put('files', { ...info, bytes: copy });
    } catch (e) {
      if ((e as Error)?.name === 'QuotaExceededError') throw new StorageQuotaError(`Browser storage is full: ${name} could not be stored.`);
      throw e;
    }
    return info;
  }

  async list(): Promise<ImportedWeights[]> {
    const all = await this.db.getAll('files');
    return all.map(({ bytes: _b, ...info }) => info).sort((a, b) => b.date.localeCompare(a.date));
  }

  async read(uri: string): Promise<Uint8Array> {
    const row = await this.db.get('files', uri);
    if (!row) throw new Error(`load_from '${uri}' is not among the imported weights; drop the file onto the studio again`);
    return new Uint8Array(row.bytes);
  }

  async delete(uri: string): Promise<void> {
    await this.db.delete('files', uri);
  }
}

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

/** What the service needs from its environment. */
export interface TrainEnvironment {
  /** The built-in config tree (tree path → text). */
  builtins: Readonly<Record<string, string>>;
  openDb(): Promise<CheckpointDb>;
  openWeights(): Promise<WeightsStore>;
  /**
   * A reader for a dataset source. `demo` fetches same-origin; `imported` is the hook for the
   * dataset pane's store (throw a clear error until it is connected).
   */
  datasetReader(source: DatasetSource): FileReader;
  decodeImage?: ImageDecoder;
  /** Sets up the tfjs backend (`initBrowserBackend` in the worker). */
  initBackend(opts: { prefer?: 'webgpu' | 'wasm'; onDeviceLost(message: string): void }): Promise<{ name: string; notice: string }>;
  /** `buildRunner` from `src/runner/build.ts` (injected so the worker chunk loads it lazily). */
  buildRunner(cfg: Cfg, ctx: BuildContext, opts: BuildRunnerOptions): Promise<BuiltRunner>;
  /** Takes the cross-tab training lock; null when another tab holds it. Returns its release. */
  acquireLock?(): Promise<(() => void) | null>;
  /** Downloads an http(s) `load_from` (cached by the caller). */
  fetchBytes?(url: string): Promise<Uint8Array>;
  storageEstimate?(): Promise<StorageInfo | undefined>;
  /** Seconds (default `performance.now() / 1000`). */
  now?(): number;
  /** Milliseconds between flushes of logged scalars to the run row (default 2000). */
  flushMs?: number;
}

type Emit = <N extends keyof TrainEvents & string>(name: N, payload: TrainEvents[N]) => void;

interface Session {
  runId: string;
  built: BuiltRunner;
  gate: PauseGate;
  backend: { name: string; notice: string };
  status: TrainingStatus;
  pauseReason?: PauseReason;
  deviceLost: string | null;
  release: (() => void) | null;
  pendingScalars: Array<Record<string, number | string>>;
  /** Text-log lines not yet appended to the run's stored log (flushed with the scalars). */
  pendingLog: string[];
  flushTimer: ReturnType<typeof setInterval> | null;
  done: Promise<void>;
}

/**
 * Checkpoint store of a session: IndexedDB, and on a full disk the session pauses (the in-memory
 * state is kept) and the save is retried when the user resumes.
 */
class QuotaPausingStore implements CheckpointStore {
  constructor(
    private readonly inner: IndexedDbCheckpointStore<CheckpointRecord>,
    private readonly onQuota: (message: string) => Promise<void>,
  ) {}

  async save(record: CheckpointRecord): Promise<string> {
    for (;;) {
      try {
        return await this.inner.save(record);
      } catch (e) {
        if (!(e instanceof StorageQuotaError)) throw e;
        await this.onQuota(e.message);
      }
    }
  }

  list(): Promise<CheckpointInfo[]> {
    return this.inner.list();
  }

  load(id: string): Promise<CheckpointRecord> {
    return this.inner.load(id);
  }

  delete(id: string): Promise<void> {
    return this.inner.delete(id);
  }
}

/** The training worker's state and operations. */
export class TrainingService {
  private session: Session | null = null;
  private dbP: Promise<CheckpointDb> | null = null;
  private weightsP: Promise<WeightsStore> | null = null;

  constructor(
    private readonly env: TrainEnvironment,
    private readonly emit: Emit,
  ) {}

  private db(): Promise<CheckpointDb> {
    this.dbP ??= this.env.openDb();
    return this.dbP;
  }

  private weights(): Promise<WeightsStore> {
    this.weightsP ??= this.env.openWeights();
    return this.weightsP;
  }

  private now(): number {
    return this.env.now ? this.env.now() : performance.now() / 1000;
  }

  /** Status of the current session. */
  get status(): TrainingStatus {
    return this.session?.status ?? 'idle';
  }

  /** The current session's run id, or null. */
  get runId(): string | null {
    return this.session?.runId ?? null;
  }

  /** Resolves when the current session's training has ended (tests). */
  whenDone(): Promise<void> {
    return this.session?.done ?? Promise.resolve();
  }

  private setStatus(s: Session, status: TrainingStatus, extra: { reason?: PauseReason; failure?: FailureKind; message?: string } = {}): void {
    s.status = status;
    this.emit('status', { status, runId: s.runId, ...extra });
  }

  private active(): boolean {
    const st = this.session?.status;
    return st === 'starting' || st === 'running' || st === 'pausing' || st === 'paused' || st === 'stopping';
  }

  /** Starts training a config. */
  async start(req: StartTrainingRequest): Promise<StartedInfo> {
    if (this.active()) throw new TrainingError('locked', 'A training run is already in progress in this tab; stop it first.');
    const { cfg, text } = resolveForTraining(this.env.builtins, req);
    const db = await this.db();
    const created = new Date();
    const name = req.runName ?? `${req.path.split('/').pop()!.replace(/\.py$/, '')} · ${created.toISOString().slice(0, 16).replace('T', ' ')}`;
    const runId = `run-${created.getTime().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
    await db.putRun({
      id: runId, name, created: created.toISOString(), updated: created.toISOString(), configText: text, status: 'running', scalars: [],
      ...(req.dataset.kind === 'imported' ? { datasetId: req.dataset.datasetId } : {}),
    });
    return this.launch(runId, name, cfg, text, req.dataset, req.backend, undefined);
  }

  /** Resumes a stored run from one of its checkpoints (latest by default). */
  async resumeFrom(req: ResumeTrainingRequest): Promise<StartedInfo> {
    if (this.active()) throw new TrainingError('locked', 'A training run is already in progress in this tab; stop it first.');
    const db = await this.db();
    const run = await db.getRun(req.runId);
    if (!run) throw new Error(`run '${req.runId}' not found`);
    if (!run.configText) throw new Error(`run '${run.name}' has no stored config; it cannot be resumed`);
    const list = await db.listCheckpoints(req.runId);
    const pick = req.checkpointId ? list.find((c) => c.id === req.checkpointId) : [...list].reverse().find((c) => !c.name.startsWith('best_')) ?? list[list.length - 1];
    if (!pick) throw new Error(`run '${run.name}' has no checkpoint to resume from`);
    const record = await db.loadCheckpoint<CheckpointRecord>(pick.id);
    if (!record.optimizer) throw new Error(`${pick.name} holds no optimizer state (a best-metric checkpoint); resume from a periodic checkpoint`);
    const { cfg, text } = resolveStoredText(run.configText);
    cfg.resume = true;
    run.scalars = truncateScalars(run.scalars, record.meta.iter);
    run.status = 'running';
    run.updated = new Date().toISOString();
    await db.putRun(run);
    return this.launch(run.id, run.name, cfg, text, req.dataset, req.backend, record);
  }

  private async launch(
    runId: string,
    runName: string,
    cfg: Cfg,
    cfgText: string,
    dataset: DatasetSource,
    prefer: 'webgpu' | 'wasm' | undefined,
    resumeRecord: CheckpointRecord | undefined,
  ): Promise<StartedInfo> {
    const db = await this.db();
    const release = this.env.acquireLock ? await this.env.acquireLock() : () => undefined;
    if (!release) {
      await this.markRun(runId, 'failed');
      const message = 'Another DetStudio tab is training. Only one tab can train at a time: stop it there, or close that tab.';
      this.emit('status', { status: 'failed', runId, failure: 'locked', message });
      throw new TrainingError('locked', message);
    }
    const gate = new PauseGate(() => this.now());
    let s: Session;
    const partial = { runId, gate, status: 'starting' as TrainingStatus, deviceLost: null as string | null, release, pendingScalars: [], pendingLog: [] as string[], flushTimer: null };
    this.session = partial as unknown as Session;
    this.emit('status', { status: 'starting', runId });
    const log = (level: 'info' | 'warning' | 'error', text: string) => {
      const line = logLine(level, text);
      partial.pendingLog.push(line);
      this.emit('log', { level, text, line });
    };
    try {
      const backend = await this.env.initBackend({
        prefer,
        onDeviceLost: (message) => {
          const cur = this.session;
          if (!cur || cur.runId !== runId) return;
          cur.deviceLost = message;
          cur.gate.pause();
          this.setStatus(cur, 'paused', {
            reason: 'device-lost',
            message: `${message}. Training is paused; press Resume to continue from the last checkpoint on a fresh device.`,
          });
        },
      });
      this.emit('backend', backend);
      log('info', backend.notice);
      const store = new QuotaPausingStore(new IndexedDbCheckpointStore<CheckpointRecord>(db, runId), async (message) => {
        const cur = this.session!;
        cur.gate.pause();
        this.setStatus(cur, 'paused', { reason: 'storage-quota', message: `${message} Training is paused with its state kept in memory; Resume retries the save.` });
        log('error', message);
        await cur.gate.wait();
      });
      const ctx = this.buildContext(dataset);
      const built = await this.env.buildRunner(cfg, ctx, {
        mode: 'train',
        store,
        cfgText,
        experimentName: runName,
        listener: (e) => this.onRunnerEvent(runId, e, log),
      });
      // The pause gate runs before every other hook, and the runner's clock skips paused time so
      // `time`, `data_time` and the ETA ignore pauses.
      const pauseHook: Hook = {
        name: 'StudioPauseHook',
        priority: 0,
        beforeTrainIter: () => gate.wait(),
        beforeValIter: () => gate.wait(),
      };
      built.runner.hooks.unshift(pauseHook);
      built.runner.now = () => this.now() - gate.pausedSeconds;
      s = Object.assign(partial, { built, backend, done: Promise.resolve() }) as Session;
      if (built.loadReport) log('info', `load_from: ${built.loadReport.loaded.size} tensors loaded${built.loadReport.warning ? ` (${built.loadReport.warning})` : ''}`);
      s.flushTimer = setInterval(() => void this.flushScalars(s), this.env.flushMs ?? 2000);
      this.setStatus(s, 'running');
      s.done = this.runTraining(s, resumeRecord, log);
      return {
        runId,
        runName,
        backend,
        maxIters: built.runner.maxIters,
        maxEpochs: built.runner.maxEpochs,
        warnings: built.warnings,
      };
    } catch (e) {
      release();
      const kind: FailureKind = e instanceof TrainingError ? e.kind : isOutOfMemory(e) ? 'out-of-memory' : 'error';
      const message = kind === 'out-of-memory' ? outOfMemoryMessage('this backend', e) : (e as Error).message;
      log('error', message);
      const cur = this.session as Session;
      this.setStatus(cur, 'failed', { failure: kind, message });
      await (await this.db()).appendLog(runId, partial.pendingLog.splice(0)).catch(() => undefined);
      await this.markRun(runId, 'failed');
      throw e;
    }
  }

  private buildContext(source: DatasetSource): BuildContext {
    const readFile = this.env.datasetReader(source);
    return {
      readFile,
      ...(this.env.decodeImage ? { decodeImage: this.env.decodeImage } : {}),
      readCheckpoint: async (p: string) => {
        if (p.startsWith(WEIGHTS_SCHEME)) return (await this.weights()).read(p);
        if (/^https?:\/\//.test(p)) {
          if (!this.env.fetchBytes) throw new Error(`load_from ${p}: downloads are not available here`);
          return this.env.fetchBytes(p);
        }
        return readFile(p);
      },
    };
  }

  private onRunnerEvent(runId: string, e: RunnerEvent, log: (level: 'info' | 'warning' | 'error', text: string) => void): void {
    const s = this.session;
    switch (e.type) {
      case 'log':
        log(e.level, e.text);
        break;
      case 'train-log':
        s?.pendingScalars.push({ ...e.tag, step: e.step });
        this.emit('train-log', { step: e.step, tag: e.tag, text: e.text });
        break;
      case 'val-metrics':
        if (e.mode !== 'val') break;
        s?.pendingScalars.push({ ...(e.tag as Record<string, number | string>), step: e.step });
        this.emit('val-metrics', { step: e.step, epoch: e.epoch, iter: s?.built?.runner.iter ?? 0, metrics: e.metrics, text: e.text });
        break;
      case 'progress':
        this.emit('progress', { mode: e.mode, epoch: e.epoch, iter: e.iter, maxIters: e.maxIters, batchIdx: e.batchIdx, batches: e.batches });
        break;
      case 'checkpoint-saved':
        this.emit('checkpoint-saved', { runId, id: e.id, name: e.name, epoch: e.epoch, iter: e.iter, best: e.best });
        break;
      case 'checkpoint-deleted':
        this.emit('checkpoint-deleted', { runId, id: e.id, name: e.name });
        break;
      case 'stopped':
        break;
    }
  }

  private async runTraining(s: Session, resumeRecord: CheckpointRecord | undefined, log: (level: 'info' | 'warning' | 'error', text: string) => void): Promise<void> {
    let final: TrainingStatus = 'finished';
    let extra: { failure?: FailureKind; message?: string } = {};
    try {
      const res = await s.built.runner.train(resumeRecord);
      if (res.reason === 'non-finite-loss') {
        final = 'failed';
        extra = { failure: 'non-finite-loss', message: s.built.runner.textLog[s.built.runner.textLog.length - 1]?.replace(/^.* - ERROR - /, '') ?? 'non-finite loss' };
      } else if (res.reason === 'requested') {
        final = 'stopped';
        extra = { message: `Stopped at iteration ${res.iter}.` };
      } else {
        extra = { message: `Finished: ${res.iter} iterations.` };
      }
    } catch (e) {
      final = 'failed';
      if (s.deviceLost) {
        extra = { failure: 'device-lost', message: `${s.deviceLost}. Resume from the last checkpoint to continue.` };
      } else if (isOutOfMemory(e)) {
        extra = { failure: 'out-of-memory', message: outOfMemoryMessage(s.backend.name, e) };
      } else {
        extra = { failure: 'error', message: `Training failed: ${(e as Error)?.message ?? String(e)}` };
      }
      log('error', extra.message!);
    } finally {
      if (s.flushTimer) clearInterval(s.flushTimer);
      await this.flushScalars(s).catch(() => undefined);
      try {
        s.built.detector.dispose();
      } catch {
        /* a lost device cannot free its buffers */
      }
      s.release?.();
      s.release = null;
    }
    await this.markRun(s.runId, final === 'failed' && s.deviceLost ? 'paused' : final);
    this.setStatus(s, final, extra);
  }

  private async flushScalars(s: Session): Promise<void> {
    const db = await this.db();
    // Text log first: its write transaction opens before any await, so a later runLog read sees it.
    const lines = s.pendingLog.splice(0);
    if (lines.length) {
      await db.appendLog(s.runId, lines).catch((e: unknown) => {
        s.pendingLog.unshift(...lines);
        throw e;
      });
    }
    if (s.pendingScalars.length === 0) return;
    const rows = s.pendingScalars.splice(0);
    await db.appendScalars(s.runId, rows);
  }

  private async markRun(runId: string, status: string): Promise<void> {
    const db = await this.db();
    const run = await db.getRun(runId);
    if (!run) return;
    run.status = status;
    run.updated = new Date().toISOString();
    await db.putRun(run);
  }

  /** Pauses after the current iteration. */
  pause(): TrainingStatus {
    const s = this.session;
    if (!s || s.status !== 'running') return this.status;
    s.gate.pause();
    this.setStatus(s, 'paused', { reason: 'user', message: 'Paused after the current iteration.' });
    return s.status;
  }

  /** Continues a paused session. A session paused by a lost device must be resumed from a checkpoint. */
  resume(): TrainingStatus {
    const s = this.session;
    if (!s || s.status !== 'paused') return this.status;
    if (s.deviceLost) throw new TrainingError('device-lost', `${s.deviceLost}. Resume from the last checkpoint instead.`);
    this.setStatus(s, 'running');
    s.gate.resume();
    return s.status;
  }

  /** Stops after the current iteration (a paused session stops at once). */
  stop(): TrainingStatus {
    const s = this.session;
    if (!s || !this.active() || !s.built) return this.status;
    this.setStatus(s, 'stopping');
    s.built.runner.requestStop();
    if (s.deviceLost) {
      // Nothing can run on a lost device: end the session now.
      s.release?.();
      s.release = null;
      this.setStatus(s, 'stopped', { message: 'Stopped (WebGPU device lost).' });
      return s.status;
    }
    s.gate.resume();
    return s.status;
  }

  async listRuns(): Promise<RunSummary[]> {
    const db = await this.db();
    return (await db.listRunInfos()).map((r) => ({
      id: r.id,
      name: r.name,
      created: r.created,
      updated: r.updated,
      status: this.session?.runId === r.id && this.active() ? this.session.status : r.status === 'running' ? 'interrupted' : r.status,
      points: r.points,
      hasConfig: Boolean(r.configText),
    }));
  }

  async runScalars(runId: string): Promise<Array<Record<string, number | string>>> {
    const db = await this.db();
    const run = await db.getRun(runId);
    if (!run) throw new Error(`run '${runId}' not found`);
    const s = this.session;
    return s && s.runId === runId ? [...run.scalars, ...s.pendingScalars] : run.scalars;
  }

  /** A run's text log: the lines stored with the run plus the current session's unflushed ones. */
  async runLog(runId: string): Promise<string[]> {
    const db = await this.db();
    const s = this.session;
    const pending = s && s.runId === runId ? s.pendingLog.slice() : [];
    const stored = await db.readLog(runId);
    return pending.length ? [...stored, ...pending] : stored;
  }

  async listCheckpoints(runId?: string): Promise<CheckpointSummary[]> {
    const db = await this.db();
    const runs = runId ? [runId] : (await db.listRunInfos()).map((r) => r.id);
    const out: CheckpointSummary[] = [];
    for (const id of runs) for (const c of await db.listCheckpoints(id)) out.push({ ...c, runId: id });
    return out;
  }

  async deleteCheckpoint(id: string): Promise<void> {
    const db = await this.db();
    await db.deleteCheckpoint(id);
  }

  async deleteRun(runId: string): Promise<void> {
    if (this.session?.runId === runId && this.active()) throw new Error('stop the run before deleting it');
    const db = await this.db();
    await db.deleteRun(runId);
  }

  async storage(): Promise<StorageInfo | null> {
    return (await this.env.storageEstimate?.()) ?? null;
  }

  /** Exports a checkpoint or a run's config / logs. */
  /**
   * The MMDetection bundle (.zip): the run's resolved config with bundle-relative data paths and
   * `load_from` the bundled weights, the weights, the converted annotation jsons read from the run's
   * dataset, the logged scalars and a README with the tools/ commands (see src/export/bundle.ts).
   */
  private async exportBundle(
    run: RunRow, obj: Record<string, unknown>, stem: string, base: string, progress: (p: ByteProgress) => void,
  ): Promise<ExportedFile> {
    if (!run.configText) throw new Error('this run has no stored config to bundle');
    const path = `${CONFIG_ROOT}/__run__.py`;
    const res = resolveConfig(path, new MemoryFS({ [path]: run.configText }), { builtinRoot: CONFIG_ROOT });
    if (!res.ok) throw new Error(`the run's stored config no longer resolves: ${formatConfigError(res.error)}`);
    const { buildBundle, collectDataRoots } = await import('../export/bundle.ts');
    const read = this.env.datasetReader(run.datasetId ? { kind: 'imported', datasetId: run.datasetId } : { kind: 'demo' });
    const annotations = new Map<string, Uint8Array>();
    for (const m of collectDataRoots(res.cfg)) {
      for (const a of m.annFiles) {
        progress({ phase: `reading ${a}`, done: 0, total: 1 });
        annotations.set(m.from + a, await read(m.from + a));
      }
    }
    delete obj.optimizer;
    delete obj.param_schedulers;
    delete obj.message_hub;
    progress({ phase: 'serialising', done: 0, total: 1 });
    const weightParts = writePthParts(obj);
    const weights = new Uint8Array(weightParts.reduce((n, p) => n + p.byteLength, 0));
    let off = 0;
    for (const p of weightParts) {
      weights.set(p, off);
      off += p.byteLength;
    }
    const rows = await this.runScalars(run.id);
    const enc = new TextEncoder();
    const logs = [{ path: 'vis_data/scalars.json', bytes: enc.encode(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '')) }];
    const lines = await this.runLog(run.id);
    if (lines.length) logs.push({ path: `${base}.log`, bytes: enc.encode(lines.join('\n') + '\n') });
    progress({ phase: 'zipping', done: 0, total: 1 });
    const bundle = buildBundle({ cfg: res.cfg, configName: base, weights, weightsName: `${stem}.pth`, annotations, logs });
    progress({ phase: 'done', done: 1, total: 1 });
    return { fileName: `${base}_${stem}_mmdet_bundle.zip`, mime: 'application/zip', bytes: bundle.zip };
  }

  async exportFile(
    req: { runId: string; checkpointId?: string; format: ExportFormat; withOptimizer?: boolean },
    progress: (p: ByteProgress) => void = () => undefined,
  ): Promise<ExportedFile> {
    const db = await this.db();
    const run = await db.getRun(req.runId);
    if (!run) throw new Error(`run '${req.runId}' not found`);
    const base = run.name.split(' · ')[0]!.replace(/[^A-Za-z0-9._-]+/g, '_');
    const enc = new TextEncoder();
    if (req.format === 'config') {
      if (!run.configText) throw new Error('this run has no stored config');
      return { fileName: `${base}.py`, mime: 'text/x-python', bytes: enc.encode(run.configText) };
    }
    if (req.format === 'scalars') {
      const rows = await this.runScalars(req.runId);
      return { fileName: 'scalars.json', mime: 'application/json', bytes: enc.encode(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '')) };
    }
    if (req.format === 'log') {
      const lines = await this.runLog(req.runId);
      if (lines.length === 0) throw new Error('this run has no stored text log (runs trained before logs were stored with them); scalars.json holds every logged value');
      return { fileName: `${base}.log`, mime: 'text/plain', bytes: enc.encode(lines.join('\n') + '\n') };
    }
    if (!req.checkpointId) throw new Error('choose a checkpoint to export');
    progress({ phase: 'reading checkpoint', done: 0, total: 1 });
    const record = await db.loadCheckpoint<CheckpointRecord>(req.checkpointId);
    const { mmdetCheckpointFromRecord } = await import('../runner/build.ts');
    const obj = mmdetCheckpointFromRecord(record);
    const stem = record.name.replace(/\.pth$/, '');
    if (req.format === 'bundle') return this.exportBundle(run, obj, stem, base, progress);
    let parts: Uint8Array[];
    if (req.format === 'pth') {
      if (!req.withOptimizer) {
        delete obj.optimizer;
        delete obj.param_schedulers;
        delete obj.message_hub;
      }
      progress({ phase: 'serialising', done: 0, total: 1 });
      parts = writePthParts(obj);
    } else {
      parts = writeSafetensorsParts(obj.state_dict as Map<string, TensorRecord>, record.meta);
    }
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    const out = new Uint8Array(total);
    let off = 0;
    let last = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.byteLength;
      if (off - last > 8 * 2 ** 20 || off === total) {
        progress({ phase: 'writing', done: off, total });
        last = off;
      }
    }
    return req.format === 'pth'
      ? { fileName: `${stem}.pth`, mime: 'application/octet-stream', bytes: out }
      : { fileName: `${stem}.safetensors`, mime: 'application/octet-stream', bytes: out };
  }

  async importWeights(name: string, bytes: Uint8Array, progress: (p: ByteProgress) => void = () => undefined): Promise<ImportedWeights> {
    progress({ phase: 'checking', done: 0, total: bytes.byteLength });
    const info = await (await this.weights()).put(name, bytes);
    progress({ phase: 'stored', done: bytes.byteLength, total: bytes.byteLength });
    return info;
  }

  async listWeights(): Promise<ImportedWeights[]> {
    return (await this.weights()).list();
  }

  async deleteWeights(uri: string): Promise<void> {
    await (await this.weights()).delete(uri);
  }
}
