import { describe, expect, it } from 'vitest';
import { aspectRatioBatches, defaultSamplerIndices, iterateBatches } from './data_loader.ts';
import type { IndexedDataset } from './datasets.ts';
import type { DataInfo } from './coco_dataset.ts';
import { seededRng, type Results } from './transforms/types.ts';

function fakeDataset(sizes: Array<[number, number]>, log: string[]): IndexedDataset {
  return {
    length: sizes.length,
    metainfo: { classes: ['a'] },
    getDataInfo: (i) => ({ img_path: `${i}.png`, img_id: i, seg_map_path: null, width: sizes[i]![0], height: sizes[i]![1], instances: [] }) as DataInfo,
    getItem: async (i) => {
      log.push(`start ${i}`);
      await new Promise((r) => setTimeout(r, 1));
      return { img_id: i } as Results;
    },
  };
}

describe('samplers', () => {
  it('DefaultSampler: identity without shuffle, a seeded permutation per epoch with it', () => {
    expect(defaultSamplerIndices(4, { shuffle: false })).toEqual([0, 1, 2, 3]);
    const a = defaultSamplerIndices(50, { shuffle: true, seed: 1, epoch: 0 });
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(defaultSamplerIndices(50, { shuffle: true, seed: 1, epoch: 0 })).toEqual(a);
    expect(defaultSamplerIndices(50, { shuffle: true, seed: 1, epoch: 1 })).not.toEqual(a);
  });
  it('AspectRatioBatchSampler groups by orientation and emits leftovers at the end', () => {
    const sizes: Record<number, [number, number]> = { 0: [10, 5], 1: [5, 10], 2: [10, 5], 3: [5, 10], 4: [10, 5] };
    const size = (i: number) => ({ width: sizes[i]![0], height: sizes[i]![1] });
    expect(aspectRatioBatches([0, 1, 2, 3, 4], size, 2)).toEqual([[0, 2], [1, 3], [4]]);
    expect(aspectRatioBatches([0, 1, 2, 3, 4], size, 2, true)).toEqual([[0, 2], [1, 3]]);
    expect(aspectRatioBatches([0, 1, 4], size, 2)).toEqual([[0, 4], [1]]);
  });
});

describe('iterateBatches', () => {
  it('yields every sample once in sampler order and prepares samples ahead, one at a time', async () => {
    const log: string[] = [];
    const ds = fakeDataset(Array.from({ length: 5 }, () => [8, 4] as [number, number]), log);
    const got: number[][] = [];
    for await (const b of iterateBatches(ds, { batchSize: 2, prefetch: 3 })) {
      got.push(b.map((r) => r.img_id!));
      log.push('batch');
      await new Promise((r) => setTimeout(r, 10)); // the consumer trains meanwhile
    }
    expect(got).toEqual([[0, 1], [2, 3], [4]]);
    // samples start in order, and samples 2 and 3 are prepared while the consumer holds the first batch
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start 0', 'start 1', 'start 2', 'start 3', 'start 4']);
    expect(log.indexOf('batch')).toBeGreaterThan(log.indexOf('start 1'));
    expect(log.indexOf('batch')).toBeLessThan(log.indexOf('start 3'));
    expect(log.indexOf('start 3')).toBeLessThan(log.indexOf('batch', log.indexOf('batch') + 1));
  });

  it('random draws belong to samples whatever the I/O timing', async () => {
    // a pipeline that reads (taking a sample-dependent time), then draws a flip from a shared stream
    const run = async (delay: (i: number) => number, prefetch: number) => {
      const rng = seededRng(4);
      const ds: IndexedDataset = {
        ...fakeDataset(Array.from({ length: 8 }, () => [8, 4] as [number, number]), []),
        getItem: async (i) => {
          await new Promise((r) => setTimeout(r, delay(i)));
          return { img_id: i, flip: rng.random() < 0.5 } as Results;
        },
      };
      const out: string[] = [];
      for await (const b of iterateBatches(ds, { batchSize: 3, prefetch, shuffle: true, seed: 1 })) out.push(...b.map((r) => `${r.img_id}${r.flip ? 'F' : '-'}`));
      return out;
    };
    const ref = await run(() => 0, 1);
    expect(ref.length).toBe(8);
    expect(await run((i) => (i % 2 ? 0 : 5), 6)).toEqual(ref);
    expect(await run((i) => (8 - i) * 2, 8)).toEqual(ref);
  });
});
