/**
 * COCO ground truth and detection results, indexed and validated the way pycocotools' `COCO` and
 * `COCO.loadRes` take them. Malformed input raises {@link CocoFormatError} naming the record
 * (`annotations[12]`, `results[3]`) and the field.
 *
 * Pure TypeScript (no DOM, no Node imports).
 *
 * @see pycocotools `PythonAPI/pycocotools/coco.py` (ppwwyyxx/cocoapi, 2.0.11)
 */
import { DetStudioError } from '../core/errors';
import {
  countsArea,
  countsOf,
  countsToBbox,
  MaskFormatError,
  mergeCounts,
  polygonCounts,
  type PreparedMask,
  type RLE,
} from './mask';

/** One image of a COCO dataset. */
export interface CocoImage {
  id: number;
  height: number;
  width: number;
  file_name?: string;
  [key: string]: unknown;
}

/** One category of a COCO dataset. */
export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
  [key: string]: unknown;
}

/** A COCO segmentation: polygons (`[[x0, y0, x1, y1, ...], ...]`) or an RLE. */
export type CocoSegmentation = number[][] | RLE;

/** A ground-truth annotation. */
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: number[];
  area: number;
  iscrowd: number | boolean;
  segmentation?: CocoSegmentation;
  [key: string]: unknown;
}

/** A COCO dataset (`instances_*.json`). */
export interface CocoDataset {
  images: CocoImage[];
  categories: CocoCategory[];
  annotations?: CocoAnnotation[];
  info?: unknown;
  [key: string]: unknown;
}

/** A detection in COCO results format (`bbox` as `[x, y, w, h]`, `segmentation` a compressed RLE). */
export interface CocoResult {
  image_id: number;
  category_id: number;
  score: number;
  bbox?: number[];
  segmentation?: CocoSegmentation;
}

/** Malformed COCO input; `details` names the record (`collection`, `index`) and the `field`. */
export class CocoFormatError extends DetStudioError {
  constructor(message: string, details?: { collection?: string; index?: number; field?: string; [k: string]: unknown }) {
    super('CocoFormatError', message, details);
  }
}

/** An annotation or detection as the evaluator uses it (after pycocotools' `loadRes` rules). */
export interface EvalAnn {
  id: number;
  imageId: number;
  categoryId: number;
  area: number;
  iscrowd: boolean;
  /** Detection score (1 for ground truth). */
  score: number;
  bbox: number[];
  segmentation?: CocoSegmentation;
  /** Where the record came from, for error messages: `annotations` or `results`. */
  collection: string;
  /** Index of the record in its collection. */
  index: number;
  /** Decoded mask, filled lazily for segm evaluation. */
  mask?: PreparedMask;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function where(collection: string, index: number, field?: string): string {
  return field === undefined ? `${collection}[${index}]` : `${collection}[${index}].${field}`;
}

function fail(collection: string, index: number, field: string, what: string): never {
  throw new CocoFormatError(`${where(collection, index, field)}: ${what}`, { collection, index, field });
}

function checkBox(v: unknown, collection: string, index: number): number[] {
  if (!Array.isArray(v) || v.length !== 4 || !v.every(isNum)) {
    fail(collection, index, 'bbox', `expected [x, y, w, h] of 4 finite numbers, got ${short(v)}`);
  }
  return v as number[];
}

function short(v: unknown): string {
  if (typeof v === 'number') return String(v);
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

const SENTINEL = '\u0000py:';

/**
 * Parses JSON as Python's `json.load` does, accepting the `NaN`, `Infinity` and `-Infinity` tokens
 * Python's `json.dump` writes (they come back as JS numbers, so validation can name the record that
 * holds them). Throws `SyntaxError` like `JSON.parse` for anything else.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!/NaN|Infinity/.test(text)) throw err;
  }
  const parts: string[] = [];
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash escape
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    for (const tok of ['NaN', '-Infinity', 'Infinity']) {
      if (text.startsWith(tok, i)) {
        parts.push(text.slice(last, i), JSON.stringify(SENTINEL + tok));
        i += tok.length - 1;
        last = i + 1;
        break;
      }
    }
  }
  parts.push(text.slice(last));
  const values: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };
  return JSON.parse(parts.join(''), (_k, v: unknown) =>
    typeof v === 'string' && v.startsWith(SENTINEL) ? values[v.slice(SENTINEL.length)] : v,
  );
}

/**
 * Run lengths of a segmentation for an image of `h x w` (pycocotools `annToRLE`): polygons are
 * rasterised and merged, uncompressed and compressed RLEs decoded. Validates polygons (at least
 * 3 points) and RLE sizes / run sums against the image.
 */
export function segmentationCounts(
  segm: unknown,
  h: number,
  w: number,
  collection: string,
  index: number,
): Uint32Array {
  const field = 'segmentation';
  if (Array.isArray(segm)) {
    if (segm.length === 0) fail(collection, index, field, 'empty polygon list');
    const parts: Uint32Array[] = [];
    segm.forEach((poly, j) => {
      if (!Array.isArray(poly) || !poly.every(isNum)) {
        fail(collection, index, `${field}[${j}]`, `a polygon must be a list of finite numbers, got ${short(poly)}`);
      }
      if (poly.length < 6) {
        fail(collection, index, `${field}[${j}]`, `a polygon needs at least 3 points (6 numbers), got ${poly.length} numbers`);
      }
      parts.push(polygonCounts(poly, h, w));
    });
    return mergeCounts(parts);
  }
  if (isObj(segm)) {
    const size = segm.size;
    if (!Array.isArray(size) || size.length !== 2 || size[0] !== h || size[1] !== w) {
      fail(collection, index, `${field}.size`, `RLE size ${short(size)} differs from the image size [${h}, ${w}] (height, width)`);
    }
    let cnts: Uint32Array;
    try {
      cnts = countsOf(segm as unknown as RLE);
    } catch (e) {
      const f = e instanceof MaskFormatError && e.field ? e.field : 'counts';
      fail(collection, index, `${field}.${f}`, (e as Error).message);
    }
    let sum = 0;
    for (let j = 0; j < cnts.length; j++) sum += cnts[j];
    if (sum !== h * w) {
      fail(collection, index, `${field}.counts`, `RLE runs cover ${sum} pixels but the image has ${h}x${w} = ${h * w}`);
    }
    return cnts;
  }
  fail(collection, index, field, `expected polygons or an RLE {size, counts}, got ${short(segm)}`);
}

/**
 * A COCO dataset indexed as pycocotools' `COCO` does (images, categories and annotations by id),
 * with validation of every record the evaluator reads.
 */
export class COCO {
  /** The dataset as given. */
  readonly dataset: CocoDataset;
  /** Images by id. */
  readonly imgs = new Map<number, CocoImage>();
  /** Categories by id. */
  readonly cats = new Map<number, CocoCategory>();
  /** Annotations (or detections) in file order, normalised for evaluation. */
  readonly anns: EvalAnn[] = [];
  /** `annotations` for ground truth, `results` for detections (used in error messages). */
  readonly collection: string;

  /**
   * Indexes a ground-truth dataset.
   *
   * @param dataset parsed COCO json; validated (images need `id`; annotations `id`, `image_id`,
   *   `category_id`, `area`, `iscrowd`; `bbox` / `segmentation` are checked when evaluated).
   */
  constructor(dataset: unknown, collection = 'annotations', anns?: EvalAnn[]) {
    if (!isObj(dataset)) throw new CocoFormatError(`a COCO dataset must be a JSON object, got ${short(dataset)}`);
    if (!Array.isArray(dataset.images)) throw new CocoFormatError('COCO dataset: field "images" must be a list', { field: 'images' });
    if (!Array.isArray(dataset.categories)) {
      throw new CocoFormatError('COCO dataset: field "categories" must be a list', { field: 'categories' });
    }
    this.dataset = dataset as CocoDataset;
    this.collection = collection;
    dataset.images.forEach((img: unknown, i: number) => {
      if (!isObj(img)) fail('images', i, 'id', 'an image must be an object');
      if (!isNum(img.id)) fail('images', i, 'id', `expected a number, got ${short(img.id)}`);
      this.imgs.set(img.id, img as CocoImage);
    });
    dataset.categories.forEach((cat: unknown, i: number) => {
      if (!isObj(cat)) fail('categories', i, 'id', 'a category must be an object');
      if (!isNum(cat.id)) fail('categories', i, 'id', `expected a number, got ${short(cat.id)}`);
      this.cats.set(cat.id, cat as CocoCategory);
    });
    if (anns) {
      this.anns = anns;
      return;
    }
    const list = dataset.annotations;
    if (list === undefined) return;
    if (!Array.isArray(list)) throw new CocoFormatError('COCO dataset: field "annotations" must be a list', { field: 'annotations' });
    const seen = new Map<number, number>();
    list.forEach((a: unknown, i: number) => {
      if (!isObj(a)) fail(collection, i, 'id', 'an annotation must be an object');
      if (!isNum(a.id)) fail(collection, i, 'id', `expected a number, got ${short(a.id)}`);
      const prev = seen.get(a.id);
      if (prev !== undefined) fail(collection, i, 'id', `duplicate annotation id ${a.id} (also annotations[${prev}])`);
      seen.set(a.id, i);
      if (!isNum(a.image_id)) fail(collection, i, 'image_id', `expected a number, got ${short(a.image_id)}`);
      if (!isNum(a.category_id)) fail(collection, i, 'category_id', `expected a number, got ${short(a.category_id)}`);
      if (!isNum(a.area)) fail(collection, i, 'area', `expected a finite number, got ${short(a.area)}`);
      if (a.iscrowd === undefined) fail(collection, i, 'iscrowd', 'missing (0 or 1)');
      if (!(typeof a.iscrowd === 'boolean' || a.iscrowd === 0 || a.iscrowd === 1)) {
        fail(collection, i, 'iscrowd', `expected 0 or 1, got ${short(a.iscrowd)}`);
      }
      this.anns.push({
        id: a.id,
        imageId: a.image_id,
        categoryId: a.category_id,
        area: a.area,
        iscrowd: !!a.iscrowd,
        score: 1,
        bbox: a.bbox as number[],
        segmentation: a.segmentation as CocoSegmentation | undefined,
        collection,
        index: i,
      });
    });
  }

  /** Image ids in file order (`getImgIds()`). */
  getImgIds(): number[] {
    return [...this.imgs.keys()];
  }

  /** Category ids in file order, optionally only those whose name is in `catNms` (`getCatIds`). */
  getCatIds(catNms?: readonly string[]): number[] {
    const cats = [...this.cats.values()];
    const keep = catNms && catNms.length > 0 ? cats.filter((c) => catNms.includes(c.name)) : cats;
    return keep.map((c) => c.id);
  }

  /**
   * Checks the fields a bbox or segm evaluation reads and decodes masks for segm; errors name the
   * record. Idempotent.
   */
  prepareFor(iouType: 'bbox' | 'segm', imgIds: ReadonlySet<number>, catIds: ReadonlySet<number> | null): void {
    for (const a of this.anns) {
      if (!imgIds.has(a.imageId) || (catIds && !catIds.has(a.categoryId))) continue;
      if (iouType === 'bbox') {
        a.bbox = checkBox(a.bbox, a.collection, a.index);
        continue;
      }
      if (a.mask) continue;
      const img = this.imgs.get(a.imageId)!;
      const h = img.height;
      const w = img.width;
      if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) {
        throw new CocoFormatError(
          `image ${a.imageId}: height/width must be non-negative integers for segm evaluation (got ${short(h)} x ${short(w)})`,
          { collection: 'images', field: 'height' },
        );
      }
      if (a.segmentation === undefined) fail(a.collection, a.index, 'segmentation', 'missing (needed for segm evaluation)');
      const counts = segmentationCounts(a.segmentation, h, w, a.collection, a.index);
      a.mask = { counts, h, w, bbox: countsToBbox(counts, h, w) };
    }
  }

  /**
   * Loads detection results against this ground truth, as pycocotools' `loadRes`:
   * - the first record decides: with a non-empty `bbox`, every record needs a `bbox`, gets
   *   `area = w * h` and, without `segmentation`, the box as its polygon;
   *   otherwise every record needs a `segmentation`, `area` is the mask's area and `bbox`, if
   *   absent, the mask's `toBbox`;
   * - ids are `index + 1`, `iscrowd` is 0.
   *
   * Stricter than pycocotools where it would crash or silently drop records: unknown image ids,
   * unknown category ids, non-finite scores, malformed boxes, polygons under 3 points and RLEs
   * whose size differs from the image raise a {@link CocoFormatError} naming `results[i].field`.
   */
  loadRes(results: unknown): COCO {
    if (!Array.isArray(results)) throw new CocoFormatError(`results must be a list of detections, got ${short(results)}`);
    if (results.length === 0) throw new CocoFormatError('results are empty: there is no detection to evaluate', { collection: 'results' });
    const C = 'results';
    const first = results[0];
    if (!isObj(first)) fail(C, 0, 'image_id', 'a detection must be an object');
    const byBox = 'bbox' in first && !(Array.isArray(first.bbox) && first.bbox.length === 0);
    if (!byBox && !('segmentation' in first)) {
      fail(C, 0, 'bbox', 'a detection needs a "bbox" or a "segmentation" (keypoint and caption results are not supported)');
    }
    const anns: EvalAnn[] = [];
    results.forEach((r: unknown, i: number) => {
      if (!isObj(r)) fail(C, i, 'image_id', 'a detection must be an object');
      if (!isNum(r.image_id)) fail(C, i, 'image_id', `expected a number, got ${short(r.image_id)}`);
      const img = this.imgs.get(r.image_id);
      if (!img) fail(C, i, 'image_id', `image id ${r.image_id} is not in the ground truth (results do not correspond to this COCO set)`);
      if (!isNum(r.category_id)) fail(C, i, 'category_id', `expected a number, got ${short(r.category_id)}`);
      if (!this.cats.has(r.category_id)) fail(C, i, 'category_id', `category id ${r.category_id} is not a category of the ground truth`);
      if (typeof r.score !== 'number' || !Number.isFinite(r.score)) fail(C, i, 'score', `expected a finite number, got ${short(r.score)}`);
      const ann: EvalAnn = {
        id: i + 1,
        imageId: r.image_id,
        categoryId: r.category_id,
        area: 0,
        iscrowd: false,
        score: r.score,
        bbox: [],
        collection: C,
        index: i,
      };
      if (byBox) {
        const bb = checkBox(r.bbox, C, i);
        const [x1, y1] = bb;
        const x2 = bb[0] + bb[2];
        const y2 = bb[1] + bb[3];
        ann.segmentation = 'segmentation' in r ? (r.segmentation as CocoSegmentation) : [[x1, y1, x1, y2, x2, y2, x2, y1]];
        ann.area = bb[2] * bb[3];
        ann.bbox = bb;
      } else {
        if (!('segmentation' in r)) fail(C, i, 'segmentation', 'missing (the first detection has no bbox, so every detection needs a mask)');
        const h = img.height;
        const w = img.width;
        const counts = segmentationCounts(r.segmentation, h, w, C, i);
        ann.segmentation = r.segmentation as CocoSegmentation;
        ann.mask = { counts, h, w, bbox: countsToBbox(counts, h, w) };
        ann.area = countsArea(counts);
        ann.bbox = 'bbox' in r ? checkBox(r.bbox, C, i) : ann.mask.bbox.slice();
      }
      anns.push(ann);
    });
    const res = { images: this.dataset.images, categories: this.dataset.categories };
    return new COCO(res, C, anns);
  }
}
