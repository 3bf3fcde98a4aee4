import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { fixturePath, readFixtureJson } from '../../testing/fixtures';
import { run } from './features';

/** JSON → Python literal (the config loader reads `.py`). */
function py(v: unknown): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  if (typeof v === 'object') return `dict(${Object.entries(v as object).map(([k, x]) => `${k}=${py(x)}`).join(', ')})`;
  return JSON.stringify(v);
}

describe('detstudio features', () => {
  it('prints C2-C5 and P2-P6 statistics equal to the PyTorch reference', async () => {
    const cfg = readFixtureJson<Record<string, unknown>>('mmdet-losses', 'case_0', 'config.json').l1;
    const dir = mkdtempSync(join(tmpdir(), 'detstudio-features-'));
    const cfgFile = join(dir, 'tiny.py');
    writeFileSync(cfgFile, `model = ${py(cfg)}\n`);
    const logs: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void logs.push(String(s)));
    const code = await run([
      cfgFile,
      fixturePath('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth'),
      '--input',
      fixturePath('tiny-mask-rcnn', 'input.bin'),
      '--shape',
      '1,3,128,192',
      '--json',
      '--backend',
      'cpu',
    ]);
    spy.mockRestore();
    expect(code).toBe(0);
    const out = JSON.parse(logs.join('\n'));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const fwd: any = readFixtureJson('tiny-mask-rcnn', 'forward.json');
    for (const [k, ref] of Object.entries(fwd.backbone as Record<string, { shape: number[]; sum: number; abs_sum: number }>)) {
      expect(out.backbone[k].shape).toEqual(ref.shape);
      expect(Math.abs(out.backbone[k].abs_sum - ref.abs_sum) / ref.abs_sum).toBeLessThan(1e-5);
    }
    for (const [k, ref] of Object.entries(fwd.fpn as Record<string, { shape: number[]; sum: number; abs_sum: number }>)) {
      expect(out.neck[k].shape).toEqual(ref.shape);
      expect(Math.abs(out.neck[k].sum - ref.sum) / ref.abs_sum).toBeLessThan(1e-5);
    }
  });

  it('fails clearly on a wrong --shape', async () => {
    const errs: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((s: unknown) => void errs.push(String(s)));
    const code = await run(['a.py', 'b.pth', '--input', fixturePath('tiny-mask-rcnn', 'input.bin'), '--shape', '1,3,10,10']);
    spy.mockRestore();
    expect(code).toBe(1);
    expect(errs.join('\n')).toMatch(/--input has 294912 bytes but --shape 1,3,10,10 needs 1200/);
  });
});
