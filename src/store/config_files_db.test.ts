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

/** A Map-backed stand-in for localStorage (same synchronous interface). */
class MemoryStorage {
  private readonly m = new Map<string, string>();
  get length() {
    return this.m.size;
  }
  key(i: number) {
    return [...this.m.keys()][i] ?? null;
  }
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

describe('the write-ahead journal', () => {
  it('is empty once IndexedDB has committed', async () => {
    const journal = new MemoryStorage();
    const db = await openConfigFilesDb(freshName(), journal);
    await db.put({ path: 'user/a.py', text: 'a = 1', updatedAt: 1 });
    await db.remove('user/a.py');
    await db.flush();
    expect(journal.length).toBe(0);
    db.close();
  });

  it('replays changes whose IndexedDB write never happened (a reload cut it off)', async () => {
    const name = freshName();
    const journal = new MemoryStorage();
    const first = await openConfigFilesDb(name, journal);
    await first.put({ path: 'user/gone.py', text: 'g = 1', updatedAt: 1 });
    first.close();
    // What a tab killed between the journal write and the IndexedDB commit leaves behind:
    journal.setItem(`${name}:journal:user/a.py`, JSON.stringify({ path: 'user/a.py', text: 'typed = 1', updatedAt: 5 }));
    journal.setItem(`${name}:journal:user/gone.py`, JSON.stringify({ path: 'user/gone.py', deleted: true, updatedAt: 6 }));
    journal.setItem(`${name}:journal:user/torn.py`, '{"path": "user/to');
    const again = await openConfigFilesDb(name, journal);
    expect(await again.loadAll()).toEqual([{ path: 'user/a.py', text: 'typed = 1', updatedAt: 5 }]);
    expect(journal.getItem(`${name}:journal:user/a.py`)).toBeNull();
    again.close();
  });
});
