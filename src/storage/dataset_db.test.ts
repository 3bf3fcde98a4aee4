import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DatasetDb, summarizeDataset, type DatasetRecord } from './dataset_db';

let n = 0;
const freshName = () => `test-datasets-${process.pid}-${n++}`;

function record(id: string, fingerprint: string, createdAt = 1): DatasetRecord {
  return {
    id,
    name: `ds ${id}`,
    format: 'cityscapes',
    root: '',
    fingerprint,
    createdAt,
    source: { kind: 'opfs', dir: `datasets/${id}` },
    splits: [
      {
        name: 'train',
        annFile: 'annotations/instancesonly_filtered_gtFine_train.json',
        imgPrefix: 'leftImg8bit/train/',
        coco: {
          images: [{ id: 0, file_name: 'a/a_leftImg8bit.png', width: 4, height: 2 }],
          categories: [{ id: 24, name: 'person' }],
          annotations: [{ id: 1, image_id: 0, category_id: 24, iscrowd: 0, bbox: [0, 0, 1, 1], area: 1 }],
        },
      },
    ],
    issues: [
      { severity: 'error', code: 'image_without_gtfine', path: 'leftImg8bit/train/b/b.png', reason: 'no gtFine' },
      { severity: 'info', code: 'polygons_fallback', path: 'x', reason: 'note' },
    ],
    paths: ['leftImg8bit/train/a/a_leftImg8bit.png'],
  };
}

describe('DatasetDb', () => {
  it('stores, lists newest first, reads back and deletes', async () => {
    const db = await DatasetDb.open(freshName());
    await db.put(record('a', 'f1', 1));
    await db.put(record('b', 'f2', 2));
    const list = await db.list();
    expect(list.map((s) => s.id)).toEqual(['b', 'a']);
    expect(list[0]).toMatchObject({ images: 1, annotations: 1, splits: ['train'], issues: 1, sourceKind: 'opfs' });
    expect((await db.get('a'))?.splits[0]!.coco.images[0]!.file_name).toBe('a/a_leftImg8bit.png');
    expect((await db.delete('a'))?.id).toBe('a');
    expect(await db.get('a')).toBeUndefined();
    expect(await db.delete('a')).toBeUndefined();
    db.close();
  });

  it('replaces a dataset with the same fingerprint instead of duplicating it', async () => {
    const db = await DatasetDb.open(freshName());
    await db.put(record('first', 'same', 1));
    const again = await db.put({ ...record('second', 'same', 5), name: 'renamed' });
    expect(again.replaced?.id).toBe('first');
    expect(again.record.id).toBe('first');
    const list = await db.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: 'first', name: 'renamed', createdAt: 5 });
    expect((await db.findByFingerprint('same'))?.id).toBe('first');
    db.close();
  });

  it('survives reopening (persistence)', async () => {
    const name = freshName();
    const db = await DatasetDb.open(name);
    await db.put(record('p', 'fp'));
    db.close();
    const db2 = await DatasetDb.open(name);
    expect(summarizeDataset((await db2.get('p'))!).images).toBe(1);
    db2.close();
  });
});
