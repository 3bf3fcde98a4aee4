/**
 * Wires the config editor to storage and to the config worker: loads the built-in tree and the
 * user's saved files at start-up, then re-analyses the open file (debounced) whenever it or any
 * file it may inherit from changes. The worker also summarises the available datasets (the demo
 * and the imported ones) once, and again whenever the dataset list changes; the summaries go with
 * every analysis so the config's dataset sections are checked against them.
 */
import { openConfigFilesDb } from '../../../store/config_files_db.ts';
import { datasetStore, demoBaseUrl } from '../../../store/dataset_store.ts';
import {
  editorStore,
  fileText,
  hydrateUserFiles,
  setAnalysis,
  setBuiltinFiles,
  setDatasetFacts,
  setEditorPersistence,
} from '../../../store/editor_store.ts';
import { ConfigService } from '../../../worker/config_client.ts';
import type { WorkspaceSnapshot } from '../../../worker/config_protocol.ts';

/** The config worker, shared by the analysis loop and the editor's providers. */
export const configService = new ConfigService();

/** Delay between the last keystroke and the analysis. */
export const ANALYSIS_DEBOUNCE_MS = 120;

/** Time limit of summarising the datasets (it reads every annotation json once). */
export const DATASET_FACTS_TIMEOUT_MS = 60_000;

/** The user's layer as the worker needs it. */
export function workspaceSnapshot(): WorkspaceSnapshot {
  const userFiles: Record<string, string> = {};
  for (const [p, f] of Object.entries(editorStore.getState().userFiles)) userFiles[p] = f.text;
  return { userFiles };
}

let timer: ReturnType<typeof setTimeout> | undefined;
let generation = 0;

async function analyzeNow(): Promise<void> {
  const state = editorStore.getState();
  const path = state.openPath;
  const text = fileText(state, path);
  if (text === undefined) return;
  const mine = ++generation;
  try {
    const datasets = state.datasets ?? undefined;
    const analysis = await configService.request('analyze', { ...workspaceSnapshot(), path, ...(datasets ? { datasets } : {}) });
    if (mine === generation) setAnalysis(analysis);
  } catch (err) {
    if (mine !== generation) return;
    const e = err as Error;
    const message =
      e.name === 'TimeoutError'
        ? 'Resolving this config took too long and was stopped (the config worker was restarted). Look for a value that grows without bound.'
        : `${e.name}: ${e.message}`;
    setAnalysis({
      path,
      text,
      diagnostics: [{ severity: 'error', message, from: 0, to: 0 }],
      resolved: { ok: false, error: message },
      diff: null,
      baseCount: 0,
      ms: 0,
    });
  }
}

/** Schedules an analysis of the open file after the debounce delay. */
export function scheduleAnalysis(delay = ANALYSIS_DEBOUNCE_MS): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    void analyzeNow();
  }, delay);
}

let factsGeneration = 0;

/**
 * Asks the config worker for the summaries of the available datasets and stores them (the open
 * file is then analysed again). On failure the binding diagnostics stay off; nothing else changes.
 */
export async function refreshDatasetFacts(): Promise<void> {
  const mine = ++factsGeneration;
  try {
    const facts = await configService.request('datasets', { demoBaseUrl: demoBaseUrl() }, DATASET_FACTS_TIMEOUT_MS);
    if (mine === factsGeneration) setDatasetFacts(facts);
  } catch (err) {
    console.warn('DetStudio: could not summarise the datasets for the config binding check:', err);
  }
}

let started: Promise<void> | null = null;

/**
 * Loads the built-in tree and the user's saved files, connects IndexedDB and starts re-analysing
 * on every change. Idempotent.
 *
 * Args:
 *   builtins: the built-in config tree, tree path → text.
 */
export function startConfigWorkspace(builtins: Record<string, string>): Promise<void> {
  started ??= (async () => {
    setBuiltinFiles(builtins);
    try {
      const db = await openConfigFilesDb();
      hydrateUserFiles(await db.loadAll());
      setEditorPersistence(db);
    } catch (err) {
      hydrateUserFiles([]);
      editorStore.setState({ storageError: `Browser storage is unavailable, edits will not survive a reload: ${(err as Error)?.message ?? err}` });
    }
    editorStore.subscribe((s, prev) => {
      if (s.openPath !== prev.openPath || s.userFiles !== prev.userFiles || s.builtinFiles !== prev.builtinFiles) {
        scheduleAnalysis(s.openPath !== prev.openPath ? 0 : ANALYSIS_DEBOUNCE_MS);
      } else if (s.datasets !== prev.datasets) scheduleAnalysis(0);
    });
    // an import or a deletion refreshes the dataset list
    datasetStore.subscribe((s, prev) => {
      if (s.datasets !== prev.datasets) void refreshDatasetFacts();
    });
    scheduleAnalysis(0);
    void refreshDatasetFacts();
  })();
  return started;
}
