/**
 * Training on a dataset imported in the Dataset pane (not the bundled demo): a small Cityscapes folder
 * is imported (copied into OPFS), chosen in the Training pane, and the demo config trains on it for
 * one iteration and validates — its `data_root` ('public/demo/cityscapes/') is resolved against the
 * imported dataset's files and converted annotations, not against the demo.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '../fixtures/studio.ts';

const DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'public', 'demo', 'cityscapes');
const DEMO = 'demo/mask-rcnn_r18_fpn_8xb2-demo_cityscapes.py';
const STEMS = ['aachen_000048_650525', 'aachen_000056_116296'];
/** One iteration, then validation on the imported train split (the folder has no val split). */
const OPTIONS = [
  'train_cfg.type=IterBasedTrainLoop',
  'train_cfg.max_iters=1',
  'train_cfg.val_interval=1',
  'default_hooks.logger.interval=1',
  'default_hooks.checkpoint.by_epoch=False',
  'default_hooks.checkpoint.interval=1',
  'log_processor.by_epoch=False',
  'val_dataloader.dataset.ann_file=annotations/instancesonly_filtered_gtFine_train.json',
  'val_dataloader.dataset.data_prefix.img=leftImg8bit/train/',
  'val_evaluator.0.ann_file=public/demo/cityscapes/annotations/instancesonly_filtered_gtFine_train.json',
];

test('trains on a dataset imported in the Dataset pane', async ({ studio, page }) => {
  test.setTimeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'train-imported-'));
  for (const stem of STEMS) {
    const files = [`leftImg8bit/train/aachen/${stem}_leftImg8bit.png`, ...['instanceIds.png', 'labelIds.png', 'polygons.json'].map((s) => `gtFine/train/aachen/${stem}_gtFine_${s}`)];
    for (const rel of files) {
      mkdirSync(dirname(join(dir, 'mycity', rel)), { recursive: true });
      writeFileSync(join(dir, 'mycity', rel), readFileSync(join(DEMO_DIR, rel)));
    }
  }
  await studio.open();
  await page.getByTestId('nav-dataset').click();
  await page.getByTestId('folder-input').setInputFiles(join(dir, 'mycity'));
  await expect(page.getByTestId('import-result')).toContainText('2 images');
  const id = (await studio.api('datasetState')).datasets.find((d) => d.id !== 'demo')!.id;

  await studio.api('openConfig', DEMO);
  await page.getByTestId('nav-training').click();
  await page.getByTestId('train-dataset').selectOption(id);
  await page.getByTestId('train-cfg-options').fill(OPTIONS.join(' '));
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-points', '1', { timeout: 180_000 });
  await expect(page.getByTestId('chart-bbox-map')).toHaveAttribute('data-points', '1', { timeout: 180_000 });
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-status', 'finished', { timeout: 60_000 });
  // Validation ran over the imported folder's 2 images (the demo's train split has 48).
  await expect(page.getByTestId('train-log')).toContainText('Iter(val) [2/2]');
  const summary = await studio.api('trainingSummary');
  expect(summary.losses.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
  expect(studio.errors).toEqual([]);
});
