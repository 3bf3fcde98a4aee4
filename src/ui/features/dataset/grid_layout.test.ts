import { describe, expect, it } from 'vitest';
import { GRID_GAP, gridLayout, visibleRows } from './grid_layout.ts';

describe('virtualised grid geometry', () => {
  it('fits columns to the width and sizes rows by the image aspect', () => {
    const g = gridLayout(1000, 3000, 0.5);
    expect(g.columns).toBe(5);
    expect(g.cellWidth * g.columns + GRID_GAP * (g.columns + 1)).toBeLessThanOrEqual(1000);
    expect(g.rows).toBe(600);
    expect(g.totalHeight).toBe(600 * g.rowHeight + GRID_GAP);
    expect(gridLayout(100, 3, 0.5).columns).toBe(1);
  });

  it('renders only the rows in view plus overscan, wherever the scroll is (3,000 images)', () => {
    const g = gridLayout(1000, 3000, 0.5);
    const viewport = 700;
    for (const top of [0, 12_345, g.totalHeight - viewport]) {
      const [first, last] = visibleRows(top, viewport, g.rowHeight, g.rows);
      expect((last - first) * g.columns).toBeLessThanOrEqual((Math.ceil(viewport / g.rowHeight) + 5) * g.columns);
      expect(first * g.rowHeight).toBeLessThanOrEqual(top);
      expect(last * g.rowHeight).toBeGreaterThanOrEqual(Math.min(top + viewport, g.rows * g.rowHeight));
    }
    expect(visibleRows(0, 700, 100, 0)).toEqual([0, 0]);
  });
});
