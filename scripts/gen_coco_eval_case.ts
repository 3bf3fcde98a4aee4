/**
 * Generates a deterministic COCO evaluation case the size of Cityscapes val: by default 500 images
 * of 2048x1024, the 8 Cityscapes instance classes (category ids 24..33 as MMDetection's converter
 * writes them), about 20 ground-truth instances and exactly 100 detections with masks per image.
 * Ground truth is `instancesonly_filtered_gtFine_val.json`-like (compressed RLE segmentations, ids
 * from 0, some crowd regions); detections are MMDetection's results json (`bbox` xywh, `score`,
 * compressed RLE `segmentation`).
 *
 *   npx tsx scripts/gen_coco_eval_case.ts [--out DIR] [--images 500] [--seed 1]
 *
 * writes DIR/gt.json, DIR/dt.json and DIR/time_pycocotools.py (times pycocotools on the same files:
 * `python3 DIR/time_pycocotools.py`), so pycocotools and DetStudio can be compared on one case.
 * Node modules are imported only when run as a script, so the generator also bundles into a browser
 * worker (the eval benchmark times it there).
 */
import type { CocoDataset, CocoResult } from '../src/eval/coco.ts';
import { countsArea, countsToBbox, polygonCounts, toCompressed } from '../src/eval/mask.ts';

/** Options of {@link generateCocoEvalCase}. */
export interface CaseOptions {
  images?: number;
  width?: number;
  height?: number;
  gtPerImage?: number;
  detsPerImage?: number;
  seed?: number;
}

/** Cityscapes instance classes with the label ids MMDetection's converter uses. */
export const CITYSCAPES_CATEGORIES = [
  { id: 24, name: 'person' },
  { id: 25, name: 'rider' },
  { id: 26, name: 'car' },
  { id: 27, name: 'truck' },
  { id: 28, name: 'bus' },
  { id: 31, name: 'train' },
  { id: 32, name: 'motorcycle' },
  { id: 33, name: 'bicycle' },
];

/** mulberry32: a small deterministic PRNG in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Shape {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

/** A jittered ellipse polygon (16 vertices), rounded to 2 decimals like annotation tools write. */
function polygon(s: Shape, rand: () => number): number[] {
  const n = 16;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = (i / n) * 2 * Math.PI;
    const j = 0.8 + 0.4 * rand();
    out.push(Math.round((s.cx + Math.cos(a) * s.rx * j) * 100) / 100, Math.round((s.cy + Math.sin(a) * s.ry * j) * 100) / 100);
  }
  return out;
}

/** Generates the case in memory: `{gt, dt}` (deterministic for given options). */
export function generateCocoEvalCase(opts: CaseOptions = {}): { gt: CocoDataset; dt: CocoResult[] } {
  const nImg = opts.images ?? 500;
  const W = opts.width ?? 2048;
  const H = opts.height ?? 1024;
  const nGt = opts.gtPerImage ?? 20;
  const nDt = opts.detsPerImage ?? 100;
  const rand = rng(opts.seed ?? 1);
  const cats = CITYSCAPES_CATEGORIES;
  const images: CocoDataset['images'] = [];
  const annotations: NonNullable<CocoDataset['annotations']> = [];
  const dt: CocoResult[] = [];
  const cities = ['frankfurt', 'lindau', 'munster'];
  const mask = (s: Shape): { counts: Uint32Array; rle: { size: [number, number]; counts: string } } => {
    const counts = polygonCounts(polygon(s, rand), H, W);
    return { counts, rle: { size: [H, W], counts: toCompressed(counts) } };
  };
  const randomShape = (): Shape => {
    // log-uniform sizes: many small (far) objects, some large ones
    const rx = Math.exp(Math.log(4) + rand() * (Math.log(300) - Math.log(4)));
    const ry = Math.min(H / 2, rx * (0.5 + 2 * rand()));
    return { cx: rx + rand() * (W - 2 * rx), cy: ry + rand() * (H - 2 * ry), rx, ry };
  };
  for (let i = 0; i < nImg; i++) {
    const city = cities[i % cities.length];
    images.push({
      id: i,
      file_name: `${city}/${city}_${String(i).padStart(6, '0')}_000019_leftImg8bit.png`,
      height: H,
      width: W,
      segm_file: `${city}/${city}_${String(i).padStart(6, '0')}_000019_gtFine_instanceIds.png`,
    });
    const gts: { shape: Shape; cat: number }[] = [];
    const count = Math.max(1, Math.round(nGt * (0.5 + rand())));
    for (let g = 0; g < count; g++) {
      const shape = randomShape();
      const cat = cats[Math.floor(rand() * rand() * cats.length)].id; // skewed towards person / car
      const m = mask(shape);
      const area = countsArea(m.counts);
      if (area === 0) continue;
      gts.push({ shape, cat });
      annotations.push({
        iscrowd: rand() < 0.05 ? 1 : 0,
        category_id: cat,
        bbox: countsToBbox(m.counts, H, W),
        area,
        segmentation: m.rle,
        image_id: i,
        id: annotations.length,
      });
    }
    // detections: 1-4 perturbed copies of each ground truth, then false positives, 100 in all
    const dets: CocoResult[] = [];
    for (const g of gts) {
      const copies = 1 + Math.floor(rand() * 4);
      for (let c = 0; c < copies && dets.length < nDt; c++) {
        const s = g.shape;
        const q = c === 0 ? 0.1 : 0.35;
        const shape: Shape = {
          cx: s.cx + (rand() - 0.5) * q * s.rx,
          cy: s.cy + (rand() - 0.5) * q * s.ry,
          rx: s.rx * (1 + (rand() - 0.5) * q),
          ry: s.ry * (1 + (rand() - 0.5) * q),
        };
        const cat = rand() < 0.85 ? g.cat : cats[Math.floor(rand() * cats.length)].id;
        dets.push(detection(i, cat, (c === 0 ? 0.5 : 0.05) + rand() * 0.5, shape));
      }
    }
    while (dets.length < nDt) dets.push(detection(i, cats[Math.floor(rand() * cats.length)].id, 0.05 + rand() * 0.45, randomShape()));
    dt.push(...dets);
  }
  function detection(imageId: number, cat: number, score: number, shape: Shape): CocoResult {
    const m = mask(shape);
    const [x, y, w, h] = countsToBbox(m.counts, H, W);
    const j = (): number => Math.round((rand() - 0.5) * 400) / 100;
    return {
      image_id: imageId,
      bbox: [x + j(), y + j(), Math.max(1, w + j()), Math.max(1, h + j())],
      score: Math.fround(score),
      category_id: cat,
      segmentation: m.rle,
    };
  }
  return {
    gt: {
      images,
      annotations,
      categories: cats.map((c) => ({ ...c })),
    },
    dt,
  };
}

const PY_TIMER = `"""Times pycocotools on the generated case, as MMDetection's CocoMetric runs it."""
import json, os, sys, time
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

here = os.path.dirname(os.path.abspath(__file__))
t0 = time.perf_counter()
gt = COCO(os.path.join(here, 'gt.json'))
dets = json.load(open(os.path.join(here, 'dt.json')))
t_load = time.perf_counter() - t0
out = {'load_s': t_load}
for metric in ('bbox', 'segm'):
    preds = [dict(d) for d in dets]
    if metric == 'segm':
        for d in preds:
            d.pop('bbox')
    t0, c0 = time.perf_counter(), time.process_time()
    gt = COCO(os.path.join(here, 'gt.json'))  # fresh, as each DetStudio run indexes its ground truth
    t1, c1 = time.perf_counter(), time.process_time()
    E = COCOeval(gt, gt.loadRes(preds), metric)
    E.params.maxDets = [100, 300, 1000]
    E.evaluate(); E.accumulate(); E.summarize()
    out[metric + '_s'] = time.perf_counter() - t1
    out[metric + '_cpu_s'] = time.process_time() - c1
    out[metric + '_gt_index_s'] = t1 - t0
    out[metric + '_stats'] = list(map(float, E.stats))
print(json.dumps(out))
`;

async function main(): Promise<void> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { join, resolve } = await import('node:path');
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: '/tmp/detstudio-coco-eval-case' },
      images: { type: 'string', default: '500' },
      seed: { type: 'string', default: '1' },
    },
  });
  const out = resolve(values.out!);
  mkdirSync(out, { recursive: true });
  const t0 = performance.now();
  const { gt, dt } = generateCocoEvalCase({ images: Number(values.images), seed: Number(values.seed) });
  writeFileSync(join(out, 'gt.json'), JSON.stringify(gt));
  writeFileSync(join(out, 'dt.json'), JSON.stringify(dt));
  writeFileSync(join(out, 'time_pycocotools.py'), PY_TIMER);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.error(`wrote ${gt.images.length} images, ${gt.annotations!.length} annotations, ${dt.length} detections to ${out} in ${s}s`);
}

const argv1 = typeof process === 'object' ? (process.argv?.[1] ?? '') : '';
if (argv1.endsWith('gen_coco_eval_case.ts') && import.meta.url.endsWith('/gen_coco_eval_case.ts')) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
