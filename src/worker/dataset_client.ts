/**
 * Main-thread access to the dataset worker: one lazily started worker, typed requests. Imports can
 * be cancelled through an `AbortSignal`; a crashed worker is replaced on the next request.
 */
import { WorkerCrashedError } from '../core/errors.ts';
import { WorkerClient, type PortLike, type RequestOptions } from './client.ts';
import type { DatasetEvents, DatasetRequests } from './dataset_protocol.ts';

/** A self-healing client of the dataset worker. */
export class DatasetClient {
  private client: WorkerClient<DatasetRequests, DatasetEvents> | null = null;

  /**
   * Args:
   *   spawn: starts a worker (tests may pass a port pair); defaults to the bundled dataset worker.
   */
  constructor(private readonly spawn: () => { port: PortLike; terminate: () => void } = spawnDatasetWorker) {}

  /** Sends one request. */
  async request<K extends keyof DatasetRequests & string>(
    kind: K,
    payload: DatasetRequests[K]['payload'],
    options: RequestOptions<DatasetRequests[K]['progress']> = {},
  ): Promise<DatasetRequests[K]['result']> {
    if (!this.client) {
      const { port, terminate } = this.spawn();
      this.client = new WorkerClient<DatasetRequests, DatasetEvents>(port, terminate);
    }
    const client = this.client;
    try {
      return await client.request(kind, payload, options);
    } catch (err) {
      if (err instanceof WorkerCrashedError || (err as Error)?.name === 'WorkerCrashedError') {
        if (this.client === client) this.client = null;
        client.close();
      }
      throw err;
    }
  }

  /** Terminates the worker. */
  close(): void {
    this.client?.close();
    this.client = null;
  }
}

function spawnDatasetWorker(): { port: PortLike; terminate: () => void } {
  const worker = new Worker(new URL('./dataset.worker.ts', import.meta.url), { type: 'module', name: 'detstudio-dataset' });
  return { port: worker as unknown as PortLike, terminate: () => worker.terminate() };
}
