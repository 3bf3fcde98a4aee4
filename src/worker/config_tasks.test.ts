import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_DIR, listBuiltinConfigs } from '../configs/node.ts';
import { ConfigWorkspace } from './config_tasks.ts';
import { loadRegisteredTypeNames } from './type_names.ts';

const builtins = Object.fromEntries(listBuiltinConfigs().map((p) => [p, readFileSync(join(BUILTIN_DIR, p), 'utf8')]));
const CITY = 'cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py';
const ws = new ConfigWorkspace(builtins, loadRegisteredTypeNames);

describe('ConfigWorkspace.analyze', () => {
  it('resolves the Cityscapes config: pretty text with num_classes=8, no errors, a diff against its bases', () => {
    const a = ws.analyze({ userFiles: {}, path: CITY });
    expect(a.resolved.ok).toBe(true);
    if (!a.resolved.ok) return;
    expect(a.resolved.text).toMatch(/num_classes=8,/);
    expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(a.baseCount).toBeGreaterThan(0);
    const nc = a.diff?.find((d) => d.path === 'model.roi_head.bbox_head.num_classes');
    expect(nc).toMatchObject({ kind: 'changed', before: '80', after: '8' });
    expect(nc?.origin).toMatch(/^cityscapes\/mask-rcnn_r50_fpn_1x_cityscapes\.py:\d+$/);
  });

  it('puts an error in the edited text at its exact range, with tree paths in the message', () => {
    const text = builtins[CITY]!;
    const at = text.indexOf('num_classes=8');
    const broken = `${text.slice(0, at)}num_classes=eight${text.slice(at + 'num_classes=8'.length)}`;
    const a = ws.analyze({ userFiles: { [CITY]: broken }, path: CITY });
    expect(a.resolved.ok).toBe(false);
    const err = a.diagnostics[0]!;
    expect(err.severity).toBe('error');
    expect(err.message).toMatch(/NameError/);
    expect(broken.slice(err.from, err.to)).toBe('eight');
    if (!a.resolved.ok) expect(a.resolved.error).toMatch(/^cityscapes\/mask-rcnn_r50_fpn_1x_cityscapes\.py:\d+:\d+: NameError/);
  });

  it('shows an error inside a base at the _base_ entry that pulled it in', () => {
    const base = '_base_/models/mask-rcnn_r50_fpn.py';
    const a = ws.analyze({ userFiles: { [base]: `${builtins[base]}\nx = (\n` }, path: CITY });
    expect(a.resolved.ok).toBe(false);
    const d = a.diagnostics[0]!;
    expect(builtins[CITY]!.slice(d.from, d.to)).toContain('mask-rcnn_r50_fpn.py');
    expect(d.message).toContain('_base_/models/mask-rcnn_r50_fpn.py');
  });

  it('resolves user configs placed anywhere in the tree against the built-in bases', () => {
    const mine = "_base_ = ['../cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py']\ntrain_cfg = dict(max_epochs=2)\n";
    const a = ws.analyze({ userFiles: { 'user/mine.py': mine }, path: 'user/mine.py' });
    expect(a.resolved.ok).toBe(true);
    expect(a.diff?.map((d) => d.path)).toEqual(['train_cfg.max_epochs']);
  });
});

describe('ConfigWorkspace.complete / hover', () => {
  it('completes registered type names inside type=\'…\'', async () => {
    const text = "_base_ = ['../cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py']\nmodel = dict(backbone=dict(type='Res'))\n";
    const offset = text.indexOf("'Res'") + 4;
    const items = await ws.complete({ userFiles: { 'user/t.py': text }, path: 'user/t.py', offset });
    const labels = items.map((i) => i.label);
    expect(labels).toContain('ResNet');
    expect(labels).toContain('MaskRCNN');
    expect(items.every((i) => i.kind === 'type')).toBe(true);
  });

  it('still completes type names while the text around type=\'…\' does not parse yet', async () => {
    const text = "_base_ = ['../cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py']\nmodel = dict(roi_head=dict(mask_head=dict(type='FCN'num_classes=8)))\n";
    const offset = text.indexOf("'FCN'") + 4;
    const items = await ws.complete({ userFiles: { 'user/t.py': text }, path: 'user/t.py', offset });
    expect(items.map((i) => i.label)).toContain('FCNMaskHead');
  });

  it('completes keys valid at the cursor from the merged bases', async () => {
    const text = "_base_ = ['../cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py']\nmodel = dict(roi_head=dict(bbox_head=dict()))\n";
    const offset = text.indexOf('bbox_head=dict(') + 'bbox_head=dict('.length;
    const items = await ws.complete({ userFiles: { 'user/t.py': text }, path: 'user/t.py', offset });
    expect(items.find((i) => i.label === 'num_classes')).toMatchObject({ kind: 'key', insertText: 'num_classes=' });
  });

  it('hovers a key with its inherited value and source file', () => {
    const text = builtins[CITY]!;
    const offset = text.indexOf('num_classes=8') + 2;
    const h = ws.hover({ userFiles: {}, path: CITY, offset });
    expect(h).not.toBeNull();
    const md = h!.contents.join('\n');
    expect(md).toContain('model.roi_head.bbox_head.num_classes');
    expect(md).toMatch(/Inherited: `80`/);
    expect(md).toMatch(/`_base_\/models\/mask-rcnn_r50_fpn\.py:\d+`/);
    expect(md).not.toContain('/builtin/configs/');
  });
});
