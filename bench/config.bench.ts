/**
 * Config resolve speed (issue #2 "Measure"): warm time per resolve of the Cityscapes Mask R-CNN
 * fine-tune config (entry + 4 bases) in Node and in headless Chromium (the same code bundled with
 * esbuild), goal <= 10 ms so diagnostics can follow typing. Also the full editor diagnostics pass
 * (resolve + lint), warm and while typing (entry text changes every time).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_ROOT, BuiltinNodeFS } from '../src/configs/node.ts';
import { MemoryFS, diagnostics, resolveConfig } from '../src/config/index.ts';
import { listBuiltinConfigs } from '../src/configs/node.ts';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void, n: number): { median_ms: number; p90_ms: number; mean_ms: number } {
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  const s = [...ts].sort((a, b) => a - b);
  return { median_ms: +median(ts).toFixed(3), p90_ms: +s[Math.floor(s.length * 0.9)].toFixed(3), mean_ms: +(ts.reduce((a, b) => a + b, 0) / n).toFixed(3) };
}

const BROWSER_ENTRY = `
import { MemoryFS, diagnostics, resolveConfig } from './src/config/index.ts';
function time(fn, n) {
  const ts = [];
  for (let i = 0; i < n; i++) { const t0 = performance.now(); fn(); ts.push(performance.now() - t0); }
  const s = [...ts].sort((a, b) => a - b);
  return { median_ms: +s[Math.floor(n / 2)].toFixed(3), p90_ms: +s[Math.floor(n * 0.9)].toFixed(3), mean_ms: +(ts.reduce((a, b) => a + b, 0) / n).toFixed(3) };
}
globalThis.detstudioConfigBench = (files, path) => {
  const fs = new MemoryFS(files);
  const text = fs.read(path);
  const t0 = performance.now();
  const r = resolveConfig(path, fs);
  const first = performance.now() - t0;
  if (!r.ok) throw new Error(r.error.message);
  for (let i = 0; i < 50; i++) resolveConfig(path, fs);
  let k = 0;
  return {
    first_resolve_ms: +first.toFixed(3),
    warm_resolve: time(() => resolveConfig(path, fs), 300),
    diagnostics_warm: time(() => diagnostics(text, path, fs), 200),
    diagnostics_while_typing: time(() => diagnostics(text + '\\n# edit ' + k++ + '\\n', path, fs), 200),
  };
};
`;

/** The same measurement in headless Chromium (skipped with a reason when it cannot start). */
async function inChromium(files: [string, string][], path: string): Promise<Record<string, unknown>> {
  const exe = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(exe)) return { skipped: `no Chromium at ${exe} (set CHROMIUM_PATH)` };
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const { build } = await import('esbuild');
  const out = await build({ stdin: { contents: BROWSER_ENTRY, resolveDir: root, loader: 'ts' }, bundle: true, format: 'iife', write: false, platform: 'browser', target: 'es2022' });
  const code = out.outputFiles[0].text;
  const { chromium } = await import('@playwright/test');
  const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage();
    await page.addScriptTag({ content: code });
    const res = await page.evaluate(({ f, p }) => (globalThis as unknown as { detstudioConfigBench(f: [string, string][], p: string): Record<string, unknown> }).detstudioConfigBench(f, p), { f: files, p: path });
    return { browser: `Chromium ${browser.version()}`, ...res };
  } finally {
    await browser.close();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const disk = new BuiltinNodeFS();
  // in memory, as in the browser (no disk reads inside the timed loop)
  const mem = new MemoryFS(listBuiltinConfigs().map((f) => [`${BUILTIN_ROOT}/${f}`, disk.read(`${BUILTIN_ROOT}/${f}`)!] as [string, string]));
  const path = `${BUILTIN_ROOT}/cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py`;
  const text = mem.read(path)!;
  const first = performance.now();
  const r = resolveConfig(path, mem);
  const firstMs = performance.now() - first;
  if (!r.ok) throw new Error(r.error.message);
  for (let i = 0; i < 50; i++) resolveConfig(path, mem); // warm-up
  const warm = time(() => resolveConfig(path, mem), 300);
  const diag = time(() => diagnostics(text, path, mem), 200);
  // "typing": a different entry text each time (entry re-parsed, bases from the parse cache)
  let k = 0;
  const typing = time(() => diagnostics(`${text}\n# edit ${k++}\n`, path, mem), 200);
  let chromiumRes: Record<string, unknown>;
  try {
    chromiumRes = await inChromium(listBuiltinConfigs().map((f) => [`${BUILTIN_ROOT}/${f}`, mem.read(`${BUILTIN_ROOT}/${f}`)!]), path);
  } catch (e) {
    chromiumRes = { error: (e as Error).message.split('\n')[0] };
  }
  return {
    config: 'cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py (+4 bases)',
    first_resolve_ms: +firstMs.toFixed(3),
    warm_resolve: warm,
    diagnostics_warm: diag,
    diagnostics_while_typing: typing,
    goal_ms: 10,
    meets_goal: warm.median_ms <= 10,
    chromium: chromiumRes,
  };
}
