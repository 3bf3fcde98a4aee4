import { describe, expect, it, vi } from 'vitest';
import { progressLine, run, splitCfgOptions, timestamp } from './train';
import { run as runTest } from './test';

describe('detstudio train / test argument handling', () => {
  it('splits --cfg-options like argparse nargs="+"', () => {
    expect(splitCfgOptions(['a.py', '--cfg-options', 'x=1', 'y.z=[1,2]', '--work-dir', 'd'])).toEqual({
      rest: ['a.py', '--work-dir', 'd'],
      cfgOptions: ['x=1', 'y.z=[1,2]'],
    });
  });
  it('names runs and draws progress like the tools', () => {
    expect(timestamp(new Date(2024, 0, 2, 3, 4, 5))).toBe('20240102_030405');
    expect(progressLine({ type: 'progress', mode: 'train', epoch: 0, iter: 5, maxIters: 10, batchIdx: 4, batches: 10 })).toBe(
      `\rtrain [${'#'.repeat(15)}${'.'.repeat(15)}] 5/10`,
    );
  });
  it('fails clearly on bad arguments', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(await run(['--help'])).toBe(0);
    expect(await run([])).toBe(1);
    expect(await run(['x.py', '--backend', 'cpu'])).toBe(1);
    expect(err.mock.calls.flat().join('\n')).toMatch(/too slow to train/);
    expect(await run(['/nonexistent/cfg.py'])).toBe(1);
    expect(await runTest(['only-config.py'])).toBe(1);
    expect(await runTest(['--help'])).toBe(0);
    err.mockRestore();
    log.mockRestore();
  });
});
