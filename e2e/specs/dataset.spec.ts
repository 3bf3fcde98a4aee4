import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from 'fast-png';
import { zipSync } from 'fflate';
import { expect, test } from '../fixtures/studio.ts';

const DEMO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'public', 'demo', 'cityscapes');
const STEMS: Array<[string, string, string]> = [
  ['train', 'aachen', 'aachen_000048_650525'],
  ['train', 'aachen', 'aachen_000056_116296'],
  ['val', 'frankfurt', ''],
];

/** Relative paths → bytes of a small Cityscapes tree (2 good images, 1 without gtFine, 1 truncated PNG). */
function smallCityscapesFiles(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const add = (rel: string, bytes?: Uint8Array) => (files[`cityscapes/${rel}`] = bytes ?? new Uint8Array(readFileSync(join(DEMO, rel))));
  for (const [split, city, stem] of STEMS.slice(0, 2)) {
    add(`leftImg8bit/${split}/${city}/${stem}_leftImg8bit.png`);
    for (const s of ['instanceIds.png', 'labelIds.png', 'polygons.json']) add(`gtFine/${split}/${city}/${stem}_gtFine_${s}`);
  }
  const good = new Uint8Array(readFileSync(join(DEMO, `leftImg8bit/train/aachen/${STEMS[0]![2]}_leftImg8bit.png`)));
  add('leftImg8bit/train/aachen/aachen_999999_000001_leftImg8bit.png', good); // no gtFine
  add('leftImg8bit/train/bremen/bremen_999999_000002_leftImg8bit.png', good.subarray(0, 200)); // truncated
  for (const s of ['instanceIds.png', 'labelIds.png', 'polygons.json']) {
    add(`gtFine/train/bremen/bremen_999999_000002_gtFine_${s}`, new Uint8Array(readFileSync(join(DEMO, `gtFine/train/aachen/${STEMS[0]![2]}_gtFine_${s}`))));
  }
  return files;
}

test.describe('Dataset pane', () => {
  test('the demo dataset is listed; the grid shows thumbnails and the image view draws instances', async ({ studio, page }) => {
    await studio.open();
    await page.getByTestId('nav-dataset').click();
    const demo = page.getByTestId('dataset-item-demo');
    await expect(demo).toContainText('Demo (synthetic Cityscapes)');
    await expect(demo).toContainText('64 images');
    await expect(page.getByTestId('storage-estimate')).toContainText('Storage');
    await demo.click();
    await expect(page.getByTestId('dataset-view')).toBeVisible();
    await expect(page.getByTestId('shown-count')).toHaveText('64 of 64');
    // Virtualised: fewer cells in the DOM than images, and thumbnails decoded in the worker.
    const cells = page.getByTestId('grid-cell');
    await expect(page.locator('canvas.ds-thumb[data-loaded="1"]').first()).toBeVisible();
    expect(await cells.count()).toBeLessThan(64);
    // Class and split filters.
    await page.getByTestId('class-chip-bus').click();
    const busCount = await page.evaluate(() => window.__detstudio!.datasetState().index!.stats.perClass[4]!.images);
    await expect(page.getByTestId('shown-count')).toHaveText(`${busCount} of 64`);
    await page.getByTestId('class-chip-bus').click();
    await page.getByRole('button', { name: 'val', exact: true }).click();
    await expect(page.getByTestId('shown-count')).toHaveText('16 of 64');
    await page.getByRole('button', { name: 'all splits' }).click();

    await cells.first().click();
    const canvas = page.getByTestId('image-canvas');
    await expect(canvas).toBeVisible();
    await expect(canvas).not.toHaveAttribute('data-instances', '-1');
    expect(Number(await canvas.getAttribute('data-instances'))).toBeGreaterThan(0);
    await expect(page.getByTestId('instance-list').locator('li').first()).toBeVisible();
    // Something was drawn in the palette on the canvas (not just the photo): sample its pixels.
    const coloured = await canvas.evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] === 255 && (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2])) n++;
      return n;
    });
    expect(coloured).toBeGreaterThan(100);
    await page.screenshot({ path: 'test-results/dataset-image-view.png' });
    await page.getByTestId('viewer-back').click();
    await page.screenshot({ path: 'test-results/dataset-grid.png' });

    await page.getByTestId('ds-tab-stats').click();
    await expect(page.getByTestId('size-bins')).toContainText('small');
    await page.screenshot({ path: 'test-results/dataset-stats.png' });
    await page.getByTestId('ds-tab-binding').click();
    await expect(page.getByTestId('dataset-binding')).toContainText('train_dataloader.dataset');
    await expect(page.getByTestId('dataset-binding')).toContainText('refers to this dataset');
    await page.screenshot({ path: 'test-results/dataset-binding.png' });
    expect(studio.errors).toEqual([]);
    expect(studio.foreignRequests()).toEqual([]);
  });

  test('a dropped folder (input fallback) and a dropped .zip import in the worker with a report', async ({ studio, page }) => {
    const files = smallCityscapesFiles();
    const dir = mkdtempSync(join(tmpdir(), 'ds-e2e-'));
    for (const [rel, bytes] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), bytes);
    }
    await studio.open();
    await page.getByTestId('nav-dataset').click();
    await expect(page.getByTestId('dataset-item-demo')).toBeVisible();

    // Folder through the <input webkitdirectory> fallback.
    await page.getByTestId('folder-input').setInputFiles(join(dir, 'cityscapes'));
    const result = page.getByTestId('import-result');
    await expect(result).toContainText('Imported cityscapes');
    await expect(result).toContainText('2 images');
    const report = page.getByTestId('import-report');
    await expect(report).toContainText('leftImg8bit/train/aachen/aachen_999999_000001_leftImg8bit.png');
    await expect(report).toContainText('bremen_999999_000002_leftImg8bit.png');
    await page.screenshot({ path: 'test-results/dataset-import-report.png' });
    await page.getByTestId('open-imported').click();
    await expect(page.getByTestId('shown-count')).toHaveText('2 of 2');
    await expect(page.locator('canvas.ds-thumb[data-loaded="1"]')).toHaveCount(2);

    // The same tree again, as a .zip dropped on the drop zone: same content → replaced, not duplicated.
    const zip = zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v])), { level: 1 });
    await page.getByTestId('dataset-dropzone').evaluate((el, bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'small-cityscapes.zip', { type: 'application/zip' }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [...zip]);
    await expect(result).toContainText('Imported small-cityscapes.zip');
    await expect(result).toContainText('replaced the earlier import');
    const stored = (await studio.api('datasetState')).datasets.filter((d) => d.id !== 'demo');
    expect(stored).toHaveLength(1);
    expect(stored[0]!.sourceKind).toBe('opfs');

    // It survives a reload (IndexedDB + OPFS) and can be deleted.
    await page.reload();
    await page.waitForFunction(() => window.__detstudio !== undefined);
    await page.getByTestId('nav-dataset').click();
    const item = page.getByTestId(`dataset-item-${stored[0]!.id}`);
    await item.click();
    await expect(page.locator('canvas.ds-thumb[data-loaded="1"]')).toHaveCount(2);
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId(`dataset-delete-${stored[0]!.id}`).click();
    await expect(item).toHaveCount(0);
    expect(studio.errors).toEqual([]);
  });

  test('a 3,000-image COCO zip: the virtualised grid renders only visible rows and scrolls without long frames', async ({ studio, page }) => {
    const n = 3000;
    const entries: Record<string, Uint8Array> = {};
    const images = [];
    const annotations = [];
    for (let i = 0; i < n; i++) {
      const data = new Uint8Array(64 * 32 * 3);
      for (let p = 0; p < 64 * 32; p++) data.set([(i * 37) % 256, (p * 3) % 256, (i * 11 + p) % 256], p * 3);
      entries[`coco/images/img_${String(i).padStart(5, '0')}.png`] = encode({ width: 64, height: 32, data, channels: 3, depth: 8 });
      images.push({ id: i + 1, file_name: `img_${String(i).padStart(5, '0')}.png`, width: 64, height: 32 });
      annotations.push({ id: i + 1, image_id: i + 1, category_id: 1 + (i % 3), iscrowd: 0, bbox: [8, 4, 20, 16], area: 320, segmentation: [[8, 4, 28, 4, 28, 20, 8, 20]] });
    }
    const cats = [{ id: 1, name: 'cat' }, { id: 2, name: 'dog' }, { id: 3, name: 'bird' }];
    entries['coco/annotations/instances_train.json'] = new TextEncoder().encode(JSON.stringify({ images, annotations, categories: cats }));
    const zipPath = join(mkdtempSync(join(tmpdir(), 'ds-e2e-')), 'coco3000.zip');
    writeFileSync(zipPath, zipSync(entries, { level: 0 }));

    await studio.open();
    await page.getByTestId('nav-dataset').click();
    await expect(page.getByTestId('dataset-item-demo')).toBeVisible();
    await page.getByTestId('zip-input').setInputFiles(zipPath);
    await expect(page.getByTestId('import-result')).toContainText('3000 images', { timeout: 60_000 });
    await page.getByTestId('open-imported').click();
    await expect(page.getByTestId('shown-count')).toHaveText('3000 of 3000');
    await expect(page.locator('canvas.ds-thumb[data-loaded="1"]').first()).toBeVisible();
    const grid = page.getByTestId('image-grid');
    const rendered = Number(await grid.getAttribute('data-rendered'));
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThan(120);
    // Baseline: frame times of this browser with the grid idle (SwiftShader compositing is slow in CI).
    const idle = await page.evaluate(async () => {
      const times: number[] = [];
      let last = performance.now();
      await new Promise<void>((resolve) => {
        const step = (t: number) => {
          times.push(t - last);
          last = t;
          if (times.length < 30) requestAnimationFrame(step);
          else resolve();
        };
        requestAnimationFrame(step);
      });
      return times.sort((a, b) => a - b)[15]!;
    });
    // Scroll through the grid for ~1.5 s and record frame times.
    const frames = await grid.evaluate(async (el) => {
      const times: number[] = [];
      let last = performance.now();
      const end = last + 1500;
      await new Promise<void>((resolve) => {
        const step = (t: number) => {
          times.push(t - last);
          last = t;
          el.scrollTop += 200; // ~12,000 px/s: a fast fling
          if (t < end) requestAnimationFrame(step);
          else resolve();
        };
        requestAnimationFrame(step);
      });
      return { times, top: el.scrollTop, cells: el.querySelectorAll('[data-testid="grid-cell"]').length };
    });
    expect(frames.top).toBeGreaterThan(2_000);
    expect(frames.cells).toBeLessThan(120);
    const sorted = [...frames.times].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(sorted.length * 0.95)]!;
    console.log(`3,000-image grid scroll: ${frames.times.length} frames, median ${sorted[sorted.length >> 1]!.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms (idle median ${idle.toFixed(1)} ms), ${frames.cells} cells in the DOM`);
    // Frame times depend on the machine (software compositing, shared CI cores): the bounds only
    // catch a grid that renders every cell (seconds per frame with 3,000); numbers are logged.
    expect(sorted[sorted.length >> 1]!).toBeLessThan(250);
    expect(p95).toBeLessThan(1000);
    await expect(page.locator('canvas.ds-thumb[data-loaded="1"]').first()).toBeVisible();
    expect(studio.errors).toEqual([]);
  });
});
