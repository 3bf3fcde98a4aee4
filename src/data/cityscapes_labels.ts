/**
 * The Cityscapes label table (cityscapesScripts `helpers/labels.py`, upstream @0bcc4a72), as data.
 *
 * @see https://github.com/mcordts/cityscapesScripts/blob/master/cityscapesscripts/helpers/labels.py
 */

/** One Cityscapes label. */
export interface CityscapesLabel {
  /** Label name as written in `_gtFine_polygons.json`. */
  name: string;
  /** Label id (value in `_gtFine_labelIds.png`; instance ids are `id * 1000 + k`). */
  id: number;
  /** Id used for training semantic segmentation (255 = ignored). */
  trainId: number;
  /** Whether objects of this label are separate instances. */
  hasInstances: boolean;
  /** Whether the label is ignored by the official evaluation. */
  ignoreInEval: boolean;
  /** Display colour (R, G, B). */
  color: [number, number, number];
}

// name, id, trainId, hasInstances, ignoreInEval, colour
const TABLE: ReadonlyArray<[string, number, number, boolean, boolean, [number, number, number]]> = [
  ['unlabeled', 0, 255, false, true, [0, 0, 0]],
  ['ego vehicle', 1, 255, false, true, [0, 0, 0]],
  ['rectification border', 2, 255, false, true, [0, 0, 0]],
  ['out of roi', 3, 255, false, true, [0, 0, 0]],
  ['static', 4, 255, false, true, [0, 0, 0]],
  ['dynamic', 5, 255, false, true, [111, 74, 0]],
  ['ground', 6, 255, false, true, [81, 0, 81]],
  ['road', 7, 0, false, false, [128, 64, 128]],
  ['sidewalk', 8, 1, false, false, [244, 35, 232]],
  ['parking', 9, 255, false, true, [250, 170, 160]],
  ['rail track', 10, 255, false, true, [230, 150, 140]],
  ['building', 11, 2, false, false, [70, 70, 70]],
  ['wall', 12, 3, false, false, [102, 102, 156]],
  ['fence', 13, 4, false, false, [190, 153, 153]],
  ['guard rail', 14, 255, false, true, [180, 165, 180]],
  ['bridge', 15, 255, false, true, [150, 100, 100]],
  ['tunnel', 16, 255, false, true, [150, 120, 90]],
  ['pole', 17, 5, false, false, [153, 153, 153]],
  ['polegroup', 18, 255, false, true, [153, 153, 153]],
  ['traffic light', 19, 6, false, false, [250, 170, 30]],
  ['traffic sign', 20, 7, false, false, [220, 220, 0]],
  ['vegetation', 21, 8, false, false, [107, 142, 35]],
  ['terrain', 22, 9, false, false, [152, 251, 152]],
  ['sky', 23, 10, false, false, [70, 130, 180]],
  ['person', 24, 11, true, false, [220, 20, 60]],
  ['rider', 25, 12, true, false, [255, 0, 0]],
  ['car', 26, 13, true, false, [0, 0, 142]],
  ['truck', 27, 14, true, false, [0, 0, 70]],
  ['bus', 28, 15, true, false, [0, 60, 100]],
  ['caravan', 29, 255, true, true, [0, 0, 90]],
  ['trailer', 30, 255, true, true, [0, 0, 110]],
  ['train', 31, 16, true, false, [0, 80, 100]],
  ['motorcycle', 32, 17, true, false, [0, 0, 230]],
  ['bicycle', 33, 18, true, false, [119, 11, 32]],
  ['license plate', -1, -1, false, true, [0, 0, 142]],
];

/** All labels in `labels.py` order. */
export const CITYSCAPES_LABELS: readonly CityscapesLabel[] = TABLE.map(
  ([name, id, trainId, hasInstances, ignoreInEval, color]) => ({ name, id, trainId, hasInstances, ignoreInEval, color }),
);

/** Label by name. */
export const NAME_TO_LABEL: ReadonlyMap<string, CityscapesLabel> = new Map(CITYSCAPES_LABELS.map((l) => [l.name, l]));
/** Label by id (the last label of an id wins, as in `labels.py`'s dict comprehension). */
export const ID_TO_LABEL: ReadonlyMap<number, CityscapesLabel> = new Map(CITYSCAPES_LABELS.map((l) => [l.id, l]));

/**
 * The labels MMDetection's converter turns into COCO categories: `hasInstances and not ignoreInEval`,
 * in table order (person 24, rider 25, car 26, truck 27, bus 28, train 31, motorcycle 32, bicycle 33).
 */
export const CITYSCAPES_INSTANCE_LABELS: readonly CityscapesLabel[] = CITYSCAPES_LABELS.filter(
  (l) => l.hasInstances && !l.ignoreInEval,
);

/**
 * Resolves a polygon label as cityscapesScripts does: a known name, or an unknown name ending in
 * `group` whose base is known (`cargroup` → car, group). Returns `null` for an unknown label.
 */
export function resolvePolygonLabel(name: string): { label: CityscapesLabel; isGroup: boolean } | null {
  const direct = NAME_TO_LABEL.get(name);
  if (direct) return { label: direct, isGroup: false };
  if (name.endsWith('group')) {
    const base = NAME_TO_LABEL.get(name.slice(0, -'group'.length));
    if (base) return { label: base, isGroup: true };
  }
  return null;
}
