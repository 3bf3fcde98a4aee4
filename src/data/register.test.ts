import { describe, expect, it } from 'vitest';
import { DATASETS, TRANSFORMS } from '../registry/registries.ts';
import { registerDataTypes } from './register.ts';
import type { Transform } from './transforms/types.ts';

describe('registerDataTypes', () => {
  it('puts the mmdet transform and dataset type names into the registries', () => {
    registerDataTypes();
    registerDataTypes(); // idempotent
    for (const t of ['LoadImageFromFile', 'LoadAnnotations', 'Resize', 'RandomResize', 'RandomFlip', 'PackDetInputs']) expect(TRANSFORMS.has(t)).toBe(true);
    for (const t of ['CocoDataset', 'CityscapesDataset', 'RepeatDataset']) expect(DATASETS.has(t)).toBe(true);
    const flip = TRANSFORMS.build<Transform>({ type: 'RandomFlip', prob: 0.5 });
    expect(flip.type).toBe('RandomFlip');
    expect(() => TRANSFORMS.build({ type: 'RandomFlip', prob: 2 })).toThrow(/prob/);
  });
});
