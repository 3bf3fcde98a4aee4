import { describe, expect, it } from 'vitest';
import { readFixtureBytes, readFixtureJson } from '../testing/fixtures.ts';
import type { TensorRecord } from './dtypes.ts';
import {
  backboneStyleWarning,
  detectBackboneStyle,
  fromModelLayout,
  loadStateDict,
  toModelLayout,
  toModelShape,
} from './mmdet_layout.ts';
import { readPth } from './torch_reader.ts';

interface KeyList {
  keys: { key: string; shape: number[]; dtype: string; numel: number }[];
}

describe('toModelLayout / fromModelLayout', () => {
  it('permutes conv weights OIHW → HWIO element by element and back', () => {
    const [O, I, H, W] = [5, 3, 2, 4];
    const data = new Float32Array(O * I * H * W).map((_, i) => i);
    const m = toModelLayout('backbone.conv1.weight', { dtype: 'float32', shape: [O, I, H, W], data });
    expect(m.shape).toEqual([H, W, I, O]);
    const d = m.data as Float32Array;
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++)
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++) {
            const src = ((o * I + i) * H + h) * W + w;
            const dst = ((h * W + w) * I + i) * O + o;
            if (d[dst] !== data[src]) throw new Error(`mismatch at ${[o, i, h, w]}`);
          }
    const back = fromModelLayout('backbone.conv1.weight', d, m.shape);
    expect(back.shape).toEqual([O, I, H, W]);
    expect(Array.from(back.data as Float32Array)).toEqual(Array.from(data));
  });

  it('maps the ConvTranspose2d weight [in, out, kh, kw] to tfjs conv2dTranspose [kh, kw, out, in]', () => {
    expect(toModelShape([256, 256, 2, 2])).toEqual([2, 2, 256, 256]);
    const m = toModelLayout('roi_head.mask_head.upsample.weight', { dtype: 'float32', shape: [2, 3, 2, 2], data: new Float32Array(24).map((_, i) => i) });
    expect(m.shape).toEqual([2, 2, 3, 2]);
    // element [in=1, out=2, kh=0, kw=1] → [0, 1, 2, 1]
    expect((m.data as Float32Array)[((0 * 2 + 1) * 3 + 2) * 2 + 1]).toBe(((1 * 3 + 2) * 2 + 0) * 2 + 1);
  });

  it('keeps Linear weights [out, in], 1-D tensors and int64 num_batches_tracked; decodes float16', () => {
    const fc: TensorRecord = { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) };
    expect(toModelLayout('roi_head.bbox_head.fc_cls.weight', fc)).toEqual({ dtype: 'float32', shape: [2, 3], data: fc.data });
    const nbt = toModelLayout('backbone.bn1.num_batches_tracked', { dtype: 'int64', shape: [], data: new BigInt64Array([5n]) });
    expect(nbt.dtype).toBe('int64');
    expect(fromModelLayout('backbone.bn1.num_batches_tracked', nbt.data, nbt.shape)).toEqual({ dtype: 'int64', shape: [], data: new BigInt64Array([5n]) });
    const half = toModelLayout('backbone.bn1.weight', { dtype: 'float16', shape: [2], data: new Uint16Array([0x3c00, 0x3800]) });
    expect(Array.from(half.data as Float32Array)).toEqual([1, 0.5]);
  });

  it('round-trips the whole tiny checkpoint through the model layout bit-exactly', () => {
    const ckpt = readPth(readFixtureBytes('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth'));
    for (const [k, t] of ckpt.stateDict) {
      const m = toModelLayout(k, t);
      const back = fromModelLayout(k, m.data, m.shape);
      expect(back.shape).toEqual(t.shape);
      expect(back.dtype).toBe(t.dtype);
      expect(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(true);
    }
  });
});

describe('loadStateDict (MMEngine load_from, strict=False)', () => {
  const coco = readFixtureJson<KeyList>('checkpoints', 'mask_rcnn_r50_fpn_coco_keys.json');

  it('fine-tuning the 80-class COCO checkpoint into an 8-class model skips exactly the 6 class-dependent tensors', () => {
    expect(coco.keys.length).toBe(360);
    // One zero buffer backs every tensor: shapes are what matters here.
    const maxNumel = Math.max(...coco.keys.map((k) => k.numel));
    const zeros = new Float32Array(maxNumel);
    const sd = new Map<string, TensorRecord>();
    for (const k of coco.keys) {
      sd.set(k.key, k.dtype === 'int64' ? { dtype: 'int64', shape: k.shape, data: new BigInt64Array(1) } : { dtype: 'float32', shape: k.shape, data: zeros.subarray(0, k.numel) });
    }
    const eight: Record<string, number[]> = {
      'roi_head.bbox_head.fc_cls.weight': [9, 1024],
      'roi_head.bbox_head.fc_cls.bias': [9],
      'roi_head.bbox_head.fc_reg.weight': [32, 1024],
      'roi_head.bbox_head.fc_reg.bias': [32],
      'roi_head.mask_head.conv_logits.weight': [8, 256, 1, 1],
      'roi_head.mask_head.conv_logits.bias': [8],
    };
    const expected = new Map(coco.keys.map((k) => [k.key, eight[k.key] ?? k.shape]));
    const r = loadStateDict(expected, sd);
    expect(r.shapeMismatch.map((m) => m.key)).toEqual([
      'roi_head.bbox_head.fc_cls.weight',
      'roi_head.bbox_head.fc_cls.bias',
      'roi_head.bbox_head.fc_reg.weight',
      'roi_head.bbox_head.fc_reg.bias',
      'roi_head.mask_head.conv_logits.weight',
      'roi_head.mask_head.conv_logits.bias',
    ]);
    expect(r.shapeMismatch[0]).toEqual({ key: 'roi_head.bbox_head.fc_cls.weight', ckptShape: [81, 1024], modelShape: [9, 1024] });
    expect(r.missing).toEqual([]);
    expect(r.unexpected).toEqual([]);
    expect(r.loaded.size).toBe(354);
    expect(r.summary).toBe("loaded 354 of the model's 360 tensors; 6 skipped for a size mismatch, 0 missing, 0 unexpected");
    expect(r.loaded.get('backbone.layer1.0.conv2.weight')!.shape).toEqual([3, 3, 64, 64]);
    expect(r.warning).toBe(
      'The model and loaded state dict do not match exactly\n\n' +
        [
          ['roi_head.bbox_head.fc_cls.weight', '[81, 1024]', '[9, 1024]'],
          ['roi_head.bbox_head.fc_cls.bias', '[81]', '[9]'],
          ['roi_head.bbox_head.fc_reg.weight', '[320, 1024]', '[32, 1024]'],
          ['roi_head.bbox_head.fc_reg.bias', '[320]', '[32]'],
          ['roi_head.mask_head.conv_logits.weight', '[80, 256, 1, 1]', '[8, 256, 1, 1]'],
          ['roi_head.mask_head.conv_logits.bias', '[80]', '[8]'],
        ]
          .map(([k, a, b]) => `size mismatch for ${k}: copying a param with shape torch.Size(${a}) from checkpoint, the shape in current model is torch.Size(${b}).`)
          .join('\n'),
    );
  });

  it('strips module. prefixes, reports missing (not num_batches_tracked) and unexpected keys in one warning', () => {
    const t = (n: number): TensorRecord => ({ dtype: 'float32', shape: [n], data: new Float32Array(n) });
    const sd = new Map<string, TensorRecord>([
      ['module.backbone.bn1.weight', t(4)],
      ['module.fc.weight', t(2)],
      ['module.fc.bias', t(2)],
    ]);
    const expected = { 'backbone.bn1.weight': [4], 'backbone.bn1.bias': [4], 'backbone.bn1.num_batches_tracked': [] };
    const r = loadStateDict(expected, sd);
    expect([...r.loaded.keys()]).toEqual(['backbone.bn1.weight']);
    expect(r.missing).toEqual(['backbone.bn1.bias']);
    expect(r.unexpected).toEqual(['fc.weight', 'fc.bias']);
    expect(r.warning).toBe(
      'The model and loaded state dict do not match exactly\n\n' +
        'unexpected key in source state_dict: fc.weight, fc.bias\n\n' +
        'missing keys in source state_dict: backbone.bn1.bias\n',
    );
    expect(() => loadStateDict(expected, sd, { strict: true })).toThrow(/do not match exactly/);
    expect(loadStateDict({ 'backbone.bn1.weight': [4] }, new Map([['backbone.bn1.weight', t(4)]])).warning).toBeNull();
    const other = loadStateDict(expected, new Map([['features.0.weight', t(3)]]));
    expect(other.summary).toMatch(/another architecture/);
  });

  it('accepts expected shapes in the model layout and a whole checkpoint', () => {
    const ckpt = readPth(readFixtureBytes('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth'));
    const expected = new Map([...ckpt.stateDict].map(([k, t]) => [k, toModelShape(t.shape)]));
    const r = loadStateDict(expected, ckpt, { expectedLayout: 'model' });
    expect(r.warning).toBeNull();
    expect(r.loaded.size).toBe(360);
  });
});

describe('caffe-style backbone detection', () => {
  it('recognises a caffe-style checkpoint by its meta config or file name, and warns for a pytorch config', () => {
    const meta = { config: "model = dict(backbone=dict(type='ResNet', depth=50, style='caffe', norm_cfg=dict(type='BN', requires_grad=False)))\nimg_norm_cfg = dict(mean=[103.53, 116.28, 123.675], std=[1.0, 1.0, 1.0], to_rgb=False)" };
    expect(detectBackboneStyle(meta).style).toBe('caffe');
    expect(backboneStyleWarning(meta, 'pytorch')).toMatch(/caffe-style/);
    expect(backboneStyleWarning(meta, 'caffe')).toBeNull();
    const url = 'https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/mask_rcnn_r50_caffe_fpn_mstrain-poly_3x_coco/mask_rcnn_r50_caffe_fpn_mstrain-poly_3x_coco_bbox_mAP-0.408__segm_mAP-0.37_20200504_163245-42aa3d00.pth';
    expect(detectBackboneStyle({}, url).style).toBe('caffe');
    expect(backboneStyleWarning({ mmdet_version: '3.3.0' }, 'pytorch', 'mask-rcnn_r50_fpn_1x_coco.pth')).toBeNull();
    const tiny = readPth(readFixtureBytes('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth'));
    expect(detectBackboneStyle(tiny.meta).style).toBe('pytorch');
  });
});
