/**
 * Samplers and the data loader of the runner: MMEngine's `DefaultSampler` (seeded shuffle per
 * epoch, `round_up`), PyTorch's `BatchSampler`, MMDetection's `AspectRatioBatchSampler` and a
 * single-process `DataLoader` with `pseudo_collate` (a batch is the list of samples).
 *
 * @see mmengine/dataset/sampler.py, mmdet/datasets/samplers/batch_sampler.py (MMDetection 3.3)
 */
import type { RngState, StatefulRng } from '../../data/transforms/types';
import { MT19937, randperm, syncRandomSeed } from './rng';
import type { RunnerDataset } from './types';

/** Plain-data sampler state (saved into checkpoints). */
export interface SamplerState {
  seed: number;
  epoch: number;
  shuffle: boolean;
}

/** `DefaultSampler`: indices `0..n-1`, shuffled with `torch.randperm` seeded by `seed + epoch`. */
export class DefaultSampler implements Iterable<number> {
  /** Config type name. */
  static readonly type = 'DefaultSampler';
  /** Seed (from the runner's `randomness.seed`, or drawn like `sync_random_seed`). */
  seed: number;
  /** Epoch used to reseed the shuffle (`set_epoch`). */
  epoch = 0;

  constructor(
    readonly dataset: RunnerDataset,
    readonly shuffle = true,
    seed: number | null = null,
    readonly roundUp = true,
    readonly worldSize = 1,
    readonly rank = 0,
  ) {
    this.seed = seed ?? syncRandomSeed();
  }

  /** Samples per rank (`num_samples`). */
  get length(): number {
    const n = this.dataset.length;
    return this.roundUp ? Math.ceil(n / this.worldSize) : Math.ceil((n - this.rank) / this.worldSize);
  }

  /** Sets the epoch so every epoch has its own permutation. */
  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  /** The indices of the current epoch. */
  indices(): number[] {
    const n = this.dataset.length;
    let idx: number[];
    if (this.shuffle) {
      idx = randperm(n, new MT19937(this.seed + this.epoch));
    } else {
      idx = Array.from({ length: n }, (_, i) => i);
    }
    if (this.roundUp) {
      const total = this.length * this.worldSize;
      const reps = Math.trunc(total / idx.length + 1);
      const out: number[] = [];
      for (let r = 0; r < reps && out.length < total; r++) out.push(...idx);
      idx = out.slice(0, total);
    }
    return idx.filter((_, i) => i % this.worldSize === this.rank);
  }

  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }

  /** Plain-data state. */
  stateDict(): SamplerState {
    return { seed: this.seed, epoch: this.epoch, shuffle: this.shuffle };
  }

  /** Restores the state. */
  loadStateDict(s: SamplerState): void {
    this.seed = s.seed;
    this.epoch = s.epoch;
  }
}

/** Yields lists of indices from a sampler. */
export interface BatchSamplerLike extends Iterable<number[]> {
  readonly sampler: DefaultSampler;
  readonly batchSize: number;
  /** Number of batches per epoch. */
  readonly length: number;
}

/** PyTorch's `BatchSampler`. */
export class BatchSampler implements BatchSamplerLike {
  constructor(
    readonly sampler: DefaultSampler,
    readonly batchSize: number,
    readonly dropLast = false,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch_size must be a positive int, got ${batchSize}`);
  }

  get length(): number {
    return this.dropLast ? Math.floor(this.sampler.length / this.batchSize) : Math.ceil(this.sampler.length / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<number[]> {
    let batch: number[] = [];
    for (const i of this.sampler) {
      batch.push(i);
      if (batch.length === this.batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0 && !this.dropLast) yield batch;
  }
}

/**
 * MMDetection's `AspectRatioBatchSampler`: two buckets (width < height, and the rest); a bucket is
 * yielded when it holds `batch_size` indices; the leftovers are yielded at the end of the epoch in
 * bucket order.
 */
export class AspectRatioBatchSampler implements BatchSamplerLike {
  /** Config type name. */
  static readonly type = 'AspectRatioBatchSampler';

  constructor(
    readonly sampler: DefaultSampler,
    readonly batchSize: number,
    readonly dropLast = false,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch_size must be a positive int, got ${batchSize}`);
    if (!sampler.dataset.getDataInfo) throw new Error('AspectRatioBatchSampler needs a dataset with getDataInfo (width/height)');
  }

  get length(): number {
    return this.dropLast ? Math.floor(this.sampler.length / this.batchSize) : Math.ceil(this.sampler.length / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<number[]> {
    const buckets: number[][] = [[], []];
    const ds = this.sampler.dataset;
    for (const idx of this.sampler) {
      const info = ds.getDataInfo!(idx);
      const b = buckets[info.width < info.height ? 0 : 1]!;
      b.push(idx);
      if (b.length === this.batchSize) {
        yield b.slice();
        b.length = 0;
      }
    }
    let left = [...buckets[0]!, ...buckets[1]!];
    while (left.length > 0) {
      if (left.length <= this.batchSize) {
        if (!this.dropLast) yield left.slice();
        left = [];
      } else {
        yield left.slice(0, this.batchSize);
        left = left.slice(this.batchSize);
      }
    }
  }
}

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions {
  /**
   * The random source the dataset's pipeline draws from (RandomFlip, RandomResize). The loader runs
   * the pipeline on one sample at a time in sampler order, so the draws belong to fixed samples,
   * and it reports the state as of the last batch handed out ({@link DataLoader.rngState}).
   */
  rng?: StatefulRng;
  /**
   * Batches prepared ahead of the consumer (PyTorch: `num_workers * prefetch_factor`; 0 loads each
   * batch when it is asked for).
   */
  prefetch?: number;
}

/**
 * A single-process data loader; a batch is the list of samples (`pseudo_collate`). Samples go
 * through the pipeline strictly one after another in sampler order — also while batches are
 * prefetched — so the pipeline's random draws do not depend on I/O timing, and whatever else runs
 * meanwhile (a validation with its own loader) cannot change them.
 */
export class DataLoader<S> implements AsyncIterable<S[]> {
  /** Pipeline random source (see {@link DataLoaderOptions.rng}). */
  readonly rng: StatefulRng | null;
  /** Batches prepared ahead of the consumer. */
  readonly prefetch: number;
  /** Pipeline RNG state after the last batch handed out, while an iteration is open. */
  private consumedState: RngState | null = null;
  private open = 0;

  constructor(
    readonly dataset: RunnerDataset<S>,
    readonly batchSampler: BatchSamplerLike,
    options: DataLoaderOptions = {},
  ) {
    this.rng = options.rng ?? null;
    const p = options.prefetch ?? 0;
    if (!Number.isInteger(p) || p < 0) throw new Error(`prefetch must be a non-negative int, got ${p}`);
    this.prefetch = p;
  }

  /** Batches per epoch (`len(dataloader)`). */
  get length(): number {
    return this.batchSampler.length;
  }

  /** The underlying index sampler. */
  get sampler(): DefaultSampler {
    return this.batchSampler.sampler;
  }

  /** Batch size. */
  get batchSize(): number {
    return this.batchSampler.batchSize;
  }

  /**
   * The pipeline RNG state a resumed loader must start from: as of the last batch handed out
   * (draws made for prefetched, not yet consumed batches are not counted). Null without an rng.
   */
  rngState(): RngState | null {
    if (!this.rng) return null;
    return this.open > 0 && this.consumedState ? { ...this.consumedState } : this.rng.getState();
  }

  /**
   * Iterates the batches of the current epoch, starting after `skip` batches (skipped batches are
   * not loaded, so their pipeline draws are not made: restore the RNG state when resuming). Leaving
   * the loop early discards prefetched batches and rewinds the RNG to the last batch handed out.
   */
  async *batches(skip = 0): AsyncGenerator<S[]> {
    const lists = [...this.batchSampler].slice(skip);
    const rng = this.rng;
    const loads: Array<Promise<{ samples: S[]; after: RngState | null }>> = [];
    let tail: Promise<unknown> = Promise.resolve();
    let cancelled = false;
    const start = (j: number): void => {
      const p = tail.then(async () => {
        const samples: S[] = [];
        for (const i of lists[j]!) {
          if (cancelled) throw new Error('data loader closed');
          samples.push(await this.dataset.get(i));
        }
        return { samples, after: rng ? rng.getState() : null };
      });
      p.catch(() => {}); // surfaced when awaited
      tail = p.catch(() => {});
      loads[j] = p;
    };
    this.open += 1;
    const before = rng ? rng.getState() : null;
    let consumed = before;
    this.consumedState = consumed;
    try {
      for (let j = 0; j < lists.length; j++) {
        for (let q = loads.length; q < lists.length && q <= j + this.prefetch; q++) start(q);
        const { samples, after } = await loads[j]!;
        consumed = after;
        this.consumedState = consumed;
        yield samples;
      }
    } finally {
      cancelled = true;
      await tail;
      if (rng && consumed) rng.setState(consumed);
      this.open -= 1;
      if (this.open === 0) this.consumedState = null;
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<S[]> {
    return this.batches();
  }
}
