/**
 * Entry of the studio worker (a module Web Worker): at start-up it reports what a worker can use
 * (`capabilities`: WebGPU adapter, wasm SIMD/threads, OPFS) and answers `ping`, so the header can say
 * whether the training, dataset and predict workers will have WebGPU. It installs the protocol
 * handler and announces itself with a `ready` event.
 *
 * Keep imports minimal: nothing from React, the stores or the UI may reach this chunk.
 */
import { createHandler, studioHandlers } from './handler.ts';
import type { FromWorkerMessage, StudioEvents, StudioRequests } from './protocol.ts';

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

const scope = self as unknown as WorkerScope;
const handler = createHandler<StudioRequests, StudioEvents>(studioHandlers, (message: FromWorkerMessage<StudioRequests, StudioEvents>, transfer?: Transferable[]) =>
  scope.postMessage(message, transfer ?? []),
);
scope.addEventListener('message', (ev) => {
  void handler.handle(ev.data);
});
handler.emit('ready', { kinds: Object.keys(studioHandlers).sort() });
