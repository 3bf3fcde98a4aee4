/**
 * `detstudio convert-cityscapes <root> [--out dir]`: MMDetection's
 * `tools/dataset_converters/cityscapes.py`, writing `instancesonly_filtered_gtFine_<split>.json` for
 * every split present, byte-for-byte as MMDetection's `json.dump` does. Default output folder:
 * `<root>/annotations/` (MMDetection's own default is `<root>` itself; its docs pass
 * `-o data/cityscapes/annotations`). Progress and the import report go to stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cityscapesAnnFileName, convertCityscapesSplit } from '../../data/cityscapes_converter.ts';
import { dumpCocoJson } from '../../data/coco_types.ts';
import type { ImportIssue, ImportProgress } from '../../data/import_report.ts';
import { detectLayout } from '../../data/layout.ts';
import { NodeFileTree } from '../../data/node_file_tree.ts';

/** One-line summary for `detstudio --help`. */
export const summary = 'Convert a Cityscapes folder to COCO jsons exactly like MMDetection (instancesonly_filtered_gtFine_*.json)';

const USAGE = `Usage: detstudio convert-cityscapes <root> [--out dir] [--nproc N]

  <root>        folder holding leftImg8bit/ and gtFine/ (or a cityscapes/ folder with them)
  -o, --out     output folder (default: <root>/annotations)
  --nproc N     accepted for MMDetection compatibility; ignored (single process)
  -h, --help    this help`;

function formatProgress(p: ImportProgress): string {
  const eta = Number.isFinite(p.etaSeconds) ? `${Math.ceil(p.etaSeconds)}s` : '?';
  return `[${p.phase}] ${p.done}/${p.total} images, ${p.rate.toFixed(1)} img/s, ETA ${eta}`;
}

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        nproc: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`convert-cityscapes: ${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    console.error(`convert-cityscapes: expected exactly one <root> folder\n\n${USAGE}`);
    return 1;
  }
  const root = resolve(parsed.positionals[0]!);
  let tree: NodeFileTree;
  try {
    tree = new NodeFileTree(root);
  } catch (err) {
    console.error(`convert-cityscapes: cannot read ${root}: ${(err as Error).message}`);
    return 1;
  }
  const paths = tree.list();
  const layout = detectLayout(paths);
  if (layout.kind !== 'cityscapes') {
    const why = layout.kind === 'unknown' ? layout.reason : 'it looks like a COCO dataset, not Cityscapes';
    console.error(`convert-cityscapes: ${root} is not a Cityscapes folder: ${why}`);
    return 1;
  }
  const outDir = resolve(parsed.values.out ?? join(root, layout.prefix, 'annotations'));
  mkdirSync(outDir, { recursive: true });
  const tty = Boolean(process.stderr.isTTY);
  let lastLine = 0;
  const onProgress = (p: ImportProgress): void => {
    const now = Date.now();
    if (tty) process.stderr.write(`\r${formatProgress(p)}   `);
    else if (p.done === p.total || now - lastLine > 2000) {
      process.stderr.write(`${formatProgress(p)}\n`);
      lastLine = now;
    }
  };
  const issues: ImportIssue[] = [];
  for (const split of layout.splits) {
    const res = await convertCityscapesSplit(tree, layout, split, { onProgress }, paths);
    if (tty) process.stderr.write('\n');
    issues.push(...res.issues);
    const file = join(outDir, cityscapesAnnFileName(split));
    writeFileSync(file, dumpCocoJson(res.coco));
    const nAnn = res.coco.annotations?.length ?? 0;
    console.log(`${split}: ${res.coco.images.length} images, ${nAnn} annotations -> ${file}`);
  }
  if (issues.length > 0) {
    process.stderr.write(`\nImport report (${issues.length} entries):\n`);
    for (const i of issues) process.stderr.write(`  ${i.severity.toUpperCase()} ${i.code} ${i.path}: ${i.reason}\n`);
  }
  return 0;
}
