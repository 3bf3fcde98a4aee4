/**
 * The Dataset pane's view state: the dataset list, the open dataset's index (no pixels), the import
 * in progress, filters, the selected image, storage use and the config binding. Plain data only;
 * thumbnails and image bitmaps stay in the components. Actions talk to the dataset worker through a
 * {@link DatasetRequester} (the real client by default; tests inject one).
 */
import { useStore } from 'zustand';
import { createStore } from 'zustand/vanilla';
import type { ImportProgress } from '../data/import_report.ts';
import type { DatasetSummary } from '../storage/dataset_db.ts';
import type { RequestOptions } from '../worker/client.ts';
import { DatasetClient } from '../worker/dataset_client.ts';
import type {
  BindingReport,
  DatasetIndex,
  DatasetRequests,
  ImageEntry,
  ImportResult,
  ImportSource,
  StorageInfo,
  StorageMode,
} from '../worker/dataset_protocol.ts';

/** What the store needs from the dataset worker client. */
export interface DatasetRequester {
  request<K extends keyof DatasetRequests & string>(
    kind: K,
    payload: DatasetRequests[K]['payload'],
    options?: RequestOptions<DatasetRequests[K]['progress']>,
  ): Promise<DatasetRequests[K]['result']>;
}

/** Tabs of an open dataset. */
export type DatasetTab = 'browse' | 'stats' | 'report' | 'binding';

/** Filters of the image grid. */
export interface ImageFilters {
  /** Only this split (null: all). */
  split: string | null;
  /** Only images containing at least one of these labels (empty: all). */
  classes: number[];
}

/** The dataset store's state. */
export interface DatasetState {
  datasets: DatasetSummary[];
  listError: string | null;
  openId: string | null;
  index: DatasetIndex | null;
  opening: boolean;
  openError: string | null;
  /** The import in progress. */
  importing: { name: string; progress: ImportProgress | null } | null;
  /** The last finished import and its report. */
  lastImport: (ImportResult & { name: string }) | null;
  importError: string | null;
  /** How folders with a handle are kept. */
  mode: StorageMode;
  filters: ImageFilters;
  selectedKey: string | null;
  tab: DatasetTab;
  storage: StorageInfo | null;
  binding: BindingReport | null;
  bindingError: string | null;
}

/** The state a fresh pane starts with. */
export function initialDatasetState(): DatasetState {
  return {
    datasets: [],
    listError: null,
    openId: null,
    index: null,
    opening: false,
    openError: null,
    importing: null,
    lastImport: null,
    importError: null,
    mode: 'handle',
    filters: { split: null, classes: [] },
    selectedKey: null,
    tab: 'browse',
    storage: null,
    binding: null,
    bindingError: null,
  };
}

/** The vanilla store. */
export const datasetStore = createStore<DatasetState>()(() => initialDatasetState());

let requester: DatasetRequester | null = null;
let importAbort: AbortController | null = null;

/** The worker client (started on first use). */
export function datasetRequester(): DatasetRequester {
  requester ??= new DatasetClient();
  return requester;
}

/** Replaces the worker client (tests) and resets the state. */
export function resetDatasetStore(r: DatasetRequester | null = null): void {
  requester = r;
  importAbort = null;
  datasetStore.setState(initialDatasetState(), true);
}

/** URL of the bundled demo folder (`public/demo/`) on this origin. */
export function demoBaseUrl(): string {
  const base = typeof document !== 'undefined' ? document.baseURI : 'http://localhost/';
  return new URL('demo/', base).href;
}

const message = (err: unknown): string => (err as Error)?.message ?? String(err);

/** Reloads the dataset list and the storage estimate. */
export async function refreshDatasets(): Promise<void> {
  try {
    const [datasets, storage] = await Promise.all([
      datasetRequester().request('list', { demoBaseUrl: demoBaseUrl() }, { timeoutMs: 30_000 }),
      datasetRequester().request('storage', undefined, { timeoutMs: 10_000 }).catch(() => null),
    ]);
    datasetStore.setState({ datasets, storage, listError: null });
  } catch (err) {
    datasetStore.setState({ listError: message(err) });
  }
}

/** Opens a dataset (its index; pixels are fetched by the components). */
export async function openDataset(id: string): Promise<void> {
  datasetStore.setState({ openId: id, opening: true, openError: null, selectedKey: null, binding: null, bindingError: null, lastImport: null, filters: { split: null, classes: [] } });
  try {
    const index = await datasetRequester().request('open', { id, demoBaseUrl: demoBaseUrl() }, { timeoutMs: 60_000 });
    if (datasetStore.getState().openId === id) datasetStore.setState({ index, opening: false });
  } catch (err) {
    if (datasetStore.getState().openId === id) datasetStore.setState({ index: null, opening: false, openError: message(err) });
  }
}

/** Closes the open dataset (back to the list). */
export function closeDataset(): void {
  datasetStore.setState({ openId: null, index: null, selectedKey: null, openError: null });
}

/** Imports a folder, file list or zip; the report lands in `lastImport`. */
export async function importDatasetSource(source: ImportSource): Promise<void> {
  if (datasetStore.getState().importing) return;
  importAbort = new AbortController();
  datasetStore.setState({ importing: { name: source.name, progress: null }, importError: null, lastImport: null });
  try {
    const mode = source.kind === 'handle' ? datasetStore.getState().mode : 'opfs';
    const result = await datasetRequester().request(
      'import',
      { source, mode },
      {
        signal: importAbort.signal,
        onProgress: (progress) => datasetStore.setState({ importing: { name: source.name, progress } }),
      },
    );
    if (result.summary && datasetStore.getState().openId === result.summary.id) closeDataset(); // its index changed
    datasetStore.setState({ importing: null, lastImport: { ...result, name: source.name } });
    await refreshDatasets();
  } catch (err) {
    const cancelled = (err as Error)?.name === 'AbortError' || (err as Error)?.name === 'AbortedError';
    datasetStore.setState({ importing: null, importError: cancelled ? 'Import cancelled.' : message(err) });
  } finally {
    importAbort = null;
  }
}

/** Cancels the running import. */
export function cancelImport(): void {
  importAbort?.abort();
}

/** Deletes a stored dataset (and its OPFS copy). */
export async function deleteDataset(id: string): Promise<void> {
  await datasetRequester().request('delete', { id }, { timeoutMs: 60_000 });
  if (datasetStore.getState().openId === id) closeDataset();
  await refreshDatasets();
}

/** Checks the config's dataset sections against the open dataset. */
export async function checkBinding(configPath: string, userFiles: Record<string, string>): Promise<void> {
  const id = datasetStore.getState().openId;
  if (!id) return;
  try {
    const binding = await datasetRequester().request('binding', { id, configPath, userFiles }, { timeoutMs: 30_000 });
    if (datasetStore.getState().openId === id) datasetStore.setState({ binding, bindingError: null });
  } catch (err) {
    datasetStore.setState({ bindingError: message(err) });
  }
}

/** Sets how folders with a handle are kept. */
export function setStorageMode(mode: StorageMode): void {
  datasetStore.setState({ mode });
}

/** Sets the grid filters. */
export function setFilters(filters: Partial<ImageFilters>): void {
  datasetStore.setState((s) => ({ filters: { ...s.filters, ...filters } }));
}

/** Toggles one class in the class filter. */
export function toggleClassFilter(label: number): void {
  const cur = datasetStore.getState().filters.classes;
  setFilters({ classes: cur.includes(label) ? cur.filter((c) => c !== label) : [...cur, label].sort((a, b) => a - b) });
}

/** Selects an image (null closes the image view). */
export function selectImage(key: string | null): void {
  datasetStore.setState({ selectedKey: key });
}

/** Switches the tab of the open dataset. */
export function setDatasetTab(tab: DatasetTab): void {
  datasetStore.setState({ tab });
}

/** The images the grid shows under `filters`. */
export function filterImages(images: readonly ImageEntry[], filters: ImageFilters): ImageEntry[] {
  const wanted = new Set(filters.classes);
  return images.filter((im) => (filters.split === null || im.split === filters.split) && (wanted.size === 0 || im.labels.some((l) => wanted.has(l))));
}

/** `1.5 MB`-style byte counts. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** `1 m 05 s`-style durations (`—` when unknown). */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

/** React hook: a slice of the dataset state. */
export function useDatasets<T>(selector: (state: DatasetState) => T): T {
  return useStore(datasetStore, selector);
}
