/**
 * The native decode-and-resize span of `Compose`, in Node with a `decodeResized` that resizes by the
 * exact (OpenCV-equal) bilinear: the packed samples must then equal the step-by-step pipeline's
 * bit for bit, with the same random draws. (The browser's own resampler is measured against the
 * OpenCV fixtures by e2e/specs/pipeline_browser.spec.ts.)
 */
import { readFileSync } from 'node:fs';
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { fixturePath, readFixtureJson } from '../../testing/fixtures.ts';
import { CityscapesDataset } from '../datasets.ts';
import type { CocoJson } from '../coco_types.ts';
import { pngHeader, type NativeResizeCapable, type ResizedDecodeRequest } from './browser_fast_path.ts';
import { Compose } from './compose.ts';
import type { PackedInputs } from './formatting.ts';
import { resizeBilinear } from './image_ops.ts';
import { defaultImageDecoder, toBgr, type ImageDecoder } from './loading.ts';
import { seededRng, type ImageU8, type Results } from './types.ts';

type Pipeline = Array<Record<string, unknown> & { type: string }>;
const fx = readFixtureJson<{ pipelines: Record<string, Pipeline>; runs: Record<string, unknown> }>('pipeline', 'pipeline.json');
const readFile = async (p: string): Promise<Uint8Array> => new Uint8Array(readFileSync(p));

/** HWC → channel planes (CHW). */
function toPlanar(img: ImageU8): ImageU8 {
  const { width: w, height: h, channels: c } = img;
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < w * h; i++) for (let k = 0; k < c; k++) out[k * w * h + i] = img.data[i * c + k]!;
  return { width: w, height: h, channels: c, data: out, planar: true };
}

/**
 * A decoder whose `decodeResized` resizes exactly (so results must be bit-identical), in channel
 * planes when asked unless `ignorePlanar`; logs requests.
 */
function exactResizingDecoder(log: ResizedDecodeRequest[], decline = false, ignorePlanar = false): ImageDecoder & NativeResizeCapable {
  const decode: ImageDecoder = (bytes, path) => defaultImageDecoder(bytes, path);
  return Object.assign(decode, {
    decodeResized: async (bytes: Uint8Array, path: string, req: ResizedDecodeRequest) => {
      log.push(req);
      if (decline) return null;
      const full = toBgr(defaultImageDecoder(bytes, path));
      const out = resizeBilinear(full, req.width, req.height, { flipHorizontal: req.flipHorizontal });
      return req.planar && !ignorePlanar ? toPlanar(out) : out;
    },
  });
}

function dataset(pipeline: Pipeline, ctx: { decodeImage?: ImageDecoder; exactImageResize?: boolean; rng?: ReturnType<typeof seededRng> }): CityscapesDataset {
  const coco = readFixtureJson<CocoJson>('cityscapes', 'instancesonly_filtered_gtFine_train.json');
  return new CityscapesDataset(
    coco,
    {
      data_root: fixturePath('cityscapes'),
      ann_file: 'instancesonly_filtered_gtFine_train.json',
      data_prefix: { img: 'cityscapes/leftImg8bit/train/' },
      filter_cfg: { filter_empty_gt: true, min_size: 32 },
      pipeline,
    },
    { readFile, ...ctx },
  );
}

async function packedOf(pipeline: Pipeline, idx: number, ctx: Parameters<typeof dataset>[1]): Promise<PackedInputs> {
  const ds = dataset(pipeline, ctx);
  const c = new Compose(pipeline, { readFile, ...ctx });
  return (await c.pack(ds.getDataInfo(idx) as unknown as Results))!;
}

function expectSame(a: PackedInputs, b: PackedInputs): void {
  expect(a.inputs.shape).toEqual(b.inputs.shape);
  expect(Buffer.from(a.inputs.data).equals(Buffer.from(b.inputs.data))).toBe(true);
  expect(a.data_samples.metainfo).toEqual(b.data_samples.metainfo);
  for (const k of ['gt_instances', 'ignored_instances'] as const) {
    expect(Array.from(a.data_samples[k].bboxes)).toEqual(Array.from(b.data_samples[k].bboxes));
    expect(Array.from(a.data_samples[k].labels)).toEqual(Array.from(b.data_samples[k].labels));
    expect(Buffer.from(a.data_samples[k].masks!.data).equals(Buffer.from(b.data_samples[k].masks!.data))).toBe(true);
  }
}

describe('native decode-and-resize span', () => {
  it.each(Object.keys(fx.runs))('run %s: same packed sample as the exact pipeline', async (key) => {
    const [pipe, idx] = key.split('/') as [string, string];
    const log: ResizedDecodeRequest[] = [];
    const fast = await packedOf(fx.pipelines[pipe]!, Number(idx), { decodeImage: exactResizingDecoder(log) });
    const exact = await packedOf(fx.pipelines[pipe]!, Number(idx), {});
    expect(log.length).toBe(1);
    const [h, w] = exact.data_samples.metainfo.img_shape as [number, number];
    // PackDetInputs follows the span in every fixture pipeline: channel planes are asked for.
    expect(log[0]).toEqual({ width: w, height: h, flipHorizontal: pipe === 'i', planar: true });
    expectSame(fast, exact);
    const hwc = await packedOf(fx.pipelines[pipe]!, Number(idx), { decodeImage: exactResizingDecoder([], false, true) });
    expectSame(hwc, exact); // a decoder that ignores `planar` is fine too
  });

  it('asks for interleaved pixels when PackDetInputs does not follow, and flips channel planes vertically', async () => {
    const pipe = (flip: Record<string, unknown>): Pipeline => [
      { type: 'LoadImageFromFile' },
      { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
      { type: 'Resize', scale: [300, 140], keep_ratio: true },
      { type: 'RandomFlip', ...flip },
      { type: 'PackDetInputs' },
    ];
    const log: ResizedDecodeRequest[] = [];
    const c = new Compose(pipe({ prob: 1.0 }).slice(0, 4), { readFile, decodeImage: exactResizingDecoder(log) });
    const r = (await c.run(dataset(pipe({ prob: 1.0 }), {}).getDataInfo(0) as unknown as Results))!;
    expect(log[0]!.planar).toBe(false);
    expect(r.img!.planar).toBeUndefined();
    // diagonal = the mirrored decode plus a vertical flip of the planes
    const diag = pipe({ prob: 1.0, direction: 'diagonal' });
    const fast = await packedOf(diag, 0, { decodeImage: exactResizingDecoder([]) });
    const exact = await packedOf(diag, 0, {});
    expect(fast.data_samples.metainfo.flip_direction).toBe('diagonal');
    expectSame(fast, exact);
  });

  it('keeps the random draws of RandomResize + RandomFlip (and falls back when declined or disabled)', async () => {
    const pipeline: Pipeline = [
      { type: 'LoadImageFromFile' },
      { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
      { type: 'RandomResize', scale: [[300, 100], [600, 260]], keep_ratio: true },
      { type: 'RandomFlip', prob: 0.5 },
      { type: 'PackDetInputs' },
    ];
    const log: ResizedDecodeRequest[] = [];
    const declined: ResizedDecodeRequest[] = [];
    const unused: ResizedDecodeRequest[] = [];
    const rngs = [seededRng(11), seededRng(11), seededRng(11), seededRng(11)];
    const ctxs = [
      { rng: rngs[0] },
      { rng: rngs[1], decodeImage: exactResizingDecoder(log) },
      { rng: rngs[2], decodeImage: exactResizingDecoder(declined, true) },
      { rng: rngs[3], decodeImage: exactResizingDecoder(unused), exactImageResize: true },
    ];
    const dss = ctxs.map((c) => dataset(pipeline, c));
    const composes = ctxs.map((c) => new Compose(pipeline, { readFile, ...c }));
    const flips = new Set<boolean>();
    for (let k = 0; k < 6; k++) {
      const out = await Promise.all(composes.map(async (c, j) => (await c.pack(dss[j]!.getDataInfo(k % 2 ? 2 : 0) as unknown as Results))!));
      for (const o of out.slice(1)) expectSame(o, out[0]!);
      flips.add(Boolean(out[0]!.data_samples.metainfo.flip));
    }
    expect(flips.size).toBe(2); // both branches were exercised
    expect(log.length).toBe(6);
    expect(declined.length).toBe(6);
    expect(unused.length).toBe(0);
    expect(rngs.map((r) => r.getState().state)).toEqual(Array(4).fill(rngs[0]!.getState().state));
  });

  it('reads PNG headers and leaves 16-bit PNGs to the exact path', async () => {
    const png16 = encode({ width: 5, height: 3, data: new Uint16Array(15).fill(0x4000), channels: 1, depth: 16 });
    expect(pngHeader(png16)).toEqual({ width: 5, height: 3, depth: 16, colorType: 0 });
    expect(pngHeader(new Uint8Array([0xff, 0xd8, 0xff]))).toBeNull();
    const log: ResizedDecodeRequest[] = [];
    const c = new Compose([{ type: 'LoadImageFromFile' }, { type: 'Resize', scale: [10, 6], keep_ratio: true }], {
      readFile: async () => png16,
      decodeImage: exactResizingDecoder(log),
    });
    const r = (await c.run({ img_path: 'x.png' }))!;
    expect(log.length).toBe(0);
    expect(r.img_shape).toEqual([6, 10]);
    expect(r.ori_shape).toEqual([3, 5]);
    expect(r.img!.data[0]).toBe(0x40);
  });
});
