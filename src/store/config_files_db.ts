/**
 * IndexedDB persistence of the user's config files (their own configs and their edits of built-in
 * ones), so a reload never loses text. One object store keyed by the file's tree path.
 *
 * Writes for the same path are chained, so the last edit always wins even when many keystrokes are
 * saved in quick succession.
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
 */
export async function openConfigFilesDb(name = CONFIG_DB_NAME): Promise<ConfigFilesDb> {
  const db: IDBPDatabase<ConfigFilesSchema> = await openDB<ConfigFilesSchema>(name, DB_VERSION, {
    upgrade(database) {
      if (!database.objectStoreNames.contains('files')) database.createObjectStore('files', { keyPath: 'path' });
    },
  });
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
      const all = await db.getAll('files');
      return all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    put(file) {
      const copy = { path: file.path, text: file.text, updatedAt: file.updatedAt };
      return enqueue(file.path, async () => {
        await db.put('files', copy);
      });
    },
    remove(path) {
      return enqueue(path, async () => {
        await db.delete('files', path);
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
          await tx.store.delete(from);
          await tx.store.put({ ...file, path: to, updatedAt: Date.now() });
          await tx.done;
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
