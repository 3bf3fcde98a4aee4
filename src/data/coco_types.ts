/**
 * COCO annotation file types as MMDetection's Cityscapes converter writes them (key order matters for
 * byte-exact output: `iscrowd, category_id, bbox, area, segmentation, image_id, id`).
 */
import { pythonJsonDumps } from './python_json.ts';

/** A compressed COCO RLE. */
export interface CocoRle {
  /** `[height, width]`. */
  size: [number, number];
  /** pycocotools' compressed counts string. */
  counts: string;
}

/** An image entry. */
export interface CocoImage {
  file_name: string;
  height: number;
  width: number;
  /** Cityscapes only: `<city>/<stem>_gtFine_labelIds.png`. */
  segm_file?: string;
  id: number;
  [extra: string]: unknown;
}

/** An annotation entry; `bbox` is COCO `[x, y, w, h]` in pixels. */
export interface CocoAnnotation {
  iscrowd: number;
  category_id: number;
  bbox: [number, number, number, number];
  area: number;
  /** RLE (compressed or uncompressed) or polygons `[[x0, y0, x1, y1, ...], ...]`. */
  segmentation?: CocoRle | { size: [number, number]; counts: number[] } | number[][];
  image_id: number;
  id: number;
  ignore?: number | boolean;
  [extra: string]: unknown;
}

/** A category entry. */
export interface CocoCategory {
  id: number;
  name: string;
  [extra: string]: unknown;
}

/** A COCO annotation file. `annotations` is absent when a split has none (MMDetection's converter). */
export interface CocoJson {
  images: CocoImage[];
  categories: CocoCategory[];
  annotations?: CocoAnnotation[];
  [extra: string]: unknown;
}

const FLOAT_KEYS = new Set(['bbox']);

/**
 * The file text MMDetection writes (`mmengine.dump` → `json.dump`, default separators), byte for
 * byte: boxes as Python floats (`72.0`), everything else as given.
 */
export function dumpCocoJson(coco: CocoJson): string {
  return pythonJsonDumps(coco, { floatKeys: FLOAT_KEYS });
}
