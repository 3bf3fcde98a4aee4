/**
 * Start-up of the studio outside React: detect capabilities on the main thread, start the studio
 * worker and ask it what a worker can use, and load the config workspace (built-in tree + the
 * user's files from IndexedDB).
 */
import { BUILTIN_FILES } from '../configs/browser.ts';
import { detectCapabilities } from '../core/capabilities.ts';
import { setCapabilities, setWorkerFailed, setWorkerReady } from '../store/studio_store.ts';
import { createStudioClient } from '../worker/studio_client.ts';
import type { StudioClient } from '../worker/studio_client.ts';
import { startConfigWorkspace } from './features/editor/analysis_loop.ts';

let client: StudioClient | null = null;
let booted: Promise<void> | null = null;

/** How long the worker may take to answer its first request (SwiftShader adapters are slow). */
const WORKER_START_TIMEOUT_MS = 30_000;

/** The studio worker's client, once started (null before `bootStudio` or if it failed). */
export function getStudioClient(): StudioClient | null {
  return client;
}

async function startWorker(): Promise<void> {
  try {
    client = createStudioClient();
    client.on('log', ({ level, message }) => {
      const log = level === 'error' ? console.error : level === 'warn' ? console.warn : console.info;
      log(`[studio worker] ${message}`);
    });
    const caps = await client.request('capabilities', undefined, { timeoutMs: WORKER_START_TIMEOUT_MS });
    setWorkerReady(caps);
  } catch (err) {
    setWorkerFailed((err as Error)?.message ?? String(err));
  }
}

/**
 * Runs the start-up once; resolves when the main-thread capabilities are known, the worker
 * answered (or failed) and the config workspace is loaded.
 */
export function bootStudio(): Promise<void> {
  booted ??= (async () => {
    const mainThread = detectCapabilities().then(setCapabilities);
    await Promise.all([mainThread, startWorker(), startConfigWorkspace(BUILTIN_FILES)]);
  })();
  return booted;
}
