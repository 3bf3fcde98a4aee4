/**
 * Data benchmarks (Node):
 *  - import rate (images/s) of the Cityscapes converter on a generated tree of 2048×1024 scenes
 *    (16-bit instanceIds; DATA_BENCH_IMAGES images, default 60, made from 12 distinct scenes), in
 *    memory and from disk, with peak RSS (flat: one image decoded at a time);
 *  - one training sample's data path on a 2048×1024 RGB PNG: decode (native-zlib PNG decoder; the
 *    pure-JS fast-png decode is timed separately) + BGR,
 *    RandomResize(scale=[(2048, 800), (2048, 1024)], keep_ratio) + RandomFlip(prob=1) + pack +
 *    DetDataPreprocessor normalise (goal ≤ 60 ms).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encode } from 'fast-png';
import { convertCityscapesSplit } from '../src/data/cityscapes_converter.ts';
import { MemoryFileTree } from '../src/data/file_tree.ts';
import { NodeFileTree } from '../src/data/node_file_tree.ts';
import { polygonsToInstanceIds, type CityscapesPolygonFile } from '../src/data/polygon_raster.ts';
import { detDataPreprocess } from '../src/data/transforms/data_preprocessor.ts';
import { RandomFlip } from '../src/data/transforms/flip.ts';
import { PackDetInputs } from '../src/data/transforms/formatting.ts';
import { defaultImageDecoder, toBgr } from '../src/data/transforms/loading.ts';
import { nodePngDecoder } from '../src/data/node_image_decoder.ts';
import { RandomResize } from '../src/data/transforms/resize.ts';
import { seededRng, type Results } from '../src/data/transforms/types.ts';
import { makeScene } from '../scripts/make_demo_dataset.ts';

const W = 2048;
const H = 1024;

function bigScene(seed: number): CityscapesPolygonFile {
  const s = makeScene(seededRng(seed));
  const k = W / s.imgWidth;
  return {
    imgWidth: W,
    imgHeight: H,
    objects: s.objects.map((o) => ({ ...o, polygon: o.polygon.map(([x, y]) => [x * k, y * k] as [number, number]) })),
  };
}

/** An RGB rendering with mild noise so the PNG is photo-like in size (a few MB). */
function bigRgb(ids: Int32Array, seed: number): Uint8Array {
  const rng = seededRng(seed);
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const v = ids[i]!;
    const base = (v * 2654435761) >>> 0;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.min(255, ((base >>> (c * 8)) & 0xbf) + Math.floor(rng.random() * 48));
  }
  return out;
}

/** A tree of `n` images made from `unique` distinct scenes (the same bytes reused under new names). */
async function makeTree(n: number, unique: number): Promise<MemoryFileTree> {
  const t = new MemoryFileTree();
  const scenes: Array<{ png: Uint8Array; json: Uint8Array }> = [];
  for (let u = 0; u < unique; u++) {
    const scene = bigScene(1000 + u);
    const ids = polygonsToInstanceIds(scene);
    scenes.push({
      png: encode({ width: W, height: H, data: Uint16Array.from(ids), depth: 16, channels: 1 }),
      json: new TextEncoder().encode(JSON.stringify(scene)),
    });
  }
  for (let i = 0; i < n; i++) {
    const { png, json } = scenes[i % unique]!;
    const stem = `benchcity_${String(i).padStart(6, '0')}_000019`;
    t.set(`gtFine/train/benchcity/${stem}_gtFine_instanceIds.png`, png);
    t.set(`gtFine/train/benchcity/${stem}_gtFine_polygons.json`, json);
    // The converter never opens the RGB image; a stub keeps the generated tree small and fast to make.
    t.set(`leftImg8bit/train/benchcity/${stem}_leftImg8bit.png`, new Uint8Array(8));
  }
  return t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs the data benchmarks. */
export async function run(): Promise<Record<string, unknown>> {
  const nImages = Number(process.env.DATA_BENCH_IMAGES ?? 60);
  const tree = await makeTree(nImages, 12);
  let peakRss = 0;
  const onProgress = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  const rssBefore = process.memoryUsage().rss;
  let t0 = performance.now();
  const cpuImport = process.cpuUsage();
  const mem = await convertCityscapesSplit(tree, { prefix: '', splits: [] }, 'train', { onProgress });
  const memSeconds = (performance.now() - t0) / 1000;
  const cpuUsed = process.cpuUsage(cpuImport);
  const memCpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
  const annotations = mem.coco.annotations?.length ?? 0;

  const dir = mkdtempSync(join(tmpdir(), 'detstudio-bench-'));
  try {
    for (const p of tree.list()) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), await tree.read(p));
    }
    t0 = performance.now();
    await convertCityscapesSplit(new NodeFileTree(dir), { prefix: '', splits: [] }, 'train', { onProgress });
    const diskSeconds = (performance.now() - t0) / 1000;

    // Polygon fallback (no instanceIds): rasterising instead of decoding (first 12 images).
    const polyTree = new MemoryFileTree();
    for (const p of tree.list()) if (!p.endsWith('_instanceIds.png') && /_0000(0\d|1[01])_/.test(p)) polyTree.set(p, await tree.read(p));
    const nPoly = polyTree.list().filter((p) => p.startsWith('leftImg8bit/')).length;
    t0 = performance.now();
    await convertCityscapesSplit(polyTree, { prefix: '', splits: [] }, 'train');
    const polySeconds = (performance.now() - t0) / 1000;

    // One 2048×1024 sample through the train data path.
    const ids = polygonsToInstanceIds(bigScene(7));
    const png = encode({ width: W, height: H, data: bigRgb(ids, 7), depth: 8, channels: 3 });
    const rr = new RandomResize({ scale: [[2048, 800], [2048, 1024]], keep_ratio: true }, seededRng(3));
    const flip = new RandomFlip({ prob: 1.0 });
    const pack = new PackDetInputs();
    const cfg = { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], bgr_to_rgb: true, pad_size_divisor: 32 };
    const names = ['decode', 'resize', 'flip', 'pack', 'normalise_pad', 'total'];
    const wall: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const cpuMs = (): number => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    for (let rep = 0; rep < 22; rep++) {
      const tw: number[] = [performance.now()];
      const tc: number[] = [cpuMs()];
      const mark = (): void => void (tw.push(performance.now()), tc.push(cpuMs()));
      const img = toBgr(nodePngDecoder(png, 'bench.png'));
      mark();
      let r: Results = { img, img_shape: [img.height, img.width], ori_shape: [img.height, img.width], gt_bboxes: new Float32Array(0) };
      r = rr.transform(r);
      mark();
      r = flip.transform(r);
      mark();
      const packed = pack.pack(r);
      mark();
      detDataPreprocess([packed], cfg, true);
      mark();
      if (rep < 2) continue; // warm-up
      for (let k = 0; k < 5; k++) {
        wall[names[k]!]!.push(tw[k + 1]! - tw[k]!);
        cpu[names[k]!]!.push(tc[k + 1]! - tc[k]!);
      }
      wall.total!.push(tw[5]! - tw[0]!);
      cpu.total!.push(tc[5]! - tc[0]!);
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
      import_images: nImages,
      import_annotations: annotations,
      import_images_per_s_memory: +(nImages / memSeconds).toFixed(2),
      import_images_per_cpu_s_memory: +(nImages / memCpuSeconds).toFixed(2),
      import_images_per_s_disk: +(nImages / diskSeconds).toFixed(2),
      import_images_per_s_polygons_fallback: +(nPoly / polySeconds).toFixed(2),
      import_peak_rss_mib: +(peakRss / 2 ** 20).toFixed(0),
      import_rss_before_mib: +(rssBefore / 2 ** 20).toFixed(0),
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
