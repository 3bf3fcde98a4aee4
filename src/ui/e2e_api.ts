/**
 * A typed API on `window.__detstudio` for end-to-end tests (tldraw's EndToEndApi idea): specs call
 * it through `page.evaluate` to read state and drive the studio without hunting for pixels. It only
 * calls the same functions the UI calls.
 */
import type { Capabilities } from '../core/capabilities.ts';
import { studioStore } from '../store/studio_store.ts';
import type { PaneId, StudioState } from '../store/studio_store.ts';
import { setActivePane } from '../store/studio_store.ts';
import { createFile, editorStore, fileText, openFile } from '../store/editor_store.ts';
import { datasetStore, openDataset as openDatasetById, refreshDatasets } from '../store/dataset_store.ts';
import type { DatasetState } from '../store/dataset_store.ts';
import type { ConfigAnalysis } from '../store/editor_store.ts';
import { bootStudio, getStudioClient } from './boot.ts';
import { trainingStore } from '../store/training_store.ts';
import { predictionsStore } from '../store/predictions_store.ts';
import { control, startTraining, trainClient } from './features/training/training_bridge.ts';
import { getEditorHandle } from './features/editor/editor_bridge.ts';
import type { MarkerInfo } from './features/editor/editor_bridge.ts';
import type { CheckpointDb } from '../storage/checkpoint_db.ts';
import { CHECKPOINT_DB_NAME } from '../storage/schema.ts';
import type { ParityFetchRequest, ParityResult } from './model_parity.ts';

/** What `window.__detstudio` offers. */
export interface EndToEndApi {
  /** Resolves once capabilities are known and the worker answered (or failed). */
  whenBooted(): Promise<void>;
  /** A copy of the studio state. */
  studioState(): StudioState;
  /** Opens a pane. */
  openPane(pane: PaneId): void;
  /** Round-trips a ping through the studio worker. */
  pingWorker(value: string): Promise<{ value: string; workerTime: number }>;
  /** Asks the studio worker for the capabilities a worker sees. */
  workerCapabilities(): Promise<Capabilities>;
  /** Opens a config (tree path) in the editor. */
  openConfig(path: string): void;
  /** Creates a user config with `text` (as New does) and opens it. */
  createConfig(path: string, text: string): Promise<void>;
  /** Path of the open config. */
  openConfigPath(): string;
  /** The stored text of a config (what a reload would show). */
  configText(path: string): string | null;
  /** The latest analysis of the open config, if it matches the current text (null while stale). */
  currentAnalysis(): ConfigAnalysis | null;
  /** Monaco's markers on the open model ([] when the editor is not mounted). */
  editorMarkers(): MarkerInfo[];
  /** Places the cursor at the first occurrence of `needle` (+ `delta` characters) and focuses the editor. */
  placeCursorAt(needle: string, delta?: number): boolean;
  /** A copy of the Dataset pane's state (list, open index, import, filters). */
  datasetState(): DatasetState;
  /** Reloads the dataset list, then opens a dataset by id (`demo` is the bundled one). */
  openDataset(id: string): Promise<void>;
  /** Starts training a config (default: the open one) with `--cfg-options`, as the Train button does. */
  startTraining(path?: string, cfgOptions?: string[]): Promise<{ runId: string; backend: string; maxIters: number } | null>;
  /** Pauses, resumes or stops the running session. */
  controlTraining(kind: 'pause' | 'resume' | 'stop'): Promise<void>;
  /** A summary of the training view state. */
  trainingSummary(): TrainingSummary;
  /** A summary of the Predictions pane (model status, images with their scores, threshold). */
  predictionsSummary(): PredictionsSummary;
  /**
   * Saves a synthetic checkpoint (see {@link SyntheticCheckpointSpec}) of run `runId` through the
   * studio's checkpoint database on this page (creating the run row if needed); resolves with its id.
   */
  storageSaveCheckpoint(runId: string, spec: SyntheticCheckpointSpec): Promise<string>;
  /**
   * Starts saving a synthetic checkpoint and holds the save just before data chunk `atChunk` is
   * written: an IndexedDB read-write transaction on the chunk store is kept busy, so the save's next
   * chunk write waits behind it while chunks 0..atChunk-1 are committed. Resolves once held; the
   * page stays responsive, so a test can close or crash it mid-save (anything reading the chunk
   * store, in any tab, waits until the release). One held save at a time.
   */
  storageHoldSave(runId: string, spec: SyntheticCheckpointSpec, atChunk: number): Promise<void>;
  /** Releases the held save and resolves with its id (or rejects with its error). */
  storageReleaseSave(): Promise<string>;
  /** Loads a checkpoint and compares it with `spec`'s contents: null when identical, else the first difference. */
  storageVerifyCheckpoint(id: string, spec: SyntheticCheckpointSpec): Promise<string | null>;
  /**
   * What IndexedDB holds, read directly (no sweep of unreferenced chunks): checkpoint row ids and
   * the number of data chunks per owning checkpoint id.
   */
  storageRawContents(): Promise<{ checkpoints: string[]; chunks: Record<string, number> }>;
  /** Every stored checkpoint as the Checkpoints pane lists it (through the training worker). */
  storedCheckpoints(): Promise<Array<{ id: string; runId: string; name: string; iter: number; sizeBytes: number }>>;
  /**
   * Builds a detector from a model config dict and checkpoint on this page's WebGPU backend, runs
   * the reference forward pieces (and optionally one `loss()`), and returns plain numbers for
   * comparison with PyTorch (see `model_parity.ts`). Rejects when WebGPU is unavailable.
   */
  modelParity(req: ParityFetchRequest): Promise<ParityResult>;
}

/**
 * A synthetic checkpoint record with deterministic contents: one float32 tensor per entry of
 * `sizes` (values from `seed`), stored like the runner's records (name, meta, state_dict).
 */
export interface SyntheticCheckpointSpec {
  name: string;
  iter: number;
  /** Element counts of its float32 tensors. */
  sizes: number[];
  seed: number;
}

/** What {@link EndToEndApi.predictionsSummary} returns. */
export interface PredictionsSummary {
  modelStatus: string;
  modelError: string | null;
  backend: string | null;
  threshold: number;
  images: Array<{ name: string; status: string; error: string | null; scores: number[]; ms: number | null }>;
}

/** What {@link EndToEndApi.trainingSummary} returns. */
export interface TrainingSummary {
  status: string;
  message: string | null;
  backend: string | null;
  trainSteps: number[];
  losses: number[];
  valSteps: number[];
  lastMetrics: Record<string, number | string> | null;
  logLines: number;
  checkpoints: number;
}

declare global {
  interface Window {
    __detstudio?: EndToEndApi;
  }
}

interface SyntheticRecord {
  name: string;
  meta: { epoch: number; iter: number; time: string };
  state_dict: Record<string, { dtype: 'float32'; shape: number[]; data: Float32Array }>;
}

/** The tensor values of a synthetic checkpoint (a 32-bit LCG per tensor, seeded by spec and index). */
function syntheticTensor(spec: SyntheticCheckpointSpec, t: number): Float32Array {
  const out = new Float32Array(spec.sizes[t]!);
  let x = (spec.seed * 7919 + t * 104729 + 1) >>> 0;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x / 2 ** 32 - 0.5;
  }
  return out;
}

function syntheticRecord(spec: SyntheticCheckpointSpec): SyntheticRecord {
  const state_dict: SyntheticRecord['state_dict'] = {};
  spec.sizes.forEach((n, t) => {
    state_dict[`synthetic.${t}.weight`] = { dtype: 'float32', shape: [n], data: syntheticTensor(spec, t) };
  });
  return { name: spec.name, meta: { epoch: 1, iter: spec.iter, time: new Date().toISOString() }, state_dict };
}

let checkpointDbP: Promise<CheckpointDb> | null = null;

/** The page's own connection to the studio's checkpoint database (opened, and swept, once). */
function checkpointDb(): Promise<CheckpointDb> {
  checkpointDbP ??= import('../storage/checkpoint_db.ts').then((m) => m.CheckpointDb.open());
  return checkpointDbP;
}

async function ensureRun(db: CheckpointDb, runId: string): Promise<void> {
  if (await db.getRun(runId)) return;
  const now = new Date().toISOString();
  await db.putRun({ id: runId, name: runId, created: now, updated: now, status: 'stopped', scalars: [] });
}

let heldSave: { saved: Promise<string>; release(): void } | null = null;

function requireClient() {
  const client = getStudioClient();
  if (!client) throw new Error('The studio worker has not been started.');
  return client;
}

/** Installs `window.__detstudio`. */
export function installEndToEndApi(): void {
  window.__detstudio = {
    whenBooted: () => bootStudio(),
    studioState: () => structuredClone(studioStore.getState()),
    openPane: (pane) => setActivePane(pane),
    pingWorker: (value) => requireClient().request('ping', { value }, { timeoutMs: 10_000 }),
    workerCapabilities: () => requireClient().request('capabilities', undefined, { timeoutMs: 30_000 }),
    openConfig: (path) => openFile(path),
    createConfig: (path, text) => createFile(path, text),
    openConfigPath: () => editorStore.getState().openPath,
    configText: (path) => fileText(editorStore.getState(), path) ?? null,
    currentAnalysis: () => {
      const s = editorStore.getState();
      const a = s.analysis;
      return a && a.path === s.openPath && a.text === fileText(s, s.openPath) ? structuredClone(a) : null;
    },
    editorMarkers: () => getEditorHandle()?.getMarkers() ?? [],
    startTraining: async (path, cfgOptions) => {
      const info = await startTraining({ path, cfgOptions });
      return info ? { runId: info.runId, backend: info.backend.name, maxIters: info.maxIters } : null;
    },
    controlTraining: (kind) => control(kind),
    trainingSummary: () => {
      const t = trainingStore.getState();
      return {
        status: t.status,
        message: t.message ?? t.actionError,
        backend: t.backend?.name ?? null,
        trainSteps: t.train.steps.slice(),
        losses: (t.train.series.loss ?? []).slice(),
        valSteps: t.val.steps.slice(),
        lastMetrics: t.lastMetrics,
        logLines: t.log.length,
        checkpoints: t.checkpoints.length,
      };
    },
    placeCursorAt: (needle, delta = 0) => {
      const h = getEditorHandle();
      if (!h) return false;
      const i = h.getText().indexOf(needle);
      if (i < 0) return false;
      h.placeCursor(i + delta);
      return true;
    },
    datasetState: () => structuredClone(datasetStore.getState()),
    openDataset: async (id) => {
      await refreshDatasets();
      await openDatasetById(id);
    },
    predictionsSummary: () => {
      const p = predictionsStore.getState();
      return {
        modelStatus: p.modelStatus,
        modelError: p.modelError,
        backend: p.model?.backend ?? null,
        threshold: p.threshold,
        images: p.images.map((im) => ({
          name: im.name,
          status: im.status,
          error: im.error ?? null,
          scores: im.prediction ? Array.from(im.prediction.scores) : [],
          ms: im.prediction?.ms ?? null,
        })),
      };
    },
    storageSaveCheckpoint: async (runId, spec) => {
      const db = await checkpointDb();
      await ensureRun(db, runId);
      return db.saveCheckpoint(runId, syntheticRecord(spec));
    },
    storageHoldSave: async (runId, spec, atChunk) => {
      if (heldSave) throw new Error('a save is already held');
      const db = await checkpointDb();
      await ensureRun(db, runId);
      let release = (): void => undefined;
      await new Promise<void>((resolve, reject) => {
        const saved = db.saveCheckpoint(runId, syntheticRecord(spec), {
          faults: {
            beforeChunk: (i) => {
              if (i !== atChunk) return;
              let holding = true;
              const tx = db.db.transaction('chunks', 'readwrite');
              const spin = (): void => {
                if (holding) void tx.store.count().then(spin);
              };
              spin();
              release = () => {
                holding = false;
              };
              resolve();
            },
          },
        });
        saved.catch(reject);
        heldSave = { saved, release: () => release() };
      }).catch((e: unknown) => {
        heldSave = null;
        throw e;
      });
    },
    storageReleaseSave: async () => {
      const h = heldSave;
      if (!h) throw new Error('no save is held');
      heldSave = null;
      h.release();
      return h.saved;
    },
    storageVerifyCheckpoint: async (id, spec) => {
      const r = await (await checkpointDb()).loadCheckpoint<SyntheticRecord>(id);
      if (r.name !== spec.name || r.meta.iter !== spec.iter) return `record is ${r.name} @ ${r.meta.iter}`;
      const keys = Object.keys(r.state_dict);
      if (keys.length !== spec.sizes.length) return `${keys.length} tensors, expected ${spec.sizes.length}`;
      for (let t = 0; t < spec.sizes.length; t++) {
        const got = r.state_dict[`synthetic.${t}.weight`]?.data;
        const want = syntheticTensor(spec, t);
        if (!got || got.length !== want.length) return `tensor ${t} has ${got?.length ?? 'no'} values, expected ${want.length}`;
        for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) return `tensor ${t}[${i}] = ${got[i]}, expected ${want[i]}`;
      }
      return null;
    },
    storageRawContents: async () => {
      const { openDB } = await import('idb');
      const db = await openDB(CHECKPOINT_DB_NAME);
      try {
        const tx = db.transaction(['checkpoints', 'chunks'], 'readonly');
        const checkpoints = (await tx.objectStore('checkpoints').getAllKeys()).map(String);
        const chunks: Record<string, number> = {};
        let cursor = await tx.objectStore('chunks').index('checkpointId').openKeyCursor();
        while (cursor) {
          const owner = String(cursor.key);
          chunks[owner] = (chunks[owner] ?? 0) + 1;
          cursor = await cursor.continue();
        }
        await tx.done;
        return { checkpoints, chunks };
      } finally {
        db.close();
      }
    },
    storedCheckpoints: async () =>
      (await trainClient().request('listCheckpoints', {})).map((c) => ({ id: c.id, runId: c.runId, name: c.name, iter: c.iter, sizeBytes: c.sizeBytes })),
    modelParity: async (req) => (await import('./model_parity.ts')).fetchAndRunModelParity(req),
  };
}
