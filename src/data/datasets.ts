/**
 * `CocoDataset`, `CityscapesDataset` and `RepeatDataset` as MMDetection builds them from a config:
 * `data_root` joined with `ann_file` and `data_prefix`, `metainfo` overriding the class list,
 * `filter_cfg` applied unless `test_mode`, items produced by running the pipeline.
 *
 * @see mmdet/datasets/coco.py, mmdet/datasets/cityscapes.py, mmengine/dataset/base_dataset.py,
 *   mmengine/dataset/dataset_wrapper.py (RepeatDataset)
 */
import type { CocoJson } from './coco_types.ts';
import {
  CITYSCAPES_METAINFO,
  COCO_METAINFO,
  filterData,
  joinPath,
  loadDataList,
  type DataInfo,
  type DatasetMetainfo,
  type DroppedImage,
  type FilterCfg,
  type SkippedAnnotation,
} from './coco_dataset.ts';
import { Compose, type PipelineContext } from './transforms/compose.ts';
import type { PackedInputs } from './transforms/formatting.ts';
import type { Results } from './transforms/types.ts';

/** Config keys of `CocoDataset` / `CityscapesDataset`. */
export interface CocoDatasetCfg {
  type?: string;
  data_root?: string;
  ann_file?: string;
  data_prefix?: { img?: string; seg?: string; img_path?: string };
  filter_cfg?: FilterCfg | null;
  test_mode?: boolean;
  metainfo?: Partial<DatasetMetainfo> | null;
  pipeline?: Array<Record<string, unknown> & { type: string }>;
  backend_args?: unknown;
  seg_map_suffix?: string;
  lazy_init?: boolean;
  [key: string]: unknown;
}

/** A dataset the runner can index. */
export interface IndexedDataset {
  readonly length: number;
  readonly metainfo: DatasetMetainfo;
  getDataInfo(index: number): DataInfo;
  /** The pipeline's output for `index` (packed inputs when the pipeline ends in `PackDetInputs`). */
  getItem(index: number): Promise<Results>;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** `CocoDataset` (MMDetection 3.3). */
export class CocoDataset implements IndexedDataset {
  /** `METAINFO` of the class. */
  static readonly METAINFO: DatasetMetainfo = COCO_METAINFO;
  /** Which `filter_data` rules apply. */
  protected static readonly filterKind: 'coco' | 'cityscapes' = 'coco';

  readonly metainfo: DatasetMetainfo;
  readonly dataList: DataInfo[];
  /** Images dropped by `filter_cfg`, with the reason. */
  readonly dropped: DroppedImage[];
  /** Annotations `parse_data_info` skipped, with the reason. */
  readonly skippedAnnotations: SkippedAnnotation[];
  /** Classes of the metainfo missing from the json's categories (would silently train nothing). */
  readonly missingClasses: string[];
  readonly catIds: number[];
  readonly testMode: boolean;
  private readonly pipeline: Compose;

  /**
   * @param coco The parsed annotation file.
   * @param cfg The dataset config (`ann_file` is not read here; see {@link buildDataset}).
   * @param ctx File access for `LoadImageFromFile` (paths are `data_root`-joined, as in MMDetection).
   */
  constructor(
    coco: CocoJson,
    readonly cfg: CocoDatasetCfg,
    ctx: PipelineContext,
    private readonly rng: () => number = Math.random,
  ) {
    const ctor = this.constructor as typeof CocoDataset;
    const base = ctor.METAINFO;
    this.metainfo = { ...base, ...(cfg.metainfo ?? {}) } as DatasetMetainfo;
    const root = cfg.data_root ?? '';
    const imgPrefix = joinPath(root, cfg.data_prefix?.img ?? cfg.data_prefix?.img_path ?? '');
    const segPrefix = cfg.data_prefix?.seg !== undefined ? joinPath(root, cfg.data_prefix.seg) : null;
    const loaded = loadDataList(coco, this.metainfo, imgPrefix, segPrefix, cfg.seg_map_suffix ?? '.png');
    this.testMode = cfg.test_mode ?? false;
    const filtered = filterData(loaded, cfg.filter_cfg, { kind: ctor.filterKind, testMode: this.testMode });
    this.dataList = filtered.kept;
    this.dropped = filtered.dropped;
    this.skippedAnnotations = loaded.skipped;
    this.missingClasses = loaded.missingClasses;
    this.catIds = loaded.catIds;
    this.pipeline = new Compose(cfg.pipeline ?? [], ctx);
  }

  get length(): number {
    return this.dataList.length;
  }

  /** A copy of the `data_info` at `index` (`sample_idx` added, as MMEngine does). */
  getDataInfo(index: number): DataInfo & { sample_idx: number } {
    const d = this.dataList[index];
    if (!d) throw new RangeError(`index ${index} out of range for a dataset of ${this.length}`);
    return { ...clone(d), sample_idx: index };
  }

  /**
   * `__getitem__`: runs the pipeline; in training, a sample the pipeline drops is replaced by a random
   * other one (up to 1000 tries, MMEngine's `max_refetch`).
   */
  async getItem(index: number): Promise<Results> {
    let idx = index;
    for (let attempt = 0; attempt <= 1000; attempt++) {
      const out = await this.pipeline.run(this.getDataInfo(idx) as unknown as Results);
      if (out !== null) return out;
      if (this.testMode) throw new Error(`the pipeline dropped test sample ${idx}; test-mode pipelines must not drop samples`);
      idx = Math.floor(this.rng() * this.length);
    }
    throw new Error('cannot find a valid sample after 1000 tries; check the pipeline and the data');
  }

  /** {@link getItem} for pipelines ending in `PackDetInputs`. */
  async getPacked(index: number): Promise<PackedInputs> {
    const r = await this.getItem(index);
    if (!('inputs' in r)) throw new Error('the pipeline does not end with PackDetInputs');
    return r as unknown as PackedInputs;
  }
}

/** `CityscapesDataset`: the 8 Cityscapes classes and its own `filter_data` (all-crowd images dropped). */
export class CityscapesDataset extends CocoDataset {
  static override readonly METAINFO: DatasetMetainfo = CITYSCAPES_METAINFO;
  protected static override readonly filterKind = 'cityscapes' as const;
}

/** `RepeatDataset(dataset, times)`: index `i` maps to `i % len(dataset)`. */
export class RepeatDataset implements IndexedDataset {
  constructor(
    readonly dataset: IndexedDataset,
    readonly times: number,
  ) {
    if (!Number.isInteger(times) || times < 1) throw new Error(`RepeatDataset: times must be a positive integer, got ${times}`);
  }

  get length(): number {
    return this.times * this.dataset.length;
  }

  get metainfo(): DatasetMetainfo {
    return this.dataset.metainfo;
  }

  getDataInfo(index: number): DataInfo {
    return this.dataset.getDataInfo(index % this.dataset.length);
  }

  getItem(index: number): Promise<Results> {
    return this.dataset.getItem(index % this.dataset.length);
  }
}

/** The dataset types {@link buildDataset} knows. */
export const DATASET_TYPES = ['CocoDataset', 'CityscapesDataset', 'RepeatDataset'] as const;

/**
 * Builds a dataset from its config dict: reads `data_root/ann_file` through `ctx.readFile` (JSON),
 * then constructs it; `RepeatDataset` wraps its inner `dataset`.
 */
export async function buildDataset(cfg: CocoDatasetCfg & { dataset?: CocoDatasetCfg; times?: number }, ctx: PipelineContext): Promise<IndexedDataset> {
  const type = cfg.type ?? 'CocoDataset';
  if (type === 'RepeatDataset') {
    if (!cfg.dataset) throw new Error('RepeatDataset needs `dataset`');
    return new RepeatDataset(await buildDataset(cfg.dataset, ctx), cfg.times ?? 1);
  }
  if (type !== 'CocoDataset' && type !== 'CityscapesDataset') {
    throw new Error(`${type} is not in the dataset registry (scope mmdet). Supported: ${DATASET_TYPES.join(', ')}.`);
  }
  if (!cfg.ann_file) throw new Error(`${type}: ann_file is required`);
  const annPath = joinPath(cfg.data_root ?? '', cfg.ann_file);
  const bytes = await ctx.readFile(annPath);
  let coco: CocoJson;
  try {
    coco = JSON.parse(new TextDecoder().decode(bytes)) as CocoJson;
  } catch (err) {
    throw new Error(`${annPath}: invalid JSON (${(err as Error).message})`);
  }
  return type === 'CityscapesDataset' ? new CityscapesDataset(coco, cfg, ctx) : new CocoDataset(coco, cfg, ctx);
}
