/**
 * The built-in config tree: the Cityscapes Mask R-CNN config resolves to exactly MMEngine's output, the
 * tutorial's config (2.x base name, trailing comma) resolves to exactly its expected.json, and every
 * file of the tree resolves.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath, readFixtureJson } from '../testing/fixtures.ts';
import { MemoryFS, OverlayFS, diagnostics, getPath, resolveConfig, toFixtureJSON, toPlainJSON } from '../config/index.ts';
import { BUILTIN_ROOT, BuiltinNodeFS, listBuiltinConfigs } from './node.ts';

const fs = new BuiltinNodeFS();

function keyOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keyOrder);
  if (v && typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, keyOrder(x)]);
  return null;
}

describe('built-in config tree', () => {
  it('lists the MMDetection layout', () => {
    const files = listBuiltinConfigs();
    for (const f of [
      '_base_/models/mask-rcnn_r50_fpn.py',
      '_base_/models/faster-rcnn_r50_fpn.py',
      '_base_/datasets/cityscapes_instance.py',
      '_base_/datasets/cityscapes_detection.py',
      '_base_/datasets/coco_instance.py',
      '_base_/datasets/coco_detection.py',
      '_base_/default_runtime.py',
      '_base_/schedules/schedule_1x.py',
      '_base_/schedules/schedule_2x.py',
      'cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py',
      'cityscapes/faster-rcnn_r50_fpn_1x_cityscapes.py',
    ]) {
      expect(files).toContain(f);
    }
  });

  it('resolves the Cityscapes Mask R-CNN fine-tune config exactly like MMEngine', () => {
    const res = resolveConfig(`${BUILTIN_ROOT}/cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py`, fs);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const want = readFixtureJson('config-cases', 'cityscapes-maskrcnn-resolved.json');
    expect(toFixtureJSON(res.cfg)).toEqual(want);
    expect(keyOrder(toFixtureJSON(res.cfg))).toEqual(keyOrder(want));
    expect(res.bases.map((b) => b.entry)).toEqual([
      '../_base_/models/mask-rcnn_r50_fpn.py',
      '../_base_/datasets/cityscapes_instance.py',
      '../_base_/default_runtime.py',
      '../_base_/schedules/schedule_1x.py',
    ]);
  });

  it("resolves the tutorial's config (2.x base name, trailing comma) exactly like MMEngine", () => {
    const text = readFileSync(fixturePath('tutorial', 'configs', 'cityscapes', 'finetune_tutorial.py'), 'utf8');
    const path = `${BUILTIN_ROOT}/cityscapes/finetune_tutorial.py`;
    const over = new OverlayFS([new MemoryFS({ [path]: text }), fs]);
    const res = resolveConfig(path, over);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const want = readFixtureJson('tutorial', 'expected.json');
    expect(toFixtureJSON(res.cfg)).toEqual(want);
    expect(keyOrder(toFixtureJSON(res.cfg))).toEqual(keyOrder(want));
    // and the studio warns about its traps
    const diags = diagnostics(text, path, fs);
    const codes = diags.map((d) => d.code);
    expect(codes).toContain('trailing-comma-tuple');
    expect(codes).toContain('load-from-style-mismatch');
    expect(diags.every((d) => d.severity === 'warning')).toBe(true);
  });

  it('resolves every file of the tree through mmdet:: paths', () => {
    for (const f of listBuiltinConfigs()) {
      const over = new OverlayFS([new MemoryFS({ '/user/x.py': `_base_ = 'mmdet::${f}'\n` }), fs]);
      const res = resolveConfig('/user/x.py', over);
      expect(res.ok, `${f}: ${res.ok ? '' : res.error.message}`).toBe(true);
    }
  });

  it('resolves the Faster R-CNN Cityscapes config with 8 classes and the COCO checkpoint', () => {
    const res = resolveConfig(`${BUILTIN_ROOT}/cityscapes/faster-rcnn_r50_fpn_1x_cityscapes.py`, fs);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const j = toPlainJSON(res.cfg) as Record<string, any>;
    expect(j.model.type).toBe('FasterRCNN');
    expect(j.model.roi_head.bbox_head.num_classes).toBe(8);
    expect(j.model.roi_head.mask_head).toBeUndefined();
    expect(j.model.roi_head.bbox_head.loss_bbox).toEqual({ type: 'SmoothL1Loss', loss_weight: 1.0, beta: 1.0 });
    expect(j.val_evaluator).toEqual({ type: 'CocoMetric', ann_file: 'data/cityscapes/annotations/instancesonly_filtered_gtFine_val.json', metric: 'bbox', backend_args: null });
    expect(j.train_cfg.max_epochs).toBe(8);
  });

  it('the demo config is small, consistent and trains on the demo data', () => {
    const res = resolveConfig(`${BUILTIN_ROOT}/demo/mask-rcnn_r18_fpn_8xb2-demo_cityscapes.py`, fs);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const j = toPlainJSON(res.cfg) as Record<string, any>;
    const m = j.model;
    expect(m.backbone.depth).toBe(18);
    expect(m.backbone.init_cfg).toBeNull();
    expect(m.neck.in_channels).toEqual([64, 128, 256, 512]);
    expect(m.neck.out_channels).toBe(64);
    expect(m.rpn_head.in_channels).toBe(64);
    expect(m.rpn_head.feat_channels).toBe(64);
    expect(m.roi_head.bbox_roi_extractor.out_channels).toBe(64);
    expect(m.roi_head.mask_roi_extractor.out_channels).toBe(64);
    expect(m.roi_head.bbox_head).toMatchObject({ in_channels: 64, fc_out_channels: 256, num_classes: 8 });
    expect(m.roi_head.mask_head).toMatchObject({ in_channels: 64, conv_out_channels: 64, num_classes: 8 });
    expect(m.train_cfg.rpn.sampler.num).toBe(128);
    expect(m.train_cfg.rcnn.sampler.num).toBe(128);
    expect(j.load_from).toBeNull();
    const inner = j.train_dataloader.dataset.dataset;
    expect(j.train_dataloader.batch_size).toBe(2);
    expect(inner.data_root).toBe('public/demo/cityscapes/');
    expect(inner.ann_file).toBe('annotations/instancesonly_filtered_gtFine_train.json');
    expect(inner.data_prefix).toEqual({ img: 'leftImg8bit/train/' });
    expect(inner.pipeline[2]).toEqual({ type: 'Resize', scale: [256, 128], keep_ratio: true });
    expect(j.val_dataloader.dataset.data_root).toBe('public/demo/cityscapes/');
    expect(j.val_dataloader.dataset.ann_file).toBe('annotations/instancesonly_filtered_gtFine_val.json');
    expect(j.test_dataloader).toEqual(j.val_dataloader);
    expect(j.default_hooks.logger).toEqual({ type: 'LoggerHook', interval: 5 });
    expect(j.default_hooks.checkpoint).toEqual({ type: 'CheckpointHook', interval: 1, max_keep_ckpts: 3 });
    expect(j.param_scheduler[0].type).toBe('LinearLR');
    expect(j.train_cfg.max_epochs).toBe(12);
    // no fine-tuning lint fires on the demo itself
    const text = fs.read(`${BUILTIN_ROOT}/demo/mask-rcnn_r18_fpn_8xb2-demo_cityscapes.py`)!;
    expect(diagnostics(text, `${BUILTIN_ROOT}/demo/mask-rcnn_r18_fpn_8xb2-demo_cityscapes.py`, fs)).toEqual([]);
  });

  it('the tiny-fixture config describes the tiny checkpoint architecture', () => {
    const res = resolveConfig(`${BUILTIN_ROOT}/demo/mask-rcnn_r50_fpn_tiny-fixture.py`, fs);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const manifest = readFixtureJson<{ meta: { config: Record<string, Record<string, unknown>> } }>('tiny-mask-rcnn', 'manifest.json');
    const want = manifest.meta.config;
    const j = toPlainJSON(res.cfg) as Record<string, any>;
    expect(j.model.backbone).toMatchObject({ ...want.backbone });
    expect(j.model.neck).toMatchObject(want.neck);
    expect(j.model.rpn_head).toMatchObject(want.rpn_head);
    expect(j.model.roi_head.bbox_roi_extractor).toMatchObject(want.bbox_roi_extractor);
    expect(j.model.roi_head.bbox_head).toMatchObject(want.bbox_head);
    expect(j.model.roi_head.mask_roi_extractor).toMatchObject(want.mask_roi_extractor);
    expect(j.model.roi_head.mask_head).toMatchObject(want.mask_head);
    expect(getPath(res.cfg, 'model.backbone.init_cfg')).toBeNull();
  });
});

describe('browser access to the tree (Vite import.meta.glob)', () => {
  it('serves the same files with the same text under the same root', async () => {
    const browser = await import('./browser.ts');
    expect(browser.listBuiltinConfigs()).toEqual(listBuiltinConfigs());
    const bfs = browser.builtinFS();
    for (const f of listBuiltinConfigs()) expect(bfs.read(`${BUILTIN_ROOT}/${f}`)).toBe(fs.read(`${BUILTIN_ROOT}/${f}`));
    const res = resolveConfig(`${BUILTIN_ROOT}/cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py`, bfs);
    expect(res.ok && toFixtureJSON(res.cfg)).toEqual(readFixtureJson('config-cases', 'cityscapes-maskrcnn-resolved.json'));
  });
});
