import { describe, expect, it } from 'vitest';
import { readFixtureJson } from '../testing/fixtures.ts';
import { CITYSCAPES_METAINFO, datasetStatistics, filterData, loadDataList, sizeBin, trainingFilterReport } from './coco_dataset.ts';
import type { CocoJson } from './coco_types.ts';

interface Details {
  [split: string]: { mmdet_train_filter: { kept_image_ids: number[]; dropped: Record<string, string> }; n_annotations: number; n_crowd: number };
}
const details = readFixtureJson<Details>('cityscapes', 'details.json');

describe.each(['train', 'val'])('CityscapesDataset rules on the %s fixture', (split) => {
  const coco = readFixtureJson<CocoJson>('cityscapes', `instancesonly_filtered_gtFine_${split}.json`);
  const loaded = loadDataList(coco, CITYSCAPES_METAINFO, 'data/cityscapes/leftImg8bit/train/');

  it('maps category ids 24..33 to labels 0..7 in METAINFO order, crowd → ignore_flag', () => {
    expect([...loaded.cat2label.entries()]).toEqual([[24, 0], [25, 1], [26, 2], [27, 3], [28, 4], [31, 5], [32, 6], [33, 7]]);
    const all = loaded.dataList.flatMap((d) => d.instances);
    expect(all.length).toBe(details[split]!.n_annotations);
    expect(all.filter((i) => i.ignore_flag === 1).length).toBe(details[split]!.n_crowd);
    expect(loaded.missingClasses).toEqual([]);
  });

  it('filter_empty_gt + min_size keeps exactly the images MMDetection keeps, with its reasons', () => {
    const res = filterData(loaded, { filter_empty_gt: true, min_size: 32 }, { kind: 'cityscapes' });
    const ref = details[split]!.mmdet_train_filter;
    expect(res.kept.map((d) => d.img_id)).toEqual(ref.kept_image_ids);
    expect(Object.fromEntries(res.dropped.map((d) => [String(d.img_id), d.reason]))).toEqual(ref.dropped);
  });

  it('trainingFilterReport gives the same kept ids with file names', () => {
    const r = trainingFilterReport(coco);
    expect(r.keptImageIds).toEqual(details[split]!.mmdet_train_filter.kept_image_ids);
    expect(r.dropped[0]!.img_path).toMatch(/_leftImg8bit\.png$/);
  });

  it('test mode and no filter_cfg keep everything; min_size drops small images', () => {
    expect(filterData(loaded, { filter_empty_gt: true }, { kind: 'cityscapes', testMode: true }).kept.length).toBe(6);
    expect(filterData(loaded, null, { kind: 'cityscapes' }).kept.length).toBe(6);
    const small = filterData(loaded, { min_size: 129 }, { kind: 'cityscapes' });
    expect(small.kept.length).toBe(0);
    expect(small.dropped[0]!.reason).toMatch(/min_size/);
  });
});

describe('CocoDataset filter and parse rules', () => {
  const coco: CocoJson = {
    images: [
      { id: 1, file_name: 'a.png', width: 100, height: 50 },
      { id: 2, file_name: 'b.png', width: 100, height: 50 },
      { id: 3, file_name: 'c.png', width: 100, height: 50 },
    ],
    categories: [{ id: 5, name: 'dog' }, { id: 3, name: 'cat' }],
    annotations: [
      { id: 1, image_id: 1, category_id: 3, bbox: [10, 10, 5, 5], area: 25, iscrowd: 1 },
      { id: 2, image_id: 2, category_id: 5, bbox: [200, 10, 5, 5], area: 25, iscrowd: 0 },
      { id: 3, image_id: 2, category_id: 5, bbox: [10, 10, 0.5, 5], area: 2, iscrowd: 0 },
    ],
  };
  it('labels follow the json category order (pycocotools getCatIds), skipped annotations are explained', () => {
    const l = loadDataList(coco, { classes: ['cat', 'dog', 'bird'] }, 'img');
    expect([...l.cat2label.entries()]).toEqual([[5, 0], [3, 1]]);
    expect(l.missingClasses).toEqual(['bird']);
    expect(l.dataList[0]!.img_path).toBe('img/a.png');
    expect(l.dataList[0]!.instances).toEqual([{ ignore_flag: 1, bbox: [10, 10, 15, 15], bbox_label: 1 }]);
    expect(l.skipped.map((s) => s.reason)).toEqual(['box does not overlap the image', 'zero area or box smaller than 1 pixel']);
    // CocoDataset keeps an all-crowd image and an image whose annotations were all skipped; Cityscapes drops both.
    const f = filterData(l, { filter_empty_gt: true }, { kind: 'coco' });
    expect(f.kept.map((d) => d.img_id)).toEqual([1, 2]);
    const c = filterData(l, { filter_empty_gt: true }, { kind: 'cityscapes' });
    expect(c.kept.map((d) => d.img_id)).toEqual([]);
    expect(c.dropped.map((d) => d.reason)).toEqual(['only crowd annotations', 'no annotations', 'no annotations']);
  });
});

describe('datasetStatistics', () => {
  it('counts instances per class, crowd, sizes and a histogram', () => {
    const coco = readFixtureJson<CocoJson>('cityscapes', 'instancesonly_filtered_gtFine_train.json');
    const st = datasetStatistics(coco, CITYSCAPES_METAINFO);
    const anns = coco.annotations!;
    expect(st.perClass.reduce((a, p) => a + p.instances, 0)).toBe(anns.filter((a) => !a.iscrowd).length);
    expect(st.perClass.reduce((a, p) => a + p.crowd, 0)).toBe(4);
    expect(st.sizes.small + st.sizes.medium + st.sizes.large).toBe(34);
    expect(st.sizeHistogram.counts.reduce((a, b) => a + b, 0)).toBe(34);
    expect(st.emptyImages).toBe(1);
    const person = st.perClass[0]!;
    expect(person.instances).toBe(anns.filter((a) => a.category_id === 24 && !a.iscrowd).length);
    expect([sizeBin(1023), sizeBin(1024), sizeBin(9215), sizeBin(9216)]).toEqual(['small', 'medium', 'medium', 'large']);
  });
});
