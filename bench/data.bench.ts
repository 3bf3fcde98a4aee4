/**
 * Data benchmarks (Node):
 *  - import rate (images/s) of a generated Cityscapes-sized tree (2048×1024: 16-bit instanceIds,
 *    polygons json and an RGB PNG per image; DATA_BENCH_IMAGES images, default 200, made from 12
 *    distinct scenes whose bytes are shared) through `importDataset`, the code the studio's dataset
 *    worker runs (layout detection, RGB image checks, MMDetection's Cityscapes conversion), in memory
 *    and from disk, with peak RSS sampled at every image (flat: one image decoded at a time — run
 *    with DATA_BENCH_IMAGES=5000 for the 5,000-image check);
 *  - one training sample's data path on a 2048×1024 RGB PNG written like libpng does (adaptive
 *    filters, zlib level 6, photo-like content, about Cityscapes' 2 MB): decode to BGR (the Node
 *    decoder: native zlib, filters undone straight into BGR), RandomResize(scale=[(2048, 800),
 *    (2048, 1024)], keep_ratio) + RandomFlip(prob=1) fused as `Compose` runs them, PackDetInputs,
 *    DetDataPreprocessor normalise (goal ≤ 60 ms). The unfused resize and flip and the pure-JS
 *    fast-png decode are timed too, for comparison.
 *
 * CPU times come from `process.cpuUsage` (this process only), next to wall times and the load average.
 */
import { linkSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { encode } from 'fast-png';
import { convertCityscapesSplit } from '../src/data/cityscapes_converter.ts';
import { MemoryFileTree, type FileTree } from '../src/data/file_tree.ts';
import { importDataset } from '../src/data/import_dataset.ts';
import { nodeImageDecoder } from '../src/data/node_image_decoder.ts';
import { NodeFileTree } from '../src/data/node_file_tree.ts';
import { polygonsToInstanceIds, type CityscapesPolygonFile } from '../src/data/polygon_raster.ts';
import { Compose } from '../src/data/transforms/compose.ts';
import { detDataPreprocess } from '../src/data/transforms/data_preprocessor.ts';
import { RandomFlip } from '../src/data/transforms/flip.ts';
import { PackDetInputs } from '../src/data/transforms/formatting.ts';
import { defaultImageDecoder, LoadImageFromFile, toBgr } from '../src/data/transforms/loading.ts';
import { RandomResize } from '../src/data/transforms/resize.ts';
import { seededRng, type Results } from '../src/data/transforms/types.ts';
import { makeScene } from '../scripts/make_demo_dataset.ts';

/** Cityscapes image size. */
export const W = 2048;
export const H = 1024;

/** A demo scene scaled to 2048×1024. */
export function bigScene(seed: number): CityscapesPolygonFile {
  const s = makeScene(seededRng(seed));
  const k = W / s.imgWidth;
  return {
    imgWidth: W,
    imgHeight: H,
    objects: s.objects.map((o) => ({ ...o, polygon: o.polygon.map(([x, y]) => [x * k, y * k] as [number, number]) })),
  };
}

/**
 * A photo-like RGB rendering of an instance map: a colour per region, shading across the image and
 * texture plus sensor-like noise of a few levels, so a PNG of it compresses about as real street
 * photos do (Cityscapes' leftImg8bit PNGs are about 2 MB).
 */
export function photoRgb(ids: Int32Array, seed: number): Uint8Array {
  const rng = seededRng(seed);
  const out = new Uint8Array(W * H * 3);
  for (let y = 0, i = 0; y < H; y++) {
    for (let x = 0; x < W; x++, i++) {
      const base = (ids[i]! * 2654435761) >>> 0;
      const shade = ((x >> 4) + (y >> 3)) & 31;
      const tex = ((x * 7) ^ (y * 13)) & 1;
      for (let c = 0; c < 3; c++) {
        const v = ((base >>> (c * 8)) & 0x9f) + shade + tex + Math.floor(rng.random() * 3);
        out[i * 3 + c] = v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

/** Encodes 8-bit RGB as a PNG the way libpng does by default: per-row adaptive filter, zlib level 6. */
export function encodePngRgb(w: number, h: number, rgb: Uint8Array): Uint8Array {
  const stride = w * 3;
  const raw = new Uint8Array(h * (stride + 1));
  const cand = Array.from({ length: 5 }, () => new Uint8Array(stride));
  for (let y = 0; y < h; y++) {
    const row = y * stride;
    let best = 0;
    let bestSum = Infinity;
    for (let f = 0; f < 5; f++) {
      const c = cand[f]!;
      let sum = 0;
      for (let x = 0; x < stride; x++) {
        const a = x >= 3 ? rgb[row + x - 3]! : 0;
        const b = y > 0 ? rgb[row - stride + x]! : 0;
        const d = x >= 3 && y > 0 ? rgb[row - stride + x - 3]! : 0;
        let pred = 0;
        if (f === 1) pred = a;
        else if (f === 2) pred = b;
        else if (f === 3) pred = (a + b) >> 1;
        else if (f === 4) {
          const p = a + b - d;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - d);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : d;
        }
        const v = (rgb[row + x]! - pred) & 255;
        c[x] = v;
        sum += v < 128 ? v : 256 - v;
      }
      if (sum < bestSum) (bestSum = sum), (best = f);
    }
    raw[y * (stride + 1)] = best;
    raw.set(cand[best]!, y * (stride + 1) + 1);
  }
  const crcTable = new Int32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const b = Buffer.alloc(12 + data.length);
    b.writeUInt32BE(data.length, 0);
    b.write(type, 4, 'latin1');
    b.set(data, 8);
    let crc = -1;
    for (let i = 4; i < 8 + data.length; i++) crc = crcTable[(crc ^ b[i]!) & 255]! ^ (crc >>> 8);
    b.writeUInt32BE((crc ^ -1) >>> 0, 8 + data.length);
    return b;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', new Uint8Array())]));
}

/** The files of one distinct scene. */
export interface SceneFiles {
  instanceIds: Uint8Array;
  polygons: Uint8Array;
  image: Uint8Array;
}

/** `unique` distinct 2048×1024 scenes: 16-bit instanceIds PNG, polygons json, RGB PNG. */
export function makeScenes(unique: number): SceneFiles[] {
  const scenes: SceneFiles[] = [];
  for (let u = 0; u < unique; u++) {
    const scene = bigScene(1000 + u);
    const ids = polygonsToInstanceIds(scene);
    scenes.push({
      instanceIds: encode({ width: W, height: H, data: Uint16Array.from(ids), depth: 16, channels: 1 }),
      polygons: new TextEncoder().encode(JSON.stringify(scene)),
      image: encodePngRgb(W, H, photoRgb(ids, 1000 + u)),
    });
  }
  return scenes;
}

/** Path of image `i`'s files in the generated tree (one city, train split). */
export function benchPaths(i: number): { instanceIds: string; polygons: string; image: string } {
  const stem = `benchcity_${String(i).padStart(6, '0')}_000019`;
  return {
    instanceIds: `gtFine/train/benchcity/${stem}_gtFine_instanceIds.png`,
    polygons: `gtFine/train/benchcity/${stem}_gtFine_polygons.json`,
    image: `leftImg8bit/train/benchcity/${stem}_leftImg8bit.png`,
  };
}

/** A tree of `n` images made from `scenes` (the same bytes reused under new names). */
export function makeTree(n: number, scenes: SceneFiles[]): MemoryFileTree {
  const t = new MemoryFileTree();
  for (let i = 0; i < n; i++) {
    const s = scenes[i % scenes.length]!;
    const p = benchPaths(i);
    t.set(p.instanceIds, s.instanceIds);
    t.set(p.polygons, s.polygons);
    t.set(p.image, s.image);
  }
  return t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Imports `tree`, returning wall and CPU seconds, image count and the peak RSS seen at each image. */
async function timedImport(tree: FileTree): Promise<{ seconds: number; cpuSeconds: number; images: number; annotations: number; peakRss: number }> {
  let peakRss = process.memoryUsage().rss;
  const t0 = performance.now();
  const c0 = cpuMs();
  const res = await importDataset(tree, { onProgress: () => void (peakRss = Math.max(peakRss, process.memoryUsage().rss)) });
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = (cpuMs() - c0) / 1000;
  const images = res.splits.reduce((n, s) => n + s.coco.images.length, 0);
  const annotations = res.splits.reduce((n, s) => n + (s.coco.annotations?.length ?? 0), 0);
  if (res.issues.some((i) => i.severity === 'error')) throw new Error(`import issues: ${JSON.stringify(res.issues.slice(0, 3))}`);
  return { seconds, cpuSeconds, images, annotations, peakRss };
}

/** Runs the data benchmarks. */
export async function run(): Promise<Record<string, unknown>> {
  const nImages = Number(process.env.DATA_BENCH_IMAGES ?? 200);
  const scenes = makeScenes(12);
  const tree = makeTree(nImages, scenes);
  const rssBefore = process.memoryUsage().rss;
  const mem = await timedImport(tree);

  const dir = mkdtempSync(join(tmpdir(), 'detstudio-bench-'));
  try {
    // On disk: each distinct file written once, the others hard links to it.
    const written = new Map<Uint8Array, string>();
    for (const p of tree.list()) {
      const bytes = await tree.read(p);
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      const first = written.get(bytes);
      if (first) linkSync(first, join(dir, p));
      else (writeFileSync(join(dir, p), bytes), written.set(bytes, join(dir, p)));
    }
    const disk = await timedImport(new NodeFileTree(dir));

    // Polygon fallback (no instanceIds): rasterising instead of decoding (12 images).
    const polyTree = new MemoryFileTree();
    for (let i = 0; i < 12; i++) {
      const p = benchPaths(i);
      polyTree.set(p.polygons, scenes[i]!.polygons);
      polyTree.set(p.image, scenes[i]!.image);
    }
    let t0 = performance.now();
    await convertCityscapesSplit(polyTree, { prefix: '', splits: [] }, 'train');
    const polySeconds = (performance.now() - t0) / 1000;

    // One 2048×1024 sample through the train data path.
    const png = scenes[0]!.image;
    const load = new LoadImageFromFile({}, { readFile: async () => png, decodeImage: nodeImageDecoder });
    const rr = new RandomResize({ scale: [[2048, 800], [2048, 1024]], keep_ratio: true }, seededRng(3));
    const fused = new Compose([rr, new RandomFlip({ prob: 1.0 })], { readFile: async () => png });
    const rrUnfused = new RandomResize({ scale: [[2048, 800], [2048, 1024]], keep_ratio: true }, seededRng(3));
    const flip = new RandomFlip({ prob: 1.0 });
    const pack = new PackDetInputs();
    const cfg = { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], bgr_to_rgb: true, pad_size_divisor: 32 };
    const names = ['decode_bgr', 'resize_flip_fused', 'pack', 'normalise_pad', 'total', 'resize_unfused', 'flip_unfused'];
    const wall: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let rep = 0; rep < 22; rep++) {
      const tw: number[] = [performance.now()];
      const tc: number[] = [cpuMs()];
      const mark = (): void => void (tw.push(performance.now()), tc.push(cpuMs()));
      const loaded = (await load.transform({ img_path: 'bench.png', gt_bboxes: new Float32Array(0) }))!;
      mark();
      const r = (await fused.run({ ...loaded }))!;
      mark();
      const packed = pack.pack(r);
      mark();
      detDataPreprocess([packed], cfg, true);
      mark();
      let u: Results = rrUnfused.transform({ ...loaded });
      mark();
      u = flip.transform(u);
      mark();
      if (rep < 2) continue; // warm-up
      for (let k = 0; k < 4; k++) {
        wall[names[k]!]!.push(tw[k + 1]! - tw[k]!);
        cpu[names[k]!]!.push(tc[k + 1]! - tc[k]!);
      }
      wall.total!.push(tw[4]! - tw[0]!);
      cpu.total!.push(tc[4]! - tc[0]!);
      for (let k = 4; k < 6; k++) {
        wall[names[k + 1]!]!.push(tw[k + 1]! - tw[k]!);
        cpu[names[k + 1]!]!.push(tc[k + 1]! - tc[k]!);
      }
    }
    const fastPngCpu: number[] = [];
    for (let rep = 0; rep < 6; rep++) {
      const c0 = cpuMs();
      toBgr(defaultImageDecoder(png, 'bench.png'));
      if (rep >= 1) fastPngCpu.push(cpuMs() - c0);
    }
    const summarise = (m: Record<string, number[]>, f: (v: number[]) => number): Record<string, number> =>
      Object.fromEntries(Object.entries(m).map(([k, v]) => [k, +f(v).toFixed(1)]));
    return {
      import_images: mem.images,
      import_annotations: mem.annotations,
      import_images_per_s_memory: +(mem.images / mem.seconds).toFixed(2),
      import_images_per_cpu_s_memory: +(mem.images / mem.cpuSeconds).toFixed(2),
      import_images_per_s_disk: +(disk.images / disk.seconds).toFixed(2),
      import_images_per_s_polygons_fallback: +(12 / polySeconds).toFixed(2),
      import_peak_rss_mib: +(Math.max(mem.peakRss, disk.peakRss) / 2 ** 20).toFixed(0),
      import_rss_before_mib: +(rssBefore / 2 ** 20).toFixed(0),
      import_tree_bytes_per_image: scenes[0]!.image.length + scenes[0]!.instanceIds.length + scenes[0]!.polygons.length,
      sample_png_bytes: png.length,
      sample_wall_ms_median: summarise(wall, median),
      sample_wall_ms_min: summarise(wall, (v) => Math.min(...v)),
      sample_cpu_ms_median: summarise(cpu, median),
      sample_decode_fast_png_cpu_ms_median: +median(fastPngCpu).toFixed(1),
      sample_goal_ms: 60,
      load_average: loadavg().map((x) => +x.toFixed(1)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
