/**
 * Main-thread access to the predict worker: one lazily started worker, typed requests. A crashed
 * worker (e.g. the GPU device was lost) is replaced on the next request; the model must then be
 * loaded again, which {@link PredictClient.generation} lets callers notice.
 */
import { WorkerCrashedError } from '../core/errors.ts';
import { WorkerClient, type PortLike, type RequestOptions } from './client.ts';
import type { PredictEvents, PredictRequests } from './predict_protocol.ts';

/** A self-healing client of the predict worker. */
export class PredictClient {
  private client: WorkerClient<PredictRequests, PredictEvents> | null = null;
  /** Incremented each time a fresh worker starts (a new worker has no model loaded). */
  generation = 0;

  /**
   * Args:
   *   spawn: starts a worker (tests may pass a port pair); defaults to the bundled predict worker.
   */
  constructor(private readonly spawn: () => { port: PortLike; terminate: () => void } = spawnPredictWorker) {}

  /** Sends one request. */
  async request<K extends keyof PredictRequests & string>(
    kind: K,
    payload: PredictRequests[K]['payload'],
    options: RequestOptions<PredictRequests[K]['progress']> = {},
  ): Promise<PredictRequests[K]['result']> {
    if (!this.client) {
      const { port, terminate } = this.spawn();
      this.client = new WorkerClient<PredictRequests, PredictEvents>(port, terminate);
      this.generation++;
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

function spawnPredictWorker(): { port: PortLike; terminate: () => void } {
  const worker = new Worker(new URL('./predict.worker.ts', import.meta.url), { type: 'module', name: 'detstudio-predict' });
  return { port: worker as unknown as PortLike, terminate: () => worker.terminate() };
}
