/**
 * Main-thread access to the training worker: starts it on first use and wraps it in the typed
 * {@link WorkerClient}. Main thread only.
 */
import { WorkerClient } from './client.ts';
import type { PortLike } from './client.ts';
import type { TrainEvents, TrainRequests } from './train_protocol.ts';

/** The typed client of the training worker. */
export type TrainClient = WorkerClient<TrainRequests, TrainEvents>;

let client: TrainClient | null = null;

/** Spawns `train.worker.ts` as a module worker (bundled by Vite). */
export function spawnTrainWorker(): { port: PortLike; terminate: () => void } {
  const worker = new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module', name: 'detstudio-train' });
  return { port: worker as unknown as PortLike, terminate: () => worker.terminate() };
}

/**
 * The shared training client, started on first use.
 *
 * Args:
 *   spawn: how to start the worker (tests pass a port pair).
 */
export function getTrainClient(spawn: () => { port: PortLike; terminate: () => void } = spawnTrainWorker): TrainClient {
  if (!client) {
    const { port, terminate } = spawn();
    client = new WorkerClient<TrainRequests, TrainEvents>(port, terminate);
  }
  return client;
}

/** Terminates the worker (a later {@link getTrainClient} starts a fresh one). */
export function closeTrainClient(): void {
  client?.close();
  client = null;
}
