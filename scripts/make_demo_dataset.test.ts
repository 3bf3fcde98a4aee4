import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/testing/fixtures.ts';
import { NodeFileTree } from '../src/data/node_file_tree.ts';
import { CITYSCAPES_METAINFO, filterData, loadDataList } from '../src/data/coco_dataset.ts';
import type { CocoJson } from '../src/data/coco_types.ts';
import { makeDemoDataset } from './make_demo_dataset.ts';

const demoRoot = join(repoRoot, 'public', 'demo', 'cityscapes');

describe('demo dataset', () => {
  it('the committed files are exactly what the generator makes (deterministic)', async () => {
    const tree = await makeDemoDataset();
    const disk = new NodeFileTree(demoRoot);
    expect(disk.list().sort()).toEqual(tree.list().sort());
    for (const p of tree.list()) expect(Buffer.from(await disk.read(p)).equals(Buffer.from(await tree.read(p)))).toBe(true);
  });

  it('has 48 train + 16 val images, all 8 classes, some crowd, and the train filter keeps almost all', () => {
    const train = JSON.parse(readFileSync(join(demoRoot, 'annotations', 'instancesonly_filtered_gtFine_train.json'), 'utf8')) as CocoJson;
    const val = JSON.parse(readFileSync(join(demoRoot, 'annotations', 'instancesonly_filtered_gtFine_val.json'), 'utf8')) as CocoJson;
    expect(train.images.length).toBe(48);
    expect(val.images.length).toBe(16);
    expect(new Set(train.annotations!.map((a) => a.category_id)).size).toBe(8);
    expect(train.annotations!.some((a) => a.iscrowd === 1)).toBe(true);
    const loaded = loadDataList(train, CITYSCAPES_METAINFO, 'leftImg8bit/train/');
    expect(filterData(loaded, { filter_empty_gt: true, min_size: 32 }, { kind: 'cityscapes' }).kept.length).toBeGreaterThanOrEqual(45);
  });
});
