/**
 * Writes the resolved configs the GPU-machine R50 train-step bench uses (bench/gpu/r50_webgpu.ts):
 * the demo runner (its bundled demo images, batch 1, resized to the size under test) with the model of
 * `src/configs/cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py` (R50-FPN, 8 classes, random init).
 * The GPU machine has no Node config tree at hand in the bundle, so the configs travel as JSON.
 *
 *   node --import ./bin/register-hooks.mjs --import tsx bench/gpu/make_r50_cfg.ts .gpu-kit/r50_cfg.json
 */
import { writeFileSync } from 'node:fs';
import { loadDemoConfig } from '../../src/learning/demo_training.ts';

function r50Config(scale: [number, number]): Record<string, unknown> {
  const demo = loadDemoConfig(['randomness.seed=0', 'train_dataloader.batch_size=1']);
  const r50 = loadDemoConfig([], 'src/configs/cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py');
  const model = r50.model as Record<string, Record<string, unknown>>;
  model.backbone!.init_cfg = null; // timing does not need pretrained weights
  demo.model = model;
  demo.optim_wrapper = r50.optim_wrapper;
  const ds = (demo.train_dataloader as { dataset: { dataset: { pipeline: Array<Record<string, unknown>> } } }).dataset.dataset;
  for (const t of ds.pipeline) if (t.type === 'Resize') t.scale = scale;
  return demo;
}

const out = process.argv[2] ?? '.gpu-kit/r50_cfg.json';
writeFileSync(out, JSON.stringify({ '128x256': r50Config([256, 128]), '512x1024': r50Config([1024, 512]), '1024x2048': r50Config([2048, 1024]) }));
console.log(`wrote ${out}`);
