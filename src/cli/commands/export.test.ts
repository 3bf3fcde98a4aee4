import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it, vi } from 'vitest';
import { readCheckpoint } from '../../checkpoint/index.ts';
import { MemoryFS, resolveConfig, toPlainJSON } from '../../config/index.ts';
import { fixturePath, repoRoot } from '../../testing/fixtures.ts';
import { run } from './export.ts';

const tiny = () => fixturePath('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth');

async function quiet<T>(f: () => Promise<T>): Promise<T> {
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const l = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    return await f();
  } finally {
    e.mockRestore();
    l.mockRestore();
  }
}

describe('detstudio export', () => {
  const src = readCheckpoint(new Uint8Array(readFileSync(tiny())));

  it('writes clean MMDetection weights (.pth) and safetensors with every tensor bit-exact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'export-'));
    for (const format of ['pth', 'safetensors']) {
      const out = join(dir, `w.${format}`);
      expect(await quiet(() => run([tiny(), '--format', format, '--out', out]))).toBe(0);
      const back = readCheckpoint(new Uint8Array(readFileSync(out)));
      expect([...back.stateDict.keys()]).toEqual([...src.stateDict.keys()]);
      for (const [k, t] of src.stateDict) {
        const b = back.stateDict.get(k)!;
        expect(b.shape).toEqual(t.shape);
        expect(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(true);
      }
    }
  });

  it('builds an MMDetection bundle: bundle-relative config, weights, annotations, README', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    const out = join(dir, 'b.zip');
    const cwd = process.cwd();
    process.chdir(repoRoot); // the demo config's data_root is relative to the repository root
    try {
      const code = await quiet(() => run([tiny(), '--format', 'bundle', '--out', out, '--config', 'src/configs/demo/mask-rcnn_r18_fpn_8xb2-demo_cityscapes.py', '--gpus', '4']));
      expect(code).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    const files = unzipSync(new Uint8Array(readFileSync(out)));
    const names = Object.keys(files).sort();
    expect(names).toContain('config.py');
    expect(names).toContain('README.md');
    expect(names).toContain('weights/tiny_mask_rcnn_r50_fpn.pth');
    expect(names).toContain('data/cityscapes/annotations/instancesonly_filtered_gtFine_train.json');
    expect(names).toContain('data/cityscapes/annotations/instancesonly_filtered_gtFine_val.json');
    // Annotations copied byte for byte.
    expect(Buffer.from(files['data/cityscapes/annotations/instancesonly_filtered_gtFine_val.json']!).equals(
      readFileSync(join(repoRoot, 'public/demo/cityscapes/annotations/instancesonly_filtered_gtFine_val.json')))).toBe(true);
    // The config resolves on its own (no bases) with bundle-relative paths and load_from the bundled weights.
    const text = new TextDecoder().decode(files['config.py']);
    const res = resolveConfig('/bundle/config.py', new MemoryFS({ '/bundle/config.py': text }));
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const cfg = toPlainJSON(res.cfg) as Record<string, any>;
    expect(cfg.load_from).toBe('weights/tiny_mask_rcnn_r50_fpn.pth');
    expect(cfg.resume).toBe(false);
    expect(JSON.stringify(cfg)).not.toContain('public/demo');
    const val = cfg.val_dataloader.dataset;
    expect(val.data_root).toBe('data/cityscapes/');
    expect([cfg.val_evaluator].flat()[0].ann_file).toBe('data/cityscapes/annotations/instancesonly_filtered_gtFine_val.json');
    expect(cfg.model.roi_head.bbox_head.num_classes).toBe(8);
    const readme = new TextDecoder().decode(files['README.md']);
    expect(readme).toContain('tools/dist_train.sh config.py 4');
    expect(readme).toContain('tools/test.py config.py weights/tiny_mask_rcnn_r50_fpn.pth');
    // Weights in the bundle equal the source checkpoint.
    const w = readCheckpoint(files['weights/tiny_mask_rcnn_r50_fpn.pth']!);
    expect(w.stateDict.size).toBe(src.stateDict.size);
  });

  it('fails clearly on a missing input or a bad format', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await quiet(() => run(['/nonexistent.pth']))).toBe(1);
    expect(err.mock.calls.flat().join(' ')).toMatch(/no such file/);
    expect(await quiet(() => run([tiny(), '--format', 'onnx']))).toBe(1);
    expect(err.mock.calls.flat().join(' ')).toMatch(/unknown --format 'onnx'/);
    err.mockRestore();
  });
});
