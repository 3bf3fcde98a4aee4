/**
 * Imports a dropped folder or zip: detects the layout, converts Cityscapes splits with MMDetection's
 * converter or validates COCO annotation files, and returns the index plus a report of every bad input
 * (the rest imports). Progress events carry done/total, rate and ETA; an `AbortSignal` cancels. Images
 * are read one at a time and never kept decoded, so memory stays flat on 5,000-image trees.
 */
import { cityscapesAnnFileName, convertCityscapesSplit } from './cityscapes_converter.ts';
import type { CocoAnnotation, CocoImage, CocoJson } from './coco_types.ts';
import type { FileTree } from './file_tree.ts';
import { ProgressMeter, throwIfAborted, type ImportIssue, type ImportOptions } from './import_report.ts';
import { detectLayout } from './layout.ts';

/** One split of an imported dataset, in the terms of an MMDetection dataset config. */
export interface ImportedSplit {
  /** `train`, `val`, `test` or the COCO json's stem (`instances_train2017` → `train2017`). */
  name: string;
  /** Annotation file relative to the dataset root (`annotations/instancesonly_filtered_gtFine_train.json`). */
  annFile: string;
  /** `data_prefix.img`, relative to the dataset root, ending in `/` (or `''`). */
  imgPrefix: string;
  coco: CocoJson;
}

/** An imported dataset. */
export interface ImportedDataset {
  format: 'cityscapes' | 'coco';
  /** Folder inside the tree that acts as `data_root` (`''` or e.g. `cityscapes/`). */
  root: string;
  splits: ImportedSplit[];
  issues: ImportIssue[];
  /** Stable id of the tree's content listing (paths), to avoid importing the same folder twice. */
  fingerprint: string;
}

/** FNV-1a 64-bit of the sorted path list, hex. */
export function treeFingerprint(paths: readonly string[]): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = (1n << 64n) - 1n;
  const enc = new TextEncoder();
  for (const p of [...paths].sort()) {
    for (const b of enc.encode(`${p}\n`)) h = ((h ^ BigInt(b)) * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

/**
 * Imports `tree` (Cityscapes or COCO layout). Never throws for bad files: they go to `issues`.
 * Cityscapes RGB images are checked (PNG signature, IEND, size) unless `checkImages: false`.
 */
export async function importDataset(tree: FileTree, options: ImportOptions & { checkImages?: boolean } = {}): Promise<ImportedDataset> {
  const paths = tree.list();
  const fingerprint = treeFingerprint(paths);
  const layout = detectLayout(paths);
  if (layout.kind === 'cityscapes') {
    const issues: ImportIssue[] = [];
    const splits: ImportedSplit[] = [];
    for (const split of layout.splits) {
      throwIfAborted(options.signal);
      const res = await convertCityscapesSplit(tree, layout, split, { checkImages: true, ...options }, paths);
      issues.push(...res.issues);
      splits.push({ name: split, annFile: `annotations/${cityscapesAnnFileName(split)}`, imgPrefix: `leftImg8bit/${split}/`, coco: res.coco });
    }
    return { format: 'cityscapes', root: layout.prefix, splits, issues, fingerprint };
  }
  if (layout.kind === 'coco') return importCoco(tree, paths, layout.annotationFiles, fingerprint, options);
  return {
    format: 'coco',
    root: '',
    splits: [],
    issues: [{ severity: 'error', code: 'no_dataset_found', path: '', reason: layout.reason }],
    fingerprint,
  };
}

const IMAGE_EXT = /\.(png|jpe?g|bmp|webp)$/i;

function splitNameOf(annPath: string): string {
  const stem = annPath.split('/').pop()!.replace(/\.json$/i, '');
  return stem.replace(/^instances(only_filtered_gtFine)?_/, '') || stem;
}

/** Finds the folder `D` for which `D + file_name` exists for most images (voting on a sample). */
function findImagePrefix(images: CocoImage[], paths: readonly string[]): string | null {
  const byBase = new Map<string, string[]>();
  for (const p of paths) {
    if (!IMAGE_EXT.test(p)) continue;
    const base = p.split('/').pop()!;
    if (!byBase.has(base)) byBase.set(base, []);
    byBase.get(base)!.push(p);
  }
  const votes = new Map<string, number>();
  const step = Math.max(1, Math.floor(images.length / 200));
  for (let i = 0; i < images.length; i += step) {
    const f = images[i]!.file_name;
    if (typeof f !== 'string') continue;
    for (const p of byBase.get(f.split('/').pop()!) ?? []) {
      if (p === f || p.endsWith(`/${f}`)) {
        const d = p.slice(0, p.length - f.length);
        votes.set(d, (votes.get(d) ?? 0) + 1);
      }
    }
  }
  let best: string | null = null;
  for (const [d, n] of votes) if (best === null || n > votes.get(best)! || (n === votes.get(best)! && d.length < best.length)) best = d;
  return best;
}

function commonRoot(a: string, b: string): string {
  const pa = a.split('/').slice(0, -1);
  const pb = b.split('/');
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return pa.slice(0, i).map((s) => `${s}/`).join('');
}

async function importCoco(
  tree: FileTree,
  paths: readonly string[],
  annFiles: string[],
  fingerprint: string,
  options: ImportOptions,
): Promise<ImportedDataset> {
  const issues: ImportIssue[] = [];
  const splits: ImportedSplit[] = [];
  const present = new Set(paths);
  const meter = new ProgressMeter('import coco', annFiles.length, options);
  let root: string | null = null;
  for (const annPath of annFiles) {
    throwIfAborted(options.signal);
    let coco: CocoJson;
    try {
      coco = JSON.parse(new TextDecoder().decode(await tree.read(annPath))) as CocoJson;
    } catch (err) {
      issues.push({ severity: 'error', code: 'invalid_json', path: annPath, reason: `invalid JSON (${(err as Error).message}); file skipped` });
      meter.tick(annPath);
      continue;
    }
    if (!coco || typeof coco !== 'object' || !Array.isArray(coco.images)) {
      issues.push({ severity: 'info', code: 'invalid_json', path: annPath, reason: 'not a COCO annotation file (no "images" list); ignored' });
      meter.tick(annPath);
      continue;
    }
    const categories = Array.isArray(coco.categories) ? coco.categories : [];
    const catIds = new Set(categories.map((c) => c.id));
    const prefix = findImagePrefix(coco.images, paths) ?? '';
    const seen = new Set<number>();
    const images: CocoImage[] = [];
    for (const img of coco.images) {
      if (typeof img?.file_name !== 'string' || typeof img.id !== 'number') {
        issues.push({ severity: 'error', code: 'invalid_annotation', path: annPath, reason: `image entry ${JSON.stringify(img).slice(0, 80)} lacks id or file_name; skipped` });
        continue;
      }
      if (seen.has(img.id)) {
        issues.push({ severity: 'error', code: 'duplicate_image_id', path: annPath, reason: `image id ${img.id} appears twice; the second (${img.file_name}) skipped` });
        continue;
      }
      seen.add(img.id);
      if (!present.has(prefix + img.file_name)) {
        issues.push({ severity: 'error', code: 'missing_image_file', path: prefix + img.file_name, reason: `listed in ${annPath} (image id ${img.id}) but not found; image skipped` });
        continue;
      }
      images.push(img);
    }
    const kept = new Set(images.map((i) => i.id));
    const annotations: CocoAnnotation[] = [];
    const dangling = new Map<number, number>();
    const unknownCat = new Map<number, number>();
    for (const ann of coco.annotations ?? []) {
      if (!seen.has(ann.image_id)) {
        dangling.set(ann.image_id, (dangling.get(ann.image_id) ?? 0) + 1);
        continue;
      }
      if (!kept.has(ann.image_id)) continue;
      if (!catIds.has(ann.category_id)) {
        unknownCat.set(ann.category_id, (unknownCat.get(ann.category_id) ?? 0) + 1);
        continue;
      }
      annotations.push(ann);
    }
    for (const [imgId, n] of dangling) {
      issues.push({ severity: 'error', code: 'dangling_image_id', path: annPath, reason: `${n} annotation(s) refer to image id ${imgId}, which is not in "images"; skipped` });
    }
    for (const [catId, n] of unknownCat) {
      issues.push({ severity: 'error', code: 'unknown_category', path: annPath, reason: `${n} annotation(s) use category id ${catId}, which is not in "categories"; skipped` });
    }
    const out: CocoJson = { ...coco, images, categories };
    if (coco.annotations !== undefined) out.annotations = annotations;
    const r = commonRoot(annPath, prefix);
    root = root === null ? r : commonRoot(`${root}x`, r);
    splits.push({ name: splitNameOf(annPath), annFile: annPath, imgPrefix: prefix, coco: out });
    meter.tick(annPath);
  }
  const base = root ?? '';
  for (const s of splits) {
    s.annFile = s.annFile.slice(base.length);
    s.imgPrefix = s.imgPrefix.slice(base.length);
  }
  if (splits.length === 0) {
    issues.push({ severity: 'error', code: 'no_dataset_found', path: '', reason: 'no usable COCO annotation json was found' });
  }
  return { format: 'coco', root: base, splits, issues, fingerprint };
}
