import { describe, expect, it } from 'vitest';
import { appendRow, type ScalarColumns } from '../../../store/training_store';
import { CHART_BUCKETS, COMPARE_DASH, chartBuckets, chartData, chartOptions, overlayKeys, seriesLabel, tickLabel } from './chart_data';

function cols(rows: Array<Record<string, number>>): ScalarColumns {
  const c: ScalarColumns = { steps: [], series: {} };
  for (const r of rows) appendRow(c, r.step!, r);
  return c;
}

describe('chart data', () => {
  it('draws one run as x plus one series per key, NaN as gaps', () => {
    const a = cols([{ step: 1, loss: 3 }, { step: 2, loss: 2, acc: 50 }]);
    expect(chartData({ cols: a, keys: ['loss', 'acc'] })).toEqual([[1, 2], [3, 2], [null, 50]]);
  });

  it('overlays a second run aligned on the logged step (shared steps share a row)', () => {
    const a = cols([{ step: 10, loss: 3 }, { step: 20, loss: 2 }, { step: 30, loss: 1 }]);
    const b = cols([{ step: 5, loss: 4 }, { step: 20, loss: 2.5 }, { step: 40, loss: 0.5 }]);
    const d = chartData({ cols: a, keys: ['loss'] }, { cols: b, keys: ['loss'] });
    expect(d).toEqual([
      [5, 10, 20, 30, 40],
      [null, 3, 2, 1, null],
      [4, null, 2.5, null, 0.5],
    ]);
  });

  it('keeps 10^5-step runs to a few thousand drawn points, with the spikes of both runs, x ascending', () => {
    const n = 100_000;
    const rows = (phase: number, spikeAt: number) =>
      cols(Array.from({ length: n }, (_, i) => ({ step: (i + 1) * (phase === 0 ? 1 : 2), loss: Math.sin(i / 300 + phase) + (i === spikeAt ? 40 : 0) })));
    const a = rows(0, 12_345);
    const b = rows(1, 77_777);
    const d = chartData({ cols: a, keys: ['loss'] }, { cols: b, keys: ['loss'] });
    const xs = d[0] as number[];
    expect(xs.length).toBeLessThanOrEqual(2 * (2 * 1000 + 2));
    for (let i = 1; i < xs.length; i++) expect(xs[i]!).toBeGreaterThanOrEqual(xs[i - 1]!);
    expect(Math.max(...(d[1] as Array<number | null>).map((v) => v ?? -Infinity))).toBeGreaterThan(39);
    expect(Math.max(...(d[2] as Array<number | null>).map((v) => v ?? -Infinity))).toBeGreaterThan(39);
    expect(xs[xs.length - 1]).toBe(2 * n); // run B's last step
  });

  it('samples by the first key that has values (a compared run may lack the first key)', () => {
    const b = cols(Array.from({ length: 5000 }, (_, i) => ({ step: i + 1, loss_cls: i === 4000 ? 9 : 1 })));
    b.series.loss = new Array(5000).fill(Number.NaN);
    const d = chartData({ cols: b, keys: ['loss', 'loss_cls'] });
    expect((d[0] as number[]).length).toBeGreaterThan(100);
    expect(d[2]).toContain(9);
  });

  it('only overlays the keys the compared run has', () => {
    const b = cols([{ step: 1, loss: 1, loss_cls: 0.5 }]);
    expect(overlayKeys(['loss', 'loss_mask', 'loss_cls'], b)).toEqual(['loss', 'loss_cls']);
    expect(overlayKeys(['loss'], null)).toEqual([]);
  });

  it('names both runs in the legend and dashes the compared run in the same colour', () => {
    const o = chartOptions({ width: 300, height: 100, keys: ['loss', 'loss_cls'], overlayKeys: ['loss_cls'] });
    const s = o.series.slice(1);
    expect(s.map((x) => x.label)).toEqual(['loss · A', 'loss_cls · A', 'loss_cls · B']);
    expect(s[2]!.dash).toEqual(COMPARE_DASH);
    expect(s[1]!.dash).toBeUndefined();
    expect(s[2]!.stroke).toBe(s[1]!.stroke);
    expect(chartOptions({ width: 300, height: 100, keys: ['lr'] }).series.map((x) => x.label)).toEqual(['iter', 'lr']);
    expect(seriesLabel('acc', 1, true)).toBe('acc · B');
    expect(tickLabel(0.0001)).toBe('1.0e-4');
    expect(tickLabel(0.25)).toBe('0.25');
  });

  it('sizes the downsampling to the chart width (about one drawn point per pixel column)', () => {
    expect(chartBuckets(880)).toBe(440);
    expect(chartBuckets(10)).toBe(50);
    expect(chartBuckets(10_000)).toBe(CHART_BUCKETS);
  });
});
