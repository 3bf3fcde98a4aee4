/**
 * IndexedDB persistence of the user's config files (their own configs and their edits of built-in
 * ones), so a reload never loses text. One object store keyed by the file's tree path.
 *
 * Writes for the same path are chained, so the last edit always wins even when many keystrokes are
 * saved in quick succession. IndexedDB writes are asynchronous, and a reload right after a keystroke
 * can abandon the transaction; so every change is first written synchronously to a small journal
 * (`localStorage` in the browser) and removed from it once IndexedDB has committed. `loadAll` replays
 * whatever the journal still holds.
 */
import { openDB } from 'idb';
import type { DBSchema, IDBPDatabase } from 'idb';

/** A user config file as stored. */
export interface UserConfigFile {
  /** Path in the config tree, e.g. `cityscapes/my_finetune.py` (no leading slash). */
  path: string;
  text: string;
  /** `Date.now()` of the last edit. */
  updatedAt: number;
}

interface ConfigFilesSchema extends DBSchema {
  files: { key: string; value: UserConfigFile };
}

/** The synchronous key-value store used as the write-ahead journal (`localStorage` fits). */
export interface JournalStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  readonly length: number;
  key(index: number): string | null;
}

type JournalEntry = { path: string; text: string; updatedAt: number } | { path: string; deleted: true; updatedAt: number };

/** Default database name. */
export const CONFIG_DB_NAME = 'detstudio-configs';
const DB_VERSION = 1;

/** Handle on the user's config files in IndexedDB. */
export interface ConfigFilesDb {
  /** Every stored file, sorted by path. */
  loadAll(): Promise<UserConfigFile[]>;
  /** Creates or overwrites one file. */
  put(file: UserConfigFile): Promise<void>;
  /** Deletes one file (no error if missing). */
  remove(path: string): Promise<void>;
  /** Moves a file to a new path in one transaction; fails if the target exists. */
  rename(from: string, to: string): Promise<void>;
  /** Resolves when every write issued so far has committed. */
  flush(): Promise<void>;
  close(): void;
}

/**
 * Opens (creating if needed) the config database.
 *
 * Args:
 *   name: database name (tests use a unique one). Uses the global `indexedDB`.
 *   journal: synchronous write-ahead journal (default: `localStorage` where it exists; none in Node).
 */
export async function openConfigFilesDb(
  name = CONFIG_DB_NAME,
  journal: JournalStorage | null = (globalThis as { localStorage?: JournalStorage }).localStorage ?? null,
): Promise<ConfigFilesDb> {
  const db: IDBPDatabase<ConfigFilesSchema> = await openDB<ConfigFilesSchema>(name, DB_VERSION, {
    upgrade(database) {
      if (!database.objectStoreNames.contains('files')) database.createObjectStore('files', { keyPath: 'path' });
    },
  });
  const prefix = `${name}:journal:`;
  const journalWrite = (entry: JournalEntry): string | null => {
    if (!journal) return null;
    const value = JSON.stringify(entry);
    try {
      journal.setItem(prefix + entry.path, value);
      return value;
    } catch {
      return null; // journal full or unavailable: IndexedDB alone
    }
  };
  const journalClear = (path: string, value: string | null): void => {
    if (!journal || value === null) return;
    try {
      if (journal.getItem(prefix + path) === value) journal.removeItem(prefix + path);
    } catch {
      /* ignore */
    }
  };
  const journalEntries = (): JournalEntry[] => {
    if (!journal) return [];
    const out: JournalEntry[] = [];
    for (let i = 0; i < journal.length; i++) {
      const k = journal.key(i);
      if (!k || !k.startsWith(prefix)) continue;
      try {
        out.push(JSON.parse(journal.getItem(k) ?? '') as JournalEntry);
      } catch {
        /* a torn entry: skip */
      }
    }
    return out;
  };
  const chains = new Map<string, Promise<void>>();
  const enqueue = (key: string, op: () => Promise<void>): Promise<void> => {
    const next = (chains.get(key) ?? Promise.resolve()).catch(() => undefined).then(op);
    chains.set(key, next);
    void next.finally(() => {
      if (chains.get(key) === next) chains.delete(key);
    }).catch(() => undefined);
    return next;
  };

  return {
    async loadAll() {
      // Replay what the journal still holds (changes a reload cut off before IndexedDB committed).
      for (const entry of journalEntries()) {
        const value = journal!.getItem(prefix + entry.path);
        if ('deleted' in entry) await db.delete('files', entry.path);
        else await db.put('files', { path: entry.path, text: entry.text, updatedAt: entry.updatedAt });
        journalClear(entry.path, value);
      }
      const all = await db.getAll('files');
      return all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    put(file) {
      const copy = { path: file.path, text: file.text, updatedAt: file.updatedAt };
      const journaled = journalWrite(copy);
      return enqueue(file.path, async () => {
        await db.put('files', copy);
        journalClear(file.path, journaled);
      });
    },
    remove(path) {
      const journaled = journalWrite({ path, deleted: true, updatedAt: Date.now() });
      return enqueue(path, async () => {
        await db.delete('files', path);
        journalClear(path, journaled);
      });
    },
    rename(from, to) {
      return enqueue(from, () =>
        enqueue(to, async () => {
          const tx = db.transaction('files', 'readwrite');
          const existing = await tx.store.get(to);
          if (existing) {
            tx.abort();
            await tx.done.catch(() => undefined);
            throw new Error(`A config named '${to}' already exists.`);
          }
          const file = await tx.store.get(from);
          if (!file) {
            tx.abort();
            await tx.done.catch(() => undefined);
            throw new Error(`No config named '${from}'.`);
          }
          const moved = { ...file, path: to, updatedAt: Date.now() };
          const jTo = journalWrite(moved);
          const jFrom = journalWrite({ path: from, deleted: true, updatedAt: moved.updatedAt });
          await tx.store.delete(from);
          await tx.store.put(moved);
          await tx.done;
          journalClear(to, jTo);
          journalClear(from, jFrom);
        }),
      );
    },
    async flush() {
      await Promise.all([...chains.values()].map((p) => p.catch(() => undefined)));
    },
    close() {
      db.close();
    },
  };
}
