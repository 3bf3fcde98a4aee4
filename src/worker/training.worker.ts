/**
 * Entry of the studio's training worker (a module Web Worker). It installs the protocol handler and
 * announces itself with a `ready` event. Today it answers `capabilities` and `ping`; the training
 * runner adds its request kinds to `StudioRequests` and their functions next to `studioHandlers`.
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
