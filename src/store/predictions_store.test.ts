import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_DIR, listBuiltinConfigs } from '../configs/node';
import { defaultImageDecoder } from '../data/transforms/loading';
import { initBackend } from '../ops/backend';
import { readFixtureBytes, repoRoot } from '../testing/fixtures';
import type { ImagePrediction, PredictRequests } from '../worker/predict_protocol';
import { Predictor } from '../worker/predict_tasks';
import {
  addImages,
  chooseCheckpointFile,
  loadModel,
  orderedImages,
  predictionsStore,
  resetPredictionsStore,
  setConfigPath,
  setPredictService,
  setSort,
  setThreshold,
  stepSelection,
  visibleIndices,
  type PredImage,
  type PredictService,
} from './predictions_store';

const pred = (scores: number[], boxes: number[][], labels: number[]): ImagePrediction => ({
  name: 'x',
  width: 100,
  height: 100,
  originalWidth: 100,
  originalHeight: 100,
  inputShape: [100, 100],
  notice: null,
  ms: 1,
  bboxes: Float32Array.from(boxes.flat()),
  scores: Float32Array.from(scores),
  labels: Int32Array.from(labels),
  masks: null,
});

const img = (id: string, p: ImagePrediction, gt?: PredImage['gt']): PredImage => ({ id, name: id, source: 'val', url: id, status: 'done', prediction: p, gt });

beforeEach(() => {
  resetPredictionsStore();
  setPredictService(null);
});

describe('derived view state', () => {
  const a = img('a', pred([0.9], [[0, 0, 10, 10]], [0]), [{ bbox: [0, 0, 10, 10], label: 0 }]); // perfect
  const b = img('b', pred([0.8, 0.4], [[50, 50, 60, 60], [0, 0, 10, 10]], [1, 0]), [{ bbox: [0, 0, 10, 10], label: 0 }]); // 1 FP (class 1)
  const c = img('c', pred([], [], []), [{ bbox: [0, 0, 10, 10], label: 0 }, { bbox: [20, 20, 5, 5], label: 0 }]); // 2 missed
  const d: PredImage = { id: 'd', name: 'd', source: 'dropped', url: 'd', status: 'done', prediction: pred([0.5], [[1, 1, 2, 2]], [0]) };

  it('filters by threshold without touching the predictions', () => {
    expect(visibleIndices(b.prediction!, 0.3)).toEqual([0, 1]);
    expect(visibleIndices(b.prediction!, 0.5)).toEqual([0]);
    expect(visibleIndices(b.prediction!, 0.95)).toEqual([]);
  });

  it('orders worst first at the current threshold, images without ground truth last', () => {
    const base = { images: [a, b, c, d], sort: 'worst' as const, classFilter: null, threshold: 0.3 };
    expect(orderedImages(base).map((i) => i.id)).toEqual(['c', 'b', 'a', 'd']);
    // At 0.95 every detection is hidden: a and b each miss one object (tie → key order).
    expect(orderedImages({ ...base, threshold: 0.95 }).map((i) => i.id)).toEqual(['c', 'a', 'b', 'd']);
    expect(orderedImages({ ...base, classFilter: 1 }).map((i) => i.id)).toEqual(['b']);
    expect(orderedImages({ ...base, sort: 'name' }).map((i) => i.id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('navigates in list order and stops at the ends', () => {
    predictionsStore.setState({ images: [a, b, c], selectedId: 'a' });
    stepSelection(1);
    expect(predictionsStore.getState().selectedId).toBe('b');
    stepSelection(5);
    expect(predictionsStore.getState().selectedId).toBe('c');
    setSort('worst');
    expect(predictionsStore.getState().selectedId).toBe('c');
    stepSelection(1);
    expect(predictionsStore.getState().selectedId).toBe('b');
    stepSelection(-9);
    expect(predictionsStore.getState().selectedId).toBe('c');
    setThreshold(2);
    expect(predictionsStore.getState().threshold).toBe(1);
  });
});

describe('with the real predictor in-thread', () => {
  it('loads the tiny checkpoint, predicts a dropped image once, and re-filters without re-running', async () => {
    await initBackend({ prefer: 'wasm' });
    const builtins = Object.fromEntries(listBuiltinConfigs().map((p) => [p, readFileSync(join(BUILTIN_DIR, p), 'utf8')]));
    const predictor = new Predictor({ builtins, decodeImage: async (bytes, name) => defaultImageDecoder(bytes, name), fetchBytes: async () => new Uint8Array(0) });
    const calls: string[] = [];
    const inThread: PredictService = {
      request: (async (kind: keyof PredictRequests, payload: never) => {
        calls.push(kind);
        if (kind === 'load') {
          const p = payload as PredictRequests['load']['payload'];
          return predictor.load(p.config, p.checkpoint);
        }
        if (kind === 'predict') {
          const p = payload as PredictRequests['predict']['payload'];
          return predictor.predict(p.name, p.bytes, p.imgId);
        }
        throw new Error(`unexpected ${kind}`);
      }) as PredictService['request'],
    };
    setPredictService(inThread);
    const cfg = `_base_ = '../demo/mask-rcnn_r50_fpn_tiny-fixture.py'
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(256, 128), keep_ratio=True), dict(type='PackDetInputs')]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100), rcnn=dict(max_per_img=20)))
`;
    const png = new Uint8Array(readFileSync(join(repoRoot, 'public/demo/cityscapes/leftImg8bit/val/frankfurt/frankfurt_000024_777951_leftImg8bit.png')));
    addImages([{ name: 'street.png', bytes: png, url: 'blob:1' }, { name: 'notes.txt', bytes: new TextEncoder().encode('hi'), url: 'blob:2' }]);
    expect(predictionsStore.getState().images.map((i) => i.status)).toEqual(['pending', 'pending']);
    setConfigPath('user/tiny.py');
    chooseCheckpointFile('tiny.pth', readFixtureBytes('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth'));
    await loadModel({ 'user/tiny.py': cfg });
    const s = predictionsStore.getState();
    expect(s.modelStatus).toBe('ready');
    expect(s.images[0]!.status).toBe('done');
    expect(s.images[1]!.status).toBe('error');
    expect(s.images[1]!.error).toMatch(/notes\.txt is not an image/);
    const p = s.images[0]!.prediction!;
    expect(p.scores.length).toBeGreaterThan(0);
    expect(calls).toEqual(['load', 'predict', 'predict']);
    // A threshold between the lowest and highest score shows fewer detections; no new request.
    const lo = p.scores[p.scores.length - 1]!;
    const hi = p.scores[0]!;
    setThreshold(lo);
    const all = visibleIndices(p, predictionsStore.getState().threshold).length;
    setThreshold((lo + hi) / 2 + 1e-6);
    const some = visibleIndices(p, predictionsStore.getState().threshold).length;
    expect(all).toBe(p.scores.length);
    if (hi > lo) expect(some).toBeLessThan(all);
    expect(calls.length).toBe(3);
    predictor.unload();
  }, 60_000);
});
