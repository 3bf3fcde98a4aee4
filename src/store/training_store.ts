/**
 * View state of training, checkpoints and export: the session's status, progress, the logged
 * scalars as columns for the charts, validation metrics, the text log, runs, checkpoints and
 * storage. Plain data only; worker events are applied in batches (one `setState` per animation
 * frame, see `ingestEvents`) so a fast training loop cannot flood React.
 */
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { createStore } from 'zustand/vanilla';
import type {
  CheckpointSummary,
  FailureKind,
  ImportedWeights,
  PauseReason,
  RunSummary,
  StorageInfo,
  TrainEvents,
  TrainingStatus,
} from '../worker/train_protocol.ts';

/** Columnar scalars: one x array (`step`) and one y array per key (NaN where a row lacks the key). */
export interface ScalarColumns {
  steps: number[];
  series: Record<string, number[]>;
}

/** Lines of text log kept in memory (older lines are dropped from view, not from the download). */
export const MAX_LOG_LINES = 5000;

/** A stored run drawn over the shown one in the charts ("compare with…"). */
export interface CompareRun {
  runId: string;
  runName: string;
  train: ScalarColumns;
  val: ScalarColumns;
  /** Metrics of its last validation (for the per-class table). */
  lastMetrics: Record<string, number | string> | null;
}

/** The training store's state. */
export interface TrainingState {
  status: TrainingStatus;
  runId: string | null;
  runName: string | null;
  pauseReason: PauseReason | null;
  failure: FailureKind | null;
  /** Last status message (why paused / failed / finished). */
  message: string | null;
  backend: { name: string; notice: string } | null;
  progress: TrainEvents['progress'] | null;
  /** Seconds left, from the last train log's `eta`. */
  eta: number | null;
  /** Train rows (`lr`, `loss`, `loss_*`, `acc`, `time`, `data_time`, `memory`…) by step. */
  train: ScalarColumns;
  /** Validation rows (`coco/bbox_mAP`…) by step. */
  val: ScalarColumns;
  /** Metrics of the last validation (numbers and strings). */
  lastMetrics: Record<string, number | string> | null;
  /** Text log of the shown run (its stored lines after a reload, then the live ones). */
  log: string[];
  /** The run compared with the shown one, or null. */
  compare: CompareRun | null;
  /** Bumped whenever `train`/`val`/`compare` change (their arrays are appended in place). */
  dataVersion: number;
  runs: RunSummary[];
  checkpoints: CheckpointSummary[];
  storage: StorageInfo | null;
  weights: ImportedWeights[];
  /** `load_from` override for the next start (an imported weights uri), or null. */
  loadFrom: string | null;
  /** Dataset the next start trains on: an imported dataset's id, or null for the bundled demo. */
  datasetId: string | null;
  /** Extra `--cfg-options` for the next start, one `key=value` per whitespace-separated token. */
  cfgOptionsText: string;
  /** Last error of a UI action (start refused, export failed…). */
  actionError: string | null;
}

function emptyColumns(): ScalarColumns {
  return { steps: [], series: {} };
}

/** The state a fresh studio starts with. */
export function initialTrainingState(): TrainingState {
  return {
    status: 'idle',
    runId: null,
    runName: null,
    pauseReason: null,
    failure: null,
    message: null,
    backend: null,
    progress: null,
    eta: null,
    train: emptyColumns(),
    val: emptyColumns(),
    lastMetrics: null,
    log: [],
    compare: null,
    dataVersion: 0,
    runs: [],
    checkpoints: [],
    storage: null,
    weights: [],
    loadFrom: null,
    datasetId: null,
    cfgOptionsText: '',
    actionError: null,
  };
}

/** The vanilla store. */
export const trainingStore = createStore<TrainingState>()(() => initialTrainingState());

/** Puts the store back to its initial state (tests). */
export function resetTrainingStore(): void {
  trainingStore.setState(initialTrainingState(), true);
}

/** React hook: a slice of the training state. */
export function useTraining<T>(selector: (state: TrainingState) => T): T {
  return useStore(trainingStore, selector);
}

/** React hook: an object of fields picked from the training state (compared shallowly). */
export function useTrainingFields<T extends object>(selector: (state: TrainingState) => T): T {
  return useStore(trainingStore, useShallow(selector));
}

/** Appends one row to columns (in place); keys first seen later are back-filled with NaN. */
export function appendRow(cols: ScalarColumns, step: number, row: Record<string, unknown>): void {
  const n = cols.steps.length;
  cols.steps.push(step);
  for (const [k, v] of Object.entries(row)) {
    if (k === 'step' || typeof v !== 'number') continue;
    let s = cols.series[k];
    if (!s) {
      s = new Array<number>(n).fill(Number.NaN);
      cols.series[k] = s;
    }
    s.push(v);
  }
  for (const s of Object.values(cols.series)) if (s.length === n) s.push(Number.NaN);
}

/** True for a `scalars.json` row of a training step (validation rows carry metrics, not `lr`). */
export function isTrainRow(row: Record<string, unknown>): boolean {
  return 'lr' in row || 'loss' in row;
}

/** Splits stored `scalars.json` rows into train and validation columns. */
export function columnsFromScalars(rows: ReadonlyArray<Record<string, number | string>>): RunColumns {
  const c = runColumns();
  addScalarRows(c, rows);
  return c;
}

/**
 * Appends many rows to columns at once (in place): the new keys first, then every series grows
 * by `rows.length` NaN and the rows' numbers are written in. The same result as {@link appendRow}
 * per row, without its per-row back-fill (10^5 stored rows load several times faster).
 */
export function appendRows(cols: ScalarColumns, rows: ReadonlyArray<Record<string, unknown>>): void {
  const n0 = cols.steps.length;
  const m = rows.length;
  if (m === 0) return;
  const series = cols.series;
  for (const r of rows) {
    for (const k in r) {
      if (k !== 'step' && typeof r[k] === 'number' && series[k] === undefined) {
        const col: number[] = [];
        for (let i = 0; i < n0; i++) col.push(Number.NaN);
        series[k] = col;
      }
    }
  }
  // Grown by push: setting `length` far past the end would turn the array into a slow sparse one.
  for (const k in series) {
    const col = series[k]!;
    for (let i = 0; i < m; i++) col.push(Number.NaN);
  }
  for (let i = 0; i < m; i++) {
    const r = rows[i]!;
    cols.steps.push(Number(r.step));
    for (const k in r) {
      const v = r[k];
      if (k !== 'step' && typeof v === 'number') series[k]![n0 + i] = v;
    }
  }
}

/** A run's stored scalars as chart columns: train rows, validation rows and the last validation. */
export interface RunColumns {
  train: ScalarColumns;
  val: ScalarColumns;
  /** The last validation row (its metrics), or null. */
  lastVal: Record<string, number | string> | null;
}

/** Empty {@link RunColumns}. */
export function runColumns(): RunColumns {
  return { train: emptyColumns(), val: emptyColumns(), lastVal: null };
}

/** Adds stored `scalars.json` rows (train and validation mixed, in logged order) to run columns. */
export function addScalarRows(c: RunColumns, rows: ReadonlyArray<Record<string, number | string>>): void {
  const train: Array<Record<string, number | string>> = [];
  const val: Array<Record<string, number | string>> = [];
  for (const r of rows) (isTrainRow(r) ? train : val).push(r);
  appendRows(c.train, train);
  appendRows(c.val, val);
  if (val.length) c.lastVal = val[val.length - 1]!;
}

/**
 * Splits a `scalars.json` file (one JSON object a line) into slices of parsed rows of about
 * `sliceBytes` bytes each, so a caller can yield to the event loop between slices.
 */
export function* scalarsJsonSlices(bytes: Uint8Array, sliceBytes = 256 * 1024): Generator<Array<Record<string, number | string>>> {
  const dec = new TextDecoder();
  let start = 0;
  let line = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, Math.min(bytes.length, start + sliceBytes));
    if (end < 0) end = bytes.length;
    const rows: Array<Record<string, number | string>> = [];
    for (const l of dec.decode(bytes.subarray(start, end)).split('\n')) {
      line++;
      if (l.trim() === '') continue;
      try {
        rows.push(JSON.parse(l) as Record<string, number | string>);
      } catch {
        throw new Error(`scalars.json line ${line} is not JSON: ${l.slice(0, 80)}`);
      }
    }
    yield rows;
    start = end + 1;
  }
}

/**
 * Run columns from a `scalars.json` file, parsed slice by slice with `pause()` awaited between
 * slices (the main thread stays responsive while 10^5 stored rows load).
 */
export async function runColumnsFromScalarsJson(bytes: Uint8Array, pause: () => Promise<void>, sliceBytes?: number): Promise<RunColumns> {
  const c = runColumns();
  for (const rows of scalarsJsonSlices(bytes, sliceBytes)) {
    addScalarRows(c, rows);
    await pause();
  }
  return c;
}

/**
 * Min/max downsampling for charts: keeps the first and last point and, per bucket of x, the
 * minimum and maximum of the first series (others take the same indices), so spikes survive.
 * Returns indices into the input (at most about `2 * buckets + 2`).
 */
export function downsampleIndices(ys: ArrayLike<number>, buckets: number): number[] {
  const n = ys.length;
  if (n <= 2 * buckets + 2) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [0];
  const size = (n - 2) / buckets;
  for (let b = 0; b < buckets; b++) {
    const lo = 1 + Math.floor(b * size);
    const hi = Math.min(n - 1, 1 + Math.floor((b + 1) * size));
    let iMin = -1;
    let iMax = -1;
    for (let i = lo; i < hi; i++) {
      const v = ys[i]!;
      if (Number.isNaN(v)) continue;
      if (iMin < 0 || v < ys[iMin]!) iMin = i;
      if (iMax < 0 || v > ys[iMax]!) iMax = i;
    }
    if (iMin < 0) continue;
    if (iMin === iMax) out.push(iMin);
    else out.push(Math.min(iMin, iMax), Math.max(iMin, iMax));
  }
  out.push(n - 1);
  return out;
}

/** `coco/<class>_precision` entries of a validation as a per-class AP table (MMDetection's classwise); `key` is the metric's name. */
export function perClassAP(metrics: Record<string, number | string> | null): Array<{ name: string; ap: number; key: string }> {
  if (!metrics) return [];
  const out: Array<{ name: string; ap: number; key: string }> = [];
  for (const [k, v] of Object.entries(metrics)) {
    const m = /^[^/]+\/(.+)_precision$/.exec(k);
    if (m && typeof v === 'number') out.push({ name: m[1]!, ap: v, key: k });
  }
  return out;
}

/** A worker event, as queued by the client subscription. */
export type TrainEventRecord = { [N in keyof TrainEvents]: { name: N; payload: TrainEvents[N] } }[keyof TrainEvents];

/**
 * Applies a batch of worker events in one state update. The column arrays are appended in place
 * and `dataVersion` is bumped, so charts redraw once per batch however many steps arrived.
 */
export function applyEvents(events: readonly TrainEventRecord[]): void {
  if (events.length === 0) return;
  const s = trainingStore.getState();
  const patch: Partial<TrainingState> = {};
  let data = false;
  let log: string[] | null = null;
  let checkpointsChanged = false;
  let checkpoints = s.checkpoints;
  for (const e of events) {
    switch (e.name) {
      case 'status': {
        const p = e.payload;
        patch.status = p.status;
        if (p.status === 'starting' && p.runId !== null && p.runId !== (patch.runId ?? s.runId)) {
          // a new run: the charts start empty (a resumed run reloads its history with showRun)
          s.train.steps.length = 0;
          s.train.series = {};
          s.val.steps.length = 0;
          s.val.series = {};
          patch.lastMetrics = null;
          patch.eta = null;
          patch.progress = null;
          // ...and so does the log (a resumed run reloads its stored log with setRunLog)
          log = [];
          data = true;
        }
        patch.runId = p.runId;
        patch.pauseReason = p.status === 'paused' ? (p.reason ?? 'user') : null;
        patch.failure = p.failure ?? null;
        patch.message = p.message ?? null;
        break;
      }
      case 'backend':
        patch.backend = e.payload;
        break;
      case 'log':
        log ??= s.log.slice();
        log.push(e.payload.line);
        break;
      case 'train-log':
        appendRow(s.train, e.payload.step, e.payload.tag);
        if (typeof e.payload.tag.eta === 'number') patch.eta = e.payload.tag.eta;
        data = true;
        break;
      case 'val-metrics':
        appendRow(s.val, e.payload.step, e.payload.metrics);
        patch.lastMetrics = e.payload.metrics;
        data = true;
        break;
      case 'progress':
        patch.progress = e.payload;
        break;
      case 'checkpoint-saved': {
        const c = e.payload;
        checkpoints = [...checkpoints.filter((x) => x.id !== c.id), { id: c.id, runId: c.runId, name: c.name, epoch: c.epoch, iter: c.iter, sizeBytes: 0, date: new Date().toISOString() }];
        checkpointsChanged = true;
        break;
      }
      case 'checkpoint-deleted':
        checkpoints = checkpoints.filter((x) => x.id !== e.payload.id);
        checkpointsChanged = true;
        break;
    }
  }
  if (log) patch.log = log.length > MAX_LOG_LINES ? log.slice(log.length - MAX_LOG_LINES) : log;
  if (data) patch.dataVersion = s.dataVersion + 1;
  if (checkpointsChanged) patch.checkpoints = checkpoints;
  trainingStore.setState(patch);
}

/** Shows a stored run in the charts (after a reload, or to look at an older run). */
export function showRun(runId: string, runName: string, rows: ReadonlyArray<Record<string, number | string>> | RunColumns, status?: string): void {
  const { train, val, lastVal } = Array.isArray(rows) ? columnsFromScalars(rows) : (rows as RunColumns);
  const s = trainingStore.getState();
  trainingStore.setState({
    runId,
    runName,
    train,
    val,
    lastMetrics: lastVal,
    ...(s.runId !== runId ? { log: [] } : {}),
    ...(s.compare?.runId === runId ? { compare: null } : {}),
    dataVersion: s.dataVersion + 1,
    ...(s.status === 'idle' || s.status === 'finished' || s.status === 'stopped' || s.status === 'failed'
      ? { message: status ? `Run '${runName}' (${status}), ${train.steps.length} logged steps.` : null }
      : {}),
  });
}

/**
 * Puts a run's stored text log in the log panel (its last {@link MAX_LOG_LINES} lines). Ignored
 * when another run is shown by then. Lines that arrived live meanwhile are part of `lines`.
 */
export function setRunLog(runId: string, lines: readonly string[]): void {
  if (trainingStore.getState().runId !== runId) return;
  trainingStore.setState({ log: lines.length > MAX_LOG_LINES ? lines.slice(lines.length - MAX_LOG_LINES) : lines.slice() });
}

/** Draws a stored run over the shown one in every chart (its scalars.json rows). */
export function setCompareRun(runId: string, runName: string, rows: ReadonlyArray<Record<string, number | string>> | RunColumns): void {
  const { train, val, lastVal: lastMetrics } = Array.isArray(rows) ? columnsFromScalars(rows) : (rows as RunColumns);
  const s = trainingStore.getState();
  trainingStore.setState({ compare: { runId, runName, train, val, lastMetrics }, dataVersion: s.dataVersion + 1 });
}

/** Stops comparing. */
export function clearCompareRun(): void {
  const s = trainingStore.getState();
  if (s.compare) trainingStore.setState({ compare: null, dataVersion: s.dataVersion + 1 });
}

/** Setters used by the panes. */
export function setTrainingFields(patch: Partial<Pick<TrainingState, 'runs' | 'checkpoints' | 'storage' | 'weights' | 'loadFrom' | 'datasetId' | 'cfgOptionsText' | 'actionError' | 'runName' | 'backend'>>): void {
  trainingStore.setState(patch);
}

/** The `--cfg-options` list of the next start: the text's tokens plus `load_from` when chosen. */
export function startCfgOptions(state: Pick<TrainingState, 'cfgOptionsText' | 'loadFrom'>): string[] {
  const opts = state.cfgOptionsText.split(/\s+/).filter((t) => t.length > 0);
  if (state.loadFrom) opts.push(`load_from=${state.loadFrom}`);
  return opts;
}
