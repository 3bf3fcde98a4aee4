import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fixturePath } from '../../testing/fixtures.ts';
import { run } from './convert_cityscapes.ts';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('detstudio convert-cityscapes', () => {
  it('writes both jsons byte-for-byte like MMDetection, with progress on stderr', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ds-cs-'));
    dirs.push(out);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    // The fixture root holds a top-level cityscapes/ folder: layout detection finds it.
    const code = await run([fixturePath('cityscapes'), '--out', out, '--nproc', '8']);
    expect(code).toBe(0);
    for (const split of ['train', 'val']) {
      const name = `instancesonly_filtered_gtFine_${split}.json`;
      expect(readFileSync(join(out, name)).equals(readFileSync(fixturePath('cityscapes', name)))).toBe(true);
    }
    expect(log.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/train: 6 images, 38 annotations/);
    expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/\[convert val\] 6\/6 images/);
  });

  it('fails with a clear message and exit 1 for a folder that is not Cityscapes', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ds-cs-'));
    dirs.push(empty);
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await run([empty])).toBe(1);
    expect(String(err.mock.calls[0]![0])).toMatch(/not a Cityscapes folder/);
    expect(await run([])).toBe(1);
  });
});
