/**
 * Data benchmarks in Chromium (system /usr/bin/chromium or CHROMIUM_PATH, through Playwright), in a
 * dedicated Web Worker as the studio's dataset and training workers run them:
 *  - import rate (images/s) of a generated Cityscapes-sized tree: DATA_BROWSER_BENCH_IMAGES images
 *    (default 200) of 2048×1024, each a 16-bit instanceIds PNG, a polygons json and an RGB PNG,
 *    made from 6 distinct scenes (bench/data.bench.ts's generator; the bytes are shared between
 *    names), imported by `importDataset` — the dataset worker's import code — from an in-memory tree;
 *    with the renderer process's peak RSS and CPU time (from /proc) while it imports;
 *  - one training sample's data path on a 2048×1024 RGB PNG: decode with `createImageBitmap`
 *    (`createBitmapImageDecoder`, the training worker's decoder) to BGR, RandomResize(scale=[(2048,
 *    800), (2048, 1024)], keep_ratio) + RandomFlip(prob=1) fused as `Compose` runs them, PackDetInputs,
 *    DetDataPreprocessor normalise (goal ≤ 60 ms). Wall times (a worker has no CPU clock);
 *  - the same sample through the native path (`Compose` running LoadImageFromFile + RandomResize +
 *    RandomFlip(prob=0.5) + PackDetInputs, the first three as one span: scale and direction drawn
 *    first, `createImageBitmap` decodes, a scaled `drawImage` resizes, one RGBA copy mirrors and
 *    writes BGR channel planes that PackDetInputs takes as they are, see
 *    src/data/transforms/browser_fast_path.ts), then normalise; median and p90, next to the exact path
 *    (same Compose, same seeds, `nativeResize: false`), with the packed pixels' difference between them;
 *    then each path alone for 20 samples with the renderer process's CPU time per sample (/proc);
 *  - the studio's training-worker set-up: the native resize on a decode worker
 *    (src/data/off_thread_decoder.ts, src/worker/decode.worker.ts) against the same decoder on the
 *    pipeline's thread: latency, and how much of the pipeline's thread a sample takes (a
 *    MessageChannel ping loop's rate against its idle rate).
 *
 * The worker is one esbuild bundle of the real modules, started from a blob URL in a blank page.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeScenes } from './data.bench.ts';

const WORKER_SOURCE = `
import { importDataset } from '../src/data/import_dataset.ts';
import { MemoryFileTree } from '../src/data/file_tree.ts';
import { createBitmapImageDecoder } from '../src/data/browser_image_decoder.ts';
import { LoadImageFromFile, defaultImageDecoder, toBgr } from '../src/data/transforms/loading.ts';
import { Compose } from '../src/data/transforms/compose.ts';
import { RandomResize } from '../src/data/transforms/resize.ts';
import { RandomFlip } from '../src/data/transforms/flip.ts';
import { PackDetInputs } from '../src/data/transforms/formatting.ts';
import { detDataPreprocess } from '../src/data/transforms/data_preprocessor.ts';
import { seededRng } from '../src/data/transforms/types.ts';
import { withOffThreadResize } from '../src/data/off_thread_decoder.ts';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

self.onmessage = async (ev) => {
  try {
    const { scenes, n, reps, phase } = ev.data;
    if (phase === 'import') {
      const tree = new MemoryFileTree();
      for (let i = 0; i < n; i++) {
        const s = scenes[i % scenes.length];
        const stem = 'benchcity_' + String(i).padStart(6, '0') + '_000019';
        tree.set('gtFine/train/benchcity/' + stem + '_gtFine_instanceIds.png', s.instanceIds);
        tree.set('gtFine/train/benchcity/' + stem + '_gtFine_polygons.json', s.polygons);
        tree.set('leftImg8bit/train/benchcity/' + stem + '_leftImg8bit.png', s.image);
      }
      const t0 = performance.now();
      const res = await importDataset(tree);
      const seconds = (performance.now() - t0) / 1000;
      const images = res.splits.reduce((k, s) => k + s.coco.images.length, 0);
      const annotations = res.splits.reduce((k, s) => k + (s.coco.annotations ? s.coco.annotations.length : 0), 0);
      const errors = res.issues.filter((i) => i.severity === 'error').length;
      self.postMessage({ ok: { images, annotations, errors, seconds } });
      return;
    }
    const png = scenes[0].image;
    const bitmapDecoder = createBitmapImageDecoder();
    const cfg0 = { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], bgr_to_rgb: true, pad_size_divisor: 32 };
    if (phase === 'offthread') {
      // The studio's training worker: the native resize on a decode worker (off_thread_decoder.ts)
      // against the same decoder on this thread. Besides the latency, how much of this thread the
      // samples take: a MessageChannel ping loop runs alongside, and its ping rate against the idle
      // rate gives the share of the time this thread was busy.
      const mk = (decodeImage) => new Compose(
        [
          new LoadImageFromFile({}, { readFile: async () => png, decodeImage }),
          new RandomResize({ scale: [[2048, 800], [2048, 1024]], keep_ratio: true }, seededRng(21)),
          new RandomFlip({ prob: 0.5 }, seededRng(22)),
          new PackDetInputs(),
        ],
        { readFile: async () => png },
      );
      const pingLoop = () => {
        const ch = new MessageChannel();
        let n = 0;
        let run = true;
        ch.port1.onmessage = () => { n++; if (run) ch.port2.postMessage(0); };
        ch.port2.postMessage(0);
        return { stop: () => { run = false; ch.port1.close(); return n; } };
      };
      const idle = pingLoop();
      await new Promise((r) => setTimeout(r, 300));
      const idleRate = idle.stop() / 300;
      const offDecoder = withOffThreadResize(createBitmapImageDecoder(), () => new Worker(ev.data.decodeWorkerUrl));
      const res = {};
      for (const [name, dec] of [['local', createBitmapImageDecoder()], ['off_thread', offDecoder], ['local_again', createBitmapImageDecoder()]]) {
        const c = mk(dec);
        await c.pack({ img_path: 'bench.png', gt_bboxes: new Float32Array(0) }); // warm-up (starts the worker)
        const ts = [];
        const ping = pingLoop();
        const t0 = performance.now();
        for (let rep = 0; rep < ev.data.reps; rep++) {
          const s0 = performance.now();
          await c.pack({ img_path: 'bench.png', gt_bboxes: new Float32Array(0) });
          ts.push(performance.now() - s0);
        }
        const dt = performance.now() - t0;
        const pings = ping.stop();
        const busy = Math.max(0, 1 - pings / (idleRate * dt));
        res[name] = { wall_ms_median: Math.round(median(ts) * 10) / 10, thread_busy_ms_per_sample: Math.round((busy * dt / ev.data.reps) * 10) / 10 };
      }
      res.off_thread_answered = offDecoder.offThreadCount();
      offDecoder.close();
      self.postMessage({ ok: res });
      return;
    }
    if (phase === 'cpu') {
      // Only one path, so that the renderer's CPU time (read from /proc by the caller) is its own.
      const decodeImage = ev.data.native ? bitmapDecoder : createBitmapImageDecoder(globalThis, { nativeResize: false });
      const c = new Compose(
        [
          new LoadImageFromFile({}, { readFile: async () => png, decodeImage }),
          new RandomResize({ scale: [[2048, 800], [2048, 1024]], keep_ratio: true }, seededRng(9)),
          new RandomFlip({ prob: 0.5 }, seededRng(10)),
          new PackDetInputs(),
        ],
        { readFile: async () => png },
      );
      const ts = [];
      for (let rep = 0; rep < reps; rep++) {
        const t0 = performance.now();
        detDataPreprocess([await c.pack({ img_path: 'bench.png', gt_bboxes: new Float32Array(0) })], cfg0, true);
        ts.push(performance.now() - t0);
      }
      self.postMessage({ ok: { wall_ms_median: Math.round(median(ts) * 10) / 10 } });
      return;
    }
    // createImageBitmap's pixels against the pure-JS PNG decoder, for two images through the kept canvas.
    let bitmapExact = true;
    for (const s of scenes.slice(0, 2)) {
      const a = toBgr(await bitmapDecoder(s.image, 'a.png')).data;
      const b = toBgr(defaultImageDecoder(s.image, 'b.png')).data;
      bitmapExact = bitmapExact && a.length === b.length && a.every((v, i) => v === b[i]);
    }
    const exactDecoder = createBitmapImageDecoder(globalThis, { nativeResize: false });
    const load = new LoadImageFromFile({}, { readFile: async () => png, decodeImage: exactDecoder });
    const fused = new Compose(
      [new RandomResize({ scale: [[2048, 800], [2048, 1024]], keep_ratio: true }, seededRng(3)), new RandomFlip({ prob: 1.0 })],
      { readFile: async () => png },
    );
    const pack = new PackDetInputs();
    const cfg = { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], bgr_to_rgb: true, pad_size_divisor: 32 };
    const names = ['decode_bgr', 'resize_flip_fused', 'pack', 'normalise_pad', 'total'];
    const t = Object.fromEntries(names.map((k) => [k, []]));
    for (let rep = 0; rep < reps + 2; rep++) {
      const m = [performance.now()];
      const loaded = await load.transform({ img_path: 'bench.png', gt_bboxes: new Float32Array(0) });
      m.push(performance.now());
      const r = await fused.run({ ...loaded });
      m.push(performance.now());
      const packed = pack.pack(r);
      m.push(performance.now());
      detDataPreprocess([packed], cfg, true);
      m.push(performance.now());
      if (rep < 2) continue;
      for (let k = 0; k < 4; k++) t[names[k]].push(m[k + 1] - m[k]);
      t.total.push(m[4] - m[0]);
    }
    // The native path as the studio's training pipeline runs it: LoadImageFromFile + RandomResize +
    // RandomFlip as one Compose span (draws first, decode, scaled drawImage, then one RGBA copy that
    // mirrors and, PackDetInputs following, writes BGR channel planes, which pack without a copy),
    // against the exact path through the same Compose with the same seed (same draws), pixels compared.
    const pipe = (decodeImage, seed) =>
      new Compose(
        [
          new LoadImageFromFile({}, { readFile: async () => png, decodeImage }),
          new RandomResize({ scale: [[2048, 800], [2048, 1024]], keep_ratio: true }, seededRng(seed)),
          new RandomFlip({ prob: 0.5 }, seededRng(seed + 1)),
          new PackDetInputs(),
        ],
        { readFile: async () => png },
      );
    const fast = pipe(bitmapDecoder, 5);
    const exact = pipe(exactDecoder, 5);
    const nf = ['decode_resize_flip_pack', 'normalise_pad', 'total'];
    const tf = Object.fromEntries(nf.map((k) => [k, []]));
    const te = [];
    let maxDiff = 0;
    let sumDiff = 0;
    let count = 0;
    let metaEqual = true;
    for (let rep = 0; rep < reps + 2; rep++) {
      const m = [performance.now()];
      const packed = await fast.pack({ img_path: 'bench.png', gt_bboxes: new Float32Array(0) });
      m.push(performance.now());
      detDataPreprocess([packed], cfg, true);
      m.push(performance.now());
      const e0 = performance.now();
      const pe = await exact.pack({ img_path: 'bench.png', gt_bboxes: new Float32Array(0) });
      detDataPreprocess([pe], cfg, true);
      const e1 = performance.now();
      metaEqual = metaEqual && JSON.stringify(packed.data_samples.metainfo) === JSON.stringify(pe.data_samples.metainfo);
      const a = packed.inputs.data;
      const b = pe.inputs.data;
      if (a.length !== b.length) metaEqual = false;
      else if (rep < 4) {
        for (let i = 0; i < a.length; i++) {
          const d = Math.abs(a[i] - b[i]);
          if (d > maxDiff) maxDiff = d;
          sumDiff += d;
        }
        count += a.length;
      }
      if (rep < 2) continue;
      for (let k = 0; k < 2; k++) tf[nf[k]].push(m[k + 1] - m[k]);
      tf.total.push(m[2] - m[0]);
      te.push(e1 - e0);
    }
    const round = (v) => Math.round(v * 10) / 10;
    const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))];
    self.postMessage({
      ok: {
        bitmap_decode_equals_png_decoder: bitmapExact,
        sample_wall_ms_median: Object.fromEntries(names.map((k) => [k, round(median(t[k]))])),
        sample_wall_ms_min: Object.fromEntries(names.map((k) => [k, round(Math.min(...t[k]))])),
        native_sample_wall_ms_median: Object.fromEntries(nf.map((k) => [k, round(median(tf[k]))])),
        native_sample_wall_ms_p90: Object.fromEntries(nf.map((k) => [k, round(p90(tf[k]))])),
        exact_sample_wall_ms_median: round(median(te)),
        exact_sample_wall_ms_p90: round(p90(te)),
        native_vs_exact_metainfo_equal: metaEqual,
        native_vs_exact_max_abs_diff: maxDiff,
        native_vs_exact_mean_abs_diff: +(sumDiff / count).toFixed(4),
      },
    });
  } catch (e) {
    self.postMessage({ error: String((e && e.stack) || e) });
  }
};
`;

/** Processes below `root` (by parent pid), with their command lines. */
function descendants(root: number): Array<{ pid: number; cmd: string }> {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p !== root) continue;
      try {
        out.push({ pid, cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') });
      } catch {
        // ended
      }
      break;
    }
  }
  return out;
}

/** RSS (bytes) and CPU seconds (user + system) of a process, or null once it is gone. */
function procUsage(pid: number): { rss: number; cpuSeconds: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    const rssPages = Number(f[21]); // field 24
    return { rss: rssPages * 4096, cpuSeconds: ticks / 100 };
  } catch {
    return null;
  }
}

/** Runs the Chromium data benchmarks. */
export async function run(): Promise<Record<string, unknown>> {
  const here = dirname(fileURLToPath(import.meta.url));
  const n = Number(process.env.DATA_BROWSER_BENCH_IMAGES ?? 200);
  let esbuild: typeof import('esbuild');
  let chromium: typeof import('playwright').chromium;
  try {
    esbuild = await import('esbuild');
    ({ chromium } = await import('playwright'));
  } catch (e) {
    return { skipped: `esbuild/playwright unavailable: ${(e as Error).message}` };
  }
  const bundle = await esbuild.build({
    stdin: { contents: WORKER_SOURCE, resolveDir: here, loader: 'ts', sourcefile: 'data_browser_worker.ts' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  const code = bundle.outputFiles[0]!.text;
  const decodeBundle = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('../src/worker/decode.worker.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  const decodeCode = decodeBundle.outputFiles[0]!.text;
  const scenes = makeScenes(6).map((s) => ({
    instanceIds: Buffer.from(s.instanceIds).toString('base64'),
    polygons: Buffer.from(s.polygons).toString('base64'),
    image: Buffer.from(s.image).toString('base64'),
  }));
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  let browser;
  try {
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu-sandbox', '--no-first-run', '--disable-background-networking'] });
  } catch (e) {
    return { skipped: `no browser at ${executablePath}: ${(e as Error).message.split('\n')[0]}` };
  }
  try {
    const page = await browser.newPage();
    // The worker lives in the page's renderer process: sample that process while it imports.
    await page.evaluate(
      ({ code, scenes, decodeCode }) => {
        // No named inner functions here: the bench runs through tsx, whose keepNames helper does not exist in the page.
        const w = window as unknown as Record<string, unknown>;
        w.benchScenes = scenes.map((s) =>
          Object.fromEntries(Object.entries(s).map(([k, b64]) => [k, Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))])),
        );
        w.benchWorker = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
        w.benchDecodeWorkerUrl = URL.createObjectURL(new Blob([decodeCode], { type: 'text/javascript' }));
      },
      { code, scenes, decodeCode },
    );
    const ask = (msg: Record<string, unknown>): Promise<{ ok?: Record<string, unknown>; error?: string }> =>
      page.evaluate(
        (msg) =>
          new Promise((resolve) => {
            const w = window as unknown as { benchWorker: Worker; benchScenes: unknown; benchDecodeWorkerUrl: string };
            w.benchWorker.onmessage = (ev) => resolve(ev.data);
            w.benchWorker.onerror = (ev) => resolve({ error: `worker failed: ${String(ev.message)}` });
            w.benchWorker.postMessage({ ...msg, scenes: w.benchScenes, decodeWorkerUrl: w.benchDecodeWorkerUrl });
          }),
        msg,
      );
    const renderers = descendants(process.pid).filter((p) => p.cmd.includes('--type=renderer'));
    const before = renderers.map((p) => procUsage(p.pid));
    let peakRss = 0;
    const sample = (): void => {
      for (const p of renderers) peakRss = Math.max(peakRss, procUsage(p.pid)?.rss ?? 0);
    };
    sample();
    const rssBefore = peakRss;
    const timer = setInterval(sample, 50);
    const imported = await ask({ phase: 'import', n });
    clearInterval(timer);
    sample();
    const after = renderers.map((p) => procUsage(p.pid));
    const rendererCpu = after.reduce((s, u, i) => s + (u && before[i] ? u.cpuSeconds - before[i]!.cpuSeconds : 0), 0);
    if (imported.error) return { error: imported.error };
    const imp = imported.ok as { images: number; annotations: number; errors: number; seconds: number };
    const sampled = await ask({ phase: 'sample', reps: 20 });
    if (sampled.error) return { error: sampled.error };
    const offThread = await ask({ phase: 'offthread', reps: 16 });
    if (offThread.error) return { error: offThread.error };
    // Renderer CPU time per sample (the worker has no CPU clock; /proc of the renderer process).
    const cpuPerSample: Record<string, unknown> = {};
    for (const native of [true, false]) {
      const reps = 20;
      const u0 = renderers.map((p) => procUsage(p.pid));
      const res = await ask({ phase: 'cpu', native, reps });
      const u1 = renderers.map((p) => procUsage(p.pid));
      if (res.error) return { error: res.error };
      const cpu = u1.reduce((s, u, i) => s + (u && u0[i] ? u.cpuSeconds - u0[i]!.cpuSeconds : 0), 0);
      cpuPerSample[native ? 'native' : 'exact'] = { renderer_cpu_ms_per_sample: +((cpu * 1000) / reps).toFixed(1), ...res.ok };
    }
    return {
      browser: `chromium ${browser.version()}`,
      import_images: imp.images,
      import_annotations: imp.annotations,
      import_error_issues: imp.errors,
      import_images_per_s: +(imp.images / imp.seconds).toFixed(2),
      import_images_per_renderer_cpu_s: rendererCpu > 0 ? +(imp.images / rendererCpu).toFixed(2) : null,
      import_renderer_rss_before_mib: +(rssBefore / 2 ** 20).toFixed(0),
      import_renderer_peak_rss_mib: +(peakRss / 2 ** 20).toFixed(0),
      renderer_processes: renderers.length,
      ...sampled.ok,
      sample_cpu: cpuPerSample,
      native_sample_off_thread: offThread.ok,
      sample_goal_ms: 60,
      sample_goal_note:
        'The studio trains with the native path; its worker share is native_sample_wall_ms_median.decode_resize_flip_pack. ' +
        'normalise_pad is the typed-array DetDataPreprocessor; in training the model normalises and pads on the device (tfjs), as MMDetection does on the GPU.',
      load_average: loadavg().map((x) => +x.toFixed(1)),
    };
  } finally {
    await browser.close();
  }
}
