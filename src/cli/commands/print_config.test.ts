/**
 * `detstudio print-config` end to end: one real CLI process (bin/detstudio.mjs through tsx) for the
 * success and error paths, plus in-process runs of the command for the other flags.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fixturePath, readFixtureJson, repoRoot } from '../../testing/fixtures.ts';
import { run } from './print_config.ts';

describe('detstudio print-config', () => {
  let out: string[];
  let err: string[];
  beforeEach(() => {
    out = [];
    err = [];
    vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
    vi.spyOn(console, 'error').mockImplementation((s: unknown) => void err.push(String(s)));
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());

  it('spawned CLI (once): a config with an error exits 1 with <file>:<line>:<col>: <ErrorClass>: <message>', () => {
    const dir = mkdtempSync(join(tmpdir(), 'detstudio-cfg-'));
    const bad = join(dir, 'bad.py');
    writeFileSync(bad, "_base_ = 'mmdet::cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py'\nmodel = dict(\n");
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'detstudio.mjs'), 'print-config', bad], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`${bad}:2:13: SyntaxError: '(' was never closed (<unknown>, line 2)`);
  });

  it('--json of a file on disk that inherits mmdet:: bases', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detstudio-cfg-'));
    const cfg = join(dir, 'my_cityscapes.py');
    writeFileSync(cfg, "_base_ = 'mmdet::cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py'\n");
    expect(await run([cfg, '--json'])).toBe(0);
    const want = readFixtureJson<Record<string, unknown>>('config-cases', 'cityscapes-maskrcnn-resolved.json');
    const got = JSON.parse(out.join('')) as Record<string, any>;
    expect(Object.keys(got)).toEqual(Object.keys(want));
    expect(got.model.backbone.out_indices).toEqual([0, 1, 2, 3]);
    expect(got.model.roi_head.mask_head.num_classes).toBe(8);
  });

  it('prints pretty text by default and applies --cfg-options', async () => {
    const entry = fixturePath('config-cases', '19-cfg-options', 'main.py');
    const code = await run([entry, '--cfg-options', 'model.trunk.depth=101', 'milestones=7,9']);
    expect(code).toBe(0);
    const text = out.join('');
    expect(text).toContain('milestones = [');
    expect(text).toMatch(/depth=101/);
    expect(text.split('\n')[0]).toBe('loader = dict(');
  });

  it('--json keeps key order and writes tuples as arrays', async () => {
    const entry = fixturePath('config-cases', '10-tuples', 'main.py');
    expect(await run([entry, '--json'])).toBe(0);
    const j = JSON.parse(out.join(''));
    expect(Object.keys(j)).toEqual(['out_ids', 'scales', 'keys', 'pairs', 'with_dicts', 'to_list', 'to_tuple', 'single', 'empty', 'mixed']);
    expect(j.pairs).toEqual([[1, 2], [3, 4]]);
    expect(j.empty).toEqual([]);
  });

  it('errors: missing base, no file argument', async () => {
    const entry = fixturePath('config-cases', '14-error-missing-base-file', 'main.py');
    expect(await run([entry])).toBe(1);
    expect(err[0]).toMatch(/main\.py:1:11: FileNotFoundError: \[Errno 2\] No such file or directory: '.*\/\.\.\/_base_\/does_not_exist\.py'$/);
    expect(await run([])).toBe(1);
  });
});
