import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run as runEval } from '../cli/commands/eval';
import { loadStateDict, readCheckpoint } from '../checkpoint';
import { BUILTIN_DIR, listBuiltinConfigs } from '../configs/node';
import { buildDetector } from '../models';
import { CheckpointDb } from '../storage/checkpoint_db';
import { defaultImageDecoder } from '../data/transforms/loading';
import { analyzeImage } from '../eval/error_analysis';
import { initBackend } from '../ops/backend';
import { readFixtureBytes, repoRoot } from '../testing/fixtures';
import {
  ClassCountMismatchError,
  CorruptImageError,
  ImageTooLargeError,
  NotAnImageError,
  Predictor,
  cropMask,
  imageHeaderSize,
  resolvePredictConfig,
  sniffImage,
  type PredictEnv,
} from './predict_tasks';
import type { ConfigSource, ValImageResult } from './predict_protocol';

const builtins = Object.fromEntries(listBuiltinConfigs().map((p) => [p, readFileSync(join(BUILTIN_DIR, p), 'utf8')]));
const demoRoot = join(repoRoot, 'public', 'demo', 'cityscapes') + '/';

/**
 * The tiny-fixture config with a test Resize of 256x128 (the demo images' size) and fewer proposals
 * and detections, to keep CPU inference short (about 1 s per image on wasm).
 */
const SMALL = `_base_ = '../demo/mask-rcnn_r50_fpn_tiny-fixture.py'
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100), rcnn=dict(max_per_img=20)))
`;
const config: ConfigSource = { kind: 'path', path: 'user/tiny-small.py', userFiles: { 'user/tiny-small.py': SMALL } };

const env: PredictEnv = {
  builtins,
  decodeImage: async (bytes, name) => defaultImageDecoder(bytes, name),
  fetchBytes: async (url) => new Uint8Array(readFileSync(url)),
};

let predictor: Predictor;
let ckpt: Uint8Array;
const demoImage = () => new Uint8Array(readFileSync(join(demoRoot, 'leftImg8bit/val/frankfurt/frankfurt_000024_777951_leftImg8bit.png')));

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  ckpt = readFixtureBytes('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth');
  predictor = new Predictor(env);
  await predictor.load(config, { kind: 'file', name: 'tiny_mask_rcnn_r50_fpn.pth', bytes: ckpt });
}, 60_000);

afterAll(() => predictor.unload());

describe('Predictor', () => {
  it('loads every tensor of the tiny checkpoint with Cityscapes classes and palette', () => {
    const info = predictor.info!;
    expect(info.loaded).toBe(info.total);
    expect(info.classes).toEqual(['person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle']);
    expect(info.palette[0]).toEqual([220, 20, 60]);
    expect(info.scoreThr).toBe(0.05);
    expect(info.testScale).toEqual([256, 128]);
  });

  it('predicts a demo image: boxes in image pixels, scores descending above score_thr, one cropped mask each', async () => {
    const p = await predictor.predict('a.png', demoImage(), 7);
    expect(p.imgId).toBe(7);
    expect([p.width, p.height]).toEqual([256, 128]);
    expect(p.inputShape).toEqual([128, 256]);
    expect(p.notice).toBeNull();
    expect(p.ms).toBeGreaterThan(0);
    const n = p.scores.length;
    expect(n).toBeGreaterThan(0);
    expect(p.bboxes.length).toBe(4 * n);
    expect(p.labels.length).toBe(n);
    for (let i = 0; i < n; i++) {
      expect(p.scores[i]).toBeGreaterThanOrEqual(0.05);
      if (i) expect(p.scores[i]).toBeLessThanOrEqual(p.scores[i - 1]!);
      expect(p.labels[i]).toBeGreaterThanOrEqual(0);
      expect(p.labels[i]).toBeLessThan(8);
      expect(p.bboxes[i * 4]).toBeGreaterThanOrEqual(0);
      expect(p.bboxes[i * 4 + 2]).toBeLessThanOrEqual(256);
    }
    expect(p.masks!.length).toBe(n);
    for (const m of p.masks!) {
      expect(m.data.length).toBe(m.w * m.h);
      expect(m.x + m.w).toBeLessThanOrEqual(256);
      expect(m.y + m.h).toBeLessThanOrEqual(128);
    }
  }, 60_000);

  it('loads again while a model is loaded (the old one is freed first)', async () => {
    const info = await predictor.load(config, { kind: 'file', name: 'again.pth', bytes: ckpt });
    expect(info.checkpointName).toBe('again.pth');
    expect(info.loaded).toBe(info.total);
  }, 60_000);

  it('names non-images, corrupt and oversized images', async () => {
    await expect(predictor.predict('notes.txt', new TextEncoder().encode('hello'))).rejects.toBeInstanceOf(NotAnImageError);
    await expect(predictor.predict('empty.png', new Uint8Array(0))).rejects.toThrow(/empty/);
    const truncated = demoImage().slice(0, 200);
    await expect(predictor.predict('cut.png', truncated)).rejects.toBeInstanceOf(CorruptImageError);
    // A PNG header claiming 20000 x 20000 is refused before decoding.
    const huge = demoImage().slice(0, 64);
    new DataView(huge.buffer).setUint32(16, 20000);
    new DataView(huge.buffer).setUint32(20, 20000);
    await expect(predictor.predict('huge.png', huge)).rejects.toBeInstanceOf(ImageTooLargeError);
  });

  it('downscales an image wider than 4096 px with a notice', async () => {
    const w = 4200;
    const h = 40;
    const png = encodePng({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(90), channels: 3, depth: 8 });
    const p = await predictor.predict('wide.png', png);
    expect([p.originalWidth, p.originalHeight]).toEqual([w, h]);
    expect(p.width).toBe(4096);
    expect(p.height).toBe(39);
    expect(p.notice).toMatch(/downscaled to 4096×39/);
  }, 60_000);

  it('refuses a checkpoint whose class count differs from the config', async () => {
    const other = new Predictor(env);
    // Refused before any model is built (so the loaded one is untouched).
    const cfg: ConfigSource = {
      kind: 'path',
      path: 'user/three.py',
      userFiles: {
        ...(config as { userFiles: Record<string, string> }).userFiles,
        'user/three.py': "_base_ = './tiny-small.py'\nmodel = dict(roi_head=dict(bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)))\n",
      },
    };
    const err = await other.load(cfg, { kind: 'file', name: 'tiny.pth', bytes: ckpt }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClassCountMismatchError);
    expect((err as Error).message).toMatch(/predicts 8 classes .* num_classes=3/);
    expect(other.info).toBeNull();
  });

  it('reads weights from a URL through the host download (COCO weights), refusing non-http and hosts without downloads', async () => {
    const urls: string[] = [];
    const other = new Predictor({ ...env, fetchWeights: async (u) => (urls.push(u), ckpt) });
    const cfg: ConfigSource = {
      kind: 'path',
      path: 'user/three.py',
      userFiles: {
        ...(config as { userFiles: Record<string, string> }).userFiles,
        'user/three.py': "_base_ = './tiny-small.py'\nmodel = dict(roi_head=dict(bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)))\n",
      },
    };
    // The downloaded bytes are parsed like a dropped file: here the class-count check sees them.
    const err = await other.load(cfg, { kind: 'url', url: 'https://example.org/w-d4b0c5d6.pth', name: 'w-d4b0c5d6.pth' }).catch((e: unknown) => e);
    expect(urls).toEqual(['https://example.org/w-d4b0c5d6.pth']);
    expect(err).toBeInstanceOf(ClassCountMismatchError);
    await expect(other.load(cfg, { kind: 'url', url: 'file:///etc/passwd', name: 'x' })).rejects.toThrow(/not an http\(s\) URL/);
    await expect(new Predictor(env).load(cfg, { kind: 'url', url: 'https://example.org/w.pth', name: 'w.pth' })).rejects.toThrow(/Downloads are not available/);
  });

  it('loads a checkpoint record of the browser database and predicts exactly as from the .pth', async () => {
    // The record as training stores it: model-layout float tensors by state_dict key. (One model at
    // a time: tfjs variable names are global.)
    predictor.unload();
    const { cfg } = resolvePredictConfig(config, builtins);
    const det = buildDetector(cfg.model as Record<string, unknown>);
    const expected = new Map([...det.stateDict()].map(([k, v]) => [k, v.shape.slice()]));
    det.dispose();
    const loaded = loadStateDict(expected, readCheckpoint(ckpt).stateDict, { expectedLayout: 'model' }).loaded;
    const stateDict = Object.fromEntries([...loaded].filter(([, t]) => t.dtype === 'float32').map(([k, t]) => [k, { dtype: 'float32', shape: t.shape, data: t.data }]));
    const db = await CheckpointDb.open(`predict-test-${process.pid}`);
    const now = new Date().toISOString();
    await db.putRun({ id: 'run1', name: 'demo run', created: now, updated: now, status: 'finished', scalars: [], configText: SMALL });
    const id = await db.saveCheckpoint('run1', { name: 'epoch_1.pth', meta: { epoch: 1, iter: 10, seed: 0, time: now }, state_dict: stateDict });
    const fromDb = new Predictor({ ...env, checkpointDb: async () => db });
    const stored = await fromDb.listStored();
    expect(stored.map((r) => [r.runName, r.checkpoints.map((c) => c.name)])).toEqual([['demo run', ['epoch_1.pth']]]);
    await fromDb.load(config, { kind: 'stored', id, name: 'epoch_1.pth' });
    const a = await fromDb.predict('a.png', demoImage());
    fromDb.unload();
    db.close();
    await predictor.load(config, { kind: 'file', name: 'tiny_mask_rcnn_r50_fpn.pth', bytes: ckpt });
    const b = await predictor.predict('a.png', demoImage());
    expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
    expect(Array.from(a.bboxes)).toEqual(Array.from(b.bboxes));
  }, 60_000);

  it('runs a validation split: ground truth per image, CocoMetric metrics and results json', async () => {
    const items: ValImageResult[] = [];
    const r = await predictor.predictSplit(
      { baseUrl: demoRoot, annFile: 'annotations/instancesonly_filtered_gtFine_val.json', imgPrefix: 'leftImg8bit/val/', limit: 2 },
      (_d, _t, item) => items.push(item),
    );
    expect(r.images).toBe(2);
    expect(items.length).toBe(2);
    expect(items[0]!.gt.length).toBeGreaterThan(0);
    expect(Object.keys(r.metrics)).toContain('coco/bbox_mAP');
    expect(Object.keys(r.metrics)).toContain('coco/segm_mAP');
    expect(r.classwise.bbox!.length).toBe(8);
    const bbox = JSON.parse(r.resultsJson.bbox) as Array<{ image_id: number; bbox: number[]; score: number; category_id: number }>;
    const total = items.reduce((s, it) => s + it.prediction.scores.length, 0);
    expect(bbox.length).toBe(total);
    expect(JSON.parse(r.resultsJson.segm!)[0].segmentation.size).toEqual([128, 256]);
    // `detstudio eval` reads the results json: its CocoMetric-mode bbox mAP is the metric's.
    const dir = mkdtempSync(join(tmpdir(), 'predict-'));
    writeFileSync(join(dir, 'results.bbox.json'), r.resultsJson.bbox);
    const out: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const code = await runEval(['--ann', join(demoRoot, 'annotations/instancesonly_filtered_gtFine_val.json'), '--results', join(dir, 'results.bbox.json'), '--metric', 'bbox', '--cocometric', '--json']);
    spy.mockRestore();
    expect(code).toBe(0);
    expect(JSON.parse(out.join('\n')).stats.length).toBe(12);
    // The error analysis of the first image accounts for every detection and object.
    const e = analyzeImage(items[0]!.prediction, items[0]!.gt);
    expect(e.tp + e.fp + e.detections.filter((d) => d === 'ignored').length).toBe(items[0]!.prediction.scores.length);
  }, 60_000);
});

describe('image helpers', () => {
  it('sniffs signatures and reads PNG / JPEG sizes from headers', () => {
    expect(sniffImage(demoImage())).toBe('png');
    expect(imageHeaderSize(demoImage())).toEqual({ width: 256, height: 128 });
    // Minimal JPEG: SOI, APP0 (length 4), SOF0 with height 300, width 500.
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 1, 44, 1, 244, 3, 0, 0, 0, 0]);
    expect(sniffImage(jpeg)).toBe('jpeg');
    expect(imageHeaderSize(jpeg)).toEqual({ width: 500, height: 300 });
    expect(sniffImage(new TextEncoder().encode('%PDF-1.4'))).toBeNull();
  });

  it('crops a mask to its foreground', () => {
    const plane = new Uint8Array(5 * 6);
    plane[1 * 6 + 2] = 1;
    plane[3 * 6 + 4] = 1;
    const m = cropMask(plane, 5, 6);
    expect([m.x, m.y, m.w, m.h]).toEqual([2, 1, 3, 3]);
    expect(Array.from(m.data)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(cropMask(new Uint8Array(4), 2, 2)).toMatchObject({ w: 0, h: 0 });
  });
});
