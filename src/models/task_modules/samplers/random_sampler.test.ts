import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../data/transforms/types';
import { RandomSampler } from './random_sampler';

describe('RandomSampler generator state', () => {
  it('draws the seeded (mulberry32) sequence of its seed and continues identically from a saved state', () => {
    const gallery = Array.from({ length: 50 }, (_, i) => i);
    const a = new RandomSampler({ num: 8, pos_fraction: 0.5, seed: 11 });
    const ref = seededRng(11);
    const first = a.randomChoice(gallery, 5);
    // partial Fisher–Yates with the reference generator gives the same picks
    const g = gallery.slice();
    for (let i = 0; i < 5; i++) {
      const j = i + Math.floor(ref.random() * (g.length - i));
      [g[i], g[j]] = [g[j]!, g[i]!];
    }
    expect(first).toEqual(g.slice(0, 5));
    const saved = a.getState();
    const next = a.randomChoice(gallery, 7);
    const b = new RandomSampler({ num: 8, pos_fraction: 0.5, seed: 0 });
    b.setState(saved);
    expect(b.randomChoice(gallery, 7)).toEqual(next);
    expect(() => b.setState(-1)).toThrow(/generator state/);
  });
});
