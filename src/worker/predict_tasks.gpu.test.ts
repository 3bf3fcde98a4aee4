// The predict path on WebGPU (Dawn; SwiftShader without a GPU) against wasm on the same image.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BUILTIN_DIR, listBuiltinConfigs } from '../configs/node';
import { defaultImageDecoder } from '../data/transforms/loading';
import { currentBackend, initBackend } from '../ops/backend';
import { readFixtureBytes, repoRoot } from '../testing/fixtures';
import type { ConfigSource } from './predict_protocol';
import { Predictor } from './predict_tasks';

const builtins = Object.fromEntries(listBuiltinConfigs().map((p) => [p, readFileSync(join(BUILTIN_DIR, p), 'utf8')]));
const SMALL = `_base_ = '../demo/mask-rcnn_r50_fpn_tiny-fixture.py'
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(256, 128), keep_ratio=True), dict(type='PackDetInputs')]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100), rcnn=dict(max_per_img=20)))
`;
const config: ConfigSource = { kind: 'path', path: 'user/s.py', userFiles: { 'user/s.py': SMALL } };
const predictor = new Predictor({
  builtins,
  decodeImage: async (b, n) => defaultImageDecoder(b, n),
  fetchBytes: async () => new Uint8Array(0),
  limits: () => currentBackend()?.limits ?? null,
});
afterAll(() => predictor.unload());

it('predicts on WebGPU what wasm predicts', async () => {
  const ckpt = readFixtureBytes('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth');
  const png = new Uint8Array(readFileSync(join(repoRoot, 'public/demo/cityscapes/leftImg8bit/val/frankfurt/frankfurt_000024_777951_leftImg8bit.png')));
  const run = async (prefer: 'webgpu' | 'wasm') => {
    await initBackend({ prefer });
    expect(currentBackend()?.name).toBe(prefer);
    await predictor.load(config, { kind: 'file', name: 't.pth', bytes: ckpt });
    const p = await predictor.predict('a.png', png);
    predictor.unload();
    return p;
  };
  const gpu = await run('webgpu');
  const cpu = await run('wasm');
  expect(gpu.scores.length).toBe(cpu.scores.length);
  expect(gpu.scores[0]).toBeCloseTo(cpu.scores[0]!, 3);
  expect(gpu.scores[gpu.scores.length - 1]).toBeCloseTo(cpu.scores[cpu.scores.length - 1]!, 3);
  // The best detection's box agrees to a fraction of a pixel.
  for (let k = 0; k < 4; k++) expect(Math.abs(gpu.bboxes[k]! - cpu.bboxes[k]!)).toBeLessThan(0.5);
}, 120_000);
