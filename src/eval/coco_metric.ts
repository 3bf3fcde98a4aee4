/**
 * MMDetection's `CocoMetric` (`metric=['bbox', 'segm']`): collects model predictions per image,
 * converts them to COCO results json (boxes xyxy → xywh, masks → compressed RLE, label → the
 * dataset's category id) and evaluates them with {@link COCOeval} exactly as MMDetection 3.3 does:
 * `maxDets = proposal_nums = [100, 300, 1000]`, `catIds` / `imgIds` from the annotation file, and
 * for `segm` every detection's `bbox` removed before `loadRes` (areas come from the masks).
 * Reported keys are MMDetection's (`coco/bbox_mAP`, `coco/bbox_mAP_50`, …, `coco/segm_mAP_l`),
 * rounded to 3 decimals as MMDetection rounds them.
 *
 * Pure TypeScript (no DOM, no Node imports): runs in the training worker.
 *
 * @see mmdet/evaluation/metrics/coco_metric.py (MMDetection 3.3)
 */
import { COCO, CocoFormatError, type CocoResult } from './coco';
import { COCOeval, formatFixed, linspace, pyRound } from './cocoeval';
import { encodePatchCounts, encodeRowMajorCounts, toCompressed, type MaskPatch, type RLE } from './mask';

/** The detections of one image, at the ORIGINAL image resolution. */
export interface DetPrediction {
  /** Image id of the annotation file. */
  imgId: number;
  /** `[n, 4]` flat, absolute `x1y1x2y2` in original-image pixels. */
  bboxes: ArrayLike<number>;
  /** `[n]` scores. */
  scores: ArrayLike<number>;
  /** `[n]` 0-based label indices into the metric's classes (mapped to category ids). */
  labels: ArrayLike<number>;
  /**
   * `[n]` masks: RLEs, row-major `height x width` 0/1 bitmaps of the original image, or patches
   * (a bitmap inside a window, e.g. the pasted box region: no full-image bitmap needed).
   */
  masks?: (RLE | Uint8Array | MaskPatch)[];
  /** `[n]` mask scores if they differ from `scores`. */
  maskScores?: ArrayLike<number>;
}

/** Options of {@link CocoMetric} (MMDetection's `CocoMetric` arguments, camelCased). */
export interface CocoMetricOptions {
  /** The ground-truth COCO dataset (parsed `ann_file`). */
  ann: unknown;
  /** Metrics to compute; default `'bbox'`. */
  metric?: IouMetric | IouMetric[];
  /** Also compute the per-class AP table; default false. */
  classwise?: boolean;
  /** `maxDets` of COCOeval; default `[100, 300, 1000]`. */
  proposalNums?: number[];
  /** Class names (`dataset_meta['classes']`): label i → the category with that name. Default: all categories in file order. */
  classes?: string[];
  /** IoU thresholds; default `np.linspace(.5, .95, 10)`. */
  iouThrs?: number[];
  /** Key prefix; default `'coco'`. */
  prefix?: string;
}

/** Metrics computed by {@link CocoMetric}. */
export type IouMetric = 'bbox' | 'segm';

/** One row of the classwise table (values rounded to 3 decimals; `null` where MMDetection prints nan). */
export interface ClasswiseRow {
  category: string;
  categoryId: number;
  mAP: number | null;
  mAP_50: number | null;
  mAP_75: number | null;
  mAP_s: number | null;
  mAP_m: number | null;
  mAP_l: number | null;
}

/** Everything one evaluation produced. */
export interface CocoMetricReport {
  /** Flat MMEngine-style metrics (`coco/bbox_mAP`, … and, with classwise, `coco/<class>_precision`). */
  metrics: Record<string, number>;
  /** Unrounded 12 COCOeval stats per metric. */
  stats: Partial<Record<IouMetric, number[]>>;
  /** Per-class table per metric (with `classwise`). */
  classwise: Partial<Record<IouMetric, ClasswiseRow[]>>;
  /** Log lines as MMDetection prints them (summary, tables, copypaste). */
  log: string[];
}

const STAT_NAMES = ['mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'] as const;

/** `[x1, y1, x2, y2]` → `[x, y, w, h]` in double precision (MMDetection's `xyxy2xywh`). */
function xyxy2xywh(b: ArrayLike<number>, i: number): number[] {
  const x1 = b[i * 4];
  const y1 = b[i * 4 + 1];
  return [x1, y1, b[i * 4 + 2] - x1, b[i * 4 + 3] - y1];
}

/**
 * Converts predictions to COCO results json (MMDetection's `results2json`): one `bbox` record per
 * detection and, when the predictions carry masks, one `segm` record with the compressed RLE.
 *
 * @param preds predictions per image.
 * @param catIds label index → category id.
 * @param imageSize `(imgId) → [height, width]`, needed to encode bitmap masks.
 */
export function predictionsToCocoJson(
  preds: readonly DetPrediction[],
  catIds: readonly number[],
  imageSize?: (imgId: number) => [number, number] | undefined,
): { bbox: CocoResult[]; segm?: CocoResult[] } {
  const bbox: CocoResult[] = [];
  const withMasks = preds.length > 0 && preds[0].masks !== undefined;
  const segm: CocoResult[] | undefined = withMasks ? [] : undefined;
  preds.forEach((pred, p) => {
    const n = pred.labels.length;
    if (pred.scores.length !== n || pred.bboxes.length !== n * 4) {
      throw new CocoFormatError(
        `predictions[${p}] (image ${pred.imgId}): ${n} labels, ${pred.scores.length} scores and ${pred.bboxes.length / 4} boxes differ`,
        { collection: 'predictions', index: p, field: 'bboxes' },
      );
    }
    const cat = (i: number): number => {
      const label = pred.labels[i];
      const id = catIds[label];
      if (!Number.isInteger(label) || id === undefined) {
        throw new CocoFormatError(`predictions[${p}].labels[${i}]: label ${label} has no category (${catIds.length} classes)`, {
          collection: 'predictions',
          index: p,
          field: `labels[${i}]`,
        });
      }
      return id;
    };
    for (let i = 0; i < n; i++) {
      bbox.push({ image_id: pred.imgId, bbox: xyxy2xywh(pred.bboxes, i), score: pred.scores[i], category_id: cat(i) });
    }
    if (!segm) return;
    const masks = pred.masks;
    if (!masks || masks.length !== n) {
      throw new CocoFormatError(`predictions[${p}].masks: expected ${n} masks, got ${masks ? masks.length : 'none'}`, {
        collection: 'predictions',
        index: p,
        field: 'masks',
      });
    }
    const scores = pred.maskScores ?? pred.scores;
    for (let i = 0; i < n; i++) {
      const m = masks[i];
      let rle: RLE;
      const isPatch = !(m instanceof Uint8Array) && 'data' in m;
      if (m instanceof Uint8Array || isPatch) {
        const size = imageSize?.(pred.imgId);
        if (!size) throw new CocoFormatError(`predictions[${p}]: image ${pred.imgId} is unknown, cannot encode its masks`);
        const [h, w] = size;
        if (isPatch) {
          let counts: Uint32Array;
          try {
            counts = encodePatchCounts(m as MaskPatch, h, w);
          } catch (e) {
            throw new CocoFormatError(`predictions[${p}].masks[${i}]: ${(e as Error).message}`, {
              collection: 'predictions',
              index: p,
              field: `masks[${i}]`,
            });
          }
          segm.push({
            image_id: pred.imgId,
            bbox: xyxy2xywh(pred.bboxes, i),
            score: scores[i],
            category_id: cat(i),
            segmentation: { size: [h, w], counts: toCompressed(counts) },
          });
          continue;
        }
        const bitmap = m as Uint8Array;
        if (bitmap.length !== h * w) {
          throw new CocoFormatError(`predictions[${p}].masks[${i}]: bitmap has ${bitmap.length} pixels, image ${pred.imgId} is ${h}x${w}`, {
            collection: 'predictions',
            index: p,
            field: `masks[${i}]`,
          });
        }
        rle = { size: [h, w], counts: toCompressed(encodeRowMajorCounts(bitmap, h, w)) };
      } else {
        const r = m as RLE;
        rle = { size: [r.size[0], r.size[1]], counts: r.counts };
      }
      segm.push({ image_id: pred.imgId, bbox: xyxy2xywh(pred.bboxes, i), score: scores[i], category_id: cat(i), segmentation: rle });
    }
  });
  return segm ? { bbox, segm } : { bbox };
}

/**
 * MMDetection's `CocoMetric`: `process()` the predictions of each validation image, then
 * `evaluate()`.
 *
 * ```ts
 * const metric = new CocoMetric({ ann: cocoJson, metric: ['bbox', 'segm'], classwise: true });
 * metric.process(predictionsOfBatch);
 * const m = metric.evaluate(); // { 'coco/bbox_mAP': 0.41, ..., 'coco/segm_mAP_l': 0.52 }
 * ```
 */
export class CocoMetric {
  /** Label index → category id. */
  readonly catIds: number[];
  /** Image ids evaluated (all images of the annotation file). */
  readonly imgIds: number[];
  readonly metrics: IouMetric[];
  readonly classwise: boolean;
  readonly proposalNums: number[];
  readonly iouThrs: number[];
  readonly prefix: string;
  private readonly coco: COCO;
  private results: DetPrediction[] = [];

  constructor(opts: CocoMetricOptions) {
    this.coco = opts.ann instanceof COCO ? opts.ann : new COCO(opts.ann);
    const metrics = opts.metric === undefined ? ['bbox'] : Array.isArray(opts.metric) ? opts.metric : [opts.metric];
    for (const m of metrics) {
      if (m !== 'bbox' && m !== 'segm') throw new CocoFormatError(`metric should be one of 'bbox', 'segm', but got ${m}`);
    }
    this.metrics = metrics as IouMetric[];
    this.classwise = opts.classwise ?? false;
    this.proposalNums = opts.proposalNums ?? [100, 300, 1000];
    this.iouThrs = opts.iouThrs ?? linspace(0.5, 0.95, 10);
    this.prefix = opts.prefix ?? 'coco';
    this.catIds = this.coco.getCatIds(opts.classes);
    if (opts.classes && this.catIds.length !== opts.classes.length) {
      const missing = opts.classes.filter((c) => !this.coco.getCatIds([c]).length);
      throw new CocoFormatError(`classes not found among the annotation file's categories: ${missing.join(', ')}`);
    }
    this.imgIds = this.coco.getImgIds();
  }

  /** Number of images processed since the last evaluation. */
  get size(): number {
    return this.results.length;
  }

  /** Adds the predictions of one or more images. */
  process(preds: DetPrediction | readonly DetPrediction[]): void {
    if (Array.isArray(preds)) this.results.push(...(preds as DetPrediction[]));
    else this.results.push(preds as DetPrediction);
  }

  /** Drops the processed predictions. */
  reset(): void {
    this.results = [];
  }

  /** The processed predictions as COCO results json. */
  toCocoResults(): { bbox: CocoResult[]; segm?: CocoResult[] } {
    return predictionsToCocoJson(this.results, this.catIds, (id) => {
      const img = this.coco.imgs.get(id);
      return img ? [img.height, img.width] : undefined;
    });
  }

  /** Evaluates and returns MMEngine-style flat metrics; clears the processed predictions. */
  evaluate(): Record<string, number> {
    return this.evaluateDetailed().metrics;
  }

  /** Evaluates and returns metrics, raw stats, classwise tables and log lines; clears the predictions. */
  evaluateDetailed(): CocoMetricReport {
    if (this.results.length === 0) throw new CocoFormatError('CocoMetric.evaluate: no predictions were processed');
    const files = this.toCocoResults();
    this.results = [];
    const report: CocoMetricReport = { metrics: {}, stats: {}, classwise: {}, log: [] };
    for (const metric of this.metrics) {
      report.log.push(`Evaluating ${metric}...`);
      let dets: CocoResult[] | undefined = metric === 'bbox' ? files.bbox : files.segm;
      if (!dets) throw new CocoFormatError(`${metric} is not in results (the predictions carry no masks)`);
      if (metric === 'segm') dets = dets.map(({ bbox: _dropped, ...rest }) => rest);
      if (dets.length === 0) {
        // MMDetection logs this and stops evaluating
        report.log.push('The testing results of the whole dataset is empty.');
        break;
      }
      const E = new COCOeval(this.coco, this.coco.loadRes(dets), metric);
      E.params.catIds = [...this.catIds];
      E.params.imgIds = [...this.imgIds];
      E.params.maxDets = [...this.proposalNums];
      E.params.iouThrs = [...this.iouThrs];
      E.evaluate();
      E.accumulate();
      const stats = E.summarize();
      report.log.push(...E.summaryLines());
      report.stats[metric] = stats;
      if (this.classwise) {
        const pc = E.perCategory();
        const r = (v: number | null): number | null => (v === null ? null : pyRound(v, 3));
        const rows: ClasswiseRow[] = this.catIds.map((id) => {
          const c = pc.get(id)!;
          const name = this.coco.cats.get(id)!.name;
          return { category: name, categoryId: id, mAP: r(c.ap), mAP_50: r(c.ap50), mAP_75: r(c.ap75), mAP_s: r(c.apS), mAP_m: r(c.apM), mAP_l: r(c.apL) };
        });
        for (const row of rows) report.metrics[`${this.prefix}/${row.category}_precision`] = row.mAP ?? Number.NaN;
        report.classwise[metric] = rows;
        report.log.push(...classwiseTable(rows));
      }
      STAT_NAMES.forEach((name, i) => {
        report.metrics[`${this.prefix}/${metric}_${name}`] = pyRound(stats[i], 3);
      });
      report.log.push(`${metric}_mAP_copypaste: ${stats.slice(0, 6).map((v) => formatFixed(v, 3)).join(' ')}`);
    }
    return report;
  }
}

/** The classwise AP table as an ASCII table (MMDetection prints it with terminaltables). */
export function classwiseTable(rows: readonly ClasswiseRow[]): string[] {
  const head = ['category', 'mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'];
  const fmt = (v: number | null): string => (v === null ? 'nan' : String(v));
  const body = rows.map((r) => [r.category, fmt(r.mAP), fmt(r.mAP_50), fmt(r.mAP_75), fmt(r.mAP_s), fmt(r.mAP_m), fmt(r.mAP_l)]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const line = (cells: string[]): string => `| ${cells.map((s, c) => s.padEnd(widths[c])).join(' | ')} |`;
  const sep = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  return [sep, line(head), sep, ...body.map(line), sep];
}
