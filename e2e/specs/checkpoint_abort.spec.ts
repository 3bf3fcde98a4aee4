/**
 * Atomic checkpoint saves in a real Chromium (IndexedDB with its blob files, real tab close and
 * renderer crash — the Node tests use fake-indexeddb and a thrown fault instead). Checkpoint A is
 * saved; a save of B is held after its first data chunk is committed (the chunk store is kept busy
 * by a read-write transaction, see `storageHoldSave`), and then the tab is closed or its renderer
 * crashed. The studio opened again lists A, not B, loads A bit-exactly, and sweeps B's orphaned
 * chunk. A third test has a second tab open the studio while a save is in flight: the sweep of
 * orphaned chunks it runs must not delete the chunks of that save.
 */
import type { BrowserContext, Page } from '@playwright/test';
import { expect, StudioPage, test } from '../fixtures/studio.ts';
import { CHECKPOINT_DB_NAME } from '../../src/storage/schema.ts';
import type { SyntheticCheckpointSpec } from '../../src/ui/e2e_api.ts';

const RUN = 'abort-test-run';
const A: SyntheticCheckpointSpec = { name: 'iter_10.pth', iter: 10, sizes: [4096, 100_000], seed: 1 };
/** 32 MiB + 16 KiB: two data chunks (payloads are packed into 32 MiB chunks). */
const B: SyntheticCheckpointSpec = { name: 'iter_20.pth', iter: 20, sizes: [8 * 2 ** 20, 4096], seed: 2 };

/**
 * Chunk counts per owning checkpoint id, read with the bare IndexedDB API on a page that does not
 * run the studio (opening the studio's database sweeps orphaned chunks).
 */
async function rawChunkOwners(page: Page): Promise<Record<string, number>> {
  await page.goto('/favicon.svg');
  return page.evaluate(
    (name) =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const req = indexedDB.open(name);
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const out: Record<string, number> = {};
          const cur = db.transaction('chunks').objectStore('chunks').index('checkpointId').openKeyCursor();
          cur.onerror = () => reject(cur.error);
          cur.onsuccess = () => {
            const c = cur.result;
            if (!c) {
              db.close();
              resolve(out);
              return;
            }
            out[String(c.key)] = (out[String(c.key)] ?? 0) + 1;
            c.continue();
          };
        };
      }),
    CHECKPOINT_DB_NAME,
  );
}

/** Saves A, holds a save of B after its first chunk, kills the tab with `kill`, checks the reopened studio. */
async function abortMidSave(studio: StudioPage, context: BrowserContext, kill: (page: Page) => Promise<void>): Promise<void> {
  await studio.open();
  const a = await studio.api('storageSaveCheckpoint', RUN, A);
  await studio.api('storageHoldSave', RUN, B, 1);
  await kill(studio.page);

  const page2 = await context.newPage();
  // The killed save left its committed first chunk behind, and no row.
  const owners = await rawChunkOwners(page2);
  const orphans = Object.keys(owners).filter((id) => id !== a);
  expect(owners[a]).toBe(1);
  expect(orphans).toHaveLength(1);
  expect(owners[orphans[0]!]).toBe(1);
  const studio2 = new StudioPage(page2);
  await studio2.open();
  const listed = await studio2.api('storedCheckpoints');
  expect(listed.map((c) => [c.runId, c.name, c.iter])).toEqual([[RUN, A.name, A.iter]]);
  expect(await studio2.api('storageVerifyCheckpoint', a, A)).toBeNull();
  // Opening the database swept the orphaned chunk.
  expect((await studio2.api('storageRawContents')).chunks).toEqual({ [a]: 1 });
  expect(studio2.errors).toEqual([]);
}

test('a tab closed mid-save keeps the previous checkpoint and leaves nothing half-written', async ({ studio, context }) => {
  await abortMidSave(studio, context, (page) => page.close());
});

test('a renderer crash mid-save keeps the previous checkpoint and leaves nothing half-written', async ({ studio, context }) => {
  await abortMidSave(studio, context, async (page) => {
    const crashed = page.waitForEvent('crash');
    const cdp = await context.newCDPSession(page);
    void cdp.send('Page.crash').catch(() => undefined);
    await crashed;
    await page.close();
  });
});

test('a second tab opening the studio during a save does not sweep that save’s chunks', async ({ studio, context }) => {
  await studio.open();
  const a = await studio.api('storageSaveCheckpoint', RUN, A);
  await studio.api('storageHoldSave', RUN, B, 1);

  const studio2 = new StudioPage(await context.newPage());
  await studio2.open();
  // The training worker of the second tab opens the database (sweeping unreferenced chunks) to list.
  let settled = false;
  const listing = studio2.api('storedCheckpoints').finally(() => {
    settled = true;
  });
  await studio2.page.waitForTimeout(1500);
  expect(settled, 'the sweep waits for the held chunk store').toBe(false);

  const b = await studio.api('storageReleaseSave');
  expect((await listing).map((c) => c.id)).toContain(a);
  expect(await studio.api('storageVerifyCheckpoint', b, B)).toBeNull();
  expect((await studio2.api('storedCheckpoints')).map((c) => c.id)).toEqual([a, b]);
  expect(await studio2.api('storageVerifyCheckpoint', b, B)).toBeNull();
  expect(studio.errors).toEqual([]);
  expect(studio2.errors).toEqual([]);
});
