import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readCheckpoint } from '../../checkpoint/index.ts';
import { fixturePath, readFixtureJson, repoRoot } from '../../testing/fixtures.ts';
import { run as convert } from './convert.ts';
import { run as inspect } from './inspect_checkpoint.ts';

interface Manifest {
  meta: unknown;
  files: Record<string, { keys: { key: string; shape: number[]; dtype: string }[]; probes: Record<string, { first8: number[]; sum_float64: number; abs_sum_float64: number }> }>;
}

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await fn();
  return { code, out: out.join('\n'), err: err.join('\n') };
}

afterEach(() => vi.restoreAllMocks());

describe('detstudio inspect-checkpoint', () => {
  it('--json (spawned CLI) prints meta and per-tensor shape, dtype, float64 sums and first values in file order', () => {
    const m = readFixtureJson<Manifest>('checkpoints', 'manifest.json');
    const file = 'subset_zip_fp16.pth';
    const out = execFileSync(process.execPath, [join(repoRoot, 'bin', 'detstudio.mjs'), 'inspect-checkpoint', fixturePath('checkpoints', file), '--json'], {
      encoding: 'utf8',
      cwd: repoRoot,
    });
    const got = JSON.parse(out) as { meta: unknown; tensors: Record<string, { shape: number[]; dtype: string; sum: number; abs_sum: number; first: number[] }> };
    expect(got.meta).toEqual(m.meta);
    const info = m.files[file]!;
    expect(Object.keys(got.tensors)).toEqual(info.keys.map((k) => k.key));
    for (const k of info.keys) {
      expect(got.tensors[k.key]!.shape).toEqual(k.shape);
      expect(got.tensors[k.key]!.dtype).toBe(k.dtype);
    }
    for (const [key, p] of Object.entries(info.probes)) {
      const t = got.tensors[key]!;
      expect(t.first).toEqual(p.first8);
      expect(Math.abs(t.sum - p.sum_float64)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(p.sum_float64)));
      expect(Math.abs(t.abs_sum - p.abs_sum_float64)).toBeLessThanOrEqual(1e-9 * Math.max(1, p.abs_sum_float64));
    }
  });

  it('prints a table, and fails with a clear message on a non-checkpoint', async () => {
    const ok = await capture(() => inspect([fixturePath('checkpoints', 'subset_legacy_fp32.pth')]));
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('torch-legacy');
    expect(ok.out).toMatch(/backbone\.conv1\.weight\s+float32\s+\[64, 3, 7, 7\]/);
    const bad = await capture(() => inspect([fixturePath('checkpoints', 'manifest.json')]));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/not a PyTorch checkpoint/);
  });
});

describe('detstudio convert', () => {
  it('converts .pth → .safetensors → .pth bit-exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detstudio-convert-'));
    const src = fixturePath('checkpoints', 'subset_zip_fp32.pth');
    expect((await capture(() => convert([src, join(dir, 'a.safetensors')]))).code).toBe(0);
    expect((await capture(() => convert([join(dir, 'a.safetensors'), join(dir, 'b.pth')]))).code).toBe(0);
    const a = readCheckpoint(new Uint8Array(readFileSync(src)));
    const b = readCheckpoint(new Uint8Array(readFileSync(join(dir, 'b.pth'))));
    expect(b.format).toBe('torch-zip');
    expect([...b.stateDict.keys()]).toEqual([...a.stateDict.keys()]);
    for (const [k, t] of a.stateDict) {
      const u = b.stateDict.get(k)!;
      expect(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(true);
    }
    expect(b.meta).toEqual(JSON.parse(JSON.stringify(a.meta)));
  });

  it('rejects an unknown output extension and a truncated input with exit code 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detstudio-convert-'));
    const src = fixturePath('checkpoints', 'subset_zip_fp32.pth');
    const r = await capture(() => convert([src, join(dir, 'out.onnx')]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\.pth or \.safetensors/);
    writeFileSync(join(dir, 'cut.pth'), readFileSync(src).subarray(0, 100_000));
    const t = await capture(() => convert([join(dir, 'cut.pth'), join(dir, 'x.safetensors')]));
    expect(t.code).toBe(1);
    expect(t.err).toMatch(/truncated/);
  });
});
