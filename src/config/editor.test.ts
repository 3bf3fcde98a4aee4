/**
 * Editor services and fine-tuning lint on the built-in tree: diagnostics at exact ranges (errors in
 * a base shown at the `_base_` entry), key and `type` completion, hover with the inherited value and
 * its file, diff against the bases, and every lint rule with its quick fix applied.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_ROOT, BuiltinNodeFS } from '../configs/node.ts';
import { completionsAt, diagnostics, diffAgainstBases, hoverAt, keyContextAt, type Diagnostic, type QuickFix } from './editor.ts';
import { MemoryFS, OverlayFS } from './fs.ts';
import { resolveConfig } from './loader.ts';
import { getPath, toPlainJSON } from './values.ts';

const fs = new BuiltinNodeFS();
const CITY = `${BUILTIN_ROOT}/cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py`;
const USER = `${BUILTIN_ROOT}/cityscapes/my_config.py`;
const HEAD = `_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/cityscapes_instance.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1x.py'
]
`;

function apply(text: string, fix: QuickFix): string {
  return text.slice(0, fix.from) + fix.insert + text.slice(fix.to);
}

function codes(d: Diagnostic[]): string[] {
  return d.map((x) => x.code ?? '');
}

describe('diagnostics', () => {
  it('the shipped Cityscapes config only gets the auto_scale_lr warning', () => {
    const text = fs.read(CITY)!;
    const d = diagnostics(text, CITY, fs);
    expect(codes(d)).toEqual(['auto-scale-lr-base-batch']);
    expect(d[0].severity).toBe('warning');
    expect(text.slice(d[0].from, d[0].to)).toBe('lr');
    expect(d[0].message).toContain('batch of 8');
    const fixed = apply(text, d[0].quickFix!);
    expect(diagnostics(fixed, CITY, fs)).toEqual([]);
    const r = resolveConfig(CITY, new OverlayFS([new MemoryFS({ [CITY]: fixed }), fs]));
    expect(r.ok && getPath(r.cfg, 'auto_scale_lr.base_batch_size')).toBe(8);
  });

  it('a typo is an error at its exact range, and fixing it clears it', () => {
    const text = `${HEAD}model = dict(roi_head=dict(bbox_head=dict(num_classes=num_clases)))\n`;
    const d = diagnostics(text, USER, fs);
    expect(d).toHaveLength(1);
    expect(d[0].severity).toBe('error');
    expect(text.slice(d[0].from, d[0].to)).toBe('num_clases');
    expect(d[0].message).toBe("NameError: name 'num_clases' is not defined");
    const ok = text.replace('num_clases)', '8), mask_head=dict(num_classes=8)');
    expect(diagnostics(ok, USER, fs).filter((x) => x.severity === 'error')).toEqual([]);
  });

  it('syntax errors point at the bracket', () => {
    const text = 'model = dict(\n    type=1,\nb = 2\n';
    const [d] = diagnostics(text, USER, fs);
    expect(d.code).toBe('SyntaxError');
    expect([d.from, d.to]).toEqual([12, 13]);
  });

  it('an error inside a base shows at the _base_ entry that pulled it in, with the base location', () => {
    const over = new OverlayFS([new MemoryFS({ '/u/bad_base.py': 'x = 1\ny = (\n' }), fs]);
    const text = "_base_ = ['./ok.py', './bad_base.py']\n";
    const withOk = new OverlayFS([new MemoryFS({ '/u/ok.py': 'a = 1\n' }), over]);
    const [d] = diagnostics(text, '/u/main.py', withOk);
    expect(text.slice(d.from, d.to)).toBe("'./bad_base.py'");
    expect(d.message).toContain('/u/bad_base.py:2:5');
    expect(d.message).toContain("'(' was never closed");
    const [m] = diagnostics("_base_ = './nope.py'\n", '/u/main.py', withOk);
    expect(m.message).toBe("FileNotFoundError: [Errno 2] No such file or directory: '/u/./nope.py'");
    expect([m.from, m.to]).toEqual([9, 20]);
  });
});

describe('fine-tuning lint', () => {
  it('trailing comma turning a dict into a tuple (the tutorial trap), with a quick fix', () => {
    const text = `${HEAD}default_hooks = dict(logger=dict(interval=100)),\n`;
    const d = diagnostics(text, USER, fs);
    expect(codes(d)).toEqual(['trailing-comma-tuple']);
    expect(text.slice(d[0].from, d[0].to)).toBe(',');
    expect(d[0].message).toContain('1-element tuple');
    const fixed = apply(text, d[0].quickFix!);
    expect(diagnostics(fixed, USER, fs)).toEqual([]);
    const r = resolveConfig(USER, new OverlayFS([new MemoryFS({ [USER]: fixed }), fs]));
    expect(r.ok && toPlainJSON(getPath(r.cfg, 'default_hooks.logger')!)).toEqual({ type: 'LoggerHook', interval: 100 });
  });

  it('helper variables re-assigned after the bases baked them in, with a quick fix', () => {
    const text = `${HEAD}data_root = 'data/my_cityscapes/'\n`;
    const d = diagnostics(text, USER, fs);
    expect(codes(d)).toEqual(['stale-helper-variable']);
    expect(text.slice(d[0].from, d[0].to)).toBe('data_root');
    expect(d[0].message).toContain('train_dataloader.dataset.dataset.data_root');
    const fixed = apply(text, d[0].quickFix!);
    const r = resolveConfig(USER, new OverlayFS([new MemoryFS({ [USER]: fixed }), fs]));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(getPath(r.cfg, 'train_dataloader.dataset.dataset.data_root')).toBe('data/my_cityscapes/');
    expect(getPath(r.cfg, 'val_dataloader.dataset.data_root')).toBe('data/my_cityscapes/');
    expect(getPath(r.cfg, 'test_dataloader.dataset.data_root')).toBe('data/my_cityscapes/');
    // the evaluator's ann_file is derived by string concatenation: still reported, not auto-fixed
    const left = diagnostics(fixed, USER, fs);
    expect(codes(left)).toEqual(['stale-helper-variable']);
    expect(left[0].message).toContain('val_evaluator.0.ann_file');
  });

  it('train_pipeline re-assigned without touching the dataloader', () => {
    const text = `${HEAD}train_pipeline = [dict(type='LoadImageFromFile')]\n`;
    const d = diagnostics(text, USER, fs);
    expect(codes(d)).toEqual(['stale-helper-variable']);
    const fixed = apply(text, d[0].quickFix!);
    const r = resolveConfig(USER, new OverlayFS([new MemoryFS({ [USER]: fixed }), fs]));
    expect(r.ok && toPlainJSON(getPath(r.cfg, 'train_dataloader.dataset.dataset.pipeline')!)).toEqual([{ type: 'LoadImageFromFile' }]);
  });

  it('num_classes changed in one head only, with a quick fix', () => {
    const text = `${HEAD}model = dict(roi_head=dict(bbox_head=dict(num_classes=8)))\n`;
    const d = diagnostics(text, USER, fs);
    expect(codes(d)).toEqual(['num-classes-mismatch']);
    expect(text.slice(d[0].from, d[0].to)).toBe('num_classes');
    expect(d[0].message).toContain('model.roi_head.mask_head.num_classes=80');
    const fixed = apply(text, d[0].quickFix!);
    expect(fixed).toContain('roi_head=dict(mask_head=dict(num_classes=8), bbox_head=');
    expect(diagnostics(fixed, USER, fs)).toEqual([]);
  });

  it('caffe-style load_from with a pytorch-style model, with a quick fix', () => {
    const text = `${HEAD}load_from = 'https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/mask_rcnn_r50_caffe_fpn_1x_coco/x.pth'\n`;
    const d = diagnostics(text, USER, fs);
    expect(codes(d)).toEqual(['load-from-style-mismatch']);
    const fixed = apply(text, d[0].quickFix!);
    expect(fixed).toContain('mask_rcnn_r50_fpn_1x_coco_20200205-d4b0c5d6.pth');
    expect(diagnostics(fixed, USER, fs)).toEqual([]);
  });
});

describe('fine-tuning lint: classes', () => {
  it('classes defined but never passed to the datasets, with a quick fix through the RepeatDataset wrapper', () => {
    const text = `_base_ = './mask-rcnn_r50_fpn_1x_cityscapes.py'\nclasses = ('person', 'car')\n`;
    const d = diagnostics(text, USER, fs);
    expect(codes(d)).toEqual(['unused-classes']);
    expect(text.slice(d[0].from, d[0].to)).toBe('classes');
    const fixed = apply(text, d[0].quickFix!);
    const r = resolveConfig(USER, new OverlayFS([new MemoryFS({ [USER]: fixed }), fs]));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    for (const p of ['train_dataloader.dataset.dataset.metainfo', 'val_dataloader.dataset.metainfo', 'test_dataloader.dataset.metainfo']) {
      expect(toPlainJSON(getPath(r.cfg, p)!)).toEqual({ classes: ['person', 'car'] });
    }
    expect(diagnostics(fixed, USER, fs)).toEqual([]);
  });
});

describe('fine-tuning lint: num_classes vs the dataset', () => {
  it('the 2.x "80 + 1" convention and a count that differs from metainfo.classes, with quick fixes', () => {
    const text = `_base_ = './mask-rcnn_r50_fpn_1x_cityscapes.py'\nmodel = dict(roi_head=dict(bbox_head=dict(num_classes=9), mask_head=dict(num_classes=9)))\n`;
    const d = diagnostics(text, USER, fs);
    expect(codes(d)).toEqual(['num-classes-count', 'num-classes-count']);
    expect(d[0].message).toContain('counts the background');
    let fixed = apply(text, d[0].quickFix!);
    const left = diagnostics(fixed, USER, fs);
    expect(codes(left)).toEqual(['num-classes-mismatch', 'num-classes-count']);
    fixed = apply(fixed, left[1].quickFix!);
    expect(diagnostics(fixed, USER, fs)).toEqual([]);
    const two = `_base_ = './mask-rcnn_r50_fpn_1x_cityscapes.py'\nmetainfo = dict(classes=('person', 'car'))\ntrain_dataloader = dict(dataset=dict(dataset=dict(metainfo=metainfo)))\nmodel = dict(roi_head=dict(bbox_head=dict(num_classes=8), mask_head=dict(num_classes=8)))\n`;
    const d2 = diagnostics(two, USER, fs).filter((x) => x.code === 'num-classes-count');
    expect(d2).toHaveLength(2);
    expect(d2[0].message).toContain('metainfo.classes has 2');
  });
});

describe('completion, hover, diff', () => {
  it('completes keys valid at the cursor from the merged bases', () => {
    const text = `${HEAD}model = dict(roi_head=dict(bbox_head=dict(num_classes=8, )))\n`;
    const at = text.indexOf('num_classes=8, ') + 'num_classes=8, '.length;
    expect(keyContextAt(text, at).path).toEqual(['model', 'roi_head', 'bbox_head']);
    const items = completionsAt(text, at, USER, fs);
    const labels = items.map((i) => i.label);
    expect(labels).toContain('fc_out_channels');
    expect(labels).toContain('loss_bbox');
    expect(labels).not.toContain('num_classes');
    expect(items.find((i) => i.label === 'fc_out_channels')).toMatchObject({ detail: '1024', insertText: 'fc_out_channels=' });
  });

  it('still completes from the bases while the text does not parse', () => {
    const text = `${HEAD}model = dict(rpn_head=dict(feat_
`;
    const at = text.indexOf('feat_') + 'feat_'.length;
    expect(keyContextAt(text, at).path).toEqual(['model', 'rpn_head']);
    const labels = completionsAt(text, at, USER, fs).map((i) => i.label);
    expect(labels).toContain('feat_channels');
    expect(labels).toContain('anchor_generator');
  });

  it('completes top-level names and registry type names', () => {
    const text = `${HEAD}\n`;
    const top = completionsAt(text, text.length, USER, fs).map((i) => i.label);
    expect(top).toContain('train_dataloader');
    expect(top).toContain('auto_scale_lr');
    const t2 = `${HEAD}model = dict(neck=dict(type='F'))\n`;
    const at = t2.indexOf("'F'") + 2;
    const types = completionsAt(t2, at, USER, fs, ['FPN', 'ResNet', 'MaskRCNN']);
    expect(types.map((i) => i.label)).toEqual(['FPN', 'MaskRCNN', 'ResNet']);
    expect(types[0].kind).toBe('type');
  });

  it('hover shows the inherited value and the file it comes from', () => {
    const text = fs.read(CITY)!;
    const at = text.indexOf('num_classes=8,') + 2;
    const h = hoverAt(text, at, CITY, fs)!;
    expect(h.path).toBe('model.roi_head.bbox_head.num_classes');
    expect(h.value).toBe('8');
    expect(h.inherited).toBe('80');
    expect(h.inheritedFrom?.file).toBe(`${BUILTIN_ROOT}/_base_/models/mask-rcnn_r50_fpn.py`);
    expect(h.inheritedFrom?.line).toBe(54);
    expect(h.origin?.file).toBe(CITY);
    const top = hoverAt(text, text.indexOf('train_cfg'), CITY, fs)!;
    expect(top.path).toBe('train_cfg');
    expect(top.inheritedFrom?.file).toBe(`${BUILTIN_ROOT}/_base_/schedules/schedule_1x.py`);
  });

  it('hover on a _base_ entry names the file and its keys', () => {
    const text = fs.read(CITY)!;
    const h = hoverAt(text, text.indexOf('schedule_1x') + 3, CITY, fs)!;
    expect(h.path).toBe('_base_');
    expect(h.markdown).toContain(`${BUILTIN_ROOT}/_base_/schedules/schedule_1x.py`);
    expect(h.markdown).toContain('`optim_wrapper`');
  });

  it('diff against the bases lists exactly what the child changes', () => {
    const diff = diffAgainstBases(fs.read(CITY)!, CITY, fs);
    expect(Array.isArray(diff)).toBe(true);
    if (!Array.isArray(diff)) return;
    const paths = diff.map((d) => `${d.kind} ${d.path}`);
    expect(paths).toEqual([
      'changed model.backbone.init_cfg',
      'changed model.roi_head.bbox_head.num_classes',
      'changed model.roi_head.bbox_head.loss_bbox.type',
      'added model.roi_head.bbox_head.loss_bbox.beta',
      'changed model.roi_head.mask_head.num_classes',
      'changed load_from',
      'changed train_cfg.max_epochs',
      'changed param_scheduler',
      'changed optim_wrapper.optimizer.lr',
    ]);
    expect(diff.find((d) => d.path === 'train_cfg.max_epochs')).toMatchObject({ before: '12', after: '8' });
  });
});
