import { describe, expect, it } from 'vitest';
import { seededRng, type StatefulRng } from '../../data/transforms/types';
import { RepeatDataset } from './dataset_wrappers';
import { MT19937, randperm } from './rng';
import { AspectRatioBatchSampler, BatchSampler, DataLoader, DefaultSampler } from './sampler';
import type { RunnerDataset } from './types';

// Raw MT19937 outputs after init_genrand(seed), from numpy's MT19937 with legacy seeding (the
// same seeding torch.Generator.manual_seed uses).
const MT_REF: Array<[number, number[]]> = [
  [0, [2357136044, 2546248239, 3071714933, 3626093760, 2588848963]],
  [42, [1608637542, 3421126067, 4083286876, 787846414, 3143890026]],
  [2147483654, [2586729922, 3422268636, 92884501, 1204985018, 350770928]],
];

function ds(n: number, portrait: (i: number) => boolean = () => false): RunnerDataset<number> {
  return { length: n, get: (i) => i, getDataInfo: (i) => (portrait(i) ? { width: 10, height: 20 } : { width: 20, height: 10 }) };
}

describe('MT19937 / randperm', () => {
  it('matches the reference generator outputs', () => {
    for (const [seed, outs] of MT_REF) {
      const g = new MT19937(seed);
      expect(outs.map(() => g.nextUint32())).toEqual(outs);
    }
    const g = new MT19937(5489);
    for (let i = 0; i < 9999; i++) g.nextUint32();
    expect(g.nextUint32()).toBe(4123659995); // the C++ standard's check value for mt19937
  });
  it('randperm is a permutation driven by n-1 draws of random() % (n - i)', () => {
    const g = new MT19937(7);
    const p = randperm(50, g);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const h = new MT19937(7);
    const r = Array.from({ length: 50 }, (_, i) => i);
    for (let i = 0; i < 49; i++) {
      const z = h.nextUint32() % (50 - i);
      [r[i], r[z + i]] = [r[z + i]!, r[i]!];
    }
    expect(p).toEqual(r);
  });
  it('state round-trips', () => {
    const g = new MT19937(3);
    for (let i = 0; i < 700; i++) g.nextUint32();
    const h = new MT19937(0);
    h.setState(g.getState());
    expect(h.nextUint32()).toBe(g.nextUint32());
  });
});

describe('DefaultSampler', () => {
  it('shuffles with seed + epoch and is reproducible', () => {
    const s = new DefaultSampler(ds(20), true, 42);
    const e0 = s.indices();
    expect(e0).toEqual(randperm(20, new MT19937(42)));
    s.setEpoch(1);
    expect(s.indices()).toEqual(randperm(20, new MT19937(43)));
    expect(s.indices()).not.toEqual(e0);
    expect(new DefaultSampler(ds(5), false, 1).indices()).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('batch samplers', () => {
  it('BatchSampler keeps or drops the last partial batch', () => {
    const s = new DefaultSampler(ds(10), false, 0);
    expect([...new BatchSampler(s, 4)]).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect([...new BatchSampler(s, 4, true)]).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(new BatchSampler(s, 4).length).toBe(3);
  });
  it('AspectRatioBatchSampler groups portrait and landscape, then yields the leftovers', () => {
    const s = new DefaultSampler(ds(10, (i) => i % 3 === 0), false, 0);
    const b = [...new AspectRatioBatchSampler(s, 2)];
    // portrait: 0,3,6,9; landscape: 1,2,4,5,7,8
    expect(b).toEqual([[1, 2], [0, 3], [4, 5], [7, 8], [6, 9]]);
    const s2 = new DefaultSampler(ds(7, (i) => i < 3), false, 0);
    expect([...new AspectRatioBatchSampler(s2, 2)]).toEqual([[0, 1], [3, 4], [5, 6], [2]]);
    expect(new AspectRatioBatchSampler(s2, 2).length).toBe(4);
  });
  it('DataLoader collates samples and skips batches on resume; RepeatDataset repeats', async () => {
    const rep = new RepeatDataset(ds(3), 3);
    expect(rep.length).toBe(9);
    const dl = new DataLoader(rep, new BatchSampler(new DefaultSampler(rep, false, 0), 4));
    const all: number[][] = [];
    for await (const b of dl.batches(1)) all.push(b);
    expect(all).toEqual([[1, 2, 0, 1], [2]]);
    expect(() => rep.get(9)).toThrow(RangeError);
  });
});

describe('DataLoader and the pipeline random stream', () => {
  /** A dataset whose "pipeline" waits a random time (I/O), then draws from the stream (a flip). */
  function drawing(n: number, rng: StatefulRng, jitter: () => number): RunnerDataset<string> {
    return {
      length: n,
      get: async (i) => {
        await new Promise((r) => setTimeout(r, jitter()));
        return `${i}:${rng.random().toFixed(6)}`;
      },
    };
  }
  async function epoch(prefetch: number, jitter: () => number, skip = 0): Promise<string[][]> {
    const rng = seededRng(5);
    const d = drawing(10, rng, jitter);
    const dl = new DataLoader(d, new BatchSampler(new DefaultSampler(d, true, 3), 3), { rng, prefetch });
    const out: string[][] = [];
    for await (const b of dl.batches(skip)) out.push(b);
    return out;
  }

  it('draws belong to samples in sampler order whatever the I/O timing and prefetch depth', async () => {
    const ref = await epoch(0, () => 0);
    expect(ref.flat().length).toBe(10);
    const slowFirst = (() => {
      let k = 0;
      return () => (k++ % 3 === 0 ? 6 : 0); // the first sample of a batch finishes last
    })();
    expect(await epoch(0, slowFirst)).toEqual(ref);
    expect(await epoch(2, slowFirst)).toEqual(ref);
    expect(await epoch(10, () => Math.floor(Math.random() * 4))).toEqual(ref);
  });

  it('reports the state as of the last batch handed out and rewinds prefetched draws when left early', async () => {
    const rng = seededRng(9);
    const d = drawing(12, rng, () => 1);
    const dl = new DataLoader(d, new BatchSampler(new DefaultSampler(d, false, 0), 2), { rng, prefetch: 3 });
    const expected = seededRng(9);
    for (let i = 0; i < 4; i++) expected.random(); // two batches of two samples, one draw each
    const seen: string[][] = [];
    for await (const b of dl.batches()) {
      seen.push(b);
      if (seen.length === 2) {
        await new Promise((r) => setTimeout(r, 20)); // let the prefetch run ahead
        expect(rng.getState()).not.toEqual(expected.getState());
        expect(dl.rngState()).toEqual(expected.getState());
        break;
      }
    }
    expect(rng.getState()).toEqual(expected.getState());
    // continuing from batch 2 gives what an uninterrupted epoch gives there
    const rest: string[][] = [];
    for await (const b of dl.batches(2)) rest.push(b);
    const rng2 = seededRng(9);
    const d2 = drawing(12, rng2, () => 0);
    const all: string[][] = [];
    for await (const b of new DataLoader(d2, new BatchSampler(new DefaultSampler(d2, false, 0), 2), { rng: rng2 }).batches()) all.push(b);
    expect([...seen, ...rest]).toEqual(all);
  });
});
