/**
 * Glue between the training worker and the training store: worker events are queued and applied
 * once per animation frame (so the main thread does one small update per frame however fast the
 * worker logs), and the panes' actions (train, pause, export, import …) call the worker here.
 */
import { editorStore } from '../../../store/editor_store.ts';
import {
  applyEvents,
  clearCompareRun,
  runColumnsFromScalarsJson,
  setCompareRun,
  setRunLog,
  setTrainingFields,
  showRun,
  startCfgOptions,
  trainingStore,
  type RunColumns,
  type TrainEventRecord,
} from '../../../store/training_store.ts';
import { getTrainClient, type TrainClient } from '../../../worker/train_client.ts';
import type { ByteProgress, DatasetSource, ExportFormat, StartedInfo, TrainEvents } from '../../../worker/train_protocol.ts';

const EVENT_NAMES: Array<keyof TrainEvents> = ['status', 'backend', 'log', 'train-log', 'val-metrics', 'progress', 'checkpoint-saved', 'checkpoint-deleted'];

let connected: TrainClient | null = null;
let queue: TrainEventRecord[] = [];
let frame = 0;

function flush(): void {
  frame = 0;
  const batch = queue;
  queue = [];
  applyEvents(batch);
  if (batch.some((e) => e.name === 'checkpoint-saved' || e.name === 'checkpoint-deleted' || (e.name === 'status' && isEnd(e.payload.status)))) {
    void refreshCheckpoints();
    void refreshRuns();
  }
}

function isEnd(s: string): boolean {
  return s === 'finished' || s === 'stopped' || s === 'failed';
}

function schedule(): void {
  if (frame) return;
  frame = typeof requestAnimationFrame === 'function' ? requestAnimationFrame(flush) : (setTimeout(flush, 16) as unknown as number);
}

/** The worker client with the store subscribed to its events (started on first use). */
export function trainClient(): TrainClient {
  const c = getTrainClient();
  if (connected !== c) {
    connected = c;
    for (const name of EVENT_NAMES) {
      c.on(name, (payload) => {
        queue.push({ name, payload } as TrainEventRecord);
        schedule();
      });
    }
  }
  return c;
}

function fail(err: unknown): void {
  setTrainingFields({ actionError: (err as Error)?.message ?? String(err) });
}

/** Starts training the config open in the editor on the demo dataset. */
/** The dataset chosen in the Training pane (the bundled demo unless an imported one is picked). */
function datasetSource(): DatasetSource {
  const id = trainingStore.getState().datasetId;
  return id ? { kind: 'imported', datasetId: id } : { kind: 'demo' };
}

export async function startTraining(opts: { path?: string; cfgOptions?: string[] } = {}): Promise<StartedInfo | null> {
  const ed = editorStore.getState();
  const userFiles: Record<string, string> = {};
  for (const [p, f] of Object.entries(ed.userFiles)) userFiles[p] = f.text;
  const path = opts.path ?? ed.openPath;
  setTrainingFields({ actionError: null });
  try {
    const info = await trainClient().request('start', {
      path,
      userFiles,
      cfgOptions: opts.cfgOptions ?? startCfgOptions(trainingStore.getState()),
      dataset: datasetSource(),
    });
    setTrainingFields({ runName: info.runName, backend: info.backend });
    void refreshRuns();
    return info;
  } catch (e) {
    fail(e);
    return null;
  }
}

/** Continues a stored run from a checkpoint (latest when omitted); its charts continue. */
export async function resumeFromCheckpoint(runId: string, checkpointId?: string): Promise<StartedInfo | null> {
  setTrainingFields({ actionError: null });
  try {
    const info = await trainClient().request('resumeFrom', { runId, checkpointId, dataset: datasetSource() });
    showRun(runId, info.runName, await fetchRunColumns(runId));
    setTrainingFields({ runName: info.runName, backend: info.backend });
    await loadRunLog(runId);
    return info;
  } catch (e) {
    fail(e);
    return null;
  }
}

/** Pause / resume / stop of the running session. */
export async function control(kind: 'pause' | 'resume' | 'stop'): Promise<void> {
  try {
    await trainClient().request(kind, undefined);
  } catch (e) {
    fail(e);
  }
}

/** Reloads the list of runs. */
export async function refreshRuns(): Promise<void> {
  try {
    setTrainingFields({ runs: await trainClient().request('listRuns', undefined) });
  } catch (e) {
    fail(e);
  }
}

/** Reloads every run's checkpoints and the storage estimate. */
export async function refreshCheckpoints(): Promise<void> {
  try {
    const [checkpoints, storage] = await Promise.all([trainClient().request('listCheckpoints', {}), trainClient().request('storage', undefined)]);
    setTrainingFields({ checkpoints, storage });
  } catch (e) {
    fail(e);
  }
}

/** Lets the event loop run (input, rendering) before continuing: a fresh task. */
function yieldToEventLoop(): Promise<void> {
  const sched = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (sched?.yield) return sched.yield();
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });
}

/**
 * A stored run's chart columns. Its `scalars.json` comes from the worker as bytes (transferred,
 * not structured-cloned row by row) and is parsed in slices between which the main thread is
 * free, so a run of 10^5 logged steps loads without a long task.
 */
async function fetchRunColumns(runId: string): Promise<RunColumns> {
  const f = await trainClient().request('export', { runId, format: 'scalars' });
  return runColumnsFromScalarsJson(f.bytes, yieldToEventLoop);
}

/**
 * Puts a run's text log, as stored with the run in IndexedDB, in the log panel (read through the
 * worker's `log` export). Queued live events are applied first: the stored log already holds them.
 */
async function loadRunLog(runId: string): Promise<void> {
  let lines: string[] = [];
  try {
    const f = await trainClient().request('export', { runId, format: 'log' });
    const text = new TextDecoder().decode(f.bytes);
    lines = text.length ? text.replace(/\n$/, '').split('\n') : [];
  } catch {
    // a run trained before logs were stored with it: no lines (its scalars.json is complete)
  }
  flush();
  setRunLog(runId, lines);
}

/** Loads a stored run into the charts and its text log into the log panel. */
export async function openRun(runId: string): Promise<void> {
  try {
    const run = trainingStore.getState().runs.find((r) => r.id === runId);
    showRun(runId, run?.name ?? runId, await fetchRunColumns(runId), run?.status);
    await loadRunLog(runId);
  } catch (e) {
    fail(e);
  }
}

/**
 * After a reload: shows the most recently updated run (charts, validation table and text log come
 * back from IndexedDB) when nothing is shown and nothing trains.
 */
export async function restoreLastRun(): Promise<void> {
  await refreshRuns();
  const s = trainingStore.getState();
  if (s.runId === null && s.status === 'idle' && s.runs.length > 0) await openRun(s.runs[0]!.id);
}

/** Draws a stored run over the shown one in the charts (null stops comparing). */
export async function compareWith(runId: string | null): Promise<void> {
  if (!runId) {
    clearCompareRun();
    return;
  }
  try {
    const run = trainingStore.getState().runs.find((r) => r.id === runId);
    setCompareRun(runId, run?.name ?? runId, await fetchRunColumns(runId));
  } catch (e) {
    fail(e);
  }
}

/** Deletes a checkpoint. */
export async function deleteCheckpoint(id: string): Promise<void> {
  try {
    await trainClient().request('deleteCheckpoint', { id });
  } catch (e) {
    fail(e);
  }
  await refreshCheckpoints();
}

/** Deletes a run and its checkpoints. */
export async function deleteRun(runId: string): Promise<void> {
  try {
    await trainClient().request('deleteRun', { runId });
    if (trainingStore.getState().compare?.runId === runId) clearCompareRun();
  } catch (e) {
    fail(e);
  }
  await Promise.all([refreshRuns(), refreshCheckpoints()]);
}

/** Asks the browser to keep this origin's storage (`navigator.storage.persist()`). */
export async function requestPersist(): Promise<boolean> {
  const ok = navigator.storage?.persist ? await navigator.storage.persist() : false;
  await refreshCheckpoints();
  return ok;
}

/** Saves bytes as a file download. */
export function download(fileName: string, bytes: Uint8Array | string, mime = 'application/octet-stream'): void {
  const blob = new Blob([typeof bytes === 'string' ? bytes : (bytes as Uint8Array<ArrayBuffer>)], { type: mime });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Exports from the worker and downloads the file; `onProgress` sees byte progress. */
export async function exportAndDownload(
  req: { runId: string; checkpointId?: string; format: ExportFormat; withOptimizer?: boolean },
  onProgress?: (p: ByteProgress) => void,
): Promise<{ fileName: string; bytes: number } | null> {
  setTrainingFields({ actionError: null });
  try {
    const f = await trainClient().request('export', req, { onProgress });
    download(f.fileName, f.bytes, f.mime);
    return { fileName: f.fileName, bytes: f.bytes.byteLength };
  } catch (e) {
    fail(e);
    return null;
  }
}

/** Stores a dropped weights file in the worker's database and selects it as `load_from`. */
export async function importWeightsFile(file: File, onProgress?: (p: ByteProgress) => void): Promise<void> {
  setTrainingFields({ actionError: null });
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const info = await trainClient().request('importWeights', { name: file.name, bytes }, { onProgress, transfer: [bytes.buffer] });
    setTrainingFields({ loadFrom: info.uri });
    await refreshWeights();
  } catch (e) {
    fail(e);
  }
}

/** Reloads the imported weights list. */
export async function refreshWeights(): Promise<void> {
  try {
    setTrainingFields({ weights: await trainClient().request('listWeights', undefined) });
  } catch (e) {
    fail(e);
  }
}

/** Deletes an imported weights file. */
export async function deleteWeights(uri: string): Promise<void> {
  try {
    await trainClient().request('deleteWeights', { uri });
    if (trainingStore.getState().loadFrom === uri) setTrainingFields({ loadFrom: null });
  } catch (e) {
    fail(e);
  }
  await refreshWeights();
}

const WEIGHTS_FILE = /\.(pth|pt|safetensors)$/i;

/**
 * Lets the user drop a `.pth` / `.safetensors` anywhere on the studio to use it as `load_from`.
 * Drops another handler already took (`defaultPrevented`) or that hold other files are left alone.
 */
export function installWeightsDrop(target: Window = window): () => void {
  const over = (e: DragEvent) => {
    if (!e.defaultPrevented && e.dataTransfer?.types.includes('Files')) e.preventDefault();
  };
  const drop = (e: DragEvent) => {
    if (e.defaultPrevented) return;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length === 0 || !files.every((f) => WEIGHTS_FILE.test(f.name))) return;
    e.preventDefault();
    for (const f of files) void importWeightsFile(f);
  };
  target.addEventListener('dragover', over);
  target.addEventListener('drop', drop);
  return () => {
    target.removeEventListener('dragover', over);
    target.removeEventListener('drop', drop);
  };
}
