/**
 * Entry of the predict worker: builds a detector from a config and a checkpoint and runs it on
 * images, on WebGPU when there is a hardware adapter, else on wasm. Keep imports minimal: nothing
 * from React, the stores or the UI may reach this chunk.
 */
import { BUILTIN_FILES } from '../configs/browser.ts';
import type { DecodedPixels } from '../data/transforms/loading.ts';
import { currentBackend } from '../ops/backend.ts';
import { initBrowserBackend } from '../ops/backend_browser.ts';
import { CheckpointDb } from '../storage/checkpoint_db.ts';
import { IndexedDbWeightsCache, fetchWeights } from '../storage/weights_cache.ts';
import { createHandler } from './handler.ts';
import type { PredictEvents, PredictRequests } from './predict_protocol.ts';
import { Predictor } from './predict_tasks.ts';
import type { FromWorkerMessage } from './protocol.ts';

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

/** `createImageBitmap` + `OffscreenCanvas`: native PNG / JPEG / WebP decoding, resized while decoding when asked. */
async function decodeImage(bytes: Uint8Array, _name: string, maxSide?: number): Promise<DecodedPixels> {
  const blob = new Blob([new Uint8Array(bytes).buffer as ArrayBuffer]);
  let bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  if (maxSide && Math.max(bmp.width, bmp.height) > maxSide) {
    const s = maxSide / Math.max(bmp.width, bmp.height);
    const small = await createImageBitmap(bmp, {
      resizeWidth: Math.max(1, Math.round(bmp.width * s)),
      resizeHeight: Math.max(1, Math.round(bmp.height * s)),
      resizeQuality: 'high',
    });
    bmp.close();
    bmp = small;
  }
  const { width, height } = bmp;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas in this worker');
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  const data = ctx.getImageData(0, 0, width, height).data;
  return { width, height, channels: 4, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

let db: Promise<CheckpointDb> | null = null;
let weightsCache: Promise<IndexedDbWeightsCache> | undefined;
const predictor = new Predictor({
  builtins: BUILTIN_FILES,
  decodeImage,
  fetchBytes: async (url) => {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  },
  // MMDetection's COCO weights (or any checkpoint URL): once, hash-checked, cached in IndexedDB.
  fetchWeights: async (url) => fetchWeights(url, { cache: await (weightsCache ??= IndexedDbWeightsCache.open()) }),
  checkpointDb: () => (db ??= CheckpointDb.open()),
  limits: () => currentBackend()?.limits ?? null,
  backend: () => {
    const b = currentBackend();
    return { name: b?.name ?? 'none', notice: b?.notice ?? '' };
  },
});

let backendReady: Promise<{ backend: string; notice: string }> | null = null;
function ensureBackend(): Promise<{ backend: string; notice: string }> {
  // The wasm module must be loaded before initBackend sets its WASM_* flags (as train.worker does),
  // or wasm fails to start and inference falls back to the far slower pure-JS cpu backend.
  backendReady ??= import('../ops/wasm/register_wasm_training_kernels.ts')
    .then(() => initBrowserBackend())
    .then((info) => ({ backend: info.name, notice: info.notice }));
  return backendReady;
}

const scope = self as unknown as WorkerScope;
const handler = createHandler<PredictRequests, PredictEvents>(
  {
    init: () => ensureBackend(),
    listStored: () => predictor.listStored(),
    load: async ({ config, checkpoint }) => {
      await ensureBackend();
      return predictor.load(config, checkpoint);
    },
    predict: async ({ name, bytes, imgId }) => predictor.predict(name, bytes, imgId),
    predictSplit: (spec, ctx) => predictor.predictSplit(spec, (done, total, item) => ctx.progress({ done, total, item }), ctx.signal),
  },
  (message: FromWorkerMessage<PredictRequests, PredictEvents>) => scope.postMessage(message),
);
scope.addEventListener('message', (ev) => {
  void handler.handle(ev.data);
});
