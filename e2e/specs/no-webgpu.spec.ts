import { expect, test } from '../fixtures/studio.ts';

// Runs in the `no-webgpu` project: Chromium without the WebGPU flags, where requestAdapter() is null.
test('without a WebGPU adapter the studio shows the CPU (WebAssembly) fallback notice', async ({ studio, page }) => {
  await studio.open();
  const notice = page.getByTestId('backend-notice');
  await expect(notice).toHaveAttribute('data-kind', 'fallback');
  await expect(notice).toContainText('No WebGPU adapter');
  await expect(notice).toContainText('falls back to the CPU (WebAssembly, SIMD, threads)');
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', 'wasm');
  const state = await studio.api('studioState');
  expect(state.capabilities?.backend).toBe('wasm');
  expect(state.workerCapabilities?.backend).toBe('wasm');
  // The rest of the studio still works.
  await expect(page.getByTestId('pane-config')).toBeVisible();
});
