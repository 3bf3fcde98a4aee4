import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_DIR, listBuiltinConfigs } from '../configs/node.ts';
import type { CocoJson } from '../data/coco_types.ts';
import { DatasetDb, type DatasetRecord } from '../storage/dataset_db.ts';
import { repoRoot } from '../testing/fixtures.ts';
import { DatasetFactsSource } from './config_datasets.ts';
import { ConfigWorkspace } from './config_tasks.ts';

const builtins = Object.fromEntries(listBuiltinConfigs().map((p) => [p, readFileSync(join(BUILTIN_DIR, p), 'utf8')]));
const CITY = 'cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py';
const DEMO_DIR = join(repoRoot, 'public', 'demo');
const DEMO_URL = 'http://studio.test/demo/';
const DEMO_NAME = 'Demo (synthetic Cityscapes)';
const fetched: string[] = [];
const fetchDemo = async (url: string): Promise<Response> => {
  fetched.push(url);
  if (!url.startsWith(DEMO_URL)) return new Response('', { status: 404 });
  try {
    return new Response(readFileSync(join(DEMO_DIR, url.slice(DEMO_URL.length))));
  } catch {
    return new Response('', { status: 404 });
  }
};
const noDb = async (): Promise<DatasetDb> => {
  throw new Error('IndexedDB is unavailable');
};
const ws = new ConfigWorkspace(builtins, async () => [], (url) => new DatasetFactsSource({ openDb: noDb, fetch: fetchDemo }).load(url));

/** The Cityscapes config with `classes` given to the training set. */
function withClasses(classes: string): string {
  return `${builtins[CITY]}\ntrain_dataloader = dict(dataset=dict(dataset=dict(metainfo=dict(classes=${classes}))))\n`;
}

describe('binding diagnostics of the config editor', () => {
  it('the demo dataset binds the Cityscapes config: no binding diagnostics', async () => {
    const datasets = await ws.datasets({ demoBaseUrl: DEMO_URL });
    expect(datasets.map((d) => d.name)).toEqual([DEMO_NAME]);
    expect(JSON.stringify(datasets).length).toBeLessThan(4000); // compact enough to go with every analysis
    const a = ws.analyze({ userFiles: {}, path: CITY, datasets });
    expect(a.diagnostics.filter((d) => /dataset/.test(d.message) && /not|matches no/.test(d.message))).toEqual([]);
    expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it("a class the demo annotations lack is a warning at that class's string, naming it and the dataset; fixing it removes it", async () => {
    const datasets = await ws.datasets({ demoBaseUrl: DEMO_URL });
    const text = withClasses("('person', 'zebra', 'car')");
    const a = ws.analyze({ userFiles: { [CITY]: text }, path: CITY, datasets });
    const binding = a.diagnostics.filter((d) => d.message.includes('is not a category'));
    expect(binding).toHaveLength(1);
    const [d] = binding;
    expect(d!.severity).toBe('warning');
    expect(d!.message).toContain("train_dataloader.dataset.dataset.metainfo.classes: class 'zebra' is not a category of annotations/instancesonly_filtered_gtFine_train.json");
    expect(d!.message).toContain(DEMO_NAME);
    expect(text.slice(d!.from, d!.to)).toBe("'zebra'");
    expect(text.lastIndexOf("'zebra'")).toBe(d!.from);

    // a near miss gets a quick fix with the category's spelling
    const typo = withClasses("('person', \"Car\")");
    const q = ws.analyze({ userFiles: { [CITY]: typo }, path: CITY, datasets }).diagnostics.find((x) => x.message.includes("class 'Car'"))!;
    expect(q.message).toContain("Did you mean 'car'?");
    expect(q.quickFix).toEqual({ title: "Use 'car'", edits: [{ from: typo.lastIndexOf('"Car"'), to: typo.lastIndexOf('"Car"') + 5, insert: '"car"' }] });

    const fixed = ws.analyze({ userFiles: { [CITY]: withClasses("('person', 'bus', 'car')") }, path: CITY, datasets });
    expect(fixed.diagnostics.filter((x) => x.message.includes('is not a category'))).toEqual([]);
    // without datasets (none imported, or not loaded yet) there are no binding diagnostics
    const none = ws.analyze({ userFiles: { [CITY]: text }, path: CITY, datasets: [] });
    expect(none.diagnostics.filter((x) => x.message.includes('is not a category'))).toEqual([]);
    expect(ws.analyze({ userFiles: { [CITY]: text }, path: CITY }).diagnostics.some((x) => x.message.includes('zebra'))).toBe(false);
  });

  it('an ann_file or data_prefix that matches nothing is an error at the value, or at the _base_ entry it comes from', async () => {
    const datasets = await ws.datasets({ demoBaseUrl: DEMO_URL });
    const text = `${builtins[CITY]}\nval_dataloader = dict(dataset=dict(ann_file='annotations/nope.json', data_prefix=dict(img='leftImg8bit/nowhere/')))\n`;
    const a = ws.analyze({ userFiles: { [CITY]: text }, path: CITY, datasets });
    const errors = a.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => text.slice(d.from, d.to))).toEqual(["'annotations/nope.json'", "'leftImg8bit/nowhere/'"]);
    expect(errors[0]!.message).toMatch(/^val_dataloader\.dataset\.ann_file: ann_file 'annotations\/nope\.json' matches no annotation file of the dataset Demo \(synthetic Cityscapes\)/);
    expect(errors[1]!.message).toBe("val_dataloader.dataset.data_prefix.img: data_prefix.img 'leftImg8bit/nowhere/' matches no folder of the dataset Demo (synthetic Cityscapes)");

    // A COCO config: the paths come from its dataset base; val and test share one diagnostic there.
    const user = "_base_ = ['../_base_/models/mask-rcnn_r50_fpn.py', '../_base_/datasets/coco_instance.py']\n";
    const c = ws.analyze({ userFiles: { 'user/coco.py': user }, path: 'user/coco.py', datasets });
    const at = c.diagnostics.filter((d) => d.severity === 'error').map((d) => [user.slice(d.from, d.to), d.message.split(':')[0]]);
    expect(at).toEqual([
      ["'../_base_/datasets/coco_instance.py'", 'train_dataloader.dataset.ann_file'],
      ["'../_base_/datasets/coco_instance.py'", 'train_dataloader.dataset.data_prefix.img'],
      ["'../_base_/datasets/coco_instance.py'", 'val_dataloader.dataset.ann_file, test_dataloader.dataset.ann_file'],
      ["'../_base_/datasets/coco_instance.py'", 'val_dataloader.dataset.data_prefix.img, test_dataloader.dataset.data_prefix.img'],
    ]);
    expect(c.diagnostics[0]!.message).toContain("(set in _base_/datasets/coco_instance.py:34, which this _base_ entry pulls in)");
    // base files themselves hold placeholder paths: not checked
    expect(ws.analyze({ userFiles: {}, path: '_base_/datasets/coco_instance.py', datasets }).diagnostics).toEqual([]);
  });
});

describe('DatasetFactsSource', () => {
  it('summarises the demo and the datasets stored in IndexedDB, reading each stored one once', async () => {
    const db = await DatasetDb.open(`facts-${Math.random()}`);
    const coco: CocoJson = {
      images: [{ id: 1, file_name: 'b1.jpg', width: 4, height: 4 }],
      categories: [{ id: 1, name: 'balloon' }],
      annotations: [],
    };
    const record: DatasetRecord = {
      id: 'b',
      name: 'Balloons',
      format: 'coco',
      root: '',
      fingerprint: 'fp',
      createdAt: 5,
      source: { kind: 'opfs', dir: 'datasets/b' },
      splits: [{ name: 'train', annFile: 'train/ann.json', imgPrefix: 'train/', coco }],
      issues: [],
      paths: ['train/ann.json', 'train/b1.jpg'],
    };
    await db.put(record);
    let gets = 0;
    const counted = {
      list: () => db.list(),
      get: (id: string) => {
        gets++;
        return db.get(id);
      },
      close: () => undefined,
    };
    fetched.length = 0;
    const src = new DatasetFactsSource({ openDb: async () => counted, fetch: fetchDemo });
    const facts = await src.load(DEMO_URL);
    expect(facts.map((f) => [f.id, f.name])).toEqual([
      ['demo', DEMO_NAME],
      ['b', 'Balloons'],
    ]);
    expect(facts[1]).toMatchObject({ folders: ['train/'], annotations: [{ annFile: 'train/ann.json', classes: ['balloon'], images: 1, imageFolders: { 'train/': 1 } }] });
    const demoFetches = fetched.length;
    await src.load(DEMO_URL);
    expect(gets).toBe(1);
    expect(fetched.length).toBe(demoFetches + 1); // the manifest only
    // no manifest and no database: no datasets, no throw
    await expect(new DatasetFactsSource({ openDb: noDb, fetch: fetchDemo }).load('http://elsewhere.test/demo/')).resolves.toEqual([]);
    db.close();
  });
});
