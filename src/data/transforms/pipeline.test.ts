/**
 * The train pipeline and DetDataPreprocessor against what MMDetection 3.3 itself produced on the
 * Cityscapes fixture (`../shared/fixtures/pipeline/`).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, fixturesRoot, readFixtureJson } from '../../testing/fixtures.ts';
import { CityscapesDataset } from '../datasets.ts';
import type { CocoJson } from '../coco_types.ts';
import { Compose } from './compose.ts';
import { detDataPreprocess } from './data_preprocessor.ts';
import type { BitmapMasks, Results } from './types.ts';
import type { InstanceData, PackedInputs } from './formatting.ts';
import { resizeBilinear } from './image_ops.ts';
import { LoadImageFromFile } from './loading.ts';

interface InstancesRef {
  bboxes: number[][];
  labels: number[];
  masks_shape: number[];
  mask_sums: number[];
  mask_index_sums: number[];
}
interface RunRef {
  steps: Array<{ after: string; img_shape: number[]; img_sum: number; scale?: number[]; scale_factor?: number[]; keep_ratio?: boolean; bin?: string }>;
  meta: Record<string, unknown>;
  inputs: { shape: number[]; sum: number; channel_sums: number[]; samples: Array<[number, number]> };
  gt_instances: InstancesRef;
  ignored_instances: InstancesRef;
}
interface PreRef {
  members: string[];
  shape: number[];
  sum: number;
  abs_sum: number;
  samples: Array<[number, number]>;
  coord_samples: Array<[[number, number, number, number], number]>;
  per_sample: Array<{
    img_shape: number[];
    pad_shape: number[];
    batch_input_shape: number[];
    valid_region_channel_sums: number[];
    gt_instances: InstancesRef;
    ignored_instances: InstancesRef;
  }>;
}
interface PipelineFixture {
  pipelines: Record<string, Array<Record<string, unknown> & { type: string }>>;
  samples: Record<string, { img_id: number; img_path: string; height: number; width: number; data_info_instances: unknown[] }>;
  runs: Record<string, RunRef>;
  preprocessor: Record<string, PreRef>;
  preprocessor_cfg: Record<string, unknown>;
}

const fx = readFixtureJson<PipelineFixture>('pipeline', 'pipeline.json');
const readFile = async (p: string): Promise<Uint8Array> => new Uint8Array(readFileSync(p));
let dataset: CityscapesDataset;
const packed = new Map<string, PackedInputs>();

function datasetFor(pipeline: Array<Record<string, unknown> & { type: string }>): CityscapesDataset {
  const coco = readFixtureJson<CocoJson>('cityscapes', 'instancesonly_filtered_gtFine_train.json');
  return new CityscapesDataset(
    coco,
    {
      data_root: fixturePath('cityscapes'),
      ann_file: 'instancesonly_filtered_gtFine_train.json',
      data_prefix: { img: 'cityscapes/leftImg8bit/train/' },
      filter_cfg: { filter_empty_gt: true, min_size: 32 },
      pipeline,
    },
    { readFile },
  );
}

function maskStats(m: BitmapMasks): { sums: number[]; index: number[] } {
  const plane = m.height * m.width;
  const sums: number[] = [];
  const index: number[] = [];
  for (let k = 0; k < m.n; k++) {
    let s = 0;
    let is = 0;
    for (let i = 0; i < plane; i++) if (m.data[k * plane + i]) (s++, (is += i));
    sums.push(s);
    index.push(is);
  }
  return { sums, index };
}

function expectInstances(got: InstanceData, ref: InstancesRef): void {
  expect(Array.from(got.labels)).toEqual(ref.labels);
  const boxes = [];
  for (let i = 0; i < got.bboxes.length; i += 4) boxes.push(Array.from(got.bboxes.subarray(i, i + 4)));
  expect(boxes).toEqual(ref.bboxes);
  const m = got.masks!;
  expect([m.n, m.height, m.width]).toEqual(ref.masks_shape);
  const st = maskStats(m);
  expect(st.sums).toEqual(ref.mask_sums);
  expect(st.index).toEqual(ref.mask_index_sums);
}

beforeAll(() => {
  dataset = datasetFor([]);
});

describe('CityscapesDataset data_info (before any transform)', () => {
  it.each(['0', '2'])('filtered index %s matches MMDetection', (idx) => {
    const ref = fx.samples[idx]!;
    const d = dataset.getDataInfo(Number(idx));
    expect(d.img_id).toBe(ref.img_id);
    expect(d.img_path).toBe(ref.img_path.replace('<fixtures>', fixturesRoot));
    expect([d.height, d.width]).toEqual([ref.height, ref.width]);
    expect(d.instances.map((i) => ({ bbox: i.bbox, bbox_label: i.bbox_label, ignore_flag: i.ignore_flag }))).toEqual(ref.data_info_instances);
  });
});

describe.each(Object.keys(fx.runs))('pipeline run %s', (key) => {
  const [pipe, idx] = key.split('/') as [string, string];
  const ref = fx.runs[key]!;
  it('matches MMDetection step by step', async () => {
    const ds = datasetFor(fx.pipelines[pipe]!);
    // Intermediate steps: run the transforms one by one.
    const compose = new Compose(fx.pipelines[pipe]!, { readFile });
    let r: Results | null = ds.getDataInfo(Number(idx)) as unknown as Results;
    for (const t of compose.transforms) {
      r = await t.transform(r!);
      const step = ref.steps.find((s) => s.after === t.type);
      if (step) {
        const img = r!.img!;
        expect([img.height, img.width, img.channels]).toEqual(step.img_shape);
        let sum = 0;
        for (const v of img.data) sum += v;
        expect(sum).toBe(step.img_sum);
        if (step.scale_factor) {
          expect(r!.scale).toEqual(step.scale);
          expect(r!.scale_factor).toEqual(step.scale_factor);
          expect(r!.keep_ratio).toBe(step.keep_ratio);
        }
        if (step.bin) {
          const bin = readFileSync(fixturePath('pipeline', step.bin));
          expect(Buffer.from(img.data).equals(bin)).toBe(true); // bit-exact with cv2.resize INTER_LINEAR
        }
      }
    }
    const p = r as unknown as PackedInputs;
    packed.set(key, p);
    // Compose.run fuses Resize + RandomFlip (mirror in the resize pass): the same packed sample.
    const fused = (await new Compose(fx.pipelines[pipe]!, { readFile }).pack(ds.getDataInfo(Number(idx)) as unknown as Results))!;
    expect(fused.inputs.shape).toEqual(p.inputs.shape);
    expect(Buffer.from(fused.inputs.data).equals(Buffer.from(p.inputs.data))).toBe(true);
    expect(fused.data_samples.metainfo).toEqual(p.data_samples.metainfo);
    expect(Array.from(fused.data_samples.gt_instances.bboxes)).toEqual(Array.from(p.data_samples.gt_instances.bboxes));
    const { metainfo } = p.data_samples;
    const { img_path: _unused, ...meta } = metainfo;
    expect(meta).toEqual(ref.meta);
    expect(p.inputs.shape).toEqual(ref.inputs.shape);
    const plane = p.inputs.shape[1] * p.inputs.shape[2];
    const cs = [0, 1, 2].map((c) => p.inputs.data.subarray(c * plane, (c + 1) * plane).reduce((a, b) => a + b, 0));
    expect(cs).toEqual(ref.inputs.channel_sums);
    for (const [i, v] of ref.inputs.samples) expect(p.inputs.data[i]).toBe(v);
    expectInstances(p.data_samples.gt_instances, ref.gt_instances);
    expectInstances(p.data_samples.ignored_instances, ref.ignored_instances);
  });
});

describe.each(Object.keys(fx.preprocessor))('DetDataPreprocessor batch %s', (name) => {
  const ref = fx.preprocessor[name]!;
  it('matches MMDetection (values, padding, metainfo, padded masks)', async () => {
    const members = ref.members.map((m) => packed.get(m));
    expect(members.every(Boolean)).toBe(true);
    const out = detDataPreprocess(members as PackedInputs[], fx.preprocessor_cfg, true);
    expect(out.shape).toEqual(ref.shape);
    let sum = 0;
    let abs = 0;
    for (const v of out.inputs) (sum += v), (abs += Math.abs(v));
    expect(Math.abs(sum - ref.sum) / Math.abs(ref.sum)).toBeLessThan(1e-6);
    expect(Math.abs(abs - ref.abs_sum) / ref.abs_sum).toBeLessThan(1e-6);
    for (const [i, v] of ref.samples) expect(out.inputs[i]).toBe(Math.fround(v));
    const [, C, H, W] = out.shape;
    for (const [[n, c, y, x], v] of ref.coord_samples) expect(out.inputs[((n * C + c) * H + y) * W + x]).toBe(Math.fround(v));
    ref.per_sample.forEach((ps, k) => {
      const ds = out.data_samples[k]!;
      expect(ds.metainfo.img_shape).toEqual(ps.img_shape);
      expect(ds.metainfo.pad_shape).toEqual(ps.pad_shape);
      expect(ds.metainfo.batch_input_shape).toEqual(ps.batch_input_shape);
      const [h, w] = ps.img_shape as [number, number];
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) s += out.inputs[((k * C + c) * H + y) * W + x]!;
        expect(Math.abs(s - ps.valid_region_channel_sums[c]!)).toBeLessThan(1e-6 * Math.abs(ps.valid_region_channel_sums[c]!) + 1e-3);
      }
      expectInstances(ds.gt_instances, ps.gt_instances);
      expectInstances(ds.ignored_instances, ps.ignored_instances);
    });
  });
});

describe('image decoding and resize', () => {
  it('LoadImageFromFile gives BGR with the fixture sums', async () => {
    const t = new LoadImageFromFile({}, { readFile });
    const r = await t.transform({ img_path: fixturePath('cityscapes', 'cityscapes', 'leftImg8bit', 'train', 'aachen', 'aachen_000066_050917_leftImg8bit.png') });
    let sum = 0;
    for (const v of r!.img!.data) sum += v;
    expect(sum).toBe(fx.runs['i/0']!.steps[0]!.img_sum);
  });
  it('bilinear resize equals cv2 INTER_LINEAR on all three fixture sizes (max |diff| 0)', async () => {
    const t = new LoadImageFromFile({}, { readFile });
    const r = await t.transform({ img_path: fixturePath('cityscapes', 'cityscapes', 'leftImg8bit', 'train', 'aachen', 'aachen_000066_050917_leftImg8bit.png') });
    for (const [name, w, h] of [['i', 512, 256], ['ii', 300, 150], ['iii', 333, 167]] as const) {
      const out = resizeBilinear(r!.img!, w, h);
      const bin = readFileSync(fixturePath('pipeline', `resized_${name}_img0_hwc_bgr_u8.bin`));
      let maxDiff = 0;
      for (let i = 0; i < bin.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out.data[i]! - bin[i]!));
      expect(maxDiff).toBe(0);
    }
  });
});
