import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { downsampleIndices, type ScalarColumns } from '../../../store/training_store.ts';

/** Line colours of the dark theme, in series order. */
export const SERIES_COLORS = ['#4cc2ff', '#ffb547', '#3fb950', '#f778ba', '#a371f7', '#f85149', '#56d4dd', '#d29922', '#8b96a5'];

/** Buckets of the min/max downsampling: at most ~2x this many points are drawn per series. */
const BUCKETS = 1000;

interface Props {
  title: string;
  cols: ScalarColumns;
  keys: readonly string[];
  /** Changes whenever `cols` was appended to (the arrays are appended in place). */
  version: number;
  xLabel?: string;
  /** Format of y values in the legend. */
  digits?: number;
  height?: number;
  testId?: string;
}

/** Axis label of a y tick: exponent form for small magnitudes (learning rates). */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-2 || a >= 1e5) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

function chartData(cols: ScalarColumns, keys: readonly string[]): uPlot.AlignedData {
  const first = cols.series[keys[0]!] ?? [];
  const idx = downsampleIndices(first, BUCKETS);
  const xs = idx.map((i) => cols.steps[i]!);
  const ys = keys.map((k) => {
    const s = cols.series[k];
    return idx.map((i) => {
      const v = s?.[i];
      return v === undefined || Number.isNaN(v) ? null : v;
    });
  });
  return [xs, ...ys] as uPlot.AlignedData;
}

/** A live line chart (uPlot) of some columns of the training scalars. */
export function ScalarChart({ title, cols, keys, version, xLabel = 'iter', digits = 4, height = 170, testId }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const keyList = keys.join('|');

  useEffect(() => {
    const el = host.current;
    if (!el || keys.length === 0) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false } },
      axes: [
        { stroke: '#8b96a5', grid: { stroke: '#232a33' }, ticks: { stroke: '#2a323d' }, label: xLabel, labelSize: 14, size: 34, font: '11px system-ui', labelFont: '11px system-ui' },
        { stroke: '#8b96a5', grid: { stroke: '#232a33' }, ticks: { stroke: '#2a323d' }, size: 58, font: '11px system-ui', values: (_u, ticks) => ticks.map(tickLabel) },
      ],
      series: [
        { label: xLabel, value: (_u, v) => (v == null ? '–' : String(v)) },
        ...keys.map((k, i) => ({
          label: k,
          stroke: SERIES_COLORS[i % SERIES_COLORS.length],
          width: 1.5,
          spanGaps: true,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v == null ? '–' : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(digits)),
        })),
      ],
    };
    const u = new uPlot(opts, chartData(cols, keys), el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [keyList, height, xLabel, digits]);

  useEffect(() => {
    if (plot.current && keys.length > 0) plot.current.setData(chartData(cols, keys));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version, keyList]);

  const points = cols.steps.length;
  return (
    <figure className="chart" data-testid={testId} data-points={points}>
      <figcaption className="chart-title">
        {title}
        <span className="chart-count">{points > 0 ? `${points} pts` : 'no data yet'}</span>
      </figcaption>
      <div className="chart-host" ref={host} />
    </figure>
  );
}
