/**
 * MMEngine's dataset wrappers.
 *
 * @see mmengine/dataset/dataset_wrapper.py (`RepeatDataset`)
 */
import type { DataInfo, RunnerDataset } from './types';

/** Repeats a dataset `times` times: index `i` maps to `i % len(dataset)`. */
export class RepeatDataset<S> implements RunnerDataset<S> {
  /** Config type name. */
  static readonly type = 'RepeatDataset';

  constructor(
    readonly dataset: RunnerDataset<S>,
    readonly times: number,
  ) {
    if (!Number.isInteger(times) || times < 1) throw new Error(`RepeatDataset: times must be a positive int, got ${times}`);
  }

  get length(): number {
    return this.times * this.dataset.length;
  }

  get metainfo(): Record<string, unknown> | undefined {
    return this.dataset.metainfo;
  }

  private inner(i: number): number {
    if (i < 0 || i >= this.length) throw new RangeError(`RepeatDataset index ${i} out of range [0, ${this.length})`);
    return i % this.dataset.length;
  }

  get(i: number): S | Promise<S> {
    return this.dataset.get(this.inner(i));
  }

  getDataInfo(i: number): DataInfo {
    if (!this.dataset.getDataInfo) throw new Error('the wrapped dataset has no getDataInfo');
    return this.dataset.getDataInfo(this.inner(i));
  }
}
