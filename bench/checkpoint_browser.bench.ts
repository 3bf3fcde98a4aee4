/**
 * Checkpoint storage in Chromium: save and load of a Mask R-CNN R50-FPN training checkpoint with
 * its SGD momentum buffers (~350 MB, the real MMDetection keys and shapes) through the studio's
 * `CheckpointDb` on IndexedDB, and its export to `.pth` (`mmdetCheckpointFromRecord` +
 * `writePthParts`), with and without the optimizer state.
 *
 * Self-contained: starts a Vite dev server on a free port for `bench/checkpoint_browser/` (a page
 * importing the real src modules; the studio build is not touched), launches the system Chromium
 * (`CHROMIUM_PATH`, default /usr/bin/chromium) with Playwright on a fresh profile, and stops both.
 * Times are measured in the page (`performance.now()`); CPU seconds per phase come from Chromium's
 * `SystemInfo.getProcessInfo` (all its processes; IndexedDB runs outside the renderer), and peak
 * resident memory per phase from /proc (`VmHWM`, reset through `clear_refs` before each phase).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type CDPSession, type Page } from '@playwright/test';
import { createServer } from 'vite';
import { BASE_FLAGS } from '../playwright.config.ts';
import { readFixtureJson } from '../src/testing/fixtures.ts';
import type { CheckpointBenchApi, KeySpec } from './checkpoint_browser/main.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MB = 1e6;
const REPS = 3;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface ProcInfo {
  type: string;
  id: number;
  cpuTime: number;
}

/** CPU seconds per Chromium process type, and per-phase peak RSS from /proc. */
class ChromiumProcesses {
  constructor(private readonly cdp: CDPSession) {}

  async list(): Promise<ProcInfo[]> {
    return ((await this.cdp.send('SystemInfo.getProcessInfo')) as { processInfo: ProcInfo[] }).processInfo;
  }

  /** Resets every process's peak RSS (`echo 5 > /proc/PID/clear_refs`); false where not allowed. */
  async resetPeaks(): Promise<boolean> {
    let ok = true;
    for (const p of await this.list()) {
      try {
        writeFileSync(`/proc/${p.id}/clear_refs`, '5');
      } catch {
        ok = false;
      }
    }
    return ok;
  }

  /**
   * Peak RSS (`VmHWM`, or current RSS with `field` 'VmRSS') in MiB per process type since the last
   * reset (the largest process of each type).
   */
  async peaks(field: 'VmHWM' | 'VmRSS' = 'VmHWM'): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of await this.list()) {
      try {
        const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${p.id}/status`, 'utf8'));
        if (m) out[p.type] = Math.max(out[p.type] ?? 0, Math.round(Number(m[1]) / 1024));
      } catch {
        // The process exited.
      }
    }
    return out;
  }
}

interface Phase<T> {
  value: T;
  cpu_s: Record<string, number>;
  peak_rss_MiB: Record<string, number>;
}

async function phase<T>(procs: ChromiumProcesses, fn: () => Promise<T>): Promise<Phase<T>> {
  await procs.resetPeaks();
  const before = new Map((await procs.list()).map((p) => [p.id, p]));
  const value = await fn();
  const cpu: Record<string, number> = {};
  for (const p of await procs.list()) cpu[p.type] = (cpu[p.type] ?? 0) + p.cpuTime - (before.get(p.id)?.cpuTime ?? 0);
  for (const k of Object.keys(cpu)) cpu[k] = +cpu[k]!.toFixed(2);
  return { value, cpu_s: cpu, peak_rss_MiB: await procs.peaks() };
}

function call<K extends keyof CheckpointBenchApi>(
  page: Page,
  name: K,
  ...args: Parameters<CheckpointBenchApi[K]>
): Promise<Awaited<ReturnType<CheckpointBenchApi[K]>>> {
  return page.evaluate(
    ([n, a]) => (window.__ckptBench![n as keyof CheckpointBenchApi] as (...x: unknown[]) => unknown)(...(a as unknown[])),
    [name, args] as const,
  ) as never;
}

const round = (x: number) => Math.round(x);

/** Runs the benchmark; times in ms, sizes in bytes / MB (1e6), CPU in seconds, memory in MiB. */
export async function run(): Promise<Record<string, unknown>> {
  const keys = readFixtureJson<{ keys: KeySpec[] }>('checkpoints', 'mask_rcnn_r50_fpn_coco_keys.json').keys;
  const port = await freePort();
  const server = await createServer({
    configFile: false,
    root: ROOT,
    cacheDir: join(tmpdir(), 'detstudio-bench-vite'),
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port, strictPort: true, hmr: false, watch: null },
    optimizeDeps: { entries: ['bench/checkpoint_browser/index.html'] },
  });
  let browser: Browser | null = null;
  const nodeCpu0 = process.cpuUsage();
  try {
    await server.listen();
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: BASE_FLAGS });
    const procs = new ChromiumProcesses(await browser.newBrowserCDPSession());
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/bench/checkpoint_browser/index.html`);
    await page.waitForFunction(() => window.__ckptBench !== undefined, undefined, { timeout: 180_000 });

    const peakResets = await procs.resetPeaks();
    const made = await phase(procs, () => call(page, 'make', keys));
    await call(page, 'open');
    const saves: Array<Phase<{ id: string; bytes: number; ms: number }>> = [];
    for (let i = 0; i < REPS; i++) {
      const s = await phase(procs, () => call(page, 'save'));
      saves.push(s);
      // Keep one stored copy: delete the previous one (not timed), as max_keep_ckpts would.
      if (i > 0) await call(page, 'remove', saves[i - 1]!.value.id);
    }
    const id = saves[saves.length - 1]!.value.id;
    const usage = await call(page, 'usage');
    const loads: Array<Phase<{ ms: number; ok: boolean }>> = [];
    for (let i = 0; i < REPS; i++) loads.push(await phase(procs, () => call(page, 'load', id)));
    type Exported = Phase<Awaited<ReturnType<CheckpointBenchApi['exportPth']>>>;
    const exportsFull: Exported[] = [];
    const exportsWeights: Exported[] = [];
    for (let i = 0; i < 2; i++) {
      exportsFull.push(await phase(procs, () => call(page, 'exportPth', id, true)));
      exportsWeights.push(await phase(procs, () => call(page, 'exportPth', id, false)));
    }
    const best = <T extends { value: { ms: number } }>(xs: T[]): T => xs.reduce((a, b) => (b.value.ms < a.value.ms ? b : a));
    const bytes = saves[0]!.value.bytes;
    const bs = best(saves);
    const bl = best(loads);
    const ef = best(exportsFull);
    const ew = best(exportsWeights);
    const exportSummary = (p: Exported, all: Exported[]) => ({
      bytes: p.value.bytes,
      ms_all: all.map((x) => round(x.value.ms)),
      ms: round(p.value.ms),
      read_ms: round(p.value.readMs),
      to_pytorch_layout_ms: round(p.value.convertMs),
      write_pth_parts_ms: round(p.value.serialiseMs),
      concat_ms: round(p.value.concatMs),
      MBps: round(p.value.bytes / MB / (p.value.ms / 1000)),
      check_readPth_tensors: p.value.tensors,
      check_readPth_ms: round(p.value.parseMs),
      cpu_s: p.cpu_s,
      peak_rss_MiB: p.peak_rss_MiB,
    });
    const nodeCpu = process.cpuUsage(nodeCpu0);
    return {
      chromium: browser.version(),
      loadavg_1_5_15: loadavg().map((x) => +x.toFixed(2)),
      record: {
        tensors: made.value.tensors,
        weights_MB: +(made.value.weightBytes / MB).toFixed(1),
        momentum_buffers: made.value.momentumBuffers,
        momentum_MB: +(made.value.momentumBytes / MB).toFixed(1),
        stored_bytes: bytes,
        make_ms: round(made.value.ms),
        peak_rss_MiB: made.peak_rss_MiB,
      },
      save: {
        ms_all: saves.map((s) => round(s.value.ms)),
        ms: round(bs.value.ms),
        MBps: round(bytes / MB / (bs.value.ms / 1000)),
        cpu_s: bs.cpu_s,
        peak_rss_MiB: bs.peak_rss_MiB,
      },
      load: {
        ms_all: loads.map((l) => round(l.value.ms)),
        ms: round(bl.value.ms),
        MBps: round(bytes / MB / (bl.value.ms / 1000)),
        values_match: loads.every((l) => l.value.ok),
        cpu_s: bl.cpu_s,
        peak_rss_MiB: bl.peak_rss_MiB,
      },
      export_pth_with_optimizer: exportSummary(ef, exportsFull),
      export_pth_weights_only: exportSummary(ew, exportsWeights),
      idb_usage_MB_one_checkpoint: +(usage / MB).toFixed(1),
      rss_at_end_MiB: await procs.peaks('VmRSS'),
      peak_rss_reset_per_phase: peakResets,
      page_errors: pageErrors,
      bench_process_cpu_s: +((nodeCpu.user + nodeCpu.system) / 1e6).toFixed(2),
    };
  } finally {
    await browser?.close();
    await server.close();
  }
}
