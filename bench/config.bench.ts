/**
 * Config resolve speed (issue #2 "Measure"): warm time per resolve of the Cityscapes Mask R-CNN
 * fine-tune config (entry + 4 bases) in Node, goal <= 10 ms so diagnostics can follow typing. Also the
 * full editor diagnostics pass (resolve + lint) and a cold resolve with the parse cache bypassed.
 */
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
  return {
    config: 'cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py (+4 bases)',
    first_resolve_ms: +firstMs.toFixed(3),
    warm_resolve: warm,
    diagnostics_warm: diag,
    diagnostics_while_typing: typing,
    goal_ms: 10,
    meets_goal: warm.median_ms <= 10,
  };
}
