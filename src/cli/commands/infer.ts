/**
 * `detstudio infer <config> <checkpoint> <image> [--out vis.png] [--json] [--score-thr T]`: runs the
 * config's test pipeline (LoadImageFromFile, Resize; annotations dropped) and the detector's
 * `predict` (rescale=True), prints the detections and optionally writes a visualisation PNG.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { encode } from 'fast-png';
import { Compose } from '../../data/transforms/compose.ts';
import { nodePngDecoder } from '../../data/node_image_decoder.ts';
import type { ImageU8, Results } from '../../data/transforms/types.ts';
import type { DetDataSample, DetResult } from '../../models/structures.ts';
import { CliError, buildAndLoad, loadConfig, setupBackend } from './features.ts';

/** One-line summary for `detstudio --help`. */
export const summary = 'Detect objects (boxes, labels, scores, masks) in one image with a config and checkpoint';

const HELP = `Usage: detstudio infer <config.py> <checkpoint> <image.png> [--out vis.png] [--json] [--score-thr T] [--backend B]

Runs the config's test_pipeline (annotation loading and packing skipped) and model.predict with
rescale=True: boxes and masks in original-image pixels.

Options:
  --out FILE       write a PNG with boxes and masks drawn over the image
  --json           print detections as JSON
  --score-thr T    only print/draw detections with score >= T (default 0.3)
  --backend B      auto (default), webgpu, wasm or cpu
  -h, --help       show this help`;

/** Palette for drawing (RGB). */
const COLORS = [
  [220, 20, 60], [119, 11, 32], [0, 0, 142], [0, 0, 230], [106, 0, 228], [0, 60, 100], [0, 80, 100], [0, 0, 70],
];

function pipelineOf(cfg: Record<string, unknown>): Record<string, unknown>[] {
  const direct = cfg.test_pipeline as Record<string, unknown>[] | undefined;
  const viaLoader = ((cfg.test_dataloader as Record<string, unknown> | undefined)?.dataset as Record<string, unknown> | undefined)
    ?.pipeline as Record<string, unknown>[] | undefined;
  const p = direct ?? viaLoader;
  if (!Array.isArray(p)) throw new CliError('the config has no test_pipeline');
  return p.filter((t) => t.type !== 'LoadAnnotations' && t.type !== 'PackDetInputs');
}

/** Draws masks (alpha 0.5) and box outlines onto an RGB copy of a BGR image. */
function visualise(img: ImageU8, res: DetResult, keep: number[]): Uint8Array {
  const { width: w, height: h } = img;
  const out = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    out[p * 3] = img.data[p * 3 + 2]!;
    out[p * 3 + 1] = img.data[p * 3 + 1]!;
    out[p * 3 + 2] = img.data[p * 3]!;
  }
  for (const i of keep) {
    const col = COLORS[res.labels[i]! % COLORS.length]!;
    const m = res.masks;
    if (m && m.height === h && m.width === w) {
      for (let p = 0; p < w * h; p++) {
        if (m.data[i * w * h + p]) for (let c = 0; c < 3; c++) out[p * 3 + c] = (out[p * 3 + c]! + col[c]!) >> 1;
      }
    }
    const [x1, y1, x2, y2] = Array.from(res.bboxes.subarray(i * 4, i * 4 + 4)).map((v) => Math.round(v));
    const put = (x: number, y: number) => {
      if (x < 0 || y < 0 || x >= w || y >= h) return;
      for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = col[c]!;
    };
    for (let x = x1!; x <= x2!; x++) {
      put(x, y1!);
      put(x, y2!);
    }
    for (let y = y1!; y <= y2!; y++) {
      put(x1!, y);
      put(x2!, y);
    }
  }
  return out;
}

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        json: { type: 'boolean' },
        'score-thr': { type: 'string' },
        backend: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length !== 3) throw new CliError(`expected <config> <checkpoint> <image>\n\n${HELP}`);
    const thr = values['score-thr'] === undefined ? 0.3 : Number(values['score-thr']);
    if (!Number.isFinite(thr)) throw new CliError(`--score-thr must be a number, got '${values['score-thr']}'`);
    const [cfgPath, ckptPath, imagePath] = positionals as [string, string, string];
    const cfg = loadConfig(cfgPath);
    const pipeline = new Compose(pipelineOf(cfg) as never, {
      readFile: async (p: string) => new Uint8Array(readFileSync(p)),
      decodeImage: nodePngDecoder,
    });
    let results: Results | null;
    try {
      results = await pipeline.run({ img_path: imagePath, img_id: 0 });
    } catch (e) {
      throw new CliError(`cannot load '${imagePath}': ${(e as Error).message}`);
    }
    if (results === null || results.img === undefined) throw new CliError(`the test pipeline dropped '${imagePath}'`);
    const img = results.img;
    if (img.width < 2 || img.height < 2) throw new CliError(`image '${imagePath}' is ${img.width}x${img.height}; too small to detect anything`);
    await setupBackend(values.backend);
    const model = buildAndLoad(cfg, ckptPath);
    const sample: DetDataSample = {
      metainfo: {
        img_shape: results.img_shape ?? [img.height, img.width],
        ori_shape: results.ori_shape ?? [img.height, img.width],
        scale_factor: results.scale_factor ?? [1, 1],
      },
    };
    const imgT = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
    const inputs = model.dataPreprocessor.forward([imgT], [sample]);
    const res = (await model.predict(inputs, [sample], true))[0]!;
    tf.dispose([imgT, inputs]);
    model.dispose();
    const keep: number[] = [];
    for (let i = 0; i < res.scores.length; i++) if (res.scores[i]! >= thr) keep.push(i);
    const hw = res.masks ? res.masks.height * res.masks.width : 0;
    const dets = keep.map((i) => {
      let area = 0;
      if (res.masks) for (let p = 0; p < hw; p++) area += res.masks.data[i * hw + p]!;
      return {
        bbox: Array.from(res.bboxes.subarray(i * 4, i * 4 + 4)),
        score: res.scores[i]!,
        label: res.labels[i]!,
        ...(res.masks ? { mask_area: area } : {}),
      };
    });
    if (values.out) {
      const ori = await new Compose([{ type: 'LoadImageFromFile' }] as never, {
        readFile: async (p: string) => new Uint8Array(readFileSync(p)),
        decodeImage: nodePngDecoder,
      }).run({ img_path: imagePath });
      const base = ori!.img!;
      writeFileSync(values.out, encode({ width: base.width, height: base.height, data: visualise(base, res, keep), channels: 3, depth: 8 }));
    }
    if (values.json) {
      console.log(JSON.stringify({ image: imagePath, num_detections: dets.length, detections: dets }, null, 2));
    } else {
      console.log(`${imagePath}: ${dets.length} detection(s) with score >= ${thr}`);
      for (const d of dets) {
        console.log(`  label=${d.label} score=${d.score.toFixed(4)} bbox=[${d.bbox.map((v) => v.toFixed(1)).join(', ')}]${'mask_area' in d ? ` mask_area=${d.mask_area}` : ''}`);
      }
      if (values.out) console.log(`visualisation written to ${values.out}`);
    }
    return 0;
  } catch (e) {
    console.error(`detstudio infer: ${(e as Error).message}`);
    return 1;
  }
}
