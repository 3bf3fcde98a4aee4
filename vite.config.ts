/**
 * Vite config for the studio. The page is cross-origin isolated (COOP/COEP on dev and preview) so
 * tfjs-wasm can use threads; Monaco and every worker are bundled locally (Vite `?worker` imports),
 * so the running app fetches nothing from the network.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Headers that make `self.crossOriginIsolated` true (SharedArrayBuffer, wasm threads). */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export default defineConfig({
  plugins: [react()],
  server: { headers: isolationHeaders, host: '127.0.0.1', port: 5173 },
  preview: { headers: isolationHeaders, host: '127.0.0.1', port: 4173, strictPort: true },
  // Scan the worker entries too, so the dev server pre-bundles their dependencies (@lezer/python,
  // tfjs…) at start-up instead of discovering them later and reloading the page.
  optimizeDeps: { entries: ['index.html', 'src/**/*.worker.ts'] },
  worker: { format: 'es', rolldownOptions: { checks: { bundlerTimings: false } } },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 6000,
    sourcemap: false,
    // Monaco's worker bundle makes Rolldown print a slow-plugin report on every build; it is noise here.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
