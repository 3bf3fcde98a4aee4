/**
 * Batches for training: MMEngine `DefaultSampler` (shuffled per epoch from a seed; order differs from
 * torch's `randperm`), MMDetection `AspectRatioBatchSampler` (landscape and portrait images batched
 * apart, leftovers at the end), `pseudo_collate` (lists), and a prefetching iterator that prepares
 * up to `prefetch` samples ahead of the consumer so the trainer does not wait on decoding. Samples
 * go through the pipeline one after another in sampler order (never two at once), so random
 * transforms draw the same numbers for the same samples whatever the I/O timing.
 *
 * @see mmengine/dataset/sampler.py, mmdet/datasets/samplers/batch_sampler.py (3.3)
 */
import type { IndexedDataset } from './datasets.ts';
import { seededRng } from './transforms/types.ts';
import type { Results } from './transforms/types.ts';

/** Indices of one epoch: `0..n-1`, Fisher–Yates shuffled with `seed + epoch` when `shuffle`. */
export function defaultSamplerIndices(n: number, options: { shuffle: boolean; seed?: number; epoch?: number }): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (!options.shuffle) return idx;
  const rng = seededRng((options.seed ?? 0) + (options.epoch ?? 0));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.random() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx;
}

/**
 * `AspectRatioBatchSampler`: fills a bucket per orientation (`width < height` or not) and emits it
 * when it holds `batchSize` indices; what is left is emitted at the end in order (the last batch
 * shorter unless `dropLast`).
 */
export function aspectRatioBatches(
  indices: readonly number[],
  sizeOf: (index: number) => { width: number; height: number },
  batchSize: number,
  dropLast = false,
): number[][] {
  const buckets: [number[], number[]] = [[], []];
  const out: number[][] = [];
  for (const i of indices) {
    const { width, height } = sizeOf(i);
    const b = buckets[width < height ? 0 : 1];
    b.push(i);
    if (b.length === batchSize) out.push(b.splice(0));
  }
  let left = [...buckets[0], ...buckets[1]];
  while (left.length > 0) {
    if (left.length <= batchSize) {
      if (!dropLast) out.push(left);
      left = [];
    } else {
      out.push(left.slice(0, batchSize));
      left = left.slice(batchSize);
    }
  }
  return out;
}

/** Options of {@link iterateBatches}. */
export interface DataLoaderOptions {
  batchSize: number;
  shuffle?: boolean;
  seed?: number;
  epoch?: number;
  /** Use `AspectRatioBatchSampler` (the Cityscapes config does); otherwise plain consecutive batches. */
  aspectRatio?: boolean;
  dropLast?: boolean;
  /** Samples being prepared ahead of the consumer (default 2 × batch size). */
  prefetch?: number;
  signal?: AbortSignal;
}

/**
 * Yields one epoch of batches (`pseudo_collate`: a list of pipeline outputs per batch), preparing up
 * to `prefetch` samples ahead.
 */
export async function* iterateBatches(dataset: IndexedDataset, options: DataLoaderOptions): AsyncGenerator<Results[]> {
  const order = defaultSamplerIndices(dataset.length, { shuffle: options.shuffle ?? false, seed: options.seed, epoch: options.epoch });
  const batches = options.aspectRatio
    ? aspectRatioBatches(order, (i) => dataset.getDataInfo(i), options.batchSize, options.dropLast)
    : chunk(order, options.batchSize, options.dropLast ?? false);
  const flat = batches.flat();
  const ahead = Math.max(1, options.prefetch ?? 2 * options.batchSize);
  const pending = new Map<number, Promise<Results>>();
  let next = 0;
  let closed = false;
  // One chain: sample k+1 enters the pipeline only after sample k left it (random draws in order).
  let tail: Promise<unknown> = Promise.resolve();
  const fill = (upTo: number): void => {
    while (next < flat.length && next < upTo) {
      const index = flat[next]!;
      const p = tail.then(() => {
        if (closed) throw new Error('the data loader was closed');
        return dataset.getItem(index);
      });
      p.catch(() => {}); // rejection is surfaced when awaited
      tail = p.catch(() => {});
      pending.set(next, p);
      next++;
    }
  };
  let pos = 0;
  try {
    for (const batch of batches) {
      const items: Results[] = [];
      for (let k = 0; k < batch.length; k++, pos++) {
        if (options.signal?.aborted) {
          const err = new Error('The data loader was cancelled.');
          err.name = 'AbortError';
          throw err;
        }
        fill(pos + ahead);
        items.push(await pending.get(pos)!);
        pending.delete(pos);
      }
      fill(pos + ahead);
      yield items;
    }
  } finally {
    closed = true; // prefetched samples not yet started are dropped
  }
}

function chunk(xs: number[], size: number, dropLast: boolean): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < xs.length; i += size) {
    const c = xs.slice(i, i + size);
    if (c.length === size || !dropLast) out.push(c);
  }
  return out;
}
