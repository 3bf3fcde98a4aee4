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
import { control, startTraining } from './features/training/training_bridge.ts';
import { getEditorHandle } from './features/editor/editor_bridge.ts';
import type { MarkerInfo } from './features/editor/editor_bridge.ts';

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
  };
}
