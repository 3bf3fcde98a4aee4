/**
 * Moves the native decode-and-resize (`decodeResized`, see `transforms/browser_fast_path.ts`) off the
 * thread that runs the pipeline: each request goes to a decode worker (`src/worker/decode.worker.ts`),
 * which decodes, resizes, mirrors and converts there and sends the pixels back (transferred, no copy).
 * In the studio the training worker also dispatches every GPU kernel, so the canvas raster, the
 * read-back and the RGBA copy (~20 ms of a 2048×1024 sample) no longer hold up training.
 *
 * Only pixels move: the random draws, metadata, boxes and masks stay in the pipeline (the request
 * carries the drawn size and flip), so results and determinism are exactly those of the local
 * decoder. Requests are answered in order by one worker, started on first use. If the worker cannot
 * be started or fails, that request and every later one run on the local decoder, and `onFallback`
 * is told once. A file the worker cannot decode is an error of that request (the pipeline then
 * takes its exact path, which reports what is wrong with the file).
 *
 * Pure module: the worker is reached through a structural port; no DOM types.
 */
import type { NativeResizeCapable, ResizedDecodeRequest } from './transforms/browser_fast_path.ts';
import type { ImageDecoder } from './transforms/loading.ts';
import type { ImageU8 } from './transforms/types.ts';

/** What the decode worker is sent. */
export interface DecodeWorkerRequest {
  id: number;
  bytes: Uint8Array;
  path: string;
  request: ResizedDecodeRequest;
}

/** What the decode worker answers: the image, null (declined: e.g. 16-bit) or an error message. */
export interface DecodeWorkerReply {
  id: number;
  img?: ImageU8 | null;
  error?: string;
}

/** The decode worker as seen from the pipeline's thread (a `Worker`). */
export interface DecodeWorkerPort {
  postMessage(message: DecodeWorkerRequest, transfer: unknown[]): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'error', listener: (ev: { message?: string }) => void): void;
  terminate(): void;
}

/** Options of {@link withOffThreadResize}. */
export interface OffThreadOptions {
  /** Told once, with the reason, when requests fall back to the local decoder. */
  onFallback?: (reason: string) => void;
}

/** A decoder whose `decodeResized` also reports where it ran (for tests and benchmarks). */
export type OffThreadDecoder = ImageDecoder &
  NativeResizeCapable & {
    /** Requests answered by the worker so far. */
    readonly offThreadCount: () => number;
    /** Stops the worker (later requests run locally). */
    readonly close: () => void;
  };

/**
 * Wraps `local` (a decoder with `decodeResized`): full decodes stay local, `decodeResized` runs on the
 * worker that `spawn` starts (null: no worker here, everything stays local).
 */
export function withOffThreadResize(
  local: ImageDecoder & NativeResizeCapable,
  spawn: () => DecodeWorkerPort | null,
  options: OffThreadOptions = {},
): OffThreadDecoder {
  const localResize = local.decodeResized;
  let port: DecodeWorkerPort | null = null;
  let broken: string | null = localResize ? null : 'the local decoder has no decodeResized';
  let nextId = 1;
  let answered = 0;
  const pending = new Map<number, { resolve: (img: ImageU8 | null) => void; reject: (e: Error) => void; fallback: () => void }>();

  const fail = (reason: string): void => {
    if (broken) return;
    broken = reason;
    options.onFallback?.(reason);
    try {
      port?.terminate();
    } catch {
      // already gone
    }
    port = null;
    const waiting = [...pending.values()];
    pending.clear();
    for (const p of waiting) p.fallback();
  };

  const open = (): DecodeWorkerPort | null => {
    if (port || broken) return port;
    try {
      port = spawn();
    } catch (e) {
      fail(`the decode worker could not be started: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
    if (!port) {
      broken = 'no decode worker in this environment';
      return null;
    }
    port.addEventListener('message', (ev) => {
      const reply = ev.data as DecodeWorkerReply;
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      answered++;
      if (reply.error !== undefined) p.reject(new Error(reply.error));
      else p.resolve(reply.img ?? null);
    });
    port.addEventListener('error', (ev) => fail(`the decode worker failed: ${ev.message ?? 'unknown error'}`));
    return port;
  };

  const decodeResized = (bytes: Uint8Array, path: string, request: ResizedDecodeRequest): Promise<ImageU8 | null> => {
    const runLocal = (): Promise<ImageU8 | null> => Promise.resolve(localResize!(bytes, path, request));
    const w = open();
    if (!w) return runLocal();
    return new Promise<ImageU8 | null>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject, fallback: () => runLocal().then(resolve, reject) });
      // A copy travels (transferred): the caller keeps `bytes` for its exact path.
      const copy = new Uint8Array(bytes);
      try {
        w.postMessage({ id, bytes: copy, path, request }, [copy.buffer]);
      } catch (e) {
        fail(`the decode worker could not be reached: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  };

  const decode: ImageDecoder = (bytes, path, hints) => local(bytes, path, hints);
  return Object.assign(decode, {
    ...(localResize ? { decodeResized } : {}),
    offThreadCount: () => answered,
    close: () => {
      if (!broken) broken = 'closed';
      port?.terminate();
      port = null;
      const waiting = [...pending.values()];
      pending.clear();
      for (const p of waiting) p.fallback();
    },
  });
}

/**
 * The decode worker's side: answers each {@link DecodeWorkerRequest} with `decoder.decodeResized`,
 * transferring the pixels. `post` is the worker scope's `postMessage`.
 */
export async function answerDecodeRequest(
  decoder: NativeResizeCapable,
  req: DecodeWorkerRequest,
  post: (reply: DecodeWorkerReply, transfer: unknown[]) => void,
): Promise<void> {
  try {
    if (!decoder.decodeResized) throw new Error('this decoder cannot resize natively');
    const img = await decoder.decodeResized(req.bytes, req.path, req.request);
    post({ id: req.id, img }, img ? [img.data.buffer] : []);
  } catch (e) {
    post({ id: req.id, error: e instanceof Error ? e.message : String(e) }, []);
  }
}
