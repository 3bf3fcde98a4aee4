/**
 * MMDetection's dataset rules on a COCO json, as pure functions: `CocoDataset.load_data_list` /
 * `parse_data_info` (label mapping, crowd → `ignore_flag`, boxes to `x1y1x2y2`, skipped annotations)
 * and `filter_data` of `CocoDataset` and `CityscapesDataset` (`filter_empty_gt`, `min_size`), with the
 * reason every dropped image is dropped; plus dataset statistics for the browser.
 *
 * @see mmdet/datasets/coco.py, mmdet/datasets/cityscapes.py (MMDetection 3.3.0)
 */
import type { CocoAnnotation, CocoJson } from './coco_types.ts';

/** Dataset meta information (`METAINFO`): class names and their display colours. */
export interface DatasetMetainfo {
  classes: readonly string[];
  palette?: ReadonlyArray<readonly [number, number, number]>;
}

/** `CityscapesDataset.METAINFO`. */
export const CITYSCAPES_METAINFO: DatasetMetainfo = {
  classes: ['person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle'],
  palette: [
    [220, 20, 60],
    [255, 0, 0],
    [0, 0, 142],
    [0, 0, 70],
    [0, 60, 100],
    [0, 80, 100],
    [0, 0, 230],
    [119, 11, 32],
  ],
};

/** `CocoDataset.METAINFO.classes` (the 80 COCO classes; no palette here). */
export const COCO_METAINFO: DatasetMetainfo = {
  classes: [
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
    'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
    'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
    'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
    'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
    'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
    'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard',
    'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase',
    'scissors', 'teddy bear', 'hair drier', 'toothbrush',
  ],
};

/** One instance of a `data_info` (`parse_data_info`). */
export interface InstanceInfo {
  /** 1 for crowd (`iscrowd`): moved to `ignored_instances` by `PackDetInputs`, not trained on. */
  ignore_flag: 0 | 1;
  /** `[x1, y1, x2, y2]` = COCO `[x, y, x + w, y + h]`, pixels. */
  bbox: [number, number, number, number];
  /** 0-based contiguous label (position of the category in `cat_ids`). */
  bbox_label: number;
  /** The annotation's `segmentation` (RLE or polygons), when present. */
  mask?: CocoAnnotation['segmentation'];
}

/** A `data_info` dict as MMDetection builds it before the pipeline. */
export interface DataInfo {
  img_path: string;
  img_id: number;
  seg_map_path: string | null;
  height: number;
  width: number;
  instances: InstanceInfo[];
}

/** `dataset.filter_cfg`. */
export interface FilterCfg {
  filter_empty_gt?: boolean;
  min_size?: number;
}

/** Why an annotation was not turned into an instance by `parse_data_info`. */
export interface SkippedAnnotation {
  ann_id: number;
  img_id: number;
  reason: string;
}

/** What `load_data_list` produced. */
export interface LoadedDataList {
  dataList: DataInfo[];
  /** Category ids of the selected classes, in the json's category order (pycocotools `getCatIds`). */
  catIds: number[];
  /** Category id → label. */
  cat2label: Map<number, number>;
  /** Category id → image ids having an annotation of it (crowd included; pycocotools `catToImgs`). */
  catImgMap: Map<number, number[]>;
  skipped: SkippedAnnotation[];
  /** Class names of the metainfo that no json category has (a config error worth a diagnostic). */
  missingClasses: string[];
}

/** POSIX path join (MMEngine `join_path` for relative paths). */
export function joinPath(...parts: string[]): string {
  let out = '';
  for (const p of parts) {
    if (p === '') continue;
    if (p.startsWith('/') || out === '') out = p;
    else out = out.endsWith('/') ? out + p : `${out}/${p}`;
  }
  return out;
}

/**
 * `CocoDataset.load_data_list` + `parse_data_info`.
 *
 * Labels follow `cat_ids = coco.get_cat_ids(cat_names=classes)`: the json's category order, filtered
 * by name. For MMDetection's Cityscapes jsons that equals METAINFO order (person 0 … bicycle 7).
 *
 * @param imgPrefix `data_prefix.img` already joined with `data_root` (e.g. `data/cityscapes/leftImg8bit/train/`).
 */
export function loadDataList(
  coco: CocoJson,
  metainfo: DatasetMetainfo,
  imgPrefix = '',
  segPrefix: string | null = null,
  segMapSuffix = '.png',
): LoadedDataList {
  const wanted = new Set(metainfo.classes);
  const catIds = coco.categories.filter((c) => wanted.has(c.name)).map((c) => c.id);
  const present = new Set(coco.categories.map((c) => c.name));
  const missingClasses = metainfo.classes.filter((c) => !present.has(c));
  const cat2label = new Map(catIds.map((id, i) => [id, i]));
  const annsByImg = new Map<number, CocoAnnotation[]>();
  const catImgMap = new Map<number, number[]>(coco.categories.map((c) => [c.id, []]));
  for (const ann of coco.annotations ?? []) {
    if (!annsByImg.has(ann.image_id)) annsByImg.set(ann.image_id, []);
    annsByImg.get(ann.image_id)!.push(ann);
    if (!catImgMap.has(ann.category_id)) catImgMap.set(ann.category_id, []);
    catImgMap.get(ann.category_id)!.push(ann.image_id);
  }
  const skipped: SkippedAnnotation[] = [];
  const dataList: DataInfo[] = [];
  for (const img of coco.images) {
    const instances: InstanceInfo[] = [];
    for (const ann of annsByImg.get(img.id) ?? []) {
      const why = annotationSkipReason(ann, img.width, img.height, cat2label);
      if (why) {
        skipped.push({ ann_id: ann.id, img_id: img.id, reason: why });
        continue;
      }
      const [x1, y1, w, h] = ann.bbox;
      const inst: InstanceInfo = {
        ignore_flag: ann.iscrowd ? 1 : 0,
        bbox: [x1, y1, x1 + w, y1 + h],
        bbox_label: cat2label.get(ann.category_id)!,
      };
      if (ann.segmentation !== undefined) inst.mask = ann.segmentation;
      instances.push(inst);
    }
    dataList.push({
      img_path: joinPath(imgPrefix, img.file_name),
      img_id: img.id,
      seg_map_path: segPrefix === null ? null : joinPath(segPrefix, img.file_name.replace(/\.[^.]*$/, '') + segMapSuffix),
      height: img.height,
      width: img.width,
      instances,
    });
  }
  return { dataList, catIds, cat2label, catImgMap, skipped, missingClasses };
}

/** `parse_data_info`'s skip rules; returns the reason or null when the annotation is kept. */
function annotationSkipReason(ann: CocoAnnotation, imgW: number, imgH: number, cat2label: Map<number, number>): string | null {
  if (ann.ignore) return "'ignore' is set";
  const [x1, y1, w, h] = ann.bbox;
  const interW = Math.max(0, Math.min(x1 + w, imgW) - Math.max(x1, 0));
  const interH = Math.max(0, Math.min(y1 + h, imgH) - Math.max(y1, 0));
  if (interW * interH === 0) return 'box does not overlap the image';
  if (ann.area <= 0 || w < 1 || h < 1) return 'zero area or box smaller than 1 pixel';
  if (!cat2label.has(ann.category_id)) return `category ${ann.category_id} is not one of the dataset classes`;
  return null;
}

/** An image the training filter drops. */
export interface DroppedImage {
  img_id: number;
  img_path: string;
  /** `no annotations`, `only crowd annotations` or `smaller than min_size (...)`. */
  reason: string;
}

/** Result of {@link filterData}. */
export interface FilterResult {
  kept: DataInfo[];
  dropped: DroppedImage[];
}

/**
 * `filter_data` of `CocoDataset` (`kind: 'coco'`) or `CityscapesDataset` (`kind: 'cityscapes'`, which
 * also drops images whose remaining instances are all crowd — `all([])` is true, so images without
 * instances go too). Nothing is filtered in test mode or without `filter_cfg`.
 */
export function filterData(
  loaded: Pick<LoadedDataList, 'dataList' | 'catIds' | 'catImgMap'>,
  filterCfg: FilterCfg | null | undefined,
  options: { kind: 'coco' | 'cityscapes'; testMode?: boolean },
): FilterResult {
  const { dataList, catIds, catImgMap } = loaded;
  if (options.testMode || !filterCfg) return { kept: [...dataList], dropped: [] };
  const filterEmpty = filterCfg.filter_empty_gt ?? false;
  const minSize = filterCfg.min_size ?? 0;
  const withAnn = new Set(dataList.map((d) => d.img_id));
  const inCat = new Set<number>();
  for (const id of catIds) for (const imgId of catImgMap.get(id) ?? []) if (withAnn.has(imgId)) inCat.add(imgId);
  const kept: DataInfo[] = [];
  const dropped: DroppedImage[] = [];
  for (const d of dataList) {
    const allCrowd = d.instances.every((i) => i.ignore_flag === 1);
    if (filterEmpty) {
      if (!inCat.has(d.img_id)) {
        dropped.push({ img_id: d.img_id, img_path: d.img_path, reason: 'no annotations' });
        continue;
      }
      if (options.kind === 'cityscapes' && allCrowd) {
        const reason = d.instances.length === 0 ? 'no annotations' : 'only crowd annotations';
        dropped.push({ img_id: d.img_id, img_path: d.img_path, reason });
        continue;
      }
    }
    if (Math.min(d.width, d.height) >= minSize) kept.push(d);
    else dropped.push({ img_id: d.img_id, img_path: d.img_path, reason: `smaller than min_size (${d.width}x${d.height} < ${minSize})` });
  }
  return { kept, dropped };
}

/** COCO object-size bins by mask/box area: small < 32², medium < 96², large otherwise. */
export type SizeBin = 'small' | 'medium' | 'large';

/** Dataset statistics for the browser. */
export interface DatasetStatistics {
  images: number;
  /** Images with no annotation at all. */
  emptyImages: number;
  /** Per class (metainfo order): non-crowd instances, crowd regions, images containing it. */
  perClass: Array<{ name: string; instances: number; crowd: number; images: number }>;
  /** Non-crowd instances by COCO size bin (by the annotation's `area`). */
  sizes: Record<SizeBin, number>;
  /** Histogram of sqrt(area) of non-crowd instances: `edges.length = counts.length + 1` (pixels). */
  sizeHistogram: { edges: number[]; counts: number[] };
}

/** Size bin of an area (COCO's `areaRng`: small `[0, 32²)`, medium `[32², 96²)`, large `[96², ∞)`). */
export function sizeBin(area: number): SizeBin {
  return area < 32 * 32 ? 'small' : area < 96 * 96 ? 'medium' : 'large';
}

/**
 * Statistics of a COCO json restricted to the classes of `metainfo`: instances per class, crowd
 * regions, an object-size histogram (sqrt(area) in log-spaced bins 1, 2, 4, … px) and small / medium /
 * large counts.
 */
export function datasetStatistics(coco: CocoJson, metainfo: DatasetMetainfo): DatasetStatistics {
  const nameOf = new Map(coco.categories.map((c) => [c.id, c.name]));
  const perClass = metainfo.classes.map((name) => ({ name, instances: 0, crowd: 0, images: 0 }));
  const idx = new Map(metainfo.classes.map((n, i) => [n, i]));
  const imagesPerClass = metainfo.classes.map(() => new Set<number>());
  const sizes: Record<SizeBin, number> = { small: 0, medium: 0, large: 0 };
  const edges = [0, 1, 2, 4, 8, 16, 32, 64, 96, 128, 256, 512, 1024, 2048, Infinity];
  const counts = new Array<number>(edges.length - 1).fill(0);
  const withAnn = new Set<number>();
  for (const a of coco.annotations ?? []) {
    withAnn.add(a.image_id);
    const k = idx.get(nameOf.get(a.category_id) ?? '');
    if (k === undefined) continue;
    imagesPerClass[k]!.add(a.image_id);
    if (a.iscrowd) {
      perClass[k]!.crowd++;
      continue;
    }
    perClass[k]!.instances++;
    sizes[sizeBin(a.area)]++;
    const s = Math.sqrt(a.area);
    let b = 0;
    while (b < counts.length - 1 && s >= edges[b + 1]!) b++;
    counts[b]!++;
  }
  perClass.forEach((p, i) => (p.images = imagesPerClass[i]!.size));
  return {
    images: coco.images.length,
    emptyImages: coco.images.filter((im) => !withAnn.has(im.id)).length,
    perClass,
    sizes,
    sizeHistogram: { edges, counts },
  };
}

/**
 * Which images MMDetection's training filter keeps and drops (with reasons) for a COCO json, plus the
 * annotations `parse_data_info` skips: what the dataset browser shows. Defaults are the Cityscapes
 * train config (`filter_empty_gt=True, min_size=32`, `CityscapesDataset` rules).
 */
export function trainingFilterReport(
  coco: CocoJson,
  metainfo: DatasetMetainfo = CITYSCAPES_METAINFO,
  filterCfg: FilterCfg = { filter_empty_gt: true, min_size: 32 },
  kind: 'coco' | 'cityscapes' = 'cityscapes',
): { keptImageIds: number[]; dropped: DroppedImage[]; skippedAnnotations: SkippedAnnotation[]; missingClasses: string[] } {
  const loaded = loadDataList(coco, metainfo);
  const res = filterData(loaded, filterCfg, { kind });
  return {
    keptImageIds: res.kept.map((d) => d.img_id),
    dropped: res.dropped.map((d) => ({ ...d, img_path: coco.images.find((i) => i.id === d.img_id)?.file_name ?? d.img_path })),
    skippedAnnotations: loaded.skipped,
    missingClasses: loaded.missingClasses,
  };
}
