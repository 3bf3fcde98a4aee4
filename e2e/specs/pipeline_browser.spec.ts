/**
 * The browser's native decode-and-resize path (`createBitmapImageDecoder().decodeResized`, run by
 * `Compose` for LoadImageFromFile → Resize / RandomResize → RandomFlip, see
 * src/data/transforms/browser_fast_path.ts) in a Chromium Web Worker, against OpenCV on the
 * pipeline fixtures (`../shared/fixtures/pipeline/`):
 *  - the resized image 0 of pipelines i / ii / iii against MMDetection's `cv2.resize(INTER_LINEAR)`
 *    bins, for each way (`resizeWith` canvas / bitmap) and `resizeQuality` (low / medium / high), reporting max, mean and 99th percentile
 *    of |difference|; the default quality must be within a few units (max ≤ 3, mean ≤ 0.1, p99 ≤ 1);
 *  - every fixture run (i, ii, iii × images 0, 2) through the whole pipeline, fast vs exact
 *    decoder: metainfo (img_shape, scale_factor, flip…), boxes, labels and masks equal, packed
 *    pixels within the same tolerance;
 *  - downscales (not in the fixtures) against the exact path, which equals OpenCV bit for bit
 *    (src/data/transforms/pipeline.test.ts).
 *
 * The worker is an esbuild bundle of the real modules started from a blob URL; the fixture files
 * are read here and posted to it (never copied into the repo).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

const FIXTURES = resolve(process.cwd(), '..', 'shared', 'fixtures');
const HERE = dirname(fileURLToPath(import.meta.url));

const WORKER_SOURCE = `
import { createBitmapImageDecoder, DEFAULT_RESIZE_QUALITY, DEFAULT_RESIZE_WITH } from '../../src/data/browser_image_decoder.ts';
import { CityscapesDataset } from '../../src/data/datasets.ts';
import { Compose } from '../../src/data/transforms/compose.ts';

function stats(a, b) {
  if (a.length !== b.length) return { error: 'length ' + a.length + ' vs ' + b.length };
  const hist = new Array(256).fill(0);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    hist[d]++;
    sum += d;
  }
  let max = 0;
  for (let d = 0; d < 256; d++) if (hist[d]) max = d;
  let acc = 0;
  let p99 = 0;
  for (let d = 0; d < 256; d++) {
    acc += hist[d];
    if (acc >= 0.99 * a.length) { p99 = d; break; }
  }
  return { max, mean: +(sum / a.length).toFixed(4), p99, exact_fraction: +(hist[0] / a.length).toFixed(4) };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const arr = (x) => Array.from(x);

self.onmessage = async (ev) => {
  try {
    const { files, coco, pipelines, runs, bins, qualities } = ev.data;
    const readFile = async (p) => {
      const f = files[p];
      if (!f) throw new Error('no file ' + p);
      return f;
    };
    const dsCfg = (pipeline) => ({
      data_root: '/fx/cityscapes',
      ann_file: 'instancesonly_filtered_gtFine_train.json',
      data_prefix: { img: 'cityscapes/leftImg8bit/train/' },
      filter_cfg: { filter_empty_gt: true, min_size: 32 },
      pipeline,
    });
    const info = (idx) => new CityscapesDataset(coco, dsCfg([]), { readFile }).getDataInfo(idx);
    const exactDecoder = createBitmapImageDecoder(globalThis, { nativeResize: false });
    const out = { default_quality: DEFAULT_RESIZE_WITH + '-' + DEFAULT_RESIZE_QUALITY, bins: {}, runs: {}, downscale: {} };
    for (const q of qualities) {
      const [resizeWith, resizeQuality] = q.split('-');
      const fast = createBitmapImageDecoder(globalThis, { resizeWith, resizeQuality });
      // Resized image 0 (before any flip) against OpenCV's bins.
      for (const [name, bin] of Object.entries(bins)) {
        const scale = pipelines[name].find((t) => t.type === 'Resize').scale;
        const p = [{ type: 'LoadImageFromFile' }, { type: 'Resize', scale, keep_ratio: true }];
        const r = await new Compose(p, { readFile, decodeImage: fast }).run(info(0));
        out.bins[q + '/' + name] = { ...stats(r.img.data, bin), img_shape: r.img_shape, scale_factor: r.scale_factor };
      }
      // Whole fixture runs: fast against exact.
      for (const key of runs) {
        const [name, idx] = key.split('/');
        const a = await new Compose(pipelines[name], { readFile, decodeImage: fast }).pack(info(Number(idx)));
        const b = await new Compose(pipelines[name], { readFile, decodeImage: exactDecoder }).pack(info(Number(idx)));
        const inst = (s) => ['gt_instances', 'ignored_instances'].map((k) => [arr(s[k].bboxes), arr(s[k].labels), arr(s[k].masks.data)]);
        out.runs[q + '/' + key] = {
          ...stats(a.inputs.data, b.inputs.data),
          meta_equal: same(a.data_samples.metainfo, b.data_samples.metainfo),
          meta: a.data_samples.metainfo,
          instances_equal: same(inst(a.data_samples), inst(b.data_samples)),
        };
      }
      // Downscales against the exact (OpenCV-equal) resize.
      for (const scale of [[200, 100], [160, 80], [100, 50]]) {
        const p = [{ type: 'LoadImageFromFile' }, { type: 'Resize', scale, keep_ratio: true }];
        const a = await new Compose(p, { readFile, decodeImage: fast }).run(info(2));
        const b = await new Compose(p, { readFile, decodeImage: exactDecoder }).run(info(2));
        out.downscale[q + '/' + scale.join('x')] = { ...stats(a.img.data, b.img.data), meta_equal: same([a.img_shape, a.scale_factor], [b.img_shape, b.scale_factor]) };
      }
    }
    self.postMessage({ ok: out });
  } catch (e) {
    self.postMessage({ error: String((e && e.stack) || e) });
  }
};
`;

/** Every file under `dir`, by its path below `root` prefixed with `prefix`. */
function collect(root: string, dir: string, prefix: string, out: Record<string, string>): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) collect(root, p, prefix, out);
    else if (e.name.endsWith('.png')) out[prefix + p.slice(root.length)] = readFileSync(p).toString('base64');
  }
}

/**
 * Tolerance of the default quality. Measured (Chromium 156, 'low'): max 1, mean ≤ 0.011, p99 ≤ 1 on
 * every case here; 'medium' is as close down to ×0.5 but takes mipmaps below (×0.39: max 103,
 * mean 2.4), 'high' is bicubic (max 29–38, mean ≈ 0.45, p99 7–11).
 */
function expectWithinTolerance(s: Stat, key: string): void {
  expect(s.max, key).toBeLessThanOrEqual(3);
  expect(s.mean, key).toBeLessThanOrEqual(0.1);
  expect(s.p99, key).toBeLessThanOrEqual(1);
}

interface Stat {
  max: number;
  mean: number;
  p99: number;
  exact_fraction: number;
}

test('native decode-and-resize is within a few units of OpenCV, with exact metadata', async ({ page }) => {
  test.setTimeout(120_000);
  const esbuild = await import('esbuild');
  const bundle = await esbuild.build({
    stdin: { contents: WORKER_SOURCE, resolveDir: HERE, loader: 'ts', sourcefile: 'pipeline_browser_worker.ts' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  const fxJson = JSON.parse(readFileSync(join(FIXTURES, 'pipeline', 'pipeline.json'), 'utf8')) as {
    pipelines: Record<string, Array<Record<string, unknown>>>;
    runs: Record<string, { meta: Record<string, unknown> }>;
  };
  const files: Record<string, string> = {};
  const imgRoot = join(FIXTURES, 'cityscapes', 'cityscapes', 'leftImg8bit', 'train');
  collect(imgRoot, imgRoot, '/fx/cityscapes/cityscapes/leftImg8bit/train', files);
  const bins = Object.fromEntries(['i', 'ii', 'iii'].map((n) => [n, readFileSync(join(FIXTURES, 'pipeline', `resized_${n}_img0_hwc_bgr_u8.bin`)).toString('base64')]));
  const payload = {
    code: bundle.outputFiles[0]!.text,
    files,
    bins,
    coco: JSON.parse(readFileSync(join(FIXTURES, 'cityscapes', 'instancesonly_filtered_gtFine_train.json'), 'utf8')),
    pipelines: fxJson.pipelines,
    runs: Object.keys(fxJson.runs),
    qualities: ['canvas', 'bitmap'].flatMap((w) => ['low', 'medium', 'high'].map((q) => `${w}-${q}`)),
  };
  await page.setContent('<!doctype html><title>pipeline</title>');
  const res = (await page.evaluate(
    (p) =>
      new Promise((done) => {
        const b64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
        const w = new Worker(URL.createObjectURL(new Blob([p.code], { type: 'text/javascript' })));
        w.onmessage = (ev) => done(ev.data);
        w.onerror = (ev) => done({ error: `worker failed: ${String(ev.message)}` });
        const decoded = (o: Record<string, string>): Record<string, Uint8Array> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, b64(v)]));
        w.postMessage({ ...p, code: undefined, files: decoded(p.files), bins: decoded(p.bins) });
      }),
    payload,
  )) as { ok?: { default_quality: string; bins: Record<string, Stat & { img_shape: number[] }>; runs: Record<string, Stat & { meta_equal: boolean; instances_equal: boolean; meta: Record<string, unknown> }>; downscale: Record<string, Stat & { meta_equal: boolean }> }; error?: string };
  expect(res.error).toBeUndefined();
  const ok = res.ok!;
  console.log(JSON.stringify(ok, (k, v) => (k === 'meta' ? undefined : v), 1));
  const DEFAULT_RESIZE_QUALITY = ok.default_quality;
  for (const [key, s] of Object.entries(ok.bins)) {
    const [q, name] = key.split('/') as [string, string];
    const [h, w] = s.img_shape;
    const refStep = (fxJson.runs[`${name}/0`] as unknown as { steps: Array<{ img_shape: number[] }> }).steps.find((st) => 'scale_factor' in st)!;
    expect([h, w, 3]).toEqual(refStep.img_shape);
    if (q === DEFAULT_RESIZE_QUALITY) {
      expectWithinTolerance(s, key);
    }
  }
  for (const [key, s] of Object.entries(ok.runs)) {
    const [q, name, idx] = key.split('/') as [string, string, string];
    expect(s.meta_equal, key).toBe(true);
    expect(s.instances_equal, key).toBe(true);
    const { img_path: _p, ...meta } = s.meta;
    expect(meta, key).toEqual(fxJson.runs[`${name}/${idx}`]!.meta);
    if (q === DEFAULT_RESIZE_QUALITY) {
      expectWithinTolerance(s, key);
    }
  }
  for (const [key, s] of Object.entries(ok.downscale)) {
    expect(s.meta_equal, key).toBe(true);
    if (key.startsWith(`${DEFAULT_RESIZE_QUALITY}/`)) {
      expectWithinTolerance(s, key);
    }
  }
});
