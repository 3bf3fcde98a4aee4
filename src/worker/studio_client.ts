/**
 * Starts the studio worker (capabilities and health checks) and returns its typed client. Main
 * thread only.
 */
import { WorkerClient } from './client.ts';
import type { PortLike } from './client.ts';
import type { StudioEvents, StudioRequests } from './protocol.ts';

/** The typed client of the studio worker. */
export type StudioClient = WorkerClient<StudioRequests, StudioEvents>;

/** Spawns `studio.worker.ts` as a module worker (bundled by Vite) and wraps it in a client. */
export function createStudioClient(): StudioClient {
  const worker = new Worker(new URL('./studio.worker.ts', import.meta.url), { type: 'module', name: 'detstudio-studio' });
  return new WorkerClient<StudioRequests, StudioEvents>(worker as unknown as PortLike, () => worker.terminate());
}
