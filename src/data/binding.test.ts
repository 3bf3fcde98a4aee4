import { describe, expect, it } from 'vitest';
import { checkDatasetBinding } from './binding.ts';
import type { CocoJson } from './coco_types.ts';

const coco: CocoJson = {
  images: [{ id: 0, file_name: 'aachen/a_leftImg8bit.png', width: 8, height: 8 }],
  categories: [{ id: 24, name: 'person' }, { id: 26, name: 'car' }],
  annotations: [],
};
const ds = {
  paths: ['leftImg8bit/train/aachen/a_leftImg8bit.png', 'annotations/instancesonly_filtered_gtFine_train.json'],
  annotations: new Map([['annotations/instancesonly_filtered_gtFine_train.json', coco]]),
};

describe('checkDatasetBinding', () => {
  it('accepts a matching config (through RepeatDataset)', () => {
    const cfg = {
      type: 'RepeatDataset',
      dataset: {
        type: 'CocoDataset',
        ann_file: 'annotations/instancesonly_filtered_gtFine_train.json',
        data_prefix: { img: 'leftImg8bit/train/' },
        metainfo: { classes: ['person', 'car'] },
      },
    };
    expect(checkDatasetBinding(cfg, 'train_dataloader.dataset', ds)).toEqual([]);
  });
  it('reports unknown classes, a wrong ann_file and a prefix that matches nothing', () => {
    const d1 = checkDatasetBinding(
      { type: 'CocoDataset', ann_file: 'annotations/instancesonly_filtered_gtFine_train.json', data_prefix: { img: 'leftImg8bit/train/' }, metainfo: { classes: ['person', 'truck'] } },
      'x',
      ds,
    );
    expect(d1).toEqual([expect.objectContaining({ key: 'x.metainfo.classes', severity: 'warning', message: expect.stringMatching(/'truck'/) })]);
    const d2 = checkDatasetBinding({ type: 'CityscapesDataset', ann_file: 'annotations/nope.json', data_prefix: { img: 'images/' } }, 'x', ds);
    expect(d2.map((d) => d.key)).toEqual(['x.ann_file', 'x.data_prefix.img']);
  });
});
