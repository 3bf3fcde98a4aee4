/**
 * MMEngine's `MessageHub` and `HistoryBuffer`: scalars logged by hooks (`train/lr`, `train/loss`,
 * `train/time`, …) with their history, and runtime info (`iter`, `epoch`, `eta`).
 *
 * @see mmengine/logging/message_hub.py, history_buffer.py (MMEngine 0.10)
 */

/** A bounded history of one scalar with window statistics. */
export class HistoryBuffer {
  private values: number[] = [];
  private counts: number[] = [];

  constructor(readonly maxLength = 1_000_000) {}

  /** Appends a value (with a count, as MMEngine's `update(value, count)`). */
  update(value: number, count = 1): void {
    this.values.push(value);
    this.counts.push(count);
    if (this.values.length > this.maxLength) {
      this.values.shift();
      this.counts.shift();
    }
  }

  /** Mean of the last `window` values (sum of values / sum of counts). */
  mean(window?: number): number {
    const v = window === undefined ? this.values : this.values.slice(-window);
    const c = window === undefined ? this.counts : this.counts.slice(-window);
    let s = 0;
    let n = 0;
    for (let i = 0; i < v.length; i++) {
      s += v[i]!;
      n += c[i]!;
    }
    return s / n;
  }

  /** The last value. */
  current(): number {
    if (this.values.length === 0) throw new Error('HistoryBuffer is empty');
    return this.values[this.values.length - 1]!;
  }

  /** Number of stored values. */
  get length(): number {
    return this.values.length;
  }

  /** Plain-data state. */
  stateDict(): { values: number[]; counts: number[] } {
    return { values: this.values.slice(), counts: this.counts.slice() };
  }

  /** Restores the state. */
  loadStateDict(s: { values: number[]; counts: number[] }): void {
    this.values = s.values.slice();
    this.counts = s.counts.slice();
  }
}

/** Scalars with history plus runtime info, shared by hooks and the log processor. */
export class MessageHub {
  /** Scalar histories in insertion order (`train/lr`, `train/data_time`, …). */
  readonly logScalars = new Map<string, HistoryBuffer>();
  /** Runtime info (`iter`, `epoch`, `max_iters`, `eta`, …). */
  readonly runtimeInfo = new Map<string, unknown>();

  /** Appends a scalar value. */
  updateScalar(key: string, value: number, count = 1): void {
    let b = this.logScalars.get(key);
    if (!b) {
      b = new HistoryBuffer();
      this.logScalars.set(key, b);
    }
    b.update(value, count);
  }

  /** Sets a runtime info value. */
  updateInfo(key: string, value: unknown): void {
    this.runtimeInfo.set(key, value);
  }

  /** Reads a runtime info value. */
  getInfo<T = unknown>(key: string): T | undefined {
    return this.runtimeInfo.get(key) as T | undefined;
  }

  /** Scalar history of `key`. */
  getScalar(key: string): HistoryBuffer | undefined {
    return this.logScalars.get(key);
  }

  /** Plain-data state (histories are truncated to the last `keep` values). */
  stateDict(keep = 1000): Record<string, unknown> {
    const scalars: Record<string, unknown> = {};
    for (const [k, b] of this.logScalars) {
      const s = b.stateDict();
      scalars[k] = { values: s.values.slice(-keep), counts: s.counts.slice(-keep) };
    }
    const info: Record<string, unknown> = {};
    for (const [k, v] of this.runtimeInfo) if (isPlain(v)) info[k] = v;
    return { log_scalars: scalars, runtime_info: info };
  }

  /** Restores a state from {@link stateDict}. */
  loadStateDict(s: Record<string, unknown>): void {
    this.logScalars.clear();
    for (const [k, v] of Object.entries((s.log_scalars ?? {}) as Record<string, { values: number[]; counts: number[] }>)) {
      const b = new HistoryBuffer();
      b.loadStateDict(v);
      this.logScalars.set(k, b);
    }
    this.runtimeInfo.clear();
    for (const [k, v] of Object.entries((s.runtime_info ?? {}) as Record<string, unknown>)) this.runtimeInfo.set(k, v);
  }
}

function isPlain(v: unknown): boolean {
  return v === null || ['number', 'string', 'boolean'].includes(typeof v) || (Array.isArray(v) && v.every(isPlain));
}
