/**
 * Entry of the dataset worker: imports, stores and reads datasets off the main thread (folder walks,
 * Cityscapes conversion, OPFS copies, thumbnail decoding, instance overlays, config binding checks).
 * Keep imports minimal: nothing from React, the stores or the UI may reach this chunk.
 */
import { BUILTIN_FILES } from '../configs/browser.ts';
import { DatasetDb } from '../storage/dataset_db.ts';
import type { DatasetEvents, DatasetRequests } from './dataset_protocol.ts';
import { DatasetService, type DirHandleLike } from './dataset_tasks.ts';
import { createHandler } from './handler.ts';
import type { FromWorkerMessage } from './protocol.ts';

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

const scope = self as unknown as WorkerScope;
let db: Promise<DatasetDb> | null = null;

const service = new DatasetService({
  db: () => (db ??= DatasetDb.open()),
  opfsRoot: async () => {
    const storage = (navigator as Navigator & { storage?: StorageManager }).storage;
    if (!storage?.getDirectory) return null;
    return (await storage.getDirectory()) as unknown as DirHandleLike;
  },
  fetch: (input, init) => fetch(input, init),
  decodeThumbnail: async (bytes, size) => {
    const blob = new Blob([new Uint8Array(bytes).buffer as ArrayBuffer]);
    const probe = await createImageBitmap(blob);
    const h = Math.max(1, Math.round((size * probe.height) / probe.width));
    const bmp = await createImageBitmap(probe, { resizeWidth: size, resizeHeight: h, resizeQuality: 'medium' });
    probe.close();
    return bmp;
  },
  decodeImage: (bytes) => createImageBitmap(new Blob([new Uint8Array(bytes).buffer as ArrayBuffer]), { colorSpaceConversion: 'none' }),
  rgbaToBitmap: (rgba, w, h) => createImageBitmap(new ImageData(new Uint8ClampedArray(rgba.buffer as ArrayBuffer), w, h)),
  estimate: async () => {
    const storage = (navigator as Navigator & { storage?: StorageManager }).storage;
    if (!storage?.estimate) return null;
    const e = await storage.estimate();
    return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
  },
  now: () => performance.now(),
});

/** Limits progress messages to ~10 per second (plus the last one of each phase). */
function throttled<T extends { phase: string; done: number; total: number }>(send: (p: T) => void): (p: T) => void {
  let last = 0;
  return (p) => {
    const t = performance.now();
    if (t - last >= 100 || p.done === p.total) {
      last = t;
      send(p);
    }
  };
}

/** Bitmaps in a `return` message, moved (not copied) to the main thread. */
function bitmapsOf(message: FromWorkerMessage<DatasetRequests, DatasetEvents>): Transferable[] {
  if (message.type !== 'return') return [];
  const r = message.result as unknown;
  if (Array.isArray(r)) return r.filter((b): b is ImageBitmap => b instanceof ImageBitmap);
  if (message.kind === 'image') {
    const v = r as { image: ImageBitmap; overlay: ImageBitmap };
    return [v.image, v.overlay];
  }
  return [];
}

const handler = createHandler<DatasetRequests, DatasetEvents>(
  {
    list: ({ demoBaseUrl }) => service.list(demoBaseUrl),
    import: ({ source, mode }, ctx) => service.importSource(source, mode, { signal: ctx.signal, onProgress: throttled(ctx.progress) }),
    open: ({ id, demoBaseUrl }) => service.openDataset(id, demoBaseUrl),
    thumbnails: ({ id, keys, size }, ctx) => service.thumbnails(id, keys, size, ctx.signal),
    image: ({ id, key }) => service.imageView(id, key),
    delete: ({ id }) => service.deleteDataset(id),
    binding: ({ id, configPath, userFiles }) => service.binding(id, configPath, BUILTIN_FILES, userFiles),
    storage: () => service.storage(),
  },
  (message: FromWorkerMessage<DatasetRequests, DatasetEvents>) => scope.postMessage(message, bitmapsOf(message)),
);
scope.addEventListener('message', (ev) => {
  void handler.handle(ev.data);
});
