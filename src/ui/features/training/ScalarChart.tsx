import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ScalarColumns } from '../../../store/training_store.ts';
import { chartBuckets, chartData, chartOptions, overlayKeys } from './chart_data.ts';

export { SERIES_COLORS, tickLabel } from './chart_data.ts';

interface Props {
  title: string;
  cols: ScalarColumns;
  keys: readonly string[];
  /** A second run's columns drawn over these (dashed, aligned on the logged step), or null. */
  compare?: ScalarColumns | null;
  /** Changes whenever `cols` or `compare` changed (the arrays are appended in place). */
  version: number;
  xLabel?: string;
  /** Format of y values in the legend. */
  digits?: number;
  height?: number;
  testId?: string;
}

/** A live line chart (uPlot) of some columns of the training scalars, optionally of two runs. */
export function ScalarChart({ title, cols, keys, compare, version, xLabel = 'iter', digits = 4, height = 170, testId }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const extra = overlayKeys(keys, compare);
  const keyList = `${keys.join('|')}//${extra.join('|')}`;
  const latest = useRef({ cols, keys, compare, extra });
  latest.current = { cols, keys, compare, extra };
  // `width` is the chart's CSS width as uPlot knows it (reading clientWidth here would force a
  // layout per chart per update).
  const data = (width: number) => {
    const l = latest.current;
    return chartData({ cols: l.cols, keys: l.keys }, l.compare ? { cols: l.compare, keys: l.extra } : null, chartBuckets(width));
  };

  useEffect(() => {
    const el = host.current;
    if (!el || keys.length === 0) return;
    // Each chart is built in a task of its own (a pane of seven charts of 10^5 steps would
    // otherwise build in one long task), with the data current when it runs.
    let u: uPlot | null = null;
    let ro: ResizeObserver | null = null;
    const timer = setTimeout(() => {
      const width = Math.max(200, el.clientWidth);
      const opts = chartOptions({ width, height, keys: latest.current.keys, overlayKeys: latest.current.extra, xLabel, digits });
      const chart = new uPlot(opts, data(width), el);
      u = chart;
      plot.current = chart;
      ro = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height }));
      ro.observe(el);
    }, 0);
    return () => {
      clearTimeout(timer);
      ro?.disconnect();
      u?.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [keyList, height, xLabel, digits]);

  useEffect(() => {
    if (plot.current && keys.length > 0) plot.current.setData(data(plot.current.width));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version, keyList]);

  const points = cols.steps.length;
  const comparePoints = extra.length > 0 && compare ? compare.steps.length : 0;
  return (
    <figure className="chart" data-testid={testId} data-points={points} data-compare-points={comparePoints}>
      <figcaption className="chart-title">
        {title}
        <span className="chart-count">
          {points > 0 ? `${points} pts` : 'no data yet'}
          {comparePoints > 0 ? ` · B ${comparePoints} pts` : ''}
        </span>
      </figcaption>
      <div className="chart-host" ref={host} />
    </figure>
  );
}
