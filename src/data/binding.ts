/**
 * Checks the dataset section of a resolved config against an imported dataset before training: a
 * class in `metainfo.classes` that the annotations do not have, an `ann_file` or `data_prefix.img`
 * that matches nothing, images of the annotation file missing under the prefix. Returns diagnostics
 * keyed by the config path, for the editor.
 */
import type { CocoJson } from './coco_types.ts';
import { CITYSCAPES_METAINFO, COCO_METAINFO, joinPath } from './coco_dataset.ts';

/** One problem of a dataset config. */
export interface BindingDiagnostic {
  severity: 'error' | 'warning';
  /** Dotted config path, e.g. `train_dataloader.dataset.dataset.metainfo.classes`. */
  key: string;
  message: string;
}

/** What the checker knows about the imported dataset. */
export interface BoundDataset {
  /** Every file path, relative to the dataset root (the folder `data_root` should name). */
  paths: readonly string[];
  /** Annotation files by their path relative to the root. */
  annotations: ReadonlyMap<string, CocoJson>;
}

/**
 * Checks one dataset config dict (unwrapping `RepeatDataset` / `ConcatDataset`-like `dataset`).
 *
 * @param cfg The dataset config (e.g. `train_dataloader.dataset`).
 * @param keyPrefix Its config path, used in the diagnostics.
 */
export function checkDatasetBinding(cfg: Record<string, unknown>, keyPrefix: string, ds: BoundDataset): BindingDiagnostic[] {
  if (cfg.type === 'RepeatDataset' || cfg.type === 'ClassBalancedDataset') {
    return checkDatasetBinding((cfg.dataset ?? {}) as Record<string, unknown>, `${keyPrefix}.dataset`, ds);
  }
  const out: BindingDiagnostic[] = [];
  const annFile = typeof cfg.ann_file === 'string' ? cfg.ann_file : '';
  const annPath = stripDot(annFile);
  const coco = ds.annotations.get(annPath);
  if (!annFile) out.push({ severity: 'error', key: `${keyPrefix}.ann_file`, message: 'ann_file is empty' });
  else if (!coco) {
    const known = [...ds.annotations.keys()].join(', ') || 'none';
    out.push({ severity: 'error', key: `${keyPrefix}.ann_file`, message: `'${annFile}' matches no annotation file of the dataset (available: ${known})` });
  }
  const prefixCfg = (cfg.data_prefix ?? {}) as Record<string, unknown>;
  const imgPrefix = stripDot(typeof prefixCfg.img === 'string' ? prefixCfg.img : typeof prefixCfg.img_path === 'string' ? prefixCfg.img_path : '');
  const dir = imgPrefix === '' || imgPrefix.endsWith('/') ? imgPrefix : `${imgPrefix}/`;
  if (dir && !ds.paths.some((p) => p.startsWith(dir))) {
    out.push({ severity: 'error', key: `${keyPrefix}.data_prefix.img`, message: `'${imgPrefix}' matches no folder of the dataset` });
  } else if (coco) {
    const present = new Set(ds.paths);
    const missing = coco.images.filter((im) => !present.has(joinPath(imgPrefix, im.file_name)));
    if (missing.length > 0) {
      out.push({
        severity: missing.length === coco.images.length ? 'error' : 'warning',
        key: `${keyPrefix}.data_prefix.img`,
        message: `${missing.length} of ${coco.images.length} images of ${annFile} are not under '${imgPrefix}' (e.g. ${joinPath(imgPrefix, missing[0]!.file_name)})`,
      });
    }
  }
  if (coco) {
    const meta = (cfg.metainfo ?? null) as { classes?: unknown } | null;
    const classes = Array.isArray(meta?.classes)
      ? (meta!.classes as string[])
      : cfg.type === 'CityscapesDataset'
        ? [...CITYSCAPES_METAINFO.classes]
        : [...COCO_METAINFO.classes];
    const names = new Set(coco.categories.map((c) => c.name));
    const missing = classes.filter((c) => !names.has(c));
    if (missing.length > 0) {
      out.push({
        severity: missing.length === classes.length ? 'error' : 'warning',
        key: `${keyPrefix}.metainfo.classes`,
        message: `class(es) ${missing.map((c) => `'${c}'`).join(', ')} are not categories of ${annFile} (it has ${[...names].map((c) => `'${c}'`).join(', ')}); they get no training data`,
      });
    }
  }
  return out;
}

function stripDot(p: string): string {
  return p.replace(/^\.\//, '');
}
