/**
 * Thumbnails of the image grid: decoded in the dataset worker, kept here as `ImageBitmap`s in a
 * bounded cache (oldest closed first), requested in batches for what is visible.
 */
import { datasetRequester } from '../../../store/dataset_store.ts';

/** Width of grid thumbnails in pixels (cells are ~184–260 CSS px wide). */
export const THUMB_WIDTH = 256;
const CAPACITY = 1200;

const cache = new Map<string, ImageBitmap | null>();
const inFlight = new Set<string>();
const listeners = new Set<() => void>();

const id = (datasetId: string, key: string): string => `${datasetId}|${key}`;

/** A cached thumbnail: the bitmap, null when it failed to decode, undefined while unknown. */
export function getThumb(datasetId: string, key: string): ImageBitmap | null | undefined {
  return cache.get(id(datasetId, key));
}

/** Called whenever thumbnails arrive. */
export function onThumbs(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Requests the thumbnails of `keys` that are neither cached nor in flight. */
export async function requestThumbs(datasetId: string, keys: readonly string[]): Promise<void> {
  const missing = keys.filter((k) => !cache.has(id(datasetId, k)) && !inFlight.has(id(datasetId, k)));
  if (missing.length === 0) return;
  for (const k of missing) inFlight.add(id(datasetId, k));
  try {
    const bitmaps = await datasetRequester().request('thumbnails', { id: datasetId, keys: missing, size: THUMB_WIDTH }, { timeoutMs: 120_000 });
    missing.forEach((k, i) => cache.set(id(datasetId, k), bitmaps[i] ?? null));
  } catch {
    /* leave them unknown: they are requested again when visible */
  } finally {
    for (const k of missing) inFlight.delete(id(datasetId, k));
  }
  while (cache.size > CAPACITY) {
    const oldest = cache.keys().next().value as string;
    cache.get(oldest)?.close();
    cache.delete(oldest);
  }
  for (const l of listeners) l();
}

/** Drops the cached thumbnails of a dataset (after a re-import or delete). */
export function forgetThumbs(datasetId: string): void {
  for (const [k, b] of cache) {
    if (k.startsWith(`${datasetId}|`)) {
      b?.close();
      cache.delete(k);
    }
  }
}
