/**
 * Writes `public/demo/manifest.json`: the bundled demo dataset's file list, splits and counts, so the
 * studio can list and open it over `fetch` from its own origin without a directory listing.
 *
 * Usage: `npx tsx scripts/make_demo_manifest.ts [--check]` (`--check` exits 1 when the file is stale).
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CocoJson } from '../src/data/coco_types.ts';
import type { DemoManifest } from '../src/worker/dataset_tasks.ts';

const DEMO = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'demo');
const ROOT = 'cityscapes/';

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** Builds the manifest from the files under `public/demo/cityscapes/`. */
export function buildDemoManifest(demoDir = DEMO): DemoManifest {
  const base = join(demoDir, ROOT);
  const files = walk(base).map((p) => relative(base, p).split('\\').join('/')).sort();
  const splits = ['train', 'val']
    .map((name) => ({ name, annFile: `annotations/instancesonly_filtered_gtFine_${name}.json`, imgPrefix: `leftImg8bit/${name}/` }))
    .filter((s) => files.includes(s.annFile))
    .map((s) => {
      const coco = JSON.parse(readFileSync(join(base, s.annFile), 'utf8')) as CocoJson;
      return { ...s, images: coco.images.length, annotations: coco.annotations?.length ?? 0 };
    });
  return { version: 1, datasets: [{ id: 'demo', name: 'Demo (synthetic Cityscapes)', format: 'cityscapes', root: ROOT, splits, files }] };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const text = `${JSON.stringify(buildDemoManifest(), null, 1)}\n`;
  const out = join(DEMO, 'manifest.json');
  if (process.argv.includes('--check')) {
    let old = '';
    try {
      old = readFileSync(out, 'utf8');
    } catch {
      /* missing */
    }
    if (old !== text) {
      console.error(`${out} is stale; run npx tsx scripts/make_demo_manifest.ts`);
      process.exit(1);
    }
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${out}`);
  }
}
