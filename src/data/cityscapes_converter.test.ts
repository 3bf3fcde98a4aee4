import { readFileSync } from 'node:fs';
import { encode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.ts';
import { cityscapesCategories, convertCityscapesSplit, instanceIdsToAnnotations } from './cityscapes_converter.ts';
import { dumpCocoJson } from './coco_types.ts';
import { MemoryFileTree } from './file_tree.ts';
import type { ImportProgress } from './import_report.ts';
import { loadTreeIntoMemory } from './testing_trees.ts';

const layout = { prefix: 'cityscapes/', splits: ['train', 'val'] };
let base: MemoryFileTree;
beforeAll(async () => {
  base = await loadTreeIntoMemory(fixturePath('cityscapes'));
});
async function fresh(): Promise<MemoryFileTree> {
  const t = new MemoryFileTree();
  for (const p of base.list()) t.set(p, await base.read(p));
  return t;
}
const reference = (split: string): string =>
  readFileSync(fixturePath('cityscapes', `instancesonly_filtered_gtFine_${split}.json`), 'utf8');

describe('convertCityscapesSplit (MMDetection converter)', () => {
  it.each(['train', 'val'])('%s json equals the fixture byte for byte', async (split) => {
    const res = await convertCityscapesSplit(base, layout, split);
    expect(res.issues).toEqual([]);
    expect(dumpCocoJson(res.coco)).toBe(reference(split));
  });

  it('categories are the 8 Cityscapes instance labels with ids 24..33', () => {
    expect(cityscapesCategories().map((c) => `${c.id}:${c.name}`)).toEqual([
      '24:person', '25:rider', '26:car', '27:truck', '28:bus', '31:train', '32:motorcycle', '33:bicycle',
    ]);
  });

  it('without any instanceIds PNG, the polygons fallback gives the same json and reports each image', async () => {
    const t = await fresh();
    for (const p of t.list()) if (p.endsWith('_instanceIds.png')) t.delete(p);
    for (const split of ['train', 'val']) {
      const res = await convertCityscapesSplit(t, layout, split);
      expect(dumpCocoJson(res.coco)).toBe(reference(split));
      expect(res.polygonFallbackCount).toBe(6);
      expect(res.issues.every((i) => i.code === 'polygons_fallback' && i.severity === 'info')).toBe(true);
      expect(res.issues.length).toBe(6);
    }
  });

  it('reports bad inputs with path and reason and converts the rest', async () => {
    const t = await fresh();
    const gt = 'cityscapes/gtFine/train/aachen/';
    // 8-bit instanceIds
    t.set(`${gt}aachen_000066_050917_gtFine_instanceIds.png`, encode({ width: 4, height: 2, data: new Uint8Array(8), depth: 8, channels: 1 }));
    // truncated PNG
    const good = await t.read(`${gt}aachen_000245_063594_gtFine_instanceIds.png`);
    t.set(`${gt}aachen_000245_063594_gtFine_instanceIds.png`, good.subarray(0, Math.floor(good.length / 2)));
    // image without gtFine
    t.delete(`${gt}aachen_000297_051053_gtFine_instanceIds.png`);
    t.delete(`${gt}aachen_000297_051053_gtFine_polygons.json`);
    // hidden files are invisible to the converter's glob (macOS AppleDouble files in zips)
    t.set('cityscapes/leftImg8bit/train/aachen/._aachen_000066_050917_leftImg8bit.png', new Uint8Array(4));
    // a PNG that does not follow the naming scheme
    t.set('cityscapes/leftImg8bit/train/aachen/cover.png', new Uint8Array(4));
    // gtFine without image
    t.set('cityscapes/gtFine/train/bochum/bochum_999999_000001_gtFine_instanceIds.png', good);
    // invalid polygons json used as fallback
    t.delete('cityscapes/gtFine/train/bochum/bochum_000103_055680_gtFine_instanceIds.png');
    t.set('cityscapes/gtFine/train/bochum/bochum_000103_055680_gtFine_polygons.json', new TextEncoder().encode('{"imgWidth": 25'));
    // unknown label in a fallback polygon file
    t.delete('cityscapes/gtFine/train/bochum/bochum_000106_120129_gtFine_instanceIds.png');
    t.set(
      'cityscapes/gtFine/train/bochum/bochum_000106_120129_gtFine_polygons.json',
      new TextEncoder().encode(JSON.stringify({ imgWidth: 8, imgHeight: 8, objects: [{ label: 'spaceship', polygon: [[0, 0], [4, 0], [4, 4]] }] })),
    );
    const res = await convertCityscapesSplit(t, layout, 'train');
    const byCode = Object.fromEntries(res.issues.map((i) => [i.code, i]));
    expect(byCode.instance_ids_not_16bit?.path).toBe(`${gt}aachen_000066_050917_gtFine_instanceIds.png`);
    expect(byCode.png_unreadable?.path).toBe(`${gt}aachen_000245_063594_gtFine_instanceIds.png`);
    expect(byCode.image_without_gtfine?.path).toBe('cityscapes/leftImg8bit/train/aachen/aachen_000297_051053_leftImg8bit.png');
    expect(byCode.gtfine_without_image?.path).toBe('cityscapes/gtFine/train/bochum/bochum_999999_000001_gtFine_instanceIds.png');
    expect(byCode.invalid_json?.path).toBe('cityscapes/gtFine/train/bochum/bochum_000103_055680_gtFine_polygons.json');
    expect(byCode.unknown_label?.reason).toMatch(/spaceship/);
    expect(byCode.unexpected_file_name?.path).toBe('cityscapes/leftImg8bit/train/aachen/cover.png');
    expect(res.issues.some((i) => i.path.includes('/._'))).toBe(false);
    for (const i of res.issues) expect(i.reason.length).toBeGreaterThan(10);
    // only the last image survives, with id 0
    expect(res.coco.images.map((i) => i.file_name)).toEqual(['bochum/bochum_000224_004199_leftImg8bit.png']);
    expect(res.coco.images[0]!.id).toBe(0);
    expect(res.coco.annotations).toBeUndefined();
  });

  it('reports progress with rate and ETA and can be cancelled', async () => {
    const events: ImportProgress[] = [];
    let clock = 0;
    await convertCityscapesSplit(base, layout, 'val', { onProgress: (p) => events.push(p), now: () => (clock += 500) });
    expect(events.map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[0]!.total).toBe(6);
    expect(events[1]!.rate).toBeCloseTo(2, 5); // 2 images in 1 s
    expect(events[1]!.etaSeconds).toBeCloseTo(2, 5);
    const ctrl = new AbortController();
    const p = convertCityscapesSplit(base, layout, 'val', { signal: ctrl.signal, onProgress: (e) => e.done === 2 && ctrl.abort() });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('instanceIdsToAnnotations', () => {
  it('handles crowd, ignored labels (caravan), disconnected instances, and unknown ids', () => {
    const h = 3;
    const w = 4;
    // rows: [26000 26000 0 26000], [29000 24 24 0], [0 0 0 40000]
    const ids = new Uint16Array([26000, 26000, 0, 26000, 29000, 24, 24, 0, 0, 0, 0, 40000]);
    const unknown: number[] = [];
    const anns = instanceIdsToAnnotations(ids, h, w, (v) => unknown.push(v));
    expect(unknown).toEqual([40000]);
    expect(anns.map((a) => [a.category_id, a.iscrowd, a.area, a.bbox])).toEqual([
      [24, 1, 2, [1, 1, 2, 1]],
      [26, 0, 3, [0, 0, 4, 1]],
    ]);
  });
});
