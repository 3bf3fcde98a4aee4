import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_DIR, listBuiltinConfigs } from '../configs/node.ts';
import type { CocoAnnotation } from '../data/coco_types.ts';
import { encode } from '../eval/mask.ts';
import { DatasetDb } from '../storage/dataset_db.ts';
import { repoRoot } from '../testing/fixtures.ts';
import {
  BlobFileTree,
  DatasetService,
  HATCH_PERIOD,
  HandleFileTree,
  LazyHandleTree,
  PermissionNeededError,
  renderInstanceOverlay,
  writeFileAt,
  type DirHandleLike,
  type FileHandleLike,
} from './dataset_tasks.ts';

/** An in-memory stand-in for `FileSystemDirectoryHandle` (the same structural API). */
class MemDir implements DirHandleLike {
  readonly kind = 'directory' as const;
  readonly children = new Map<string, MemDir | MemFile>();
  permission: 'granted' | 'prompt' = 'granted';
  constructor(readonly name: string) {}
  async *values() {
    yield* this.children.values();
  }
  async getDirectoryHandle(name: string, o?: { create?: boolean }): Promise<MemDir> {
    let c = this.children.get(name);
    if (!c && o?.create) this.children.set(name, (c = new MemDir(name)));
    if (!c || c.kind !== 'directory') throw Object.assign(new Error(name), { name: c ? 'TypeMismatchError' : 'NotFoundError' });
    return c;
  }
  async getFileHandle(name: string, o?: { create?: boolean }): Promise<MemFile> {
    let c = this.children.get(name);
    if (!c && o?.create) this.children.set(name, (c = new MemFile(name, new Uint8Array())));
    if (!c || c.kind !== 'file') throw Object.assign(new Error(name), { name: c ? 'TypeMismatchError' : 'NotFoundError' });
    return c;
  }
  async removeEntry(name: string): Promise<void> {
    if (!this.children.delete(name)) throw Object.assign(new Error(name), { name: 'NotFoundError' });
  }
  async queryPermission() {
    return this.permission;
  }
  /** Adds a file at a relative path. */
  put(path: string, bytes: Uint8Array): void {
    const parts = path.split('/');
    let d: MemDir = this;
    for (const p of parts.slice(0, -1)) {
      if (!d.children.has(p)) d.children.set(p, new MemDir(p));
      d = d.children.get(p) as MemDir;
    }
    d.children.set(parts[parts.length - 1]!, new MemFile(parts[parts.length - 1]!, bytes));
  }
  count(): number {
    let n = 0;
    for (const c of this.children.values()) n += c.kind === 'file' ? 1 : c.count();
    return n;
  }
}

class MemFile implements FileHandleLike {
  readonly kind = 'file' as const;
  constructor(readonly name: string, public bytes: Uint8Array) {}
  async getFile(): Promise<Blob> {
    return new Blob([new Uint8Array(this.bytes)]);
  }
  async createWritable() {
    const parts: Uint8Array[] = [];
    return {
      write: async (d: Uint8Array | Blob) => void parts.push(d instanceof Blob ? new Uint8Array(await d.arrayBuffer()) : d),
      close: async () => void (this.bytes = new Uint8Array(Buffer.concat(parts))),
    };
  }
}

const DEMO = join(repoRoot, 'public', 'demo');
const DEMO_URL = 'http://studio.test/demo/';
const fakeFetch = (async (url: string | URL) => {
  const u = String(url);
  if (!u.startsWith(DEMO_URL)) return new Response('', { status: 404 });
  try {
    return new Response(readFileSync(join(DEMO, u.slice(DEMO_URL.length))));
  } catch {
    return new Response('', { status: 404 });
  }
}) as typeof fetch;

/** A small Cityscapes tree from the demo: 3 train images + 1 val, plus bad inputs. */
function smallCityscapes(): MemDir {
  const root = new MemDir('drop');
  const base = join(DEMO, 'cityscapes');
  const stems = [
    ['train', 'aachen', 'aachen_000048_650525'],
    ['train', 'aachen', 'aachen_000056_116296'],
    ['train', 'aachen', 'aachen_000058_801894'],
  ];
  for (const [split, city, stem] of stems) {
    const img = `leftImg8bit/${split}/${city}/${stem}_leftImg8bit.png`;
    root.put(`cityscapes/${img}`, new Uint8Array(readFileSync(join(base, img))));
    for (const suf of ['instanceIds.png', 'labelIds.png', 'polygons.json']) {
      const gt = `gtFine/${split}/${city}/${stem}_gtFine_${suf}`;
      root.put(`cityscapes/${gt}`, new Uint8Array(readFileSync(join(base, gt))));
    }
  }
  // An image without gtFine, and a truncated PNG with gtFine.
  root.put('cityscapes/leftImg8bit/train/aachen/aachen_999999_000000_leftImg8bit.png', new Uint8Array(readFileSync(join(base, `leftImg8bit/train/aachen/${stems[0]![2]}_leftImg8bit.png`))));
  return root;
}

function env(opfs: MemDir | null = new MemDir('opfs'), dbName = `test-ds-${Math.random()}`) {
  let db: Promise<DatasetDb> | null = null;
  const decoded: string[] = [];
  return {
    decoded,
    env: {
      db: () => (db ??= DatasetDb.open(dbName)),
      opfsRoot: async () => opfs,
      fetch: fakeFetch,
      decodeThumbnail: async (bytes: Uint8Array, size: number) => {
        if (bytes[1] !== 0x50) throw new Error('not a png');
        decoded.push(`thumb:${size}`);
        return { width: size, height: size / 2, close() {} } as unknown as ImageBitmap;
      },
      decodeImage: async (bytes: Uint8Array) => ({ width: 256, height: 128, bytes: bytes.length, close() {} }) as unknown as ImageBitmap,
      rgbaToBitmap: async (rgba: Uint8ClampedArray, width: number, height: number) => ({ width, height, rgba, close() {} }) as unknown as ImageBitmap,
      estimate: async () => ({ usage: 10, quota: 100 }),
      now: () => performance.now(),
    },
  };
}

describe('file trees over handles', () => {
  it('walks a directory handle, lists sorted relative paths and reads bytes', async () => {
    const d = new MemDir('x');
    d.put('b/c.txt', new Uint8Array([3]));
    d.put('a.txt', new Uint8Array([1, 2]));
    const counts: number[] = [];
    const t = await HandleFileTree.open(d, { onCount: (n) => counts.push(n) });
    expect(t.list()).toEqual(['a.txt', 'b/c.txt']);
    expect([...(await t.read('b/c.txt'))]).toEqual([3]);
    await expect(t.read('nope')).rejects.toThrow(/no such file/);
    expect(counts.at(-1)).toBe(2);
    expect([...(await new LazyHandleTree(d).read('b/c.txt'))]).toEqual([3]);
    await expect(new LazyHandleTree(d).read('b/zz')).rejects.toThrow(/no such file/);
    await writeFileAt(d, 'n/e/w.bin', new Uint8Array([9, 9]));
    expect([...(await new LazyHandleTree(d).read('n/e/w.bin'))]).toEqual([9, 9]);
    const bt = new BlobFileTree([{ path: './z/y.txt', file: new Blob([new Uint8Array([7])]) }]);
    expect(bt.list()).toEqual(['z/y.txt']);
    expect([...(await bt.read('z/y.txt'))]).toEqual([7]);
  });
});

describe('DatasetService', () => {
  it('lists the demo from its manifest and opens it over fetch with stats and the training filter', async () => {
    const { env: e, decoded } = env();
    const svc = new DatasetService(e);
    const list = await svc.list(DEMO_URL);
    expect(list[0]).toMatchObject({ id: 'demo', name: 'Demo (synthetic Cityscapes)', images: 64, splits: ['train', 'val'] });
    const idx = await svc.openDataset('demo', DEMO_URL);
    expect(idx.classes).toEqual(['person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle']);
    expect(idx.palette[0]).toEqual([220, 20, 60]);
    expect(idx.images).toHaveLength(64);
    expect(idx.splits.map((s) => s.images)).toEqual([48, 16]);
    const total = idx.stats.perClass.reduce((n, c) => n + c.instances + c.crowd, 0);
    expect(total).toBe(218 + 90);
    expect(idx.stats.sizes.small + idx.stats.sizes.medium + idx.stats.sizes.large).toBe(idx.stats.perClass.reduce((n, c) => n + c.instances, 0));
    // 256x128 demo images are >= 32 px, so only empty / crowd-only ones can be dropped; val is never filtered.
    for (const d of idx.splits[0]!.dropped) expect(['no annotations', 'only crowd annotations']).toContain(d.reason);
    expect(idx.splits[1]!.dropped).toEqual([]);
    const thumbs = await svc.thumbnails('demo', idx.images.slice(0, 5).map((i) => i.key), 96);
    expect(thumbs.every((t) => t !== null)).toBe(true);
    expect(decoded).toHaveLength(5);
    const withCrowd = idx.images.find((i) => i.crowd > 0 && i.instances > 0)!;
    const view = await svc.imageView('demo', withCrowd.key);
    expect(view.instances.filter((i) => i.crowd)).toHaveLength(withCrowd.crowd);
    const rgba = (view.overlay as unknown as { rgba: Uint8ClampedArray }).rgba;
    expect(rgba.length).toBe(256 * 128 * 4);
    expect(rgba.some((v, i) => i % 4 === 3 && v > 0)).toBe(true);
    await expect(svc.deleteDataset('demo')).rejects.toThrow(/cannot be deleted/);
  });

  it('imports a dropped folder into OPFS with a report of bad inputs, dedupes re-imports, deletes', async () => {
    const opfs = new MemDir('opfs');
    const { env: e } = env(opfs);
    const svc = new DatasetService(e);
    const phases = new Set<string>();
    const res = await svc.importSource({ kind: 'handle', handle: smallCityscapes(), name: 'drop' }, 'opfs', { onProgress: (p) => phases.add(p.phase) });
    expect(res.summary).toMatchObject({ name: 'drop', format: 'cityscapes', images: 3, sourceKind: 'opfs' });
    expect(res.replaced).toBe(false);
    expect(res.issues.some((i) => i.code === 'image_without_gtfine' && i.path.includes('aachen_999999_000000'))).toBe(true);
    expect(phases).toContain('scan folder');
    expect(phases).toContain('copy images');
    expect(opfs.count()).toBe(3); // only the images the annotations use
    const id = res.summary!.id;
    const idx = await svc.openDataset(id, DEMO_URL);
    expect(idx.needsPermission).toBeNull();
    expect(idx.issues.length).toBe(res.issues.length);
    expect((await svc.thumbnails(id, [idx.images[0]!.key], 64))[0]).not.toBeNull();

    const again = await svc.importSource({ kind: 'handle', handle: smallCityscapes(), name: 'drop again' }, 'opfs');
    expect(again.replaced).toBe(true);
    expect(again.summary!.id).toBe(id);
    expect(opfs.count()).toBe(3); // the earlier copy was replaced, not kept beside the new one
    expect((await svc.list(DEMO_URL)).filter((s) => s.id !== 'demo')).toHaveLength(1);

    await svc.deleteDataset(id);
    expect((await svc.list(DEMO_URL)).filter((s) => s.id !== 'demo')).toHaveLength(0);
    expect(opfs.count()).toBe(0);
  });

  it('cancels an import through its AbortSignal: it rejects with AbortError and stores nothing', async () => {
    const opfs = new MemDir('opfs');
    const { env: e } = env(opfs);
    const svc = new DatasetService(e);
    const ac = new AbortController();
    const run = svc.importSource({ kind: 'handle', handle: smallCityscapes(), name: 'drop' }, 'opfs', {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase.startsWith('convert') && p.done >= 1) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect((await svc.list(DEMO_URL)).filter((x) => x.id !== 'demo')).toEqual([]);
    expect(opfs.count()).toBe(0);
  });

  it('reads a folder in place and asks for permission again when the handle lost it', async () => {
    const { env: e } = env(null);
    const svc = new DatasetService(e);
    const folder = smallCityscapes();
    const res = await svc.importSource({ kind: 'handle', handle: folder, name: 'inplace' }, 'handle');
    expect(res.summary?.sourceKind).toBe('handle');
    folder.permission = 'prompt';
    const idx = await svc.openDataset(res.summary!.id, DEMO_URL);
    expect(idx.needsPermission).toBe('inplace');
    expect(idx.permissionHandle).toBe(folder); // the UI calls requestPermission on it from a click
    await expect(svc.thumbnails(res.summary!.id, [idx.images[0]!.key], 64)).rejects.toThrow(/not open/);
    folder.permission = 'granted';
    const idx2 = await svc.openDataset(res.summary!.id, DEMO_URL);
    expect(idx2.needsPermission).toBeNull();
    expect(new PermissionNeededError('x').message).toMatch(/granted again/);
    // Loose files without a handle need OPFS; none here.
    await expect(svc.importSource({ kind: 'files', name: 'f', files: [] }, 'opfs')).resolves.toMatchObject({ summary: null });
  });

  it('checks the config binding: the demo config matches; a wrong class and path are reported', async () => {
    const { env: e } = env();
    const svc = new DatasetService(e);
    const builtins = Object.fromEntries(listBuiltinConfigs().map((p) => [p, readFileSync(join(BUILTIN_DIR, p), 'utf8')]));
    const good = await svc.binding('demo', 'cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py', builtins, {}, DEMO_URL);
    expect(good.error).toBeNull();
    const train = good.sections.find((s) => s.key === 'train_dataloader.dataset')!;
    expect(train).toMatchObject({ type: 'RepeatDataset', matches: true, annFile: 'annotations/instancesonly_filtered_gtFine_train.json' });
    expect(train.diagnostics).toEqual([]);
    const user = `_base_ = ['./mask-rcnn_r50_fpn_1x_cityscapes.py']
train_dataloader = dict(dataset=dict(dataset=dict(metainfo=dict(classes=('person', 'zebra')), data_prefix=dict(img='nowhere/'))))
`;
    const bad = await svc.binding('demo', 'cityscapes/user.py', builtins, { 'cityscapes/user.py': user }, DEMO_URL);
    const diags = bad.sections.find((s) => s.key === 'train_dataloader.dataset')!.diagnostics;
    expect(diags.map((d) => d.key)).toEqual(
      expect.arrayContaining(['train_dataloader.dataset.dataset.data_prefix.img', 'train_dataloader.dataset.dataset.metainfo.classes']),
    );
    expect(diags.find((d) => d.key.endsWith('classes'))!.message).toContain("'zebra'");
    const broken = await svc.binding('demo', 'cityscapes/b.py', builtins, { 'cityscapes/b.py': 'x = (' }, DEMO_URL);
    expect(broken.error).toBeTruthy();
  });
});

describe('renderInstanceOverlay', () => {
  it('fills masks with the class colour and hatches crowd regions', () => {
    const w = 16;
    const h = 8;
    const m = new Uint8Array(w * h);
    for (let x = 2; x < 6; x++) for (let y = 1; y < 4; y++) m[x * h + y] = 1; // column-major
    const crowdMask = new Uint8Array(w * h);
    for (let x = 8; x < 16; x++) for (let y = 0; y < 8; y++) crowdMask[x * h + y] = 1;
    const anns: CocoAnnotation[] = [
      { id: 1, image_id: 0, category_id: 1, iscrowd: 0, bbox: [2, 1, 4, 3], area: 12, segmentation: encode(m, h, w) },
      { id: 2, image_id: 0, category_id: 2, iscrowd: 1, bbox: [8, 0, 8, 8], area: 64, segmentation: encode(crowdMask, h, w) },
      { id: 3, image_id: 0, category_id: 1, iscrowd: 0, bbox: [0, 5, 3, 2], area: 6, segmentation: [[0, 5, 2, 5, 2, 6, 0, 6]] },
    ];
    const px = renderInstanceOverlay(anns, w, h, (a) => (a.category_id === 1 ? [255, 0, 0] : [0, 0, 255]));
    const at = (x: number, y: number) => [...px.subarray((y * w + x) * 4, (y * w + x) * 4 + 4)];
    expect(at(3, 2)).toEqual([255, 0, 0, 115]);
    expect(at(0, 0)).toEqual([0, 0, 0, 0]);
    expect(at(1, 5)[0]).toBe(255); // polygon
    const crowdAlphas = new Set<number>();
    for (let x = 8; x < 16; x++) for (let y = 0; y < 8; y++) crowdAlphas.add(at(x, y)[3]!);
    expect([...crowdAlphas].sort()).toEqual([230, 50].sort());
    expect(at(8, 0)[3]).toBe((8 + 0) % HATCH_PERIOD < 3 ? 230 : 50);
  });
});
