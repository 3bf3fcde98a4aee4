/**
 * Generates the bundled demo dataset: synthetic street-like scenes in the real Cityscapes layout under
 * `public/demo/cityscapes/` (never real Cityscapes data, whose licence forbids redistribution).
 *
 *   npx tsx scripts/make_demo_dataset.ts [outDir]
 *
 * Each 256×128 scene has a textured background (sky gradient, buildings with windows, road with lane
 * marks, sidewalk, vegetation) and 2–6 objects with a distinct look per class (cars as boxes with a
 * cabin, persons as tall ellipses, buses as long boxes with windows, bicycles as two wheels…), some
 * crowd regions (`persongroup`, `cargroup`), written as `_gtFine_polygons.json`, rasterised with
 * cityscapesScripts' rules into `_gtFine_instanceIds.png` (16-bit) and `_gtFine_labelIds.png`, and
 * rendered into `_leftImg8bit.png`. The COCO jsons are then made by DetStudio's converter
 * (`annotations/instancesonly_filtered_gtFine_{train,val}.json`). Fully deterministic (seeded).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encode } from 'fast-png';
import { CITYSCAPES_LABELS, resolvePolygonLabel } from '../src/data/cityscapes_labels.ts';
import { cityscapesAnnFileName, convertCityscapesSplit } from '../src/data/cityscapes_converter.ts';
import { dumpCocoJson } from '../src/data/coco_types.ts';
import { MemoryFileTree } from '../src/data/file_tree.ts';
import { polygonsToInstanceIds, polygonsToLabelIds, type CityscapesPolygonFile, type CityscapesPolygonObject } from '../src/data/polygon_raster.ts';
import { seededRng, type Rng } from '../src/data/transforms/types.ts';

/** Image size of the demo scenes. */
export const DEMO_WIDTH = 256;
export const DEMO_HEIGHT = 128;
/** Cities and image counts per split. */
export const DEMO_SPLITS: Record<string, Array<[string, number]>> = {
  train: [['aachen', 16], ['bremen', 16], ['cologne', 16]],
  val: [['frankfurt', 8], ['lindau', 8]],
};

type Pt = [number, number];

const ri = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng.random() * (hi - lo + 1));

function rect(x: number, y: number, w: number, h: number): Pt[] {
  return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]];
}

function ellipse(cx: number, cy: number, rx: number, ry: number, n = 14): Pt[] {
  const pts: Pt[] = [];
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n;
    pts.push([Math.round(cx + rx * Math.cos(a)), Math.round(cy + ry * Math.sin(a))]);
  }
  return pts;
}

/** Object shape per class: the polygon(s) drawn for one instance whose bottom centre is (x, y), scaled by s. */
function objectPolygon(label: string, x: number, y: number, s: number): Pt[] {
  const r = Math.round;
  switch (label) {
    case 'car': {
      const w = r(44 * s);
      const h = r(20 * s);
      const x0 = x - (w >> 1);
      // body with a cabin on top
      return [[x0, y], [x0, y - r(h * 0.55)], [x0 + r(w * 0.2), y - r(h * 0.6)], [x0 + r(w * 0.3), y - h], [x0 + r(w * 0.72), y - h],
        [x0 + r(w * 0.82), y - r(h * 0.6)], [x0 + w, y - r(h * 0.55)], [x0 + w, y]];
    }
    case 'truck': {
      const w = r(58 * s);
      const h = r(34 * s);
      const x0 = x - (w >> 1);
      return [[x0, y], [x0, y - r(h * 0.6)], [x0 + r(w * 0.25), y - r(h * 0.6)], [x0 + r(w * 0.25), y - h], [x0 + w, y - h], [x0 + w, y]];
    }
    case 'bus':
      return rect(x - r(40 * s), y - r(32 * s), r(80 * s), r(32 * s));
    case 'train':
      return rect(x - r(60 * s), y - r(28 * s), r(120 * s), r(28 * s));
    case 'person':
      return ellipse(x, y - r(15 * s), Math.max(2, r(4 * s)), r(15 * s));
    case 'rider':
      return ellipse(x, y - r(20 * s), Math.max(2, r(5 * s)), r(13 * s), 10);
    case 'bicycle': {
      const w = r(11 * s);
      return [[x - w, y], [x - w, y - r(9 * s)], [x, y - r(13 * s)], [x + w, y - r(9 * s)], [x + w, y], [x, y - r(5 * s)]];
    }
    case 'motorcycle': {
      const w = r(13 * s);
      return [[x - w, y], [x - r(w * 0.6), y - r(12 * s)], [x + r(w * 0.6), y - r(14 * s)], [x + w, y]];
    }
    default:
      throw new Error(label);
  }
}

const INSTANCE_CLASSES: Array<[string, number]> = [
  ['car', 5], ['person', 5], ['rider', 1.5], ['bicycle', 1.5], ['motorcycle', 1], ['truck', 1], ['bus', 1], ['train', 0.5],
];

function pickClass(rng: Rng, classes: Array<[string, number]>): string {
  const total = classes.reduce((a, [, w]) => a + w, 0);
  let u = rng.random() * total;
  for (const [c, w] of classes) if ((u -= w) < 0) return c;
  return classes[0]![0];
}

/**
 * How scenes are made. The defaults make the bundled demo (Cityscapes-like object sizes, all 8
 * classes, some crowd regions); other values make easier sets, e.g. the "it learns" test's few large
 * objects of two classes.
 */
export interface SceneOptions {
  /** Objects per scene, inclusive range. Default [2, 6]. */
  objects?: [number, number];
  /** Relative frequency of each instance class. Default: all 8 Cityscapes classes, cars and persons commonest. */
  classes?: Array<[string, number]>;
  /** Object size factor at the horizon and its increase towards the bottom of the image. Default [0.55, 0.9]. */
  scale?: [number, number];
  /** Probability of a crowd region (`persongroup` / `cargroup`). Default 0.3. */
  crowd?: number;
}

/** The polygon file of one scene. */
export function makeScene(rng: Rng, opts: SceneOptions = {}): CityscapesPolygonFile {
  const [nLo, nHi] = opts.objects ?? [2, 6];
  const classes = opts.classes ?? INSTANCE_CLASSES;
  const [s0, s1] = opts.scale ?? [0.55, 0.9];
  const crowd = opts.crowd ?? 0.3;
  const W = DEMO_WIDTH;
  const H = DEMO_HEIGHT;
  const horizon = ri(rng, 52, 66);
  const objects: CityscapesPolygonObject[] = [];
  const add = (label: string, polygon: Pt[]): void => void objects.push({ label, polygon });
  add('sky', rect(0, 0, W - 1, horizon));
  let bx = -ri(rng, 0, 10);
  while (bx < W) {
    const bw = ri(rng, 28, 64);
    const bh = ri(rng, 18, horizon - 6);
    add(rng.random() < 0.8 ? 'building' : 'wall', rect(bx, horizon - bh, bw - 2, bh + 4));
    bx += bw;
  }
  if (rng.random() < 0.7) add('vegetation', ellipse(ri(rng, 20, W - 20), horizon - 4, ri(rng, 12, 30), ri(rng, 8, 16)));
  add('sidewalk', [[0, horizon], [W - 1, horizon], [W - 1, horizon + 8], [0, horizon + 10]]);
  add('road', [[0, horizon + 10], [W - 1, horizon + 8], [W - 1, H - 1], [0, H - 1]]);
  if (rng.random() < 0.5) add('pole', rect(ri(rng, 5, W - 5), horizon - ri(rng, 20, 40), 2, ri(rng, 28, 48)));
  // Objects, far (small, near the horizon) to near (large, low): painter's order as in real annotations.
  const n = ri(rng, nLo, nHi);
  const items: Array<{ label: string; x: number; y: number }> = [];
  for (let i = 0; i < n; i++) items.push({ label: pickClass(rng, classes), x: ri(rng, 16, W - 16), y: ri(rng, horizon + 14, H - 6) });
  if (rng.random() < crowd) items.push({ label: rng.random() < 0.5 ? 'persongroup' : 'cargroup', x: ri(rng, 20, W - 20), y: ri(rng, horizon + 12, horizon + 26) });
  items.sort((a, b) => a.y - b.y);
  for (const it of items) {
    const s = s0 + ((it.y - horizon) / (H - horizon)) * s1;
    if (it.label === 'persongroup') {
      const pts: Pt[] = [];
      for (let k = 0; k < 4; k++) pts.push(...ellipse(it.x - 12 + k * 8, it.y - 12 * s, 4 * s, 12 * s, 6).slice(0, 4));
      add('persongroup', [[it.x - 16, it.y], ...rect(it.x - 16, Math.round(it.y - 24 * s), 32, Math.round(24 * s)).slice(0, 2), [it.x + 16, it.y]]);
    } else if (it.label === 'cargroup') {
      add('cargroup', rect(it.x - Math.round(30 * s), Math.round(it.y - 14 * s), Math.round(60 * s), Math.round(14 * s)));
    } else {
      add(it.label, objectPolygon(it.label, it.x, it.y, s));
      if (it.label === 'rider') add('bicycle', objectPolygon('bicycle', it.x, it.y, s * 0.9));
    }
  }
  if (rng.random() < 0.3) add('ego vehicle', [[0, H - 1], [40, H - 7], [W - 41, H - 7], [W - 1, H - 1]]);
  return { imgWidth: W, imgHeight: H, objects };
}

/** Render colours of the object classes: clearly distinct, so the classes are easy to learn. */
const OBJECT_COLORS: Record<number, [number, number, number]> = {
  24: [225, 30, 70], // person
  25: [255, 140, 0], // rider
  26: [20, 60, 200], // car
  27: [140, 90, 40], // truck
  28: [240, 200, 20], // bus
  31: [0, 150, 140], // train
  32: [150, 40, 200], // motorcycle
  33: [120, 10, 30], // bicycle
};

/** Base colour of each label id in the rendered image. */
function baseColor(labelId: number): [number, number, number] {
  const obj = OBJECT_COLORS[labelId];
  if (obj) return obj;
  const l = CITYSCAPES_LABELS.find((x) => x.id === labelId);
  if (!l || labelId <= 0) return [40, 40, 40];
  if (labelId === 1) return [25, 25, 30];
  return l.color;
}

/** Renders the RGB image from the rasterised ids with simple, compressible textures. */
export function renderScene(ids: Int32Array, labels: Uint8Array, rng: Rng): Uint8Array {
  const W = DEMO_WIDTH;
  const H = DEMO_HEIGHT;
  const out = new Uint8Array(W * H * 3);
  const shade = new Map<number, number>();
  const shadeOf = (v: number): number => {
    if (!shade.has(v)) shade.set(v, 0.75 + 0.5 * rng.random());
    return shade.get(v)!;
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const lab = labels[i]!;
      const v = ids[i]!;
      let [r, g, b] = baseColor(lab);
      let k = shadeOf(v);
      if (lab === 23) k = 0.8 + (0.4 * y) / 60; // sky gradient
      else if (lab === 11 || lab === 12) {
        if (x % 8 >= 3 && x % 8 <= 5 && y % 10 >= 3 && y % 10 <= 6) k *= 1.6; // windows
      } else if (lab === 7) {
        if (y % 12 < 2 && (x >> 4) % 2 === 0) [r, g, b] = [230, 230, 230]; // lane marks
      } else if (lab === 21) {
        k *= (x * 3 + y * 5) % 7 < 3 ? 0.8 : 1.1; // leaves
      } else if (v >= 1000) {
        const labelId = Math.floor(v / 1000);
        if ((labelId === 26 || labelId === 27) && y % 6 < 2) k *= 1.3; // car / truck bands
        if (labelId === 28 && x % 10 < 5 && y % 12 < 5) k *= 1.5; // bus windows
        if (labelId === 24 || labelId === 25) k *= 1 + 0.15 * ((x + y) % 2); // clothing texture
      }
      out[i * 3] = Math.min(255, Math.round(r * k));
      out[i * 3 + 1] = Math.min(255, Math.round(g * k));
      out[i * 3 + 2] = Math.min(255, Math.round(b * k));
    }
  }
  return out;
}

/** Options of {@link makeDemoDataset}: the scene options plus the cities and image counts per split. */
export interface DemoDatasetOptions extends SceneOptions {
  /** Cities and image counts per split. Default {@link DEMO_SPLITS}. */
  splits?: Record<string, Array<[string, number]>>;
  /** zlib level of the PNGs (default 9: smallest files; lower is faster). */
  zlibLevel?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

/** Builds the whole demo tree in memory (deterministic for a seed and options). */
export async function makeDemoDataset(seed = 2024, opts: DemoDatasetOptions = {}): Promise<MemoryFileTree> {
  const rng = seededRng(seed);
  const tree = new MemoryFileTree();
  const zlib = { level: opts.zlibLevel ?? 9 };
  const splits = opts.splits ?? DEMO_SPLITS;
  for (const [split, cities] of Object.entries(splits)) {
    for (const [city, count] of cities) {
      let seq = ri(rng, 0, 50);
      for (let k = 0; k < count; k++) {
        seq += ri(rng, 1, 9);
        const stem = `${city}_${String(seq).padStart(6, '0')}_${String(ri(rng, 0, 999999)).padStart(6, '0')}`;
        const scene = makeScene(rng, opts);
        for (const o of scene.objects) if (!resolvePolygonLabel(o.label)) throw new Error(`bad label ${o.label}`);
        const ids = polygonsToInstanceIds(scene);
        const labels = polygonsToLabelIds(scene);
        const gt = `gtFine/${split}/${city}/${stem}_gtFine_`;
        tree.set(`${gt}polygons.json`, new TextEncoder().encode(JSON.stringify(scene)));
        tree.set(`${gt}instanceIds.png`, encode({ width: DEMO_WIDTH, height: DEMO_HEIGHT, data: Uint16Array.from(ids), depth: 16, channels: 1 }, { zlib }));
        tree.set(`${gt}labelIds.png`, encode({ width: DEMO_WIDTH, height: DEMO_HEIGHT, data: labels, depth: 8, channels: 1 }, { zlib }));
        const rgb = renderScene(ids, labels, rng);
        tree.set(`leftImg8bit/${split}/${city}/${stem}_leftImg8bit.png`, encode({ width: DEMO_WIDTH, height: DEMO_HEIGHT, data: rgb, depth: 8, channels: 3 }, { zlib }));
      }
    }
  }
  for (const split of Object.keys(splits)) {
    const res = await convertCityscapesSplit(tree, { prefix: '', splits: [] }, split);
    if (res.issues.length) throw new Error(`demo conversion reported issues: ${JSON.stringify(res.issues)}`);
    tree.set(`annotations/${cityscapesAnnFileName(split)}`, new TextEncoder().encode(dumpCocoJson(res.coco)));
  }
  return tree;
}

/**
 * The "it learns" set: the demo's scenes with one to three large objects of two classes (car,
 * person) and a few crowd regions, 64 train and 16 val images. Not committed: tests build it in
 * memory (about a second); `make_demo_dataset.ts --learning <dir>` writes it for inspection.
 */
export const LEARNING_SET: DemoDatasetOptions = {
  objects: [1, 3],
  classes: [['car', 1], ['person', 1]],
  scale: [1.6, 1.2],
  crowd: 0.15,
  splits: { train: [['aachen', 32], ['bremen', 32]], val: [['frankfurt', 16]] },
  zlibLevel: 1,
};

/** Builds the "it learns" set ({@link LEARNING_SET}) in memory. */
export function makeLearningDataset(seed = 7): Promise<MemoryFileTree> {
  return makeDemoDataset(seed, LEARNING_SET);
}

async function main(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const learning = process.argv[2] === '--learning';
  const arg = process.argv[learning ? 3 : 2];
  if (learning && !arg) throw new Error('usage: make_demo_dataset.ts --learning <outDir>');
  const out = resolve(arg ?? join(here, '..', 'public', 'demo', 'cityscapes'));
  const tree = learning ? await makeLearningDataset() : await makeDemoDataset();
  rmSync(out, { recursive: true, force: true });
  let total = 0;
  for (const p of tree.list().sort()) {
    const bytes = await tree.read(p);
    mkdirSync(dirname(join(out, p)), { recursive: true });
    writeFileSync(join(out, p), bytes);
    total += bytes.length;
  }
  console.log(`wrote ${tree.list().length} files, ${(total / 1024).toFixed(0)} KiB to ${out}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
