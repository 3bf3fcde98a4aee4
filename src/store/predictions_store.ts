/**
 * View state of the Predictions pane: the chosen config and checkpoint, the model the predict
 * worker loaded, the images (dropped files and validation images) with their predictions, the score
 * threshold (a pure filter: moving it never re-runs the model), the view mode, and the validation
 * run's metrics. Plain, serialisable data only; the worker is reached through an injected service.
 */
import { useStore } from 'zustand';
import { createStore } from 'zustand/vanilla';
import { analyzeImage, rankImages, type ImageErrors } from '../eval/error_analysis.ts';
import type {
  CheckpointSource,
  ConfigSource,
  ImagePrediction,
  ModelInfo,
  PredictRequests,
  StoredRun,
  ValRunResult,
  ValSplitSpec,
} from '../worker/predict_protocol.ts';
import type { GtObject } from '../eval/error_analysis.ts';
import type { RequestOptions } from '../worker/client.ts';

/** What the store needs from the predict worker (the `PredictClient`, or an in-thread stand-in). */
export interface PredictService {
  request<K extends keyof PredictRequests & string>(
    kind: K,
    payload: PredictRequests[K]['payload'],
    options?: RequestOptions<PredictRequests[K]['progress']>,
  ): Promise<PredictRequests[K]['result']>;
}

/** One image of the pane. */
export interface PredImage {
  id: string;
  name: string;
  source: 'dropped' | 'val';
  /** What the viewer displays (an object URL or the dataset URL). */
  url: string;
  status: 'pending' | 'running' | 'done' | 'error';
  error?: string;
  prediction?: ImagePrediction;
  /** Ground truth (validation images). */
  gt?: GtObject[];
}

/** The chosen checkpoint, as shown. */
export type CheckpointChoice =
  | { kind: 'file'; name: string; sizeBytes: number }
  | { kind: 'stored'; id: string; name: string; runName: string }
  | { kind: 'url'; url: string; name: string };

/** MMDetection's COCO-trained Mask R-CNN R50-FPN 1x weights (the model zoo's file; 80 classes). */
export const COCO_MASK_RCNN_URL =
  'https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/mask_rcnn_r50_fpn_1x_coco/mask_rcnn_r50_fpn_1x_coco_20200205-d4b0c5d6.pth';

/** Viewer layout. */
export type PredictionView = 'overlay' | 'side';

/** The validation run. */
export interface ValRunState {
  status: 'idle' | 'running' | 'done' | 'error';
  done: number;
  total: number;
  result: ValRunResult | null;
  error: string | null;
}

/** The store's state. */
export interface PredictionsState {
  configPath: string;
  checkpoint: CheckpointChoice | null;
  model: ModelInfo | null;
  modelStatus: 'idle' | 'loading' | 'ready' | 'error';
  modelError: string | null;
  stored: StoredRun[];
  images: PredImage[];
  selectedId: string | null;
  /** Detections below this score are hidden (and left out of the error analysis). */
  threshold: number;
  view: PredictionView;
  showMasks: boolean;
  showBoxes: boolean;
  /** Highlight false positives / missed objects (images with ground truth). */
  showErrors: boolean;
  /** Order of the image list. */
  sort: 'name' | 'worst';
  /** Restrict the worst-first order to one class (from the per-class AP table); null = all. */
  classFilter: number | null;
  valRun: ValRunState;
  /** One-line messages about dropped input (skipped files, …). */
  messages: string[];
}

/** The config the pane proposes first (the studio's demo training config). */
export const DEFAULT_PREDICT_CONFIG = 'demo/mask-rcnn_r18_fpn_8xb2-demo_cityscapes.py';
/** MMDetection's visualizer default (`pred_score_thr=0.3`). */
export const DEFAULT_THRESHOLD = 0.3;

/** The state a fresh pane starts with. */
export function initialPredictionsState(): PredictionsState {
  return {
    configPath: DEFAULT_PREDICT_CONFIG,
    checkpoint: null,
    model: null,
    modelStatus: 'idle',
    modelError: null,
    stored: [],
    images: [],
    selectedId: null,
    threshold: DEFAULT_THRESHOLD,
    view: 'overlay',
    showMasks: true,
    showBoxes: true,
    showErrors: true,
    sort: 'name',
    classFilter: null,
    valRun: { status: 'idle', done: 0, total: 0, result: null, error: null },
    messages: [],
  };
}

/** The vanilla store. */
export const predictionsStore = createStore<PredictionsState>()(() => initialPredictionsState());

/** Puts the store back to its initial state (tests). */
export function resetPredictionsStore(): void {
  predictionsStore.setState(initialPredictionsState(), true);
  checkpointBytes = null;
}

/** React hook: a slice of the state. */
export function usePredictions<T>(selector: (state: PredictionsState) => T): T {
  return useStore(predictionsStore, selector);
}

// ------------------------------------------------------------------------------------------ derived

/** Indices of the detections at or above `threshold`. */
export function visibleIndices(pred: Pick<ImagePrediction, 'scores'>, threshold: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < pred.scores.length; i++) if (pred.scores[i]! >= threshold) out.push(i);
  return out;
}

/** Error analysis of an image with ground truth at the current threshold (IoU 0.5), else null. */
export function imageErrors(image: PredImage, threshold: number): ImageErrors | null {
  if (!image.prediction || !image.gt) return null;
  return analyzeImage(image.prediction, image.gt, { scoreThr: threshold });
}

/** The images in list order: by name, or worst first (optionally for one class). */
export function orderedImages(state: Pick<PredictionsState, 'images' | 'sort' | 'classFilter' | 'threshold'>): PredImage[] {
  if (state.sort !== 'worst') return state.images;
  const analysed = state.images.map((im) => ({ key: im.id, im, errors: imageErrors(im, state.threshold) }));
  const withGt = analysed.filter((a): a is typeof a & { errors: ImageErrors } => a.errors !== null);
  const ranked = rankImages(withGt, state.classFilter ?? undefined).map((r) => r.im);
  if (state.classFilter !== null) return ranked;
  return [...ranked, ...analysed.filter((a) => a.errors === null).map((a) => a.im)];
}

/** The selected image, or null. */
export function selectedImage(state: PredictionsState): PredImage | null {
  return state.images.find((i) => i.id === state.selectedId) ?? null;
}

// ------------------------------------------------------------------------------------------ actions

let service: PredictService | null = null;
/** The dropped checkpoint's bytes (kept out of the state: it can be hundreds of MB). */
let checkpointBytes: Uint8Array | null = null;
let nextId = 1;

/** Connects the store to the predict worker. */
export function setPredictService(s: PredictService | null): void {
  service = s;
}

function requireService(): PredictService {
  if (!service) throw new Error('The predict worker is not available.');
  return service;
}

function patchImage(id: string, patch: Partial<PredImage>): void {
  predictionsStore.setState((s) => ({ images: s.images.map((im) => (im.id === id ? { ...im, ...patch } : im)) }));
}

function errorText(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}

/** Chooses the config (tree path). The model must be loaded again. */
export function setConfigPath(configPath: string): void {
  predictionsStore.setState({ configPath });
}

/** Chooses a dropped checkpoint file. */
export function chooseCheckpointFile(name: string, bytes: Uint8Array): void {
  checkpointBytes = bytes;
  predictionsStore.setState({ checkpoint: { kind: 'file', name, sizeBytes: bytes.byteLength } });
}

/** Chooses checkpoint weights by URL (downloaded once by the worker, hash-checked and cached). */
export function chooseCheckpointUrl(url: string): void {
  checkpointBytes = null;
  const name = url.split('/').pop() || url;
  predictionsStore.setState({ checkpoint: { kind: 'url', url, name } });
}

/** Chooses a checkpoint of the browser's database. */
export function chooseStoredCheckpoint(id: string, name: string, runName: string): void {
  checkpointBytes = null;
  predictionsStore.setState({ checkpoint: { kind: 'stored', id, name, runName } });
}

/** Refreshes the list of stored runs and checkpoints. */
export async function refreshStored(): Promise<void> {
  try {
    const stored = await requireService().request('listStored', undefined);
    predictionsStore.setState({ stored });
  } catch {
    predictionsStore.setState({ stored: [] });
  }
}

/** The run whose checkpoint is chosen, when it saved its config text. */
function runConfig(state: PredictionsState): ConfigSource | null {
  const c = state.checkpoint;
  if (c?.kind !== 'stored') return null;
  const run = state.stored.find((r) => r.checkpoints.some((k) => k.id === c.id));
  return run?.configText ? { kind: 'text', name: `${run.runName} (run config)`, text: run.configText } : null;
}

/**
 * Builds the model in the worker from the chosen config and checkpoint, then predicts every image
 * that is waiting (or was predicted by an earlier model).
 *
 * Args:
 *   userFiles: the user's config files (tree path → text), for resolving the config.
 *   useRunConfig: for a stored checkpoint, use its run's saved config instead of `configPath`.
 */
export async function loadModel(userFiles: Record<string, string>, useRunConfig = false): Promise<void> {
  const s = predictionsStore.getState();
  const c = s.checkpoint;
  if (!c) {
    predictionsStore.setState({ modelStatus: 'error', modelError: 'Choose a checkpoint first: a stored run checkpoint, or drop a .pth / .safetensors file.' });
    return;
  }
  const checkpoint: CheckpointSource =
    c.kind === 'file'
      ? { kind: 'file', name: c.name, bytes: checkpointBytes! }
      : c.kind === 'url'
        ? { kind: 'url', url: c.url, name: c.name }
        : { kind: 'stored', id: c.id, name: c.name };
  const config: ConfigSource = (useRunConfig && runConfig(s)) || { kind: 'path', path: s.configPath, userFiles };
  predictionsStore.setState({ modelStatus: 'loading', modelError: null });
  try {
    const model = await requireService().request('load', { config, checkpoint });
    predictionsStore.setState((st) => ({
      model,
      modelStatus: 'ready',
      images: st.images.map((im) => ({ ...im, status: 'pending' as const, error: undefined, prediction: undefined })),
      valRun: { status: 'idle', done: 0, total: 0, result: null, error: null },
    }));
    await predictPending();
  } catch (e) {
    predictionsStore.setState({ model: null, modelStatus: 'error', modelError: errorText(e) });
  }
}

let draining = false;

/** Predicts the waiting images one at a time (in list order). */
export async function predictPending(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    for (;;) {
      const s = predictionsStore.getState();
      if (s.modelStatus !== 'ready') return;
      const next = s.images.find((i) => i.status === 'pending');
      if (!next) return;
      patchImage(next.id, { status: 'running' });
      try {
        const bytes = await readBytes(next);
        const prediction = await requireService().request('predict', { name: next.name, bytes });
        patchImage(next.id, { status: 'done', prediction });
      } catch (e) {
        patchImage(next.id, { status: 'error', error: errorText(e) });
      }
    }
  } finally {
    draining = false;
  }
}

const droppedBytes = new Map<string, Uint8Array>();

async function readBytes(im: PredImage): Promise<Uint8Array> {
  const b = droppedBytes.get(im.id);
  if (b) return b;
  const res = await fetch(im.url);
  if (!res.ok) throw new Error(`${im.url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Adds dropped files; each is predicted as soon as a model is loaded. Type checks happen in the
 * worker (by signature, not by extension), so a mislabelled file gets a precise message there.
 *
 * Args:
 *   files: name, bytes and a URL the viewer can display (an object URL).
 */
export function addImages(files: Array<{ name: string; bytes: Uint8Array; url: string }>): void {
  const added: PredImage[] = files.map((f) => {
    const id = `img-${nextId++}`;
    droppedBytes.set(id, f.bytes);
    return { id, name: f.name, source: 'dropped', url: f.url, status: 'pending' };
  });
  if (!added.length) return;
  predictionsStore.setState((s) => ({ images: [...s.images, ...added], selectedId: added[0]!.id }));
  void predictPending();
}

/** Removes every image (and revokes the dropped files' URLs through `revoke`). */
export function clearImages(revoke: (url: string) => void = () => {}): void {
  for (const im of predictionsStore.getState().images) if (im.source === 'dropped') revoke(im.url);
  droppedBytes.clear();
  predictionsStore.setState({ images: [], selectedId: null, valRun: { status: 'idle', done: 0, total: 0, result: null, error: null } });
}

/**
 * Predicts and evaluates a validation split in the worker; images appear as they are predicted,
 * with their ground truth, and the COCO metrics and results json arrive at the end.
 */
export async function runValidation(spec: ValSplitSpec): Promise<void> {
  const s = predictionsStore.getState();
  if (s.modelStatus !== 'ready') return;
  predictionsStore.setState((st) => ({
    images: st.images.filter((i) => i.source !== 'val'),
    valRun: { status: 'running', done: 0, total: 0, result: null, error: null },
  }));
  let first = true;
  try {
    const result = await requireService().request('predictSplit', spec, {
      onProgress: ({ done, total, item }) => {
        const im: PredImage = {
          id: `val-${item.prediction.imgId ?? done}`,
          name: item.prediction.name,
          source: 'val',
          url: item.url,
          status: 'done',
          prediction: item.prediction,
          gt: item.gt,
        };
        predictionsStore.setState((st) => ({
          images: [...st.images, im],
          selectedId: first ? im.id : st.selectedId,
          valRun: { ...st.valRun, done, total },
        }));
        first = false;
      },
    });
    predictionsStore.setState((st) => ({ valRun: { ...st.valRun, status: 'done', result }, sort: 'worst' }));
  } catch (e) {
    predictionsStore.setState((st) => ({ valRun: { ...st.valRun, status: 'error', error: errorText(e) } }));
  }
}

/** Sets the score threshold (clamped to [0, 1]); nothing is re-run. */
export function setThreshold(threshold: number): void {
  predictionsStore.setState({ threshold: Math.min(1, Math.max(0, threshold)) });
}

/** Selects an image. */
export function selectImage(id: string): void {
  predictionsStore.setState({ selectedId: id });
}

/** Moves the selection by `delta` in list order (keyboard navigation); stays at the ends. */
export function stepSelection(delta: number): void {
  const s = predictionsStore.getState();
  const list = orderedImages(s);
  if (!list.length) return;
  const i = list.findIndex((im) => im.id === s.selectedId);
  const j = i < 0 ? 0 : Math.min(list.length - 1, Math.max(0, i + delta));
  predictionsStore.setState({ selectedId: list[j]!.id });
}

/** Viewer options. */
export function setViewOptions(patch: Partial<Pick<PredictionsState, 'view' | 'showMasks' | 'showBoxes' | 'showErrors'>>): void {
  predictionsStore.setState(patch);
}

/** List order; `classFilter` ranks by one class's errors (the per-class AP table's links). */
export function setSort(sort: PredictionsState['sort'], classFilter: number | null = null): void {
  const s = predictionsStore.getState();
  predictionsStore.setState({ sort, classFilter: sort === 'worst' ? classFilter : null });
  if (sort === 'worst') {
    const first = orderedImages({ ...s, sort, classFilter })[0];
    if (first) predictionsStore.setState({ selectedId: first.id });
  }
}

/** Adds a message about skipped input (kept to the last five). */
export function pushMessage(message: string): void {
  predictionsStore.setState((s) => ({ messages: [...s.messages, message].slice(-5) }));
}

/** Clears the messages. */
export function clearMessages(): void {
  predictionsStore.setState({ messages: [] });
}
