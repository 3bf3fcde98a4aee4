import { readFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.ts';
import { dumpCocoJson } from './coco_types.ts';
import { bytesSource, MemoryFileTree, SubFileTree, ZipFileTree } from './file_tree.ts';
import { importDataset, treeFingerprint } from './import_dataset.ts';
import { detectLayout } from './layout.ts';
import { loadTreeIntoMemory } from './testing_trees.ts';

let fixtureTree: MemoryFileTree;
beforeAll(async () => {
  fixtureTree = await loadTreeIntoMemory(fixturePath('cityscapes'));
});
const ref = (split: string): string => readFileSync(fixturePath('cityscapes', `instancesonly_filtered_gtFine_${split}.json`), 'utf8');
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

describe('detectLayout', () => {
  it('finds Cityscapes with and without a top cityscapes/ folder', () => {
    const paths = fixtureTree.list();
    expect(detectLayout(paths)).toEqual({ kind: 'cityscapes', prefix: 'cityscapes/', splits: ['train', 'val'] });
    const inner = new SubFileTree(fixtureTree, 'cityscapes').list();
    expect(detectLayout(inner)).toEqual({ kind: 'cityscapes', prefix: '', splits: ['train', 'val'] });
  });
  it('recognises a COCO layout and says why nothing matched', () => {
    expect(detectLayout(['annotations/instances_val.json', 'val/a.jpg'])).toEqual({ kind: 'coco', annotationFiles: ['annotations/instances_val.json'] });
    const none = detectLayout(['readme.txt']);
    expect(none.kind).toBe('unknown');
  });
});

describe('importDataset', () => {
  it('imports the Cityscapes fixture from a zip (lazy central-directory reader) exactly like the converter', async () => {
    const files: Record<string, Uint8Array> = {};
    for (const p of fixtureTree.list()) files[p] = await fixtureTree.read(p);
    const zip = await ZipFileTree.open(bytesSource(zipSync(files, { level: 6 })));
    expect(zip.list().sort()).toEqual(fixtureTree.list().sort());
    const events: number[] = [];
    const ds = await importDataset(zip, { onProgress: (p) => events.push(p.done) });
    expect(ds.format).toBe('cityscapes');
    expect(ds.root).toBe('cityscapes/');
    expect(ds.splits.map((s) => [s.name, s.annFile, s.imgPrefix])).toEqual([
      ['train', 'annotations/instancesonly_filtered_gtFine_train.json', 'leftImg8bit/train/'],
      ['val', 'annotations/instancesonly_filtered_gtFine_val.json', 'leftImg8bit/val/'],
    ]);
    expect(dumpCocoJson(ds.splits[0]!.coco)).toBe(ref('train'));
    expect(dumpCocoJson(ds.splits[1]!.coco)).toBe(ref('val'));
    expect(ds.issues).toEqual([]);
    expect(events.length).toBe(12);
    expect(ds.fingerprint).toBe(treeFingerprint(fixtureTree.list().reverse()));
  });

  it('drops truncated or mismatched RGB images with a report entry and imports the rest', async () => {
    const t = new MemoryFileTree();
    for (const p of fixtureTree.list()) t.set(p, await fixtureTree.read(p));
    const a = 'cityscapes/leftImg8bit/val/lindau/lindau_000079_102788_leftImg8bit.png';
    const full = await t.read(a);
    t.set(a, full.subarray(0, full.length - 100));
    const b = 'cityscapes/leftImg8bit/val/lindau/lindau_000206_049260_leftImg8bit.png';
    t.set(b, new TextEncoder().encode('GIF89a not a png at all'));
    const ds = await importDataset(t);
    const val = ds.splits.find((s) => s.name === 'val')!;
    expect(val.coco.images.length).toBe(4);
    expect(ds.issues.map((i) => [i.code, i.path, /IEND|signature/.test(i.reason)])).toEqual([
      ['png_unreadable', a, true],
      ['png_unreadable', b, true],
    ]);
  });

  it('can be cancelled', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(importDataset(fixtureTree, { signal: ctrl.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('imports a COCO layout and reports dangling ids, missing files, unknown categories and invalid JSON', async () => {
    const t = new MemoryFileTree();
    const png = await fixtureTree.read('cityscapes/leftImg8bit/val/lindau/lindau_000079_102788_leftImg8bit.png');
    t.set('coco/images/val/a.png', png);
    t.set('coco/images/val/b.png', png);
    t.set(
      'coco/annotations/instances_val.json',
      enc({
        images: [
          { id: 1, file_name: 'a.png', width: 256, height: 128 },
          { id: 2, file_name: 'b.png', width: 256, height: 128 },
          { id: 3, file_name: 'missing.png', width: 256, height: 128 },
        ],
        categories: [{ id: 7, name: 'car' }],
        annotations: [
          { id: 1, image_id: 1, category_id: 7, bbox: [1, 2, 3, 4], area: 12, iscrowd: 0 },
          { id: 2, image_id: 99, category_id: 7, bbox: [1, 2, 3, 4], area: 12, iscrowd: 0 },
          { id: 3, image_id: 2, category_id: 8, bbox: [1, 2, 3, 4], area: 12, iscrowd: 0 },
        ],
      }),
    );
    t.set('coco/annotations/broken.json', new TextEncoder().encode('{"images": ['));
    const ds = await importDataset(t);
    expect(ds.format).toBe('coco');
    expect(ds.root).toBe('coco/');
    expect(ds.splits.length).toBe(1);
    const s = ds.splits[0]!;
    expect([s.name, s.annFile, s.imgPrefix]).toEqual(['val', 'annotations/instances_val.json', 'images/val/']);
    expect(s.coco.images.map((i) => i.id)).toEqual([1, 2]);
    expect(s.coco.annotations!.map((a) => a.id)).toEqual([1]);
    const codes = ds.issues.map((i) => `${i.code}:${i.path}`).sort();
    expect(codes).toEqual([
      'dangling_image_id:coco/annotations/instances_val.json',
      'invalid_json:coco/annotations/broken.json',
      'missing_image_file:coco/images/val/missing.png',
      'unknown_category:coco/annotations/instances_val.json',
    ]);
  });

  it('reports a tree with no dataset instead of failing', async () => {
    const ds = await importDataset(new MemoryFileTree([['notes.txt', new Uint8Array(1)]]));
    expect(ds.splits).toEqual([]);
    expect(ds.issues[0]!.code).toBe('no_dataset_found');
  });
});
