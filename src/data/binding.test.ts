import { describe, expect, it } from 'vitest';
import { checkBinding, checkDatasetBinding, closestName, datasetFacts } from './binding.ts';
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

describe('datasetFacts', () => {
  it('lists the folders and where the images of each annotation file are', () => {
    const f = datasetFacts('d', 'D', {
      paths: [...ds.paths, 'leftImg8bit/val/aachen/a_leftImg8bit.png', 'gtFine/train/aachen/a_gtFine_labelIds.png'],
      annotations: ds.annotations,
    });
    expect(f.folders).toEqual([
      'annotations/',
      'gtFine/',
      'gtFine/train/',
      'gtFine/train/aachen/',
      'leftImg8bit/',
      'leftImg8bit/train/',
      'leftImg8bit/train/aachen/',
      'leftImg8bit/val/',
      'leftImg8bit/val/aachen/',
    ]);
    expect(f.annotations).toEqual([
      {
        annFile: 'annotations/instancesonly_filtered_gtFine_train.json',
        classes: ['person', 'car'],
        images: 1,
        imageFolders: { 'leftImg8bit/train/': 1, 'leftImg8bit/val/': 1 },
        sampleImage: 'aachen/a_leftImg8bit.png',
        hasMasks: false,
      },
    ]);
  });
});

describe('checkBinding against several datasets', () => {
  const city = datasetFacts('city', 'My Cityscapes', ds);
  const other = datasetFacts('coco', 'Balloons', {
    paths: ['train/b1.jpg', 'train/b2.jpg', 'train/ann.json'],
    annotations: new Map([
      [
        'train/ann.json',
        {
          images: [
            { id: 1, file_name: 'b1.jpg', width: 4, height: 4 },
            { id: 2, file_name: 'b2.jpg', width: 4, height: 4 },
            { id: 3, file_name: 'b3.jpg', width: 4, height: 4 },
          ],
          categories: [{ id: 1, name: 'balloon' }],
          annotations: [{ id: 1, image_id: 1, category_id: 1, iscrowd: 0, bbox: [0, 0, 1, 1], area: 1, segmentation: [[0, 0, 1, 0, 1, 1]] }],
        } satisfies CocoJson,
      ],
    ]),
  });
  const both = [city, other];
  const balloon = (extra: Record<string, unknown>) => ({ type: 'CocoDataset', ann_file: 'train/ann.json', data_prefix: { img: 'train/' }, metainfo: { classes: ['balloon'] }, ...extra });

  it('binds to whichever dataset has the ann_file; no datasets, nothing to report', () => {
    expect(checkBinding(balloon({ data_prefix: { img: 'train/' } }), 'k', both).filter((d) => d.severity === 'error')).toEqual([]);
    expect(checkBinding(balloon({ ann_file: 'nope.json' }), 'k', [])).toEqual([]);
  });

  it('reads paths under data_root by their tails, as the studio reads the files', () => {
    const train = { type: 'CocoDataset', ann_file: 'annotations/instancesonly_filtered_gtFine_train.json', data_prefix: { img: 'leftImg8bit/train/' }, metainfo: { classes: ['car'] } };
    expect(checkBinding({ ...train, data_root: 'data/cityscapes/' }, 'k', both)).toEqual([]);
    expect(checkBinding({ ...train, data_root: '', ann_file: 'data/cityscapes/annotations/instancesonly_filtered_gtFine_train.json' }, 'k', both)).toEqual([]);
    const wrongFolder = checkBinding({ ...train, data_root: 'data/cityscapes/', data_prefix: { img: 'leftImg8bit/val/' } }, 'k', both);
    expect(wrongFolder).toEqual([expect.objectContaining({ severity: 'error', message: "data_prefix.img 'leftImg8bit/val/' matches no folder of the dataset My Cityscapes" })]);
  });

  it('names the path and every dataset when ann_file or data_prefix matches nothing', () => {
    const d = checkBinding(balloon({ ann_file: './train/nope.json', data_prefix: { img: 'imgs/' } }), 'k', both);
    expect(d).toEqual([
      {
        severity: 'error',
        key: 'k.ann_file',
        subject: './train/nope.json',
        message:
          "ann_file './train/nope.json' matches no annotation file of any imported dataset (My Cityscapes, Balloons) (My Cityscapes: annotations/instancesonly_filtered_gtFine_train.json; Balloons: train/ann.json)",
      },
      { severity: 'error', key: 'k.data_prefix.img', subject: 'imgs/', message: "data_prefix.img 'imgs/' matches no folder of any imported dataset (My Cityscapes, Balloons)" },
    ]);
    // with a matching ann_file, the prefix is looked for in that dataset only
    const d2 = checkBinding(balloon({ data_prefix: { img: 'leftImg8bit/val/' } }), 'k', [city, datasetFacts('v', 'V', { paths: ['leftImg8bit/val/x.png'], annotations: new Map() }), other]);
    expect(d2).toEqual([expect.objectContaining({ severity: 'error', key: 'k.data_prefix.img', message: "data_prefix.img 'leftImg8bit/val/' matches no folder of the dataset Balloons" })]);
  });

  it('warns once per class the annotations lack, naming the class and the dataset', () => {
    const d = checkBinding(balloon({ metainfo: { classes: ['balloon', 'zebra', 'kite'] } }), 'k', both);
    const classes = d.filter((x) => x.key === 'k.metainfo.classes');
    expect(classes.map((x) => [x.severity, x.subject])).toEqual([
      ['warning', 'zebra'],
      ['warning', 'kite'],
    ]);
    expect(classes[0]!.message).toBe("class 'zebra' is not a category of train/ann.json in Balloons (it has 'balloon'); it gets no training data");
    // none of them: nothing to train on
    expect(checkBinding(balloon({ metainfo: { classes: ['zebra'] } }), 'k', both).find((x) => x.key === 'k.metainfo.classes')).toMatchObject({ severity: 'error' });
    // default classes of the type (CocoDataset: the 80 COCO classes) are checked at `type`
    const dflt = checkBinding(balloon({ metainfo: undefined }), 'k', both).find((x) => x.key === 'k.type');
    expect(dflt).toMatchObject({ severity: 'error', message: expect.stringContaining("CocoDataset's default classes") });
  });

  it('reports images missing under the prefix, and masks the annotations do not have', () => {
    const d = checkBinding(balloon({}), 'k', both);
    expect(d).toEqual([
      expect.objectContaining({ severity: 'warning', key: 'k.data_prefix.img', message: "1 of 3 images of train/ann.json in Balloons are not under 'train/'" }),
    ]);
    const off = checkDatasetBinding({ type: 'CocoDataset', ann_file: 'annotations/instancesonly_filtered_gtFine_train.json', data_prefix: { img: 'leftImg8bit/' }, metainfo: { classes: ['car'] } }, 'k', ds);
    expect(off).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: "1 of 1 images of annotations/instancesonly_filtered_gtFine_train.json are not under 'leftImg8bit/' (e.g. no leftImg8bit/aachen/a_leftImg8bit.png); 1 of them are under 'leftImg8bit/train/'",
      }),
    ]);
    const pipeline = [{ type: 'LoadImageFromFile' }, { type: 'LoadAnnotations', with_bbox: true, with_mask: true }];
    const noMasks = checkBinding(
      { type: 'CocoDataset', ann_file: 'annotations/instancesonly_filtered_gtFine_train.json', data_prefix: { img: 'leftImg8bit/train/' }, metainfo: { classes: ['car'] }, pipeline },
      'k',
      both,
    );
    expect(noMasks).toEqual([expect.objectContaining({ severity: 'warning', key: 'k.pipeline', message: expect.stringContaining('has no segmentation') })]);
  });
});

describe('closestName', () => {
  const names = ['person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle'];
  it('finds a category differing in case or by a typo, and nothing for a made-up or ambiguous one', () => {
    expect(closestName('Car', names)).toBe('car');
    expect(closestName('persn', names)).toBe('person');
    expect(closestName('motorbike', names)).toBeUndefined();
    expect(closestName('zebra', names)).toBeUndefined();
    expect(closestName('bas', ['bus', 'bat'])).toBeUndefined(); // tie
    expect(closestName('ab', ['xy'])).toBeUndefined();
  });
});
