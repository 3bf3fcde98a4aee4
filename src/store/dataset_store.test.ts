import { beforeEach, describe, expect, it } from 'vitest';
import type { ImportProgress } from '../data/import_report.ts';
import type { ImageEntry } from '../worker/dataset_protocol.ts';
import {
  cancelImport,
  datasetStore,
  filterImages,
  formatBytes,
  formatEta,
  importDatasetSource,
  openDataset,
  resetDatasetStore,
  toggleClassFilter,
  type DatasetRequester,
} from './dataset_store.ts';

const img = (key: string, split: string, labels: number[]): ImageEntry => ({ key, split, id: 0, fileName: key, width: 4, height: 2, labels, instances: labels.length, crowd: 0 });

describe('dataset store helpers', () => {
  it('filters images by split and by any of the chosen classes', () => {
    const ims = [img('a', 'train', [0, 2]), img('b', 'val', [1]), img('c', 'train', [])];
    expect(filterImages(ims, { split: null, classes: [] }).map((i) => i.key)).toEqual(['a', 'b', 'c']);
    expect(filterImages(ims, { split: 'train', classes: [] }).map((i) => i.key)).toEqual(['a', 'c']);
    expect(filterImages(ims, { split: null, classes: [1, 2] }).map((i) => i.key)).toEqual(['a', 'b']);
    expect(filterImages(ims, { split: 'val', classes: [2] })).toEqual([]);
  });

  it('formats bytes and ETAs', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300 MB');
    expect(formatEta(Infinity)).toBe('—');
    expect(formatEta(65)).toBe('1 m 05 s');
    expect(formatEta(3 * 3600 + 120)).toBe('3 h 02 m');
  });
});

describe('dataset store actions', () => {
  beforeEach(() => resetDatasetStore(null));

  it('toggles class filters', () => {
    toggleClassFilter(3);
    toggleClassFilter(1);
    expect(datasetStore.getState().filters.classes).toEqual([1, 3]);
    toggleClassFilter(3);
    expect(datasetStore.getState().filters.classes).toEqual([1]);
  });

  it('runs an import with progress, stores the report and refreshes the list; cancel reports cancelled', async () => {
    const seen: Array<ImportProgress | null> = [];
    let release: (() => void) | null = null;
    const requester: DatasetRequester = {
      request: (async (kind: string, payload: unknown, options?: { onProgress?: (p: ImportProgress) => void; signal?: AbortSignal }) => {
        if (kind === 'list') return [{ id: 'x', name: 'drop', format: 'cityscapes', createdAt: 1, sourceKind: 'opfs', images: 3, annotations: 9, splits: ['train'], issues: 1 }];
        if (kind === 'storage') return { usage: 1, quota: 2 };
        if (kind === 'import') {
          expect((payload as { mode: string }).mode).toBe('opfs'); // loose files are always copied
          options?.onProgress?.({ phase: 'convert train', done: 1, total: 3, rate: 2, etaSeconds: 1 });
          seen.push(datasetStore.getState().importing!.progress);
          if ((payload as { source: { name: string } }).source.name === 'slow') {
            await new Promise<void>((resolve, reject) => {
              release = resolve;
              options?.signal?.addEventListener('abort', () => reject(Object.assign(new Error('cancelled'), { name: 'AbortedError' })));
            });
          }
          return { summary: null, issues: [{ severity: 'error', code: 'png_unreadable', path: 'a.png', reason: 'truncated' }], replaced: false, ms: 5 };
        }
        throw new Error(kind);
      }) as DatasetRequester['request'],
    };
    resetDatasetStore(requester);
    await importDatasetSource({ kind: 'files', files: [], name: 'drop' });
    expect(seen[0]?.done).toBe(1);
    const s = datasetStore.getState();
    expect(s.importing).toBeNull();
    expect(s.lastImport?.issues[0]?.path).toBe('a.png');
    expect(s.datasets.map((d) => d.id)).toEqual(['x']);
    expect(s.storage).toEqual({ usage: 1, quota: 2 });

    const p = importDatasetSource({ kind: 'files', files: [], name: 'slow' });
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(datasetStore.getState().importing?.name).toBe('slow');
    cancelImport();
    await p;
    expect(release).not.toBeNull();
    expect(datasetStore.getState().importError).toBe('Import cancelled.');
    expect(datasetStore.getState().importing).toBeNull();
  });

  it('opening a dataset that fails shows the error', async () => {
    resetDatasetStore({ request: (async () => Promise.reject(new Error('No dataset'))) as DatasetRequester['request'] });
    await openDataset('gone');
    expect(datasetStore.getState()).toMatchObject({ openId: 'gone', opening: false, openError: 'No dataset', index: null });
  });
});
