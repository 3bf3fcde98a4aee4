import { describe, expect, it } from 'vitest';
import { MemoryFileTree } from '../data/file_tree.ts';
import type { DatasetRecord } from '../storage/dataset_db.ts';
import { importedDatasetReader } from './imported_dataset_reader.ts';

const coco = { images: [{ id: 0, file_name: 'a/x.png', width: 4, height: 2 }], annotations: [], categories: [{ id: 24, name: 'person' }] };

function record(root: string): DatasetRecord {
  return {
    id: 'd1', name: 'my cityscapes', format: 'cityscapes', root, fingerprint: 'f', createdAt: 0,
    source: { kind: 'url', baseUrl: '/' } as DatasetRecord['source'],
    splits: [{ name: 'train', annFile: 'annotations/instancesonly_filtered_gtFine_train.json', imgPrefix: 'leftImg8bit/train/', coco: coco as never }],
    issues: [],
    paths: ['leftImg8bit/train/a/x_leftImg8bit.png', 'gtFine/train/a/x_gtFine_instanceIds.png'],
  };
}

describe('importedDatasetReader', () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const tree = new MemoryFileTree([['cityscapes/leftImg8bit/train/a/x_leftImg8bit.png', bytes]]);

  it("serves images and the converted annotations under any data_root the config uses", async () => {
    const read = importedDatasetReader(record('cityscapes/'), tree);
    expect(await read('data/cityscapes/leftImg8bit/train/a/x_leftImg8bit.png')).toEqual(bytes);
    expect(await read('./public/whatever/leftImg8bit/train/a/x_leftImg8bit.png')).toEqual(bytes);
    const ann = JSON.parse(new TextDecoder().decode(await read('data/cityscapes/annotations/instancesonly_filtered_gtFine_train.json')));
    expect(ann.categories[0].name).toBe('person');
  });

  it('says clearly when a path matches nothing', async () => {
    const read = importedDatasetReader(record('cityscapes/'), tree);
    await expect(read('data/cityscapes/leftImg8bit/val/b/y.png')).rejects.toThrow(/matches no file of the dataset 'my cityscapes'.*data_root/);
    await expect(read('annotations/instances_val.json')).rejects.toThrow(/annotation files: annotations\/instancesonly_filtered_gtFine_train.json/);
  });
});
