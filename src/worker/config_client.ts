/**
 * Main-thread access to the config worker. A request that runs past its time limit, or a worker
 * that crashes, gets the worker terminated and a fresh one started on the next request, so a
 * pathological config can cost at most one time limit and never freezes the tab.
 */
import { TimeoutError, WorkerCrashedError } from '../core/errors.ts';
import { WorkerClient } from './client.ts';
import type { PortLike } from './client.ts';
import type { ConfigEvents, ConfigRequests } from './config_protocol.ts';

/** Default time limit of one config request. */
export const CONFIG_REQUEST_TIMEOUT_MS = 5000;

/** A self-healing client of the config worker. */
export class ConfigService {
  private client: WorkerClient<ConfigRequests, ConfigEvents> | null = null;
  /** How many times a worker was replaced after a timeout or crash. */
  restarts = 0;

  /**
   * Args:
   *   spawn: starts a worker (tests may pass a port pair); defaults to the bundled config worker.
   */
  constructor(private readonly spawn: () => { port: PortLike; terminate: () => void } = spawnConfigWorker) {}

  /** Sends one request; on timeout or crash the worker is replaced and the error rethrown. */
  async request<K extends keyof ConfigRequests & string>(
    kind: K,
    payload: ConfigRequests[K]['payload'],
    timeoutMs = CONFIG_REQUEST_TIMEOUT_MS,
  ): Promise<ConfigRequests[K]['result']> {
    if (!this.client) {
      const { port, terminate } = this.spawn();
      this.client = new WorkerClient<ConfigRequests, ConfigEvents>(port, terminate);
    }
    const client = this.client;
    try {
      return await client.request(kind, payload, { timeoutMs });
    } catch (err) {
      if (err instanceof TimeoutError || err instanceof WorkerCrashedError || (err as Error)?.name === 'WorkerCrashedError') {
        if (this.client === client) {
          this.client = null;
          this.restarts++;
        }
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

function spawnConfigWorker(): { port: PortLike; terminate: () => void } {
  const worker = new Worker(new URL('./config.worker.ts', import.meta.url), { type: 'module', name: 'detstudio-config' });
  return { port: worker as unknown as PortLike, terminate: () => worker.terminate() };
}
