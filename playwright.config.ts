/**
 * Playwright drives the system Chromium (`CHROMIUM_PATH`, default /usr/bin/chromium) against the
 * production build served by `vite preview` on 127.0.0.1:4173 (cross-origin isolated).
 *
 * Two projects: `webgpu` launches Chromium with the flags that give a WebGPU adapter on machines
 * without a GPU (SwiftShader, see ../shared/guide/webgpu-ci.md); `no-webgpu` launches it without
 * them, where `requestAdapter()` returns null, to test the CPU fallback notice. Playwright gives
 * every launch a fresh temporary profile.
 */
import { defineConfig } from '@playwright/test';

const CI = Boolean(process.env.CI);
/** Preview server port; DETSTUDIO_E2E_PORT moves it (e.g. to run two checkouts at once). */
const PORT = Number(process.env.DETSTUDIO_E2E_PORT ?? 4173);

/** Flags every launch gets: no sandbox (root in CI), no background network chatter. */
export const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Flags that give a (SwiftShader) WebGPU adapter without a GPU. */
export const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: './e2e/specs',
  outputDir: './test-results',
  timeout: 90_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: CI ? 1 : 0,
  forbidOnly: CI,
  reporter: CI ? [['list'], ['html', { open: 'never' }]] : [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: 'on-first-retry',
    // No video: it needs Playwright's own ffmpeg download, which CI cannot fetch. Screenshots need nothing.
    screenshot: 'only-on-failure',
    viewport: { width: 1440, height: 900 },
  },
  projects: [
    {
      name: 'webgpu',
      testIgnore: /no-webgpu\.spec\.ts$/,
      use: { browserName: 'chromium', launchOptions: { executablePath, args: [...BASE_FLAGS, ...WEBGPU_FLAGS] } },
    },
    {
      name: 'no-webgpu',
      testMatch: /no-webgpu\.spec\.ts$/,
      use: { browserName: 'chromium', launchOptions: { executablePath, args: BASE_FLAGS } },
    },
  ],
  webServer: {
    command: `npx vite build --logLevel warn && npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !CI,
    timeout: 300_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
