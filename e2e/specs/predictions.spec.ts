import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from '../fixtures/studio.ts';

/** The tiny random-weight Mask R-CNN of the shared fixtures (read here, never copied into the repo). */
const CKPT = resolve(process.cwd(), '..', 'shared', 'fixtures', 'tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth');
const IMAGE = resolve(process.cwd(), 'public', 'demo', 'cityscapes', 'leftImg8bit', 'val', 'frankfurt', 'frankfurt_000024_777951_leftImg8bit.png');

/**
 * The fixture's architecture (the built-in tiny-fixture config) with a test Resize of 256x128, the
 * demo images' own size, so inference on wasm takes about a second instead of a full 2048x1024 pass.
 */
const TINY_FAST = `_base_ = '../demo/mask-rcnn_r50_fpn_tiny-fixture.py'
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
`;

const STEP = 0.005;

async function dropFiles(page: import('@playwright/test').Page, files: Array<{ name: string; type: string; bytes: Buffer }>): Promise<void> {
  const dt = await page.evaluateHandle((list) => {
    const d = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const u = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
      d.items.add(new File([u], f.name, { type: f.type }));
    }
    return d;
  }, files.map((f) => ({ name: f.name, type: f.type, b64: f.bytes.toString('base64') })));
  await page.getByTestId('pred-drop').dispatchEvent('drop', { dataTransfer: dt });
}

test('drop an image, see predictions of the tiny checkpoint, move the threshold, see the count change', async ({ studio, page }) => {
  test.setTimeout(180_000);
  await studio.open();
  await studio.api('createConfig', 'user/tiny-fast.py', TINY_FAST);
  await page.getByTestId('nav-predictions').click();
  await expect(page.getByTestId('pane-predictions')).toBeVisible();

  await page.getByTestId('pred-config').selectOption('user/tiny-fast.py');
  await page.getByTestId('pred-checkpoint-input').setInputFiles({ name: 'tiny_mask_rcnn_r50_fpn.pth', mimeType: 'application/octet-stream', buffer: readFileSync(CKPT) });
  await expect(page.getByTestId('pred-chosen')).toContainText('tiny_mask_rcnn_r50_fpn.pth');
  await page.getByTestId('pred-load').click();
  await expect(page.getByTestId('pred-model')).toContainText('8 classes', { timeout: 90_000 });
  await expect(page.getByTestId('pred-model')).toContainText('307/307 tensors');
  // SwiftShader is a software adapter, so inference runs on wasm (never the pure-JS cpu reference).
  expect((await studio.api('predictionsSummary')).backend).toBe('wasm');

  await dropFiles(page, [
    { name: 'street.png', type: 'image/png', bytes: readFileSync(IMAGE) },
    { name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('not an image') },
  ]);
  await expect.poll(async () => (await studio.api('predictionsSummary')).images.map((i) => i.status), { timeout: 90_000 }).toEqual(['done', 'error']);
  const summary = await studio.api('predictionsSummary');
  expect(summary.images[1]!.error).toMatch(/notes\.txt is not an image/);
  const scores = summary.images[0]!.scores;
  // Random weights: the scores are low, but the model keeps detections above score_thr (0.05).
  expect(scores.length).toBeGreaterThan(0);
  const ms = summary.images[0]!.ms;

  // A threshold at (or just under) the lowest score shows every detection, and they are drawn.
  await page.getByTestId('pred-list').getByText('street.png').click();
  const low = Math.floor(Math.min(...scores) / STEP) * STEP;
  await page.getByTestId('pred-threshold').fill(String(low));
  expect(Number(await page.getByTestId('pred-threshold').inputValue())).toBeLessThanOrEqual(Math.min(...scores));
  const count = page.getByTestId('pred-count');
  await expect(count).toHaveAttribute('data-shown', String(scores.length));
  await expect(page.getByTestId('pred-canvas')).toHaveAttribute('data-drawn', String(scores.length));
  await expect(page.getByTestId('pred-dets').locator('tr')).toHaveCount(scores.length);

  // A higher threshold hides some: the middle score when the scores differ, else above them all.
  const sorted = [...scores].sort((a, b) => a - b);
  let high = Math.ceil(sorted[Math.floor(sorted.length / 2)]! / STEP) * STEP;
  if (scores.filter((s) => s >= high).length === scores.length) high = Math.ceil(sorted[sorted.length - 1]! / STEP) * STEP + STEP;
  await page.getByTestId('pred-threshold').fill(String(high));
  const applied = Number(await page.getByTestId('pred-threshold').inputValue());
  const expected = scores.filter((s) => s >= applied).length;
  expect(expected).toBeLessThan(scores.length);
  await expect(count).toHaveAttribute('data-shown', String(expected));
  await expect(page.getByTestId('pred-canvas')).toHaveAttribute('data-drawn', String(expected));
  // Moving the slider re-filters: the model did not run again.
  const after = await studio.api('predictionsSummary');
  expect(after.images[0]!.ms).toBe(ms);
  expect(after.images[0]!.scores).toEqual(scores);

  // Back to all detections for the screenshot; then the error message of the text file.
  await page.getByTestId('pred-threshold').fill(String(low));
  await page.screenshot({ path: 'test-results/predictions.png' });
  await page.getByTestId('pred-list').getByText('notes.txt').click();
  await expect(page.getByRole('alert').filter({ hasText: 'notes.txt is not an image' })).toBeVisible();

  // Validation set: every demo val image predicted with its ground truth, COCO metrics per class.
  await page.getByTestId('pred-run-val').click();
  const table = page.getByTestId('pred-val-results');
  await expect(table).toContainText('Validation · 16 images', { timeout: 120_000 });
  await expect(table.locator('tbody tr')).toHaveCount(8);
  await expect(table).toContainText('bbox mAP');
  // The class link ranks the images with the most errors of that class first and selects the worst.
  await table.getByRole('button', { name: 'car' }).click();
  await expect(page.getByTestId('pane-predictions')).toContainText('Worst images for car');
  await page.getByRole('button', { name: 'Side by side' }).click();
  await expect(page.getByTestId('gt-canvas')).toBeVisible();
  await expect(page.getByTestId('gt-canvas')).toHaveAttribute('data-drawn', /^[1-9]\d*$/);
  // Keyboard navigation steps through the list.
  const before = await page.locator('.pred-name').innerText();
  await page.locator('.pred-footer').click();
  await page.keyboard.press('ArrowRight');
  await expect(page.locator('.pred-name')).not.toHaveText(before);
  await page.screenshot({ path: 'test-results/predictions-val.png' });

  // A config whose class count differs from the checkpoint's gets a clear message.
  await studio.api('createConfig', 'user/three.py', "_base_ = './tiny-fast.py'\nmodel = dict(roi_head=dict(bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)))\n");
  await page.getByTestId('nav-predictions').click();
  await page.getByTestId('pred-config').selectOption('user/three.py');
  await page.getByTestId('pred-load').click();
  await expect(page.getByTestId('pred-model-error')).toContainText('predicts 8 classes');
  await expect(page.getByTestId('pred-model-error')).toContainText('num_classes=3');
  expect(studio.foreignRequests()).toEqual([]);
});
