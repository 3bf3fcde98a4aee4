/**
 * Main-thread half of the protocol: a typed RPC proxy over a `Worker` (or any port-like object).
 *
 * `request(kind, payload)` posts a uuid-tagged request and returns a promise settled by the
 * matching `return`/`throw`; progress reports go to `onProgress`; an `AbortSignal` sends `cancel`.
 * Worker events reach listeners registered with `on`. If the worker dies, every pending request is
 * rejected with `WorkerCrashedError` instead of hanging.
 */
import { AbortedError, TimeoutError, WorkerCrashedError, deserializeError } from '../core/errors.ts';
import type { EventMapBase, FromWorkerMessage, RequestMapBase, ToWorkerMessage } from './protocol.ts';
import { isFromWorkerMessage, newUuid } from './protocol.ts';

/** What the client needs from a `Worker` or a `MessagePort`. */
export interface PortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'error', listener: (ev: { message?: string }) => void): void;
  removeEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  removeEventListener(type: 'error', listener: (ev: { message?: string }) => void): void;
}

/** Options of one request. */
export interface RequestOptions<G> {
  /** Called with each progress report. */
  onProgress?: (report: G) => void;
  /** Aborting it cancels the request in the worker and rejects with `AbortError`. */
  signal?: AbortSignal;
  /** Rejects with `TimeoutError` (and cancels) after this many milliseconds. */
  timeoutMs?: number;
  /** Buffers moved (not copied) to the worker. */
  transfer?: Transferable[];
}

interface Pending {
  kind: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: (report: unknown) => void;
  cleanup(): void;
}

/** A typed RPC proxy to one worker. */
export class WorkerClient<M extends RequestMapBase, E extends EventMapBase> {
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Map<string, Set<(payload: never) => void>>();
  private closed = false;

  private readonly onMessage = (ev: { data: unknown }): void => {
    const msg = ev.data;
    if (isFromWorkerMessage(msg)) this.dispatch(msg as FromWorkerMessage<M, E>);
  };

  private readonly onError = (ev: { message?: string }): void => {
    this.failAll(new WorkerCrashedError(`The worker crashed: ${ev.message ?? 'unknown error'}.`));
  };

  /**
   * Args:
   *   port: the `Worker` (or port) to talk to; the client listens to its `message` and `error`.
   *   terminate: how to stop it (e.g. `() => worker.terminate()`); called by `close`.
   */
  constructor(private readonly port: PortLike, private readonly terminate?: () => void) {
    port.addEventListener('message', this.onMessage);
    port.addEventListener('error', this.onError);
  }

  /** Number of requests awaiting an answer. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sends a request and resolves with its typed result. */
  request<K extends keyof M & string>(
    kind: K,
    payload: M[K]['payload'],
    options: RequestOptions<M[K]['progress']> = {},
  ): Promise<M[K]['result']> {
    if (this.closed) return Promise.reject(new WorkerCrashedError('The worker client is closed.'));
    const { signal, timeoutMs, transfer, onProgress } = options;
    if (signal?.aborted) return Promise.reject(new AbortedError());
    const uuid = newUuid();
    return new Promise<M[K]['result']>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => {
        this.cancel(uuid);
        this.settle(uuid)?.reject(new AbortedError());
      };
      const entry: Pending = {
        kind,
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress: onProgress as ((r: unknown) => void) | undefined,
        cleanup: () => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      this.pending.set(uuid, entry);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.cancel(uuid);
          this.settle(uuid)?.reject(new TimeoutError(`'${kind}' did not answer within ${timeoutMs} ms.`, { kind, timeoutMs }));
        }, timeoutMs);
      }
      const message: ToWorkerMessage<M> = { type: 'request', uuid, kind, payload };
      try {
        this.port.postMessage(message, transfer ?? []);
      } catch (err) {
        this.settle(uuid)?.reject(err as Error);
      }
    });
  }

  /** Listens to a worker event; returns the function that stops listening. */
  on<N extends keyof E & string>(name: N, listener: (payload: E[N]) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  /** Rejects every pending request, stops listening and terminates the worker. */
  close(): void {
    if (this.closed) return;
    this.failAll(new WorkerCrashedError('The worker was terminated.'));
    this.closed = true;
    this.port.removeEventListener('message', this.onMessage);
    this.port.removeEventListener('error', this.onError);
    this.terminate?.();
  }

  private cancel(uuid: string): void {
    if (!this.pending.has(uuid) || this.closed) return;
    try {
      this.port.postMessage({ type: 'cancel', uuid } satisfies ToWorkerMessage<M>);
    } catch {
      /* the port is gone; the pending entry is rejected by the caller */
    }
  }

  private settle(uuid: string): Pending | undefined {
    const entry = this.pending.get(uuid);
    if (!entry) return undefined;
    this.pending.delete(uuid);
    entry.cleanup();
    return entry;
  }

  private failAll(err: Error): void {
    for (const uuid of [...this.pending.keys()]) this.settle(uuid)?.reject(err);
  }

  private dispatch(msg: FromWorkerMessage<M, E>): void {
    switch (msg.type) {
      case 'return':
        this.settle(msg.uuid)?.resolve(msg.result);
        break;
      case 'throw':
        this.settle(msg.uuid)?.reject(deserializeError(msg.error));
        break;
      case 'progress':
        this.pending.get(msg.uuid)?.onProgress?.(msg.progress);
        break;
      case 'event':
        for (const listener of this.listeners.get(msg.name) ?? []) (listener as (p: unknown) => void)(msg.payload);
        break;
    }
  }
}
