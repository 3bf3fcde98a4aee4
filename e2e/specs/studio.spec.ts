import { expect, test } from '../fixtures/studio.ts';

test('the studio opens with its panes and finds the SwiftShader WebGPU adapter', async ({ studio, page }) => {
  await studio.open();
  await expect(page.locator('.brand-name')).toHaveText('DetStudio');
  for (const pane of ['config', 'dataset', 'training', 'checkpoints', 'export', 'predictions']) {
    await expect(page.getByTestId(`nav-${pane}`)).toBeVisible();
  }
  // Config is the first pane and is real. Every pane opens from the navigation; a pane whose feature has
  // not landed yet says so and lists what is coming.
  await expect(page.getByTestId('pane-config')).toBeVisible();
  for (const pane of ['dataset', 'training', 'checkpoints', 'export', 'predictions']) {
    await page.getByTestId(`nav-${pane}`).click();
    await expect(page.getByTestId(`pane-${pane}`)).toBeVisible();
    if ((await page.getByTestId(`nav-${pane}`).innerText()).includes('Coming')) {
      await expect(page.getByTestId(`pane-${pane}`)).toContainText('This pane is not built yet. It will offer:');
    }
  }
  await page.getByTestId('nav-config').click();
  await expect(page.getByTestId('pane-config')).toBeVisible();

  const notice = page.getByTestId('backend-notice');
  await expect(notice).toHaveAttribute('data-kind', 'webgpu');
  await expect(notice).toContainText('WebGPU adapter found');
  await expect(notice).toContainText(/swiftshader/i);
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', 'webgpu');

  const state = await studio.api('studioState');
  expect(state.capabilities?.crossOriginIsolated).toBe(true);
  expect(state.capabilities?.wasm).toEqual({ available: true, simd: true, threads: true });
  expect(state.capabilities?.webgpu.available).toBe(true);
});

test('the studio worker answers over the typed protocol', async ({ studio, page }) => {
  await studio.open();
  await expect(page.getByTestId('worker-status')).toHaveAttribute('data-status', 'ready');
  const pong = await studio.api('pingWorker', 'hello');
  expect(pong.value).toBe('hello');
  const caps = await studio.api('workerCapabilities');
  expect(caps.context).toBe('worker');
  expect(caps.webgpu.available).toBe(true);
  expect(caps.backend).toBe('webgpu');
});

test('the studio makes no request outside its own origin', async ({ studio, page }) => {
  await studio.open();
  // Wait until Monaco, its worker, the config worker and the fonts are all loaded.
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('num_classes=8');
  await expect(page.getByTestId('resolved-view')).toContainText('num_classes=8');
  await page.waitForLoadState('networkidle');
  expect(studio.foreignRequests()).toEqual([]);
  expect(studio.errors).toEqual([]);
});
