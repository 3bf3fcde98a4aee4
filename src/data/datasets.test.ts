import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../testing/fixtures.ts';
import { buildDataset, CityscapesDataset, RepeatDataset } from './datasets.ts';
import type { PackedInputs } from './transforms/formatting.ts';
import { LoadAnnotations } from './transforms/loading.ts';
import { seededRng } from './transforms/types.ts';

const readFileBytes = async (p: string): Promise<Uint8Array> => new Uint8Array(await readFile(p));

describe('buildDataset on the bundled demo dataset (the Cityscapes train config)', () => {
  it('builds RepeatDataset(CityscapesDataset) and runs the train pipeline end to end', async () => {
    const ds = await buildDataset(
      {
        type: 'RepeatDataset',
        times: 8,
        dataset: {
          type: 'CityscapesDataset',
          data_root: join(repoRoot, 'public/demo/cityscapes/'),
          ann_file: 'annotations/instancesonly_filtered_gtFine_train.json',
          data_prefix: { img: 'leftImg8bit/train/' },
          filter_cfg: { filter_empty_gt: true, min_size: 32 },
          pipeline: [
            { type: 'LoadImageFromFile', backend_args: null },
            { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
            { type: 'RandomResize', scale: [[2048, 800], [2048, 1024]], keep_ratio: true },
            { type: 'RandomFlip', prob: 0.5 },
            { type: 'PackDetInputs' },
          ],
        },
      },
      { readFile: readFileBytes, rng: seededRng(5) },
    );
    expect(ds).toBeInstanceOf(RepeatDataset);
    const inner = (ds as RepeatDataset).dataset as CityscapesDataset;
    expect(ds.length).toBe(8 * inner.length);
    expect(inner.dropped.length + inner.length).toBe(48);
    const item = (await ds.getItem(inner.length + 1)) as unknown as PackedInputs;
    const [c, h, w] = item.inputs.shape;
    expect(c).toBe(3);
    expect(w).toBe(2 * h); // 256x128 scaled to a short side of 800..1024
    expect(h).toBeGreaterThanOrEqual(800);
    expect(h).toBeLessThanOrEqual(1024);
    expect(item.data_samples.metainfo.img_id).toBe(inner.getDataInfo(1).img_id);
    const gt = item.data_samples.gt_instances;
    expect(gt.masks!.height).toBe(h);
    expect(gt.bboxes.length / 4).toBe(gt.labels.length);
  });

  it('explains an unknown dataset type and a missing class', async () => {
    await expect(buildDataset({ type: 'CityScapesDataset', ann_file: 'x.json' }, { readFile: readFileBytes })).rejects.toThrow(/CityScapesDataset is not in the dataset registry/);
    const ds = (await buildDataset(
      {
        type: 'CityscapesDataset',
        data_root: join(repoRoot, 'public/demo/cityscapes/'),
        ann_file: 'annotations/instancesonly_filtered_gtFine_val.json',
        metainfo: { classes: ['car', 'pedestrian'] },
        test_mode: true,
      },
      { readFile: readFileBytes },
    )) as CityscapesDataset;
    expect(ds.missingClasses).toEqual(['pedestrian']);
    expect(ds.length).toBe(16);
  });
});

describe('LoadAnnotations polygon masks', () => {
  it('rasterises COCO polygons (pycocotools frPyObjects) and ignores invalid ones', () => {
    const r = new LoadAnnotations({ with_bbox: true, with_mask: true }).transform({
      ori_shape: [10, 10],
      instances: [
        { ignore_flag: 0, bbox: [2, 2, 6, 6], bbox_label: 0, mask: [[2, 2, 6, 2, 6, 6, 2, 6]] },
        { ignore_flag: 0, bbox: [0, 0, 1, 1], bbox_label: 1, mask: [[1, 2]] },
      ],
    });
    const m = r.gt_masks!;
    let area = 0;
    for (let i = 0; i < 100; i++) area += m.data[i]!;
    expect(area).toBeGreaterThanOrEqual(16);
    expect(area).toBeLessThanOrEqual(25);
    expect(Array.from(r.gt_ignore_flags!)).toEqual([0, 1]);
  });
});
