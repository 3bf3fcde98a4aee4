/**
 * What the training charts draw, as plain functions (no DOM, no React): the uPlot data of one
 * run's columns, min/max-downsampled so a chart of 10^5 logged steps draws a few thousand points,
 * optionally merged with a second run's columns on the shared x axis (the logged step, i.e. the
 * iteration for train rows), and the uPlot options of such a chart. ScalarChart.tsx renders them;
 * bench/charts.bench.ts measures them in Chromium with 10^5 points.
 */
import type uPlot from 'uplot';
import { downsampleIndices, type ScalarColumns } from '../../../store/training_store.ts';

/** Line colours of the dark theme, in series order. */
export const SERIES_COLORS = ['#4cc2ff', '#ffb547', '#3fb950', '#f778ba', '#a371f7', '#f85149', '#56d4dd', '#d29922', '#8b96a5'];

/** Buckets of the min/max downsampling: at most ~2x this many points are drawn per series. */
export const CHART_BUCKETS = 1000;

/**
 * Buckets for a chart `width` CSS pixels wide: one bucket per two pixels, so its minimum and
 * maximum give about one drawn point per pixel column (no visible detail lost, and a chart of
 * 10^5 steps draws about as many points as it has pixels).
 */
export function chartBuckets(width: number): number {
  return Math.max(50, Math.min(CHART_BUCKETS, Math.round(width / 2)));
}

/** Dash pattern of the compared run's lines (the shown run's lines are solid). */
export const COMPARE_DASH = [6, 4];

/** Short tags of the two runs in legends: the shown run and the compared one. */
export const RUN_TAGS = ['A', 'B'] as const;

/** One run's part of a chart: its columns and the keys drawn from them. */
export interface ChartSource {
  cols: ScalarColumns;
  keys: readonly string[];
}

/** Sampled x values and one y array per key (null where a row lacks the key). */
interface Sampled {
  xs: number[];
  ys: Array<Array<number | null>>;
}

/** Axis label of a y tick: exponent form for small magnitudes (learning rates). */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-2 || a >= 1e5) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** The first key with a finite value: its spikes decide which rows the downsampling keeps. */
function pivot(src: ChartSource): number[] {
  for (const k of src.keys) {
    const s = src.cols.series[k];
    if (s && s.some((v) => Number.isFinite(v))) return s;
  }
  return src.cols.series[src.keys[0]!] ?? [];
}

function sample(src: ChartSource, buckets: number): Sampled {
  const { steps, series } = src.cols;
  let idx = downsampleIndices(pivot(src), buckets);
  // uPlot needs x in ascending order; logged steps are, but keep the chart right if not.
  for (let i = 1; i < idx.length; i++) {
    if (steps[idx[i]!]! < steps[idx[i - 1]!]!) {
      idx = [...idx].sort((a, b) => steps[a]! - steps[b]! || a - b);
      break;
    }
  }
  const xs = idx.map((i) => steps[i]!);
  const ys = src.keys.map((k) => {
    const s = series[k];
    return idx.map((i) => {
      const v = s?.[i];
      return v === undefined || Number.isNaN(v) ? null : v;
    });
  });
  return { xs, ys };
}

/** Merges two sampled runs on x: rows at the same x are shared, the others padded with null. */
function mergeOnX(a: Sampled, b: Sampled): Sampled {
  const xs: number[] = [];
  const ys: Array<Array<number | null>> = [...a.ys.map(() => [] as Array<number | null>), ...b.ys.map(() => [] as Array<number | null>)];
  const na = a.ys.length;
  let i = 0;
  let j = 0;
  while (i < a.xs.length || j < b.xs.length) {
    const xa = i < a.xs.length ? a.xs[i]! : Number.POSITIVE_INFINITY;
    const xb = j < b.xs.length ? b.xs[j]! : Number.POSITIVE_INFINITY;
    const takeA = xa <= xb;
    const takeB = xb <= xa;
    xs.push(takeA ? xa : xb);
    for (let k = 0; k < na; k++) ys[k]!.push(takeA ? a.ys[k]![i]! : null);
    for (let k = 0; k < b.ys.length; k++) ys[na + k]!.push(takeB ? b.ys[k]![j]! : null);
    if (takeA) i++;
    if (takeB) j++;
  }
  return { xs, ys };
}

/**
 * The uPlot data of a chart: x, then one series per key of `primary`, then (when comparing) one
 * per key of `overlay`, aligned on the logged step (a step only one run logged has null for the
 * other run's series; the lines span those gaps).
 */
export function chartData(primary: ChartSource, overlay?: ChartSource | null, buckets = CHART_BUCKETS): uPlot.AlignedData {
  let s = sample(primary, buckets);
  if (overlay && overlay.keys.length > 0) s = mergeOnX(s, sample(overlay, buckets));
  return [s.xs, ...s.ys] as uPlot.AlignedData;
}

/** Keys of `wanted` that a compared run's columns have (so its legend lists no empty series). */
export function overlayKeys(wanted: readonly string[], cols: ScalarColumns | null | undefined): string[] {
  if (!cols) return [];
  return wanted.filter((k) => cols.series[k]?.some((v) => Number.isFinite(v)));
}

/** What {@link chartOptions} needs. */
export interface ChartOptionsInput {
  width: number;
  height: number;
  keys: readonly string[];
  /** Keys of the compared run (drawn dashed, same colour as the shown run's key). */
  overlayKeys?: readonly string[];
  xLabel?: string;
  /** Decimals of y values in the legend. */
  digits?: number;
}

/** Legend label of a series: the key, tagged with its run when two runs are drawn. */
export function seriesLabel(key: string, run: 0 | 1, comparing: boolean): string {
  return comparing ? `${key} · ${RUN_TAGS[run]}` : key;
}

/** uPlot options of a training chart (dark theme; compared run dashed). */
export function chartOptions(o: ChartOptionsInput): uPlot.Options {
  const xLabel = o.xLabel ?? 'iter';
  const digits = o.digits ?? 4;
  const extra = o.overlayKeys ?? [];
  const comparing = extra.length > 0;
  const value = (_u: uPlot, v: number | null) => (v == null ? '–' : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(digits));
  // A compared run's key takes the colour of the same key of the shown run.
  const color = (k: string, fallback: number) => {
    const i = o.keys.indexOf(k);
    return SERIES_COLORS[(i >= 0 ? i : fallback) % SERIES_COLORS.length];
  };
  return {
    width: o.width,
    height: o.height,
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: false } },
    axes: [
      { stroke: '#8b96a5', grid: { stroke: '#232a33' }, ticks: { stroke: '#2a323d' }, label: xLabel, labelSize: 14, size: 34, font: '11px system-ui', labelFont: '11px system-ui' },
      { stroke: '#8b96a5', grid: { stroke: '#232a33' }, ticks: { stroke: '#2a323d' }, size: 58, font: '11px system-ui', values: (_u, ticks) => ticks.map(tickLabel) },
    ],
    series: [
      { label: xLabel, value: (_u, v) => (v == null ? '–' : String(v)) },
      ...o.keys.map((k, i) => ({ label: seriesLabel(k, 0, comparing), stroke: color(k, i), width: 1.5, spanGaps: true, points: { show: false }, value })),
      ...extra.map((k, j) => ({ label: seriesLabel(k, 1, true), stroke: color(k, o.keys.length + j), width: 1.5, dash: COMPARE_DASH, spanGaps: true, points: { show: false }, value })),
    ],
  };
}
