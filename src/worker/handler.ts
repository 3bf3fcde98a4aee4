/**
 * Worker-side half of the protocol: dispatches `request` messages to typed handler functions and
 * answers each with one `return` or `throw`, forwarding progress reports and honouring `cancel`.
 *
 * It does not touch `self`: the entry file passes a `post` function and feeds incoming messages to
 * `handle`, so the same code is unit-tested in Node with a real `MessageChannel`.
 */
import { AbortedError, serializeError } from '../core/errors.ts';
import { detectCapabilities } from '../core/capabilities.ts';
import type {
  EventMapBase,
  FromWorkerMessage,
  RequestMapBase,
  StudioEvents,
  StudioRequests,
} from './protocol.ts';
import { isToWorkerMessage } from './protocol.ts';

/** What a handler gets besides its payload. */
export interface HandlerContext<G, E extends EventMapBase> {
  /** Sends a progress report for this request. */
  progress(report: G): void;
  /** Pushes an event to the main thread. */
  emit<N extends keyof E & string>(name: N, payload: E[N]): void;
  /** Aborted when the main thread cancels this request. */
  signal: AbortSignal;
}

/** One async function per request kind. */
export type Handlers<M extends RequestMapBase, E extends EventMapBase> = {
  [K in keyof M & string]: (payload: M[K]['payload'], ctx: HandlerContext<M[K]['progress'], E>) => Promise<M[K]['result']>;
};

/** Sends a message out of the worker; `transfer` lists buffers to move rather than copy. */
export type PostFn<M extends RequestMapBase, E extends EventMapBase> = (message: FromWorkerMessage<M, E>, transfer?: Transferable[]) => void;

/** The dispatcher returned by `createHandler`. */
export interface WorkerHandler<E extends EventMapBase> {
  /** Feed every incoming message here (`self.onmessage = (e) => handler.handle(e.data)`). */
  handle(message: unknown): Promise<void>;
  /** Pushes an event outside any request. */
  emit<N extends keyof E & string>(name: N, payload: E[N]): void;
  /** Number of requests still running. */
  pending(): number;
}

/**
 * Builds a dispatcher for `handlers`.
 *
 * Args:
 *   handlers: one function per request kind.
 *   post: how to send a message back (the worker's `postMessage`, or a port in tests).
 * Returns:
 *   The dispatcher; unknown kinds and malformed messages are answered with a `throw` when they
 *   carry a uuid, and ignored otherwise.
 */
export function createHandler<M extends RequestMapBase, E extends EventMapBase>(
  handlers: Handlers<M, E>,
  post: PostFn<M, E>,
): WorkerHandler<E> {
  const running = new Map<string, AbortController>();

  const emit = <N extends keyof E & string>(name: N, payload: E[N]): void => {
    post({ type: 'event', name, payload } as FromWorkerMessage<M, E>);
  };

  async function handle(message: unknown): Promise<void> {
    if (!isToWorkerMessage(message)) {
      const uuid = (message as { uuid?: unknown } | null)?.uuid;
      if (typeof uuid === 'string') {
        post({ type: 'throw', uuid, kind: 'unknown', error: { name: 'TypeError', message: 'Malformed request message.' } });
      }
      return;
    }
    if (message.type === 'cancel') {
      running.get(message.uuid)?.abort();
      return;
    }
    const { uuid, kind, payload } = message;
    const fn = Object.prototype.hasOwnProperty.call(handlers, kind) ? handlers[kind as keyof M & string] : undefined;
    if (!fn) {
      const known = Object.keys(handlers).sort().join(', ');
      post({ type: 'throw', uuid, kind, error: { name: 'KeyError', message: `'${kind}' is not a request this worker handles (it handles: ${known}).` } });
      return;
    }
    const controller = new AbortController();
    running.set(uuid, controller);
    const ctx: HandlerContext<unknown, E> = {
      progress: (report) => {
        if (!controller.signal.aborted) post({ type: 'progress', uuid, kind, progress: report } as FromWorkerMessage<M, E>);
      },
      emit,
      signal: controller.signal,
    };
    try {
      const result = await (fn as (p: unknown, c: HandlerContext<unknown, E>) => Promise<unknown>)(payload, ctx);
      if (controller.signal.aborted) throw new AbortedError();
      post({ type: 'return', uuid, kind, result } as FromWorkerMessage<M, E>);
    } catch (err) {
      const error = controller.signal.aborted && !(err instanceof AbortedError) ? serializeError(new AbortedError()) : serializeError(err);
      post({ type: 'throw', uuid, kind, error });
    } finally {
      running.delete(uuid);
    }
  }

  return { handle, emit, pending: () => running.size };
}

/** The studio worker's handlers (capabilities and ping). */
export const studioHandlers: Handlers<StudioRequests, StudioEvents> = {
  capabilities: () => detectCapabilities(),
  ping: async ({ value }) => ({ value, workerTime: Date.now() }),
};
