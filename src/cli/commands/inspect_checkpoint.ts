/**
 * `detstudio inspect-checkpoint <file> [--json]`: reads a `.pth` (zip or legacy) or `.safetensors`
 * checkpoint through the allow-listed unpickler and prints its meta and, per tensor in file order,
 * shape, dtype, float64 sum and absolute sum and the first values. With `--json`:
 * `{"meta": …, "tensors": {"<key>": {"shape", "dtype", "sum", "abs_sum", "first"}}}`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkpointJson, readCheckpoint, stateDictBytes, summarizeTensor } from '../../checkpoint/index.ts';

/** One-line summary for `detstudio --help`. */
export const summary = 'print a .pth/.safetensors checkpoint\'s meta and per-tensor shape, dtype, sums and first values';

const USAGE = `Usage: detstudio inspect-checkpoint <file> [--json]

  <file>       a PyTorch .pth (zip or legacy format) or .safetensors checkpoint
  --json       print {"meta": ..., "tensors": {"<key>": {"shape", "dtype", "sum", "abs_sum", "first"}}}
  -h, --help   this help`;

function fmt(v: number): string {
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(6) : v.toFixed(6);
}

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    console.error(`detstudio inspect-checkpoint: ${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    console.error(`detstudio inspect-checkpoint: expected exactly one checkpoint file\n\n${USAGE}`);
    return 1;
  }
  const file = parsed.positionals[0]!;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (err) {
    console.error(`detstudio inspect-checkpoint: cannot read ${file}: ${(err as Error).message}`);
    return 1;
  }
  let ckpt;
  try {
    ckpt = readCheckpoint(bytes);
  } catch (err) {
    console.error(`detstudio inspect-checkpoint: ${file}: ${(err as Error).name}: ${(err as Error).message}`);
    return 1;
  }
  for (const w of ckpt.warnings) console.error(`warning: ${w}`);
  if (parsed.values.json) {
    const tensors: Record<string, unknown> = {};
    for (const [k, t] of ckpt.stateDict) {
      Object.defineProperty(tensors, k, { value: summarizeTensor(t), enumerable: true });
    }
    console.log(checkpointJson({ meta: ckpt.meta, tensors }));
    return 0;
  }
  let numel = 0;
  for (const t of ckpt.stateDict.values()) numel += t.data.length;
  const lines = [
    `${file}: ${ckpt.format}${ckpt.recordPrefix ? ` (records under '${ckpt.recordPrefix}/')` : ''}, ${ckpt.stateDict.size} tensors, ` +
      `${numel.toLocaleString('en-US')} values, ${(stateDictBytes(ckpt.stateDict) / 2 ** 20).toFixed(1)} MiB`,
  ];
  const extra = Object.keys(ckpt.extra);
  if (extra.length) lines.push(`other top-level entries: ${extra.join(', ')}`);
  const meta = ckpt.meta as Record<string, unknown> | null;
  if (meta && typeof meta === 'object') {
    const metaText = checkpointJson(meta);
    lines.push(`meta: ${metaText.length > 400 ? `${metaText.slice(0, 400)}… (${metaText.length} chars; --json shows all)` : metaText}`);
  }
  const rows = [...ckpt.stateDict].map(([k, t]) => {
    const s = summarizeTensor(t);
    return [k, s.dtype, `[${s.shape.join(', ')}]`, fmt(s.sum), fmt(s.abs_sum)];
  });
  const head = ['key', 'dtype', 'shape', 'sum', 'abs_sum'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  lines.push('', line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line));
  console.log(lines.join('\n'));
  return 0;
}
