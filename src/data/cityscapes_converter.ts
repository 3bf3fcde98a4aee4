/**
 * Cityscapes → COCO exactly as MMDetection's converter does it: for each image of
 * `leftImg8bit/<split>/<city>/*_leftImg8bit.png` (sorted), read the 16-bit `_gtFine_instanceIds.png`,
 * make one annotation per pixel value ≥ 24 whose label has instances and is not ignored in eval
 * (crowd when the value is < 1000), with RLE, area and box from pycocotools' rules (`src/eval/mask.ts`).
 * Where instanceIds are missing, `_gtFine_polygons.json` is rasterised with cityscapesScripts' rules
 * (noted in the report). Bad inputs are reported and skipped; the rest converts.
 *
 * @see mmdetection/tools/dataset_converters/cityscapes.py (v3.3.0)
 */
import { countsArea, countsToBbox, encodeCounts, toCompressed } from '../eval/mask.ts';
import { CITYSCAPES_INSTANCE_LABELS, ID_TO_LABEL } from './cityscapes_labels.ts';
import type { CocoAnnotation, CocoCategory, CocoImage, CocoJson } from './coco_types.ts';
import type { FileTree } from './file_tree.ts';
import { ProgressMeter, throwIfAborted, type ImportIssue, type ImportOptions } from './import_report.ts';
import { decodePng, isPng, PngDecodeError } from './png.ts';
import { polygonsToInstanceIds, UnknownLabelError, type CityscapesPolygonFile } from './polygon_raster.ts';

/** The Cityscapes splits MMDetection's converter processes. */
export const CITYSCAPES_SPLITS = ['train', 'val', 'test'] as const;

/** The COCO categories of the converter: the 8 instance labels with their Cityscapes ids. */
export function cityscapesCategories(): CocoCategory[] {
  return CITYSCAPES_INSTANCE_LABELS.map((l) => ({ id: l.id, name: l.name }));
}

/** Output file name of a split: `instancesonly_filtered_gtFine_<split>.json`. */
export function cityscapesAnnFileName(split: string): string {
  return `instancesonly_filtered_gtFine_${split}.json`;
}

/** An annotation of one image before ids are assigned. */
export interface ImageAnnotation {
  iscrowd: number;
  category_id: number;
  bbox: [number, number, number, number];
  area: number;
  segmentation: { size: [number, number]; counts: string };
}

/**
 * Annotations of one instance-id image (`load_img_info`): one per distinct value ≥ 24 (ascending)
 * whose label `hasInstances && !ignoreInEval`; `iscrowd = value < 1000`.
 *
 * @param ids Instance ids, row-major `(h, w)`.
 * @param onUnknown Called for a value whose label id is not a Cityscapes label (the value is skipped).
 */
export function instanceIdsToAnnotations(
  ids: ArrayLike<number>,
  h: number,
  w: number,
  onUnknown?: (value: number) => void,
): ImageAnnotation[] {
  const n = h * w;
  // One pass: column-major copy plus, per value >= 24, its first and last column-major index.
  const colMajor = ids instanceof Uint16Array ? new Uint16Array(n) : new Int32Array(n);
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  for (let x = 0; x < w; x++) {
    for (let y = 0, i = x, j = x * h; y < h; y++, i += w, j++) {
      const v = ids[i]!;
      colMajor[j] = v;
      if (v >= 24) {
        if (!first.has(v)) first.set(v, j);
        last.set(v, j);
      }
    }
  }
  const values = [...first.keys()].sort((a, b) => a - b);
  const out: ImageAnnotation[] = [];
  const mask = new Uint8Array(n);
  for (const v of values) {
    const labelId = v >= 1000 ? Math.floor(v / 1000) : v;
    const label = ID_TO_LABEL.get(labelId);
    if (!label) {
      onUnknown?.(v);
      continue;
    }
    if (!label.hasInstances || label.ignoreInEval) continue;
    // The mask is all zeros outside [lo, hi]; set, encode, then clear only that span.
    const lo = first.get(v)!;
    const hi = last.get(v)!;
    for (let j = lo; j <= hi; j++) mask[j] = colMajor[j] === v ? 1 : 0;
    const cnts = encodeCounts(mask, h, w);
    mask.fill(0, lo, hi + 1);
    out.push({
      iscrowd: v < 1000 ? 1 : 0,
      category_id: label.id,
      bbox: countsToBbox(cnts, h, w),
      area: countsArea(cnts),
      segmentation: { size: [h, w], counts: toCompressed(cnts) },
    });
  }
  return out;
}

/** One image of a split with the gtFine files derived from its name. */
export interface CityscapesSample {
  /** `<prefix>leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png`. */
  imgPath: string;
  city: string;
  /** `<city>_<seq>_<frame>`. */
  stem: string;
  instanceIdsPath: string;
  labelIdsPath: string;
  polygonsPath: string;
}

/** Where the Cityscapes folders sit inside a tree and which splits exist. */
export interface CityscapesLayout {
  /** `''` or a folder ending in `/` (e.g. `cityscapes/`) holding `leftImg8bit/` and `gtFine/`. */
  prefix: string;
  splits: string[];
}

const IMG_SUFFIX = '_leftImg8bit.png';

/**
 * The images of one split as the converter globs them (`leftImg8bit/<split>/*\/*.png`: exactly one
 * city level), sorted by path, plus the report lines for files that do not fit.
 */
export function collectCityscapesSamples(
  paths: readonly string[],
  layout: CityscapesLayout,
  split: string,
): { samples: CityscapesSample[]; issues: ImportIssue[] } {
  const imgDir = `${layout.prefix}leftImg8bit/${split}/`;
  const gtDir = `${layout.prefix}gtFine/${split}/`;
  const issues: ImportIssue[] = [];
  const samples: CityscapesSample[] = [];
  const present = new Set(paths);
  const stemsWithImage = new Set<string>();
  for (const p of paths) {
    if (!p.startsWith(imgDir) || !p.toLowerCase().endsWith('.png')) continue;
    const rest = p.slice(imgDir.length).split('/');
    if (rest.length !== 2) continue; // the converter's glob only sees <city>/<file>.png
    const [city, file] = rest as [string, string];
    if (city.startsWith('.') || file.startsWith('.')) continue; // glob skips hidden names (e.g. macOS `._x.png`)
    if (!file.endsWith(IMG_SUFFIX)) {
      issues.push({
        severity: 'error',
        code: 'unexpected_file_name',
        path: p,
        reason: `image name does not end with '${IMG_SUFFIX}' (MMDetection's converter asserts this); skipped`,
      });
      continue;
    }
    const stem = file.slice(0, -IMG_SUFFIX.length);
    const gt = `${gtDir}${city}/${stem}_gtFine_`;
    samples.push({
      imgPath: p,
      city,
      stem,
      instanceIdsPath: `${gt}instanceIds.png`,
      labelIdsPath: `${gt}labelIds.png`,
      polygonsPath: `${gt}polygons.json`,
    });
    stemsWithImage.add(`${city}/${stem}`);
  }
  samples.sort((a, b) => (a.imgPath < b.imgPath ? -1 : a.imgPath > b.imgPath ? 1 : 0));
  const kept: CityscapesSample[] = [];
  for (const s of samples) {
    if (present.has(s.instanceIdsPath) || present.has(s.polygonsPath)) kept.push(s);
    else {
      issues.push({
        severity: 'error',
        code: 'image_without_gtfine',
        path: s.imgPath,
        reason: `no ${s.instanceIdsPath} (nor _gtFine_polygons.json); image skipped`,
      });
    }
  }
  const gtRe = /^([^/]+)\/(.+)_gtFine_(instanceIds\.png|polygons\.json)$/;
  const orphanStems = new Set<string>();
  for (const p of paths) {
    if (!p.startsWith(gtDir)) continue;
    const m = gtRe.exec(p.slice(gtDir.length));
    if (!m) continue;
    const key = `${m[1]}/${m[2]}`;
    if (stemsWithImage.has(key) || orphanStems.has(key)) continue;
    orphanStems.add(key);
    issues.push({
      severity: 'warning',
      code: 'gtfine_without_image',
      path: p,
      reason: `no matching image ${imgDir}${m[1]}/${m[2]}${IMG_SUFFIX}; annotation ignored`,
    });
  }
  return { samples: kept, issues };
}

/** Options of {@link convertCityscapesSplit}. */
export interface ConvertOptions extends ImportOptions {
  /**
   * Also read every `_leftImg8bit.png` and drop (with a report entry) images that are not PNGs, are
   * truncated (no IEND chunk at the end) or differ in size from their instanceIds. MMDetection's
   * converter never opens them, so this is off by default (byte-exact output); the studio's import
   * turns it on.
   */
  checkImages?: boolean;
}

/** Why an RGB image is unusable (signature, IEND at the end, IHDR size), or null when it looks fine. */
export function checkImageFile(bytes: Uint8Array, width: number, height: number): string | null {
  if (!isPng(bytes)) return 'not a PNG file (bad signature)';
  if (bytes.length < 45) return 'truncated PNG (too short)';
  const be32 = (o: number): number => ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
  const e = bytes.length - 8;
  if (!(bytes[e] === 0x49 && bytes[e + 1] === 0x45 && bytes[e + 2] === 0x4e && bytes[e + 3] === 0x44)) {
    return 'truncated PNG (no IEND chunk at the end)';
  }
  const w = be32(16);
  const h = be32(20);
  if (w !== width || h !== height) return `image is ${w}x${h} but its instanceIds are ${width}x${height}`;
  return null;
}

/** Result of converting one split. */
export interface CityscapesSplitResult {
  split: string;
  coco: CocoJson;
  issues: ImportIssue[];
  /** Images whose annotations came from `_gtFine_polygons.json`. */
  polygonFallbackCount: number;
}

/** Reads the instance ids of one sample (instanceIds PNG, else polygons); throws a reportable issue. */
async function readInstanceIds(
  tree: FileTree,
  s: CityscapesSample,
  present: Set<string>,
  issues: ImportIssue[],
): Promise<{ ids: ArrayLike<number>; h: number; w: number; fromPolygons: boolean } | null> {
  if (present.has(s.instanceIdsPath)) {
    const bytes = await tree.read(s.instanceIdsPath);
    try {
      const png = decodePng(bytes);
      if (png.depth !== 16 || png.channels !== 1) {
        issues.push({
          severity: 'error',
          code: 'instance_ids_not_16bit',
          path: s.instanceIdsPath,
          reason: `instanceIds must be a 16-bit single-channel PNG, got ${png.depth}-bit with ${png.channels} channel(s) (re-saved by an 8-bit tool? instance ids ≥ 256 would be lost); image skipped`,
        });
        return null;
      }
      return { ids: png.data, h: png.height, w: png.width, fromPolygons: false };
    } catch (err) {
      if (!(err instanceof PngDecodeError)) throw err;
      issues.push({ severity: 'error', code: 'png_unreadable', path: s.instanceIdsPath, reason: `${err.message}; image skipped` });
      return null;
    }
  }
  const text = new TextDecoder().decode(await tree.read(s.polygonsPath));
  let ann: CityscapesPolygonFile;
  try {
    ann = JSON.parse(text) as CityscapesPolygonFile;
  } catch (err) {
    issues.push({ severity: 'error', code: 'invalid_json', path: s.polygonsPath, reason: `invalid JSON (${(err as Error).message}); image skipped` });
    return null;
  }
  if (!Number.isInteger(ann?.imgWidth) || !Number.isInteger(ann?.imgHeight) || !Array.isArray(ann?.objects)) {
    issues.push({ severity: 'error', code: 'invalid_json', path: s.polygonsPath, reason: 'not a Cityscapes polygon file (needs imgWidth, imgHeight, objects); image skipped' });
    return null;
  }
  try {
    const ids = polygonsToInstanceIds(ann);
    issues.push({
      severity: 'info',
      code: 'polygons_fallback',
      path: s.polygonsPath,
      reason: `no _gtFine_instanceIds.png: instance ids rasterised from the polygons with cityscapesScripts' json2instanceImg rules`,
    });
    return { ids, h: ann.imgHeight, w: ann.imgWidth, fromPolygons: true };
  } catch (err) {
    if (!(err instanceof UnknownLabelError)) throw err;
    issues.push({ severity: 'error', code: 'unknown_label', path: s.polygonsPath, reason: `${err.message} (cityscapesScripts aborts on it); image skipped` });
    return null;
  }
}

/**
 * Converts one split of a Cityscapes tree into MMDetection's COCO json (`cvt_annotations`): images in
 * sorted path order with ids from 0, annotations numbered from 0 across the split, `annotations`
 * omitted when the split has none.
 */
export async function convertCityscapesSplit(
  tree: FileTree,
  layout: CityscapesLayout,
  split: string,
  options: ConvertOptions = {},
  paths: readonly string[] = tree.list(),
): Promise<CityscapesSplitResult> {
  const { samples, issues } = collectCityscapesSamples(paths, layout, split);
  const present = new Set(paths);
  const images: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  const meter = new ProgressMeter(`convert ${split}`, samples.length, options);
  let polygonFallbackCount = 0;
  for (const s of samples) {
    throwIfAborted(options.signal);
    const inst = await readInstanceIds(tree, s, present, issues);
    if (inst && options.checkImages) {
      const why = checkImageFile(await tree.read(s.imgPath), inst.w, inst.h);
      if (why) {
        issues.push({ severity: 'error', code: 'png_unreadable', path: s.imgPath, reason: `${why}; image skipped` });
        meter.tick(s.imgPath);
        continue;
      }
    }
    if (inst) {
      if (inst.fromPolygons) polygonFallbackCount++;
      const imageId = images.length;
      const unknown: number[] = [];
      const anns = instanceIdsToAnnotations(inst.ids, inst.h, inst.w, (v) => unknown.push(v));
      if (unknown.length) {
        issues.push({
          severity: 'warning',
          code: 'unknown_label',
          path: inst.fromPolygons ? s.polygonsPath : s.instanceIdsPath,
          reason: `pixel values ${unknown.join(', ')} map to no Cityscapes label id; those regions skipped (MMDetection's converter would fail)`,
        });
      }
      images.push({
        file_name: `${s.city}/${s.stem}${IMG_SUFFIX}`,
        height: inst.h,
        width: inst.w,
        segm_file: `${s.city}/${s.stem}_gtFine_labelIds.png`,
        id: imageId,
      });
      for (const a of anns) {
        annotations.push({
          iscrowd: a.iscrowd,
          category_id: a.category_id,
          bbox: a.bbox,
          area: a.area,
          segmentation: a.segmentation,
          image_id: imageId,
          id: annotations.length,
        });
      }
    }
    meter.tick(s.imgPath);
  }
  const coco: CocoJson = { images, categories: cityscapesCategories() };
  if (annotations.length > 0) coco.annotations = annotations;
  return { split, coco, issues, polygonFallbackCount };
}
