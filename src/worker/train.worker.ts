/**
 * Entry of the training worker: a module Web Worker that owns tfjs, the runner and the checkpoint
 * database. The main thread talks to it through `train_client.ts` with the requests and events of
 * `train_protocol.ts`; the work itself is `TrainingService` (`train_tasks.ts`).
 *
 * Keep imports minimal: nothing from React, the stores or the UI may reach this chunk.
 */
import { BUILTIN_FILES } from '../configs/browser.ts';
import { createBitmapImageDecoder } from '../data/browser_image_decoder.ts';
import { withOffThreadResize, type DecodeWorkerPort } from '../data/off_thread_decoder.ts';
import { CheckpointDb, storageEstimate } from '../storage/checkpoint_db.ts';
import { createHandler } from './handler.ts';
import type { FromWorkerMessage } from './protocol.ts';
import type { TrainEvents, TrainRequests } from './train_protocol.ts';
import { TrainingService, WeightsStore, demoReader } from './train_tasks.ts';
import { DatasetDb } from '../storage/dataset_db.ts';
import { type DirHandleLike, openRecordTree } from './dataset_tasks.ts';
import { importedDatasetReader } from './imported_dataset_reader.ts';
import { IndexedDbWeightsCache, fetchWeights, formatWeightsProgress } from '../storage/weights_cache.ts';

let weightsCache: Promise<IndexedDbWeightsCache> | undefined;

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

interface LockManagerLike {
  request(name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => Promise<void>): Promise<void>;
}

const scope = self as unknown as WorkerScope;

/** Takes the cross-tab lock `detstudio-training` (Web Locks API); null when another tab holds it. */
function acquireLock(): Promise<(() => void) | null> {
  const locks = (navigator as unknown as { locks?: LockManagerLike }).locks;
  if (!locks) return Promise.resolve(() => undefined);
  return new Promise((resolveAcquire) => {
    void locks.request('detstudio-training', { ifAvailable: true }, (lock) => {
      if (!lock) {
        resolveAcquire(null);
        return Promise.resolve();
      }
      return new Promise<void>((release) => resolveAcquire(() => release()));
    });
  });
}

const service = new TrainingService(
  {
    builtins: BUILTIN_FILES,
    openDb: () => CheckpointDb.open(),
    openWeights: () => WeightsStore.open(),
    datasetReader: (source) => {
      if (source.kind === 'demo') return demoReader(fetch.bind(globalThis));
      // A dataset imported in the Dataset pane: its record (converted annotations, file list) from
      // IndexedDB, its images from OPFS or the granted folder handle.
      let reader: Promise<(path: string) => Promise<Uint8Array>> | undefined;
      return async (path: string) => {
        reader ??= (async () => {
          const db = await DatasetDb.open();
          const record = await db.get(source.datasetId);
          if (!record) throw new Error(`dataset '${source.datasetId}' is not in this browser any more; import it again in the Dataset pane`);
          const tree = await openRecordTree(record, {
            opfsRoot: async () => {
              const storage = (navigator as Navigator & { storage?: StorageManager }).storage;
              return storage?.getDirectory ? ((await storage.getDirectory()) as unknown as DirHandleLike) : null;
            },
            fetch: (input, init) => fetch(input, init),
          });
          return importedDatasetReader(record, tree);
        })();
        reader.catch(() => (reader = undefined));
        return (await reader)(path);
      };
    },
    // 8-bit PNGs followed by (Random)Resize decode straight at the resized size (native resample,
    // within a few units of cv2 INTER_LINEAR); `nativeResize: false` forces the exact OpenCV-equal
    // path. That native decode runs on a decode worker, so this thread keeps dispatching GPU work.
    decodeImage: withOffThreadResize(
      createBitmapImageDecoder(globalThis, { nativeResize: true }),
      () =>
        typeof Worker === 'function'
          ? (new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module', name: 'detstudio-decode' }) as unknown as DecodeWorkerPort)
          : null,
      {
        onFallback: (reason) => {
          const text = `Images are decoded on the training thread: ${reason}.`;
          handler.emit('log', { level: 'warning', text, line: text });
        },
      },
    ),
    initBackend: async ({ prefer, onDeviceLost }) => {
      // Load the wasm backend module first: initBackend sets its WASM_HAS_MULTITHREAD_SUPPORT flag
      // (production builds run wasm single-threaded) before importing it, and tfjs refuses to set
      // a flag the backend has not registered yet.
      await import('../ops/wasm/register_wasm_training_kernels.ts');
      const { initBrowserBackend } = await import('../ops/backend_browser.ts');
      const info = await initBrowserBackend({ forTraining: true, prefer, onDeviceLost });
      return { name: info.name, notice: info.notice };
    },
    buildRunner: async (cfg, ctx, opts) => (await import('../runner/build.ts')).buildRunner(cfg, ctx, opts),
    acquireLock,
    // http(s) load_from: downloaded once with progress, checked against the hash in its file name,
    // cached in IndexedDB (detstudio-weights) so it is never downloaded twice.
    fetchBytes: async (url) =>
      fetchWeights(url, {
        cache: await (weightsCache ??= IndexedDbWeightsCache.open()),
        progressIntervalMs: 1000,
        onProgress: (p) => {
          const text = formatWeightsProgress(p);
          handler.emit('log', { level: 'info', text, line: text });
        },
        onWarning: (m) => handler.emit('log', { level: 'warning', text: m, line: m }),
      }),
    storageEstimate,
  },
  (name, payload) => handler.emit(name, payload),
);

const handler = createHandler<TrainRequests, TrainEvents>(
  {
    start: (p) => service.start(p),
    resumeFrom: (p) => service.resumeFrom(p),
    pause: async () => service.pause(),
    resume: async () => service.resume(),
    stop: async () => service.stop(),
    listRuns: () => service.listRuns(),
    runScalars: ({ runId }) => service.runScalars(runId),
    listCheckpoints: ({ runId }) => service.listCheckpoints(runId),
    deleteCheckpoint: ({ id }) => service.deleteCheckpoint(id),
    deleteRun: ({ runId }) => service.deleteRun(runId),
    storage: () => service.storage(),
    export: (p, ctx) => service.exportFile(p, (r) => ctx.progress(r)),
    importWeights: ({ name, bytes }, ctx) => service.importWeights(name, bytes, (r) => ctx.progress(r)),
    listWeights: () => service.listWeights(),
    deleteWeights: ({ uri }) => service.deleteWeights(uri),
  },
  (message: FromWorkerMessage<TrainRequests, TrainEvents>) => {
    // Exported files move to the main thread instead of being copied.
    const transfer: Transferable[] = [];
    if (message.type === 'return' && message.kind === 'export') transfer.push((message.result as { bytes: Uint8Array }).bytes.buffer as ArrayBuffer);
    scope.postMessage(message, transfer);
  },
);
scope.addEventListener('message', (ev) => {
  void handler.handle(ev.data);
});
