/**
 * Checks the dataset section of a resolved config against the imported datasets before training: a
 * class in `metainfo.classes` that the annotations do not have, an `ann_file` or `data_prefix.img`
 * that matches nothing, images of the annotation file missing under the prefix, masks asked for by
 * the pipeline that the annotations lack. Returns diagnostics keyed by the config path (the editor
 * places them at the key's source).
 *
 * The check reads a compact {@link DatasetFacts} summary of each dataset (folders, annotation files,
 * their category names and where their images are), small enough to send with every analysis.
 */
import type { CocoJson } from './coco_types.ts';
import { CITYSCAPES_METAINFO, COCO_METAINFO, joinPath } from './coco_dataset.ts';

/** One problem of a dataset config. */
export interface BindingDiagnostic {
  severity: 'error' | 'warning';
  /** Dotted config path, e.g. `train_dataloader.dataset.dataset.metainfo.classes`. */
  key: string;
  message: string;
  /** The class name or path the problem is about (the editor marks that string when it is written literally). */
  subject?: string;
  /** A likely intended replacement of `subject` (a category name differing only in case or by a typo). */
  suggestion?: string;
}

/** What the checker knows about the imported dataset. */
export interface BoundDataset {
  /** Every file path, relative to the dataset root (the folder `data_root` should name). */
  paths: readonly string[];
  /** Annotation files by their path relative to the root. */
  annotations: ReadonlyMap<string, CocoJson>;
}

/** What the binding check needs of one annotation file. */
export interface AnnotationFacts {
  /** Path relative to the dataset root. */
  annFile: string;
  /** Category names, in the json's order. */
  classes: string[];
  /** Number of images. */
  images: number;
  /** Folder (relative to the root, `''` or ending in `/`) → how many of the images exist at folder + `file_name`. */
  imageFolders: Record<string, number>;
  /** One `file_name` of the json (for messages), `''` when it has no images. */
  sampleImage: string;
  /** True when some annotation has a `segmentation`. */
  hasMasks: boolean;
}

/** A compact, serialisable summary of one imported dataset for the binding check. */
export interface DatasetFacts {
  id: string;
  /** Name shown in messages. */
  name: string;
  /** Every folder of the tree, relative to the root, ending in `/`. */
  folders: string[];
  annotations: AnnotationFacts[];
}

/** Summarises a dataset (its file list and annotation jsons) for {@link checkBinding}. */
export function datasetFacts(id: string, name: string, ds: BoundDataset): DatasetFacts {
  const folders = new Set<string>();
  for (const p of ds.paths) {
    for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) folders.add(p.slice(0, i + 1));
  }
  const annotations: AnnotationFacts[] = [];
  for (const [annFile, coco] of ds.annotations) {
    const names = new Set(coco.images.map((im) => im.file_name));
    const imageFolders: Record<string, number> = {};
    // A path is `<folder><file_name>` for every split of it at a `/` whose tail is a file_name.
    for (const p of ds.paths) {
      let i = -1;
      do {
        if (names.has(p.slice(i + 1))) {
          const folder = p.slice(0, i + 1);
          imageFolders[folder] = (imageFolders[folder] ?? 0) + 1;
        }
        i = p.indexOf('/', i + 1);
      } while (i >= 0);
    }
    annotations.push({
      annFile: clean(annFile),
      classes: coco.categories.map((c) => c.name),
      images: coco.images.length,
      imageFolders,
      sampleImage: coco.images[0]?.file_name ?? '',
      hasMasks: (coco.annotations ?? []).some((a) => a.segmentation !== undefined && a.segmentation !== null),
    });
  }
  return { id, name, folders: [...folders].sort(), annotations };
}

/** Dataset wrappers whose `dataset` key holds the real dataset. */
const WRAPPERS = new Set(['RepeatDataset', 'ClassBalancedDataset']);

/**
 * Checks one dataset config dict (unwrapping `RepeatDataset` / `ClassBalancedDataset`) against one
 * dataset.
 *
 * @param cfg The dataset config (e.g. `train_dataloader.dataset`).
 * @param keyPrefix Its config path, used in the diagnostics.
 */
export function checkDatasetBinding(cfg: Record<string, unknown>, keyPrefix: string, ds: BoundDataset): BindingDiagnostic[] {
  return checkBinding(cfg, keyPrefix, [datasetFacts('', '', ds)]);
}

/**
 * Checks one dataset config dict against every imported dataset: `ann_file` must name an
 * annotation file of one of them (error otherwise), `data_prefix.img` a folder of it (error), its
 * images must be under that folder (warning; error when none is), `metainfo.classes` (or the
 * dataset type's default classes) must be categories of the annotation file (warning; error when
 * none is), and a `LoadAnnotations(with_mask=True)` needs annotations with masks (warning).
 * With no datasets there is nothing to check against and the result is empty.
 *
 * Paths are matched as the studio reads files at training time (worker/imported_dataset_reader.ts):
 * `data_root` joined with `ann_file` (or the prefix) like MMEngine, then its longest tail that is a
 * path of the dataset, relative to the dataset root. Messages name the dataset when it has a name.
 *
 * @param cfg The dataset config (e.g. `train_dataloader.dataset`), plain JSON.
 * @param keyPrefix Its config path, used in the diagnostics.
 * @param datasets The imported datasets.
 */
export function checkBinding(cfg: Record<string, unknown>, keyPrefix: string, datasets: readonly DatasetFacts[]): BindingDiagnostic[] {
  if (typeof cfg.type === 'string' && WRAPPERS.has(cfg.type)) {
    const inner = cfg.dataset;
    if (!inner || typeof inner !== 'object' || Array.isArray(inner)) return [];
    return checkBinding(inner as Record<string, unknown>, `${keyPrefix}.dataset`, datasets);
  }
  if (datasets.length === 0) return [];
  const out: BindingDiagnostic[] = [];
  const annFile = typeof cfg.ann_file === 'string' ? cfg.ann_file : '';
  const dataRoot = typeof cfg.data_root === 'string' ? cfg.data_root : '';
  const annJoined = underRoot(dataRoot, annFile);
  const matches: { ds: DatasetFacts; ann: AnnotationFacts }[] = [];
  for (const ds of datasets) {
    for (const tail of suffixes(annJoined)) {
      const ann = ds.annotations.find((a) => a.annFile === tail);
      if (ann) {
        matches.push({ ds, ann });
        break;
      }
    }
  }
  if (!annFile) {
    out.push({ severity: 'error', key: `${keyPrefix}.ann_file`, message: 'ann_file is empty: the dataset would load no annotations' });
  } else if (matches.length === 0) {
    out.push({
      severity: 'error',
      key: `${keyPrefix}.ann_file`,
      subject: annFile,
      message: `ann_file '${annFile}' matches no annotation file of ${datasetsPhrase(datasets)} (${knownAnnotations(datasets)})`,
    });
  }

  const prefixCfg = (cfg.data_prefix ?? {}) as Record<string, unknown>;
  const prefixKey = typeof prefixCfg.img === 'string' ? 'img' : typeof prefixCfg.img_path === 'string' ? 'img_path' : 'img';
  const written = typeof prefixCfg[prefixKey] === 'string' ? (prefixCfg[prefixKey] as string) : '';
  const imgPrefix = clean(written);
  const joinedDir = asDir(underRoot(dataRoot, imgPrefix));
  // The studio reads `data_root + prefix + file_name` by its longest tail that is a file of the
  // dataset (see worker/imported_dataset_reader.ts), so every tail of the folder is a candidate.
  const dirs = [...suffixes(joinedDir).filter((d) => d.endsWith('/')), ''];
  const scope = matches.length ? unique(matches.map((m) => m.ds)) : datasets;
  if (imgPrefix && !scope.some((ds) => dirs.some((d) => d && ds.folders.includes(d)))) {
    out.push({
      severity: 'error',
      key: `${keyPrefix}.data_prefix.${prefixKey}`,
      subject: written,
      message: `data_prefix.${prefixKey} '${imgPrefix}' matches no folder of ${datasetsPhrase(scope)}`,
    });
  } else if (matches.length) {
    const foundIn = (m: { ann: AnnotationFacts }): [string, number] => {
      let best: [string, number] = [dirs[0] ?? '', 0];
      for (const d of dirs) if ((m.ann.imageFolders[d] ?? 0) > best[1]) best = [d, m.ann.imageFolders[d]!];
      return best;
    };
    const best = bestBy(matches, (m) => foundIn(m)[1]);
    const [dir, found] = foundIn(best);
    const missing = best.ann.images - found;
    if (missing > 0) {
      out.push({
        severity: found === 0 ? 'error' : 'warning',
        key: `${keyPrefix}.data_prefix.${prefixKey}`,
        subject: written,
        message: `${missing} of ${best.ann.images} images of ${annFile}${inName(best.ds)} are not under '${imgPrefix}'${found === 0 ? ` (e.g. no ${joinPath(imgPrefix, best.ann.sampleImage)})` : ''}${hint(best.ann, dir)}`,
      });
    }
  }

  if (matches.length) {
    const meta = (cfg.metainfo ?? null) as { classes?: unknown } | null;
    const own = Array.isArray(meta?.classes) ? (meta!.classes as unknown[]).filter((c): c is string => typeof c === 'string') : null;
    const defaults = cfg.type === 'CityscapesDataset' ? CITYSCAPES_METAINFO.classes : cfg.type === 'CocoDataset' ? COCO_METAINFO.classes : null;
    const classes = own ?? (defaults ? [...defaults] : null);
    if (classes && classes.length) {
      const best = bestBy(matches, (m) => classes.filter((c) => m.ann.classes.includes(c)).length);
      const missing = classes.filter((c) => !best.ann.classes.includes(c));
      const has = best.ann.classes.map((c) => `'${c}'`).join(', ');
      const key = own ? `${keyPrefix}.metainfo.classes` : `${keyPrefix}.type`;
      const whose = own ? 'the config' : `${String(cfg.type)}'s default classes`;
      if (missing.length === classes.length) {
        out.push({
          severity: 'error',
          key,
          message: `none of ${whose}'s classes is a category of ${annFile}${inName(best.ds)} (it has ${has}): nothing would be trained`,
        });
      } else if (own) {
        for (const c of missing) {
          const suggestion = closestName(c, best.ann.classes.filter((x) => !classes.includes(x)));
          out.push({
            severity: 'warning',
            key,
            subject: c,
            message: `class '${c}' is not a category of ${annFile}${inName(best.ds)} (it has ${has}); it gets no training data${suggestion ? `. Did you mean '${suggestion}'?` : ''}`,
            ...(suggestion ? { suggestion } : {}),
          });
        }
      } else if (missing.length) {
        out.push({
          severity: 'warning',
          key,
          message: `${whose} ${missing.map((c) => `'${c}'`).join(', ')} are not categories of ${annFile}${inName(best.ds)} (it has ${has}); set metainfo=dict(classes=...)`,
        });
      }
    }
    const pipeline = Array.isArray(cfg.pipeline) ? (cfg.pipeline as unknown[]) : [];
    const i = pipeline.findIndex((t) => !!t && typeof t === 'object' && (t as Record<string, unknown>).type === 'LoadAnnotations' && (t as Record<string, unknown>).with_mask === true);
    if (i >= 0 && !matches.some((m) => m.ann.hasMasks)) {
      const m = matches[0]!;
      out.push({
        severity: 'warning',
        key: `${keyPrefix}.pipeline`,
        message: `the pipeline loads masks (LoadAnnotations with_mask=True) but ${annFile}${inName(m.ds)} has no segmentation`,
      });
    }
  }
  return out;
}

/** The name among `names` equal to `c` but for case, or at most two edits away (and shorter edits than half of it); undefined when none or ambiguous. */
export function closestName(c: string, names: readonly string[]): string | undefined {
  const lower = c.toLowerCase();
  const same = names.filter((n) => n.toLowerCase() === lower);
  if (same.length === 1) return same[0];
  const limit = Math.min(2, Math.floor(c.length / 2));
  let best: string | undefined;
  let bestD = limit + 1;
  let tie = false;
  for (const n of names) {
    const d = editDistance(lower, n.toLowerCase());
    if (d < bestD) {
      best = n;
      bestD = d;
      tie = false;
    } else if (d === bestD) tie = true;
  }
  return best && !tie ? best : undefined;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function datasetsPhrase(datasets: readonly DatasetFacts[]): string {
  const named = datasets.filter((d) => d.name);
  if (!named.length) return 'the dataset';
  if (named.length === 1) return `the dataset ${named[0]!.name}`;
  return `any imported dataset (${named.map((d) => d.name).join(', ')})`;
}

function knownAnnotations(datasets: readonly DatasetFacts[]): string {
  const files = (ds: DatasetFacts): string => ds.annotations.map((a) => a.annFile).join(', ') || 'none';
  if (datasets.length === 1) return `it has ${files(datasets[0]!)}`;
  return datasets.map((ds) => `${ds.name || ds.id}: ${files(ds)}`).join('; ');
}

function inName(ds: DatasetFacts): string {
  return ds.name ? ` in ${ds.name}` : '';
}

/** Names the folder that holds most images of the file, when it is not `dir`. */
function hint(ann: AnnotationFacts, dir: string): string {
  const best = Object.entries(ann.imageFolders).sort((a, b) => b[1] - a[1])[0];
  return best && best[0] !== dir ? `; ${best[1]} of them are under '${best[0]}'` : '';
}

function bestBy<T>(xs: readonly T[], score: (x: T) => number): T {
  let best = xs[0] as T;
  for (const x of xs) if (score(x) > score(best)) best = x;
  return best;
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** A config path as the studio's dataset reader compares it: `/` separators, no leading `./` or `/`, no `//`. */
function clean(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/{2,}/g, '/').replace(/^\//, '');
}

/** `path` joined to `data_root` the way MMEngine's BaseDataset does (unless it is absolute or there is no root), cleaned. */
function underRoot(dataRoot: string, path: string): string {
  if (!path) return clean(path);
  return clean(dataRoot && !path.startsWith('/') ? joinPath(dataRoot, path) : path);
}

function asDir(p: string): string {
  return p === '' || p.endsWith('/') ? p : `${p}/`;
}

/** `p` and each of its tails after a `/`, longest first (`a/b/c` → `a/b/c`, `b/c`, `c`). */
function suffixes(p: string): string[] {
  const out = [p];
  for (let i = p.indexOf('/'); i >= 0 && i < p.length - 1; i = p.indexOf('/', i + 1)) out.push(p.slice(i + 1));
  return out;
}
