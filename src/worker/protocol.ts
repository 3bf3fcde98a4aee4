/**
 * The typed message protocol between the main thread and the studio's workers.
 *
 * A request names a `kind`; the kind fixes, through a `RequestMap`, the type of its payload, of its
 * result and of the progress reports it may send while it runs. Every request carries a `uuid`;
 * the worker answers it with exactly one `return` or `throw`, possibly preceded by `progress`
 * messages with the same uuid. Independent of requests, the worker may push `event`s (typed by an
 * `EventMap`), and the main thread may `cancel` a pending request.
 *
 * This module has no runtime dependencies: both sides import it, and so do Node tests.
 */
import type { Capabilities } from '../core/capabilities.ts';
import type { SerializedError } from '../core/errors.ts';

/** One request kind: what goes in, what comes out, and what progress it reports. */
export interface RequestSpec<P = unknown, R = unknown, G = never> {
  payload: P;
  result: R;
  progress: G;
}

/** A map from request kind to its spec. */
export type RequestMapBase = { [kind: string]: RequestSpec<unknown, unknown, unknown> };
/** A map from event name to its payload type. */
export type EventMapBase = { [name: string]: unknown };

/** Main thread → worker: run `kind` with `payload`. */
export interface RequestMessage<M extends RequestMapBase = RequestMapBase, K extends keyof M & string = keyof M & string> {
  type: 'request';
  uuid: string;
  kind: K;
  payload: M[K]['payload'];
}

/** Main thread → worker: abandon the request `uuid` (its handler sees an aborted signal). */
export interface CancelMessage {
  type: 'cancel';
  uuid: string;
}

/** Worker → main thread: the request finished with `result`. */
export interface ReturnMessage<M extends RequestMapBase = RequestMapBase, K extends keyof M & string = keyof M & string> {
  type: 'return';
  uuid: string;
  kind: K;
  result: M[K]['result'];
}

/** Worker → main thread: the request failed. */
export interface ThrowMessage {
  type: 'throw';
  uuid: string;
  kind: string;
  error: SerializedError;
}

/** Worker → main thread: an intermediate report of a running request. */
export interface ProgressMessage<M extends RequestMapBase = RequestMapBase, K extends keyof M & string = keyof M & string> {
  type: 'progress';
  uuid: string;
  kind: K;
  progress: M[K]['progress'];
}

/** Worker → main thread: something happened that no request asked for (log line, device lost…). */
export interface EventMessage<E extends EventMapBase = EventMapBase, N extends keyof E & string = keyof E & string> {
  type: 'event';
  name: N;
  payload: E[N];
}

/** Everything the main thread may send. */
export type ToWorkerMessage<M extends RequestMapBase = RequestMapBase> = RequestMessage<M> | CancelMessage;
/** Everything a worker may send. */
export type FromWorkerMessage<M extends RequestMapBase = RequestMapBase, E extends EventMapBase = EventMapBase> =
  | ReturnMessage<M>
  | ThrowMessage
  | ProgressMessage<M>
  | EventMessage<E>;

/** True for messages that follow this protocol (anything else on the port is ignored). */
export function isFromWorkerMessage(value: unknown): value is FromWorkerMessage {
  if (value === null || typeof value !== 'object') return false;
  const t = (value as { type?: unknown }).type;
  return t === 'return' || t === 'throw' || t === 'progress' || t === 'event';
}

/** True for messages a worker should handle. */
export function isToWorkerMessage(value: unknown): value is ToWorkerMessage {
  if (value === null || typeof value !== 'object') return false;
  const m = value as { type?: unknown; uuid?: unknown; kind?: unknown };
  if (typeof m.uuid !== 'string') return false;
  return (m.type === 'request' && typeof m.kind === 'string') || m.type === 'cancel';
}

/** A random v4-style id; `crypto.randomUUID` where it exists (secure contexts, Node ≥ 19). */
export function newUuid(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  let s = '';
  for (let i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-a${s.slice(17, 20)}-${s.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// The studio worker's requests and events (capabilities and health checks; the training, dataset
// and predict workers declare their own maps in train_protocol.ts, dataset_protocol.ts, …).
// ---------------------------------------------------------------------------------------------

/** Requests the studio worker answers. (A type alias, not an interface, so that it
 * satisfies `RequestMapBase`'s index signature.) */
export type StudioRequests = {
  /** Capabilities as seen from inside the worker (where training runs). */
  capabilities: RequestSpec<void, Capabilities>;
  /** Echo for health checks: returns the payload and the worker's clock. */
  ping: RequestSpec<{ value: string }, { value: string; workerTime: number }>;
};

/** Events the studio worker may push. */
export type StudioEvents = {
  /** The worker has started and its handlers are installed. */
  ready: { kinds: string[] };
  /** A log line from inside the worker. */
  log: { level: 'info' | 'warn' | 'error'; message: string };
};
