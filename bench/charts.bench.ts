/**
 * Training charts with 10^5 logged steps (issue 6: "smooth with 10^5 points"). In headless
 * Chromium (`CHROMIUM_PATH`, default /usr/bin/chromium) the real chart code (chart_data.ts with
 * uPlot, bundled by esbuild) draws the Training pane's seven charts (loss with six components,
 * acc, lr, time + data_time, memory, bbox and segm mAP) of a Mask R-CNN-like run of 10^5 steps,
 * alone and overlaid with a second run of 10^5 steps, then keeps appending logged steps one
 * animation frame at a time, as a live run does. Reported: the main-thread time of each phase,
 * per-frame update times and the long tasks (> 50 ms, PerformanceObserver) of each phase.
 * Also, in Node, the CPU time of building one chart's data (downsampling + overlay merge).
 *
 * The reload path's other main-thread costs are measured too: structured-cloning 10^5
 * scalars.json rows (what the worker's `runScalars` answer costs to receive) and turning them
 * into columns (`columnsFromScalars`).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { columnsFromScalars } from '../src/store/training_store.ts';
import { chartData } from '../src/ui/features/training/chart_data.ts';

const N = 100_000;

/** Rows like MMDetection's Mask R-CNN scalars.json (train rows every step, a validation every 1000). */
const ROWS_SOURCE = `
function makeRows(n, phase) {
  const rows = [];
  let seed = 7 + phase;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 1; i <= n; i++) {
    const d = Math.exp(-i / (n / 4)) + 0.2;
    const l = [0.1 * d, 0.05 * d, 0.4 * d, 0.3 * d, 0.5 * d].map((v) => v * (0.8 + 0.4 * rnd()));
    rows.push({ lr: 0.02 * Math.min(1, i / 500), data_time: 0.01 + 0.01 * rnd(), loss: l.reduce((a, b) => a + b, 0),
      loss_rpn_cls: l[0], loss_rpn_bbox: l[1], loss_cls: l[2], acc: 80 + 20 * rnd(), loss_bbox: l[3], loss_mask: l[4],
      time: 0.5 + 0.1 * rnd(), epoch: 1 + Math.floor(i / 2975), iter: i, memory: 3000 + phase, step: i });
    if (i % 1000 === 0) {
      const m = 0.3 * (1 - Math.exp(-i / 20000)) + 0.01 * phase;
      rows.push({ 'coco/bbox_mAP': m, 'coco/bbox_mAP_50': m * 1.6, 'coco/bbox_mAP_75': m * 0.9, 'coco/bbox_mAP_s': m * 0.3, 'coco/bbox_mAP_m': m, 'coco/bbox_mAP_l': m * 1.3,
        'coco/segm_mAP': m * 0.9, 'coco/segm_mAP_50': m * 1.5, 'coco/segm_mAP_75': m * 0.8, 'coco/segm_mAP_s': m * 0.2, 'coco/segm_mAP_m': m * 0.9, 'coco/segm_mAP_l': m * 1.2, step: i });
    }
  }
  return rows;
}
`;

const BROWSER_ENTRY = `
import uPlot from 'uplot';
import { appendRow, columnsFromScalars, runColumnsFromScalarsJson } from './src/store/training_store.ts';
import { chartBuckets, chartData, chartOptions, overlayKeys } from './src/ui/features/training/chart_data.ts';
${ROWS_SOURCE}
const LOSS = ['loss', 'loss_bbox', 'loss_cls', 'loss_mask', 'loss_rpn_bbox', 'loss_rpn_cls'];
const MAPS = (k) => ['mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'].map((s) => 'coco/' + k + '_' + s);
const CHARTS = [
  { which: 'train', keys: LOSS, wide: true, h: 210 }, { which: 'train', keys: ['acc'] }, { which: 'train', keys: ['lr'] },
  { which: 'train', keys: ['time', 'data_time'] }, { which: 'train', keys: ['memory'] },
  { which: 'val', keys: MAPS('bbox'), x: 'step' }, { which: 'val', keys: MAPS('segm'), x: 'step' },
];
const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
const stats = (xs) => { const s = [...xs].sort((a, b) => a - b); return { n: s.length, p50_ms: +s[Math.floor(s.length / 2)].toFixed(2), p95_ms: +s[Math.floor(s.length * 0.95)].toFixed(2), max_ms: +s[s.length - 1].toFixed(2) }; };

globalThis.detstudioChartsBench = async (n) => {
  const longTasks = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) longTasks.push({ start: e.startTime, ms: e.duration }); }).observe({ type: 'longtask', buffered: false });
  const loafs = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) loafs.push(e); }).observe({ type: 'long-animation-frame', buffered: false });
  // Where a long frame's time went: scripts before rendering, rAF/render, style+layout, paint (to the end).
  const framesIn = (t0, t1) => {
    const xs = loafs.filter((e) => e.startTime >= t0 && e.startTime < t1);
    if (!xs.length) return { count: 0 };
    const m = (f) => +(xs.reduce((a, e) => a + f(e), 0) / xs.length).toFixed(1);
    return { count: xs.length, mean_ms: m((e) => e.duration), mean_blocking_ms: m((e) => e.blockingDuration),
      mean_before_render_ms: m((e) => (e.renderStart || e.startTime + e.duration) - e.startTime),
      mean_raf_ms: m((e) => e.renderStart ? (e.styleAndLayoutStart - e.renderStart) : 0),
      mean_style_layout_paint_ms: m((e) => e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0) };
  };
  const tasksIn = (t0, t1) => { const xs = longTasks.filter((t) => t.start >= t0 && t.start < t1).map((t) => +t.ms.toFixed(1)); return { count: xs.length, max_ms: xs.length ? Math.max(...xs) : 0 }; };
  const out = {};
  // Calibration: a fixed amount of work per task; on an oversubscribed machine it is stretched
  // by preemption, and so is every figure below.
  const cal = [];
  let sink = 0;
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    for (let k = 0; k < 300000; k++) sink += Math.sqrt(k + sink * 1e-9);
    cal.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  out.calibration_fixed_task = stats(cal);
  let rowsA = makeRows(n, 0);
  let rowsB = makeRows(n, 1);
  const trainRow = rowsA[rowsA.length - 2];
  const valRow = rowsA[rowsA.length - 1];
  let bytesA = new TextEncoder().encode(rowsA.map((r) => JSON.stringify(r)).join('\\n') + '\\n');
  await frame();

  // The reload path as the studio does it: scalars.json bytes (transferred from the worker),
  // parsed slice by slice with a yield (a fresh task) between slices.
  const slices = [];
  let t = performance.now();
  let last = t;
  const yieldTask = () => new Promise((r) => { const ch = new MessageChannel(); ch.port1.onmessage = () => { const now = performance.now(); slices.push(now - last); r(); last = performance.now(); }; ch.port2.postMessage(null); });
  const A0 = await runColumnsFromScalarsJson(bytesA, yieldTask);
  let A = A0;
  const t1r = performance.now();
  out.reload_sliced = { bytes: bytesA.length, total_ms: +(t1r - t).toFixed(1), slices: stats(slices), long_tasks: tasksIn(t, t1r) };
  await frame();
  // For comparison, the former path: the rows structured-cloned in one message, then columns.
  t = performance.now();
  let cloned = structuredClone(rowsA);
  const tc = performance.now();
  columnsFromScalars(cloned);
  out.reload_rows_message = { structured_clone_ms: +(tc - t).toFixed(1), columns_ms: +(performance.now() - tc).toFixed(1) };
  const B = columnsFromScalars(rowsB);
  // the rows and bytes are garbage now, as in the studio
  rowsA = rowsB = cloned = bytesA = null;
  await frame();

  const host = document.createElement('div');
  host.style.width = '900px';
  document.body.appendChild(host);
  // as ScalarChart does: each chart built in a task of its own
  const make = async (cmp, times) => { const charts = []; for (const c of CHARTS) { await new Promise((r) => setTimeout(r, 0)); const t = performance.now(); charts.push(makeOne(c, cmp)); times.push(performance.now() - t); } return charts; };
  const makeOne = (c, cmp) => {
    const el = document.createElement('div');
    el.style.width = c.wide ? '880px' : '430px';
    host.appendChild(el);
    const cols = c.which === 'train' ? A.train : A.val;
    const ccols = cmp ? (c.which === 'train' ? B.train : B.val) : null;
    const extra = overlayKeys(c.keys, ccols);
    const width = c.wide ? 880 : 430;
    const u = new uPlot(chartOptions({ width, height: c.h ?? 170, keys: c.keys, overlayKeys: extra, xLabel: c.x ?? 'iter', digits: 3 }), chartData({ cols, keys: c.keys }, ccols ? { cols: ccols, keys: extra } : null, chartBuckets(width)), el);
    return { u, c, cols, ccols, extra, width };
  };
  const update = (charts) => { for (const { u, c, cols, ccols, extra, width } of charts) u.setData(chartData({ cols, keys: c.keys }, ccols ? { cols: ccols, keys: extra } : null, chartBuckets(width))); };

  // Baseline: 120 animation frames with nothing to do (what the machine itself costs per frame).
  {
    const t0 = performance.now();
    for (let f = 0; f < 120; f++) await frame();
    out.idle_frames_long_tasks = tasksIn(t0, performance.now());
  }
  // A control: the same charts and live updates for a run of 100 steps (what redrawing seven
  // canvases costs here whatever the number of steps).
  const small = columnsFromScalars(makeRows(100, 0));
  for (const [tag, cmp, cols] of [['single', false, A0], ['overlay', true, A0], ['control_100_steps', false, small]]) {
    A = cols;
    const t0 = performance.now();
    const times = [];
    const charts = await make(cmp, times);
    await frame(); await frame();
    const t1 = performance.now();
    // live: one logged step per animation frame (a validation every 10th), 120 frames
    const per = [];
    const perDraw = [];
    let step = n;
    for (let f = 0; f < 120; f++) {
      await frame();
      const s = performance.now();
      step++;
      appendRow(A.train, step, { ...trainRow, step });
      if (f % 10 === 9) appendRow(A.val, step, { ...valRow, step });
      update(charts);
      per.push(performance.now() - s);
      await Promise.resolve(); // uPlot draws in a microtask queued by setData
      await Promise.resolve();
      perDraw.push(performance.now() - s);
    }
    await frame(); await frame();
    const t2 = performance.now();
    out[tag] = {
      points_per_series: cols_points(charts),
      create_per_chart: stats(times),
      create_long_tasks: tasksIn(t0 - 1, t1),
      live_data_7_charts: stats(per),
      live_data_and_draw_7_charts: stats(perDraw),
      live_long_tasks: tasksIn(t1, t2),
      live_long_frames: framesIn(t1, t2),
    };
    for (const { u } of charts) u.destroy();
    host.replaceChildren();
  }
  return out;
};
function cols_points(charts) {
  const d = charts[0].u.data;
  return { logged: charts[0].cols.steps.length, drawn_x: d[0].length };
}
`;

async function inChromium(): Promise<Record<string, unknown>> {
  const exe = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(exe)) return { skipped: `no Chromium at ${exe} (set CHROMIUM_PATH)` };
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const { build } = await import('esbuild');
  const out = await build({ stdin: { contents: BROWSER_ENTRY, resolveDir: root, loader: 'ts' }, bundle: true, format: 'iife', write: false, platform: 'browser', target: 'es2022' });
  const { chromium } = await import('@playwright/test');
  const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1600 } });
    await page.setContent('<!doctype html><html><body style="margin:0"></body></html>');
    await page.addScriptTag({ content: out.outputFiles[0]!.text });
    const res = await page.evaluate((n) => (globalThis as unknown as { detstudioChartsBench(n: number): Promise<Record<string, unknown>> }).detstudioChartsBench(n), N);
    return { browser: `Chromium ${browser.version()} (headless, software rendering)`, ...res };
  } finally {
    await browser.close();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  // Node: one chart's data (the loss chart: 6 keys) from 10^5 steps, alone and with an overlay.
  const make = (phase: number) => {
    const rows: Array<Record<string, number>> = [];
    for (let i = 1; i <= N; i++) {
      const d = Math.exp(-i / (N / 4)) + 0.2 + 0.1 * Math.sin(i * 0.37 + phase);
      rows.push({ lr: 0.02, loss: 1.35 * d, loss_rpn_cls: 0.1 * d, loss_rpn_bbox: 0.05 * d, loss_cls: 0.4 * d, loss_bbox: 0.3 * d, loss_mask: 0.5 * d, step: i });
    }
    return columnsFromScalars(rows).train;
  };
  const a = make(0);
  const b = make(1);
  const keys = ['loss', 'loss_bbox', 'loss_cls', 'loss_mask', 'loss_rpn_bbox', 'loss_rpn_cls'];
  const time = (fn: () => unknown, reps: number) => {
    fn();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const wall = (performance.now() - t0) / reps;
    const c = process.cpuUsage(c0);
    return { wall_ms: +wall.toFixed(2), cpu_ms: +((c.user + c.system) / 1000 / reps).toFixed(2) };
  };
  const node = {
    chart_data_loss_1e5: time(() => chartData({ cols: a, keys }), 20),
    chart_data_loss_1e5_overlay_1e5: time(() => chartData({ cols: a, keys }, { cols: b, keys }), 20),
  };
  let chromiumRes: Record<string, unknown>;
  try {
    chromiumRes = await inChromium();
  } catch (e) {
    chromiumRes = { error: (e as Error).message.split('\n')[0] };
  }
  return { steps: N, loadavg: loadavg().map((x) => +x.toFixed(2)), node, chromium: chromiumRes, long_task_ms: 50 };
}
