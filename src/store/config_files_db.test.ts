import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openConfigFilesDb } from './config_files_db.ts';

let n = 0;
const freshName = () => `test-configs-${Date.now()}-${n++}`;

describe('config files in IndexedDB', () => {
  it('keeps the last of many rapid edits and survives reopening', async () => {
    const name = freshName();
    const db = await openConfigFilesDb(name);
    for (let i = 0; i < 50; i++) void db.put({ path: 'user/a.py', text: `x = ${i}\n`, updatedAt: i });
    await db.flush();
    db.close();
    const again = await openConfigFilesDb(name);
    expect(await again.loadAll()).toEqual([{ path: 'user/a.py', text: 'x = 49\n', updatedAt: 49 }]);
    again.close();
  });

  it('lists files sorted by path and deletes them', async () => {
    const db = await openConfigFilesDb(freshName());
    await db.put({ path: 'user/b.py', text: 'b = 1', updatedAt: 1 });
    await db.put({ path: 'cityscapes/a.py', text: 'a = 1', updatedAt: 1 });
    expect((await db.loadAll()).map((f) => f.path)).toEqual(['cityscapes/a.py', 'user/b.py']);
    await db.remove('user/b.py');
    expect((await db.loadAll()).map((f) => f.path)).toEqual(['cityscapes/a.py']);
    db.close();
  });

  it('renames atomically and refuses to overwrite', async () => {
    const db = await openConfigFilesDb(freshName());
    await db.put({ path: 'user/a.py', text: 'a = 1', updatedAt: 1 });
    await db.put({ path: 'user/b.py', text: 'b = 1', updatedAt: 1 });
    await expect(db.rename('user/a.py', 'user/b.py')).rejects.toThrow(/already exists/);
    await expect(db.rename('user/zzz.py', 'user/c.py')).rejects.toThrow(/No config named/);
    await db.rename('user/a.py', 'user/c.py');
    const files = await db.loadAll();
    expect(files.map((f) => [f.path, f.text])).toEqual([
      ['user/b.py', 'b = 1'],
      ['user/c.py', 'a = 1'],
    ]);
    db.close();
  });
});
