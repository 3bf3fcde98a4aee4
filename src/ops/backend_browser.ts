/**
 * Browser (page or worker) entry of the backend set-up: {@link initBackend} with the wasm binaries
 * served by Vite (`?url` imports, so the app fetches nothing from a CDN) and the thread policy of
 * Vite builds: threads only when the page is cross-origin isolated, and not in production builds,
 * where tfjs's threaded wasm worker fails to start (`e is not defined`; `../shared/guide/webgpu-ci.md`).
 */
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { initBackend, type BackendInfo, type InitBackendOptions } from './backend';

/** URLs of tfjs's wasm binaries as bundled by Vite. */
export const wasmPaths = {
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
} as const;

/** True when the multi-threaded wasm backend may be used here. */
export function wasmThreadsAllowed(): boolean {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  return isolated && !import.meta.env.PROD;
}

/** {@link initBackend} for the browser: same options, wasm paths and thread policy filled in. */
export function initBrowserBackend(options: Omit<InitBackendOptions, 'wasmPaths'> = {}): Promise<BackendInfo> {
  return initBackend({ wasmThreads: wasmThreadsAllowed(), ...options, wasmPaths: { ...wasmPaths } });
}

export type { BackendInfo, BackendName, InitBackendOptions } from './backend';
