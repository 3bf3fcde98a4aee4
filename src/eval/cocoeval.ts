/**
 * COCO detection evaluation (`bbox` and `segm`) with pycocotools 2.0.11 semantics: `evaluate`,
 * `accumulate` and `summarize` give the same per-image matches, precision / recall arrays and 12
 * `stats`, quirks included (greedy matching in stable score order, crowd regions matched
 * repeatedly, unmatched detections outside the area range ignored, a ground truth with id 0 counts
 * as "no match", the precision envelope and 101-point recall sampling, `-1` for absent settings).
 *
 * Pure TypeScript (no DOM, no Node imports): runs in the training worker and in Node.
 *
 * @see pycocotools `PythonAPI/pycocotools/cocoeval.py` (ppwwyyxx/cocoapi, 2.0.11)
 */
import { COCO, CocoFormatError, type EvalAnn } from './coco';
import { boxIou, preparedIou } from './mask';

/** What is compared: boxes or masks. */
export type IouType = 'bbox' | 'segm';

/** `np.linspace(start, stop, num)` with numpy's arithmetic (`i * step + start`, exact last value). */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** Sum with numpy's pairwise algorithm (`np.add.reduce` on a contiguous float64 array). */
export function pairwiseSum(a: ArrayLike<number>, off = 0, n = a.length): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[off + i];
    return res;
  }
  if (n <= 128) {
    const r = [a[off], a[off + 1], a[off + 2], a[off + 3], a[off + 4], a[off + 5], a[off + 6], a[off + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[off + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[off + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, off, n2) + pairwiseSum(a, off + n2, n - n2);
}

/** `np.mean(values)` for values already filtered to `> -1`; -1 when empty (pycocotools' rule). */
export function meanOrMinusOne(values: number[]): number {
  return values.length === 0 ? -1 : (0 + pairwiseSum(values)) / values.length;
}

/** Evaluation parameters (pycocotools `Params` for detection). */
export class Params {
  /** Image ids to evaluate (default: all ground-truth images). */
  imgIds: number[] = [];
  /** Category ids to evaluate (default: all ground-truth categories). */
  catIds: number[] = [];
  /** IoU thresholds, `np.linspace(.5, .95, 10)`. */
  iouThrs: number[] = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
  /** Recall thresholds, `np.linspace(0, 1, 101)`. */
  recThrs: number[] = linspace(0, 1, Math.round((1 - 0) / 0.01) + 1);
  /** Maximum detections per image; sorted by `evaluate`. MMDetection uses `[100, 300, 1000]`. */
  maxDets: number[] = [1, 10, 100];
  /** Object area ranges `[lo, hi]` (inclusive). */
  areaRng: [number, number][] = [
    [0, 1e10],
    [0, 32 ** 2],
    [32 ** 2, 96 ** 2],
    [96 ** 2, 1e10],
  ];
  /** Labels of `areaRng`. */
  areaRngLbl: string[] = ['all', 'small', 'medium', 'large'];
  /** Match within categories (false: class-agnostic, as for proposals). */
  useCats = true;

  constructor(readonly iouType: IouType) {}
}

/** Result of matching one image and category at one area range (`evalImgs` entry). */
export interface EvalImg {
  imageId: number;
  categoryId: number;
  aRng: [number, number];
  maxDet: number;
  dtIds: number[];
  gtIds: number[];
  /** `[T, D]` row-major: id of the matched ground truth, 0 if none. */
  dtMatches: Float64Array;
  /** `[T, G]` row-major: id of the matched detection, 0 if none. */
  gtMatches: Float64Array;
  dtScores: Float64Array;
  gtIgnore: Uint8Array;
  /** `[T, D]` row-major ignore flags. */
  dtIgnore: Uint8Array;
}

/** Accumulated precision / recall (`COCOeval.eval`), flat row-major arrays. */
export interface EvalResult {
  /** `[T, R, K, A, M]`. */
  counts: [number, number, number, number, number];
  /** `[T, R, K, A, M]`, -1 where there is no ground truth. */
  precision: Float64Array;
  /** `[T, K, A, M]`, -1 where there is no ground truth. */
  recall: Float64Array;
  /** `[T, R, K, A, M]` score at each recall threshold. */
  scores: Float64Array;
}

/** Per-category summary (area `all`, the last `maxDets`); `null` when the category has no ground truth. */
export interface CategorySummary {
  ap: number | null;
  ap50: number | null;
  ap75: number | null;
  apS: number | null;
  apM: number | null;
  apL: number | null;
  ar: number | null;
  /** Recall at each IoU threshold (-1 when absent). */
  recallPerIou: number[];
}

interface IouCache {
  /** Detections of the image/category, sorted by score (stable), cut at `maxDets[-1]`. */
  dt: EvalAnn[];
  /** `[D, G]` row-major IoUs; empty when either side is empty. */
  ious: Float64Array;
}

const uniqueSorted = (v: number[]): number[] => [...new Set(v)].sort((a, b) => a - b);

/** Stable sort of detections by descending score (numpy mergesort on `-score`). */
function byScore(dts: EvalAnn[]): EvalAnn[] {
  return dts
    .map((d, i) => ({ d, i }))
    .sort((a, b) => b.d.score - a.d.score || a.i - b.i)
    .map((x) => x.d);
}

/**
 * COCO evaluator: `new COCOeval(gt, dt, 'bbox' | 'segm')`, adjust `params`, then `evaluate()`,
 * `accumulate()`, `summarize()`.
 */
export class COCOeval {
  /** Parameters; defaults are pycocotools', with all ground-truth images and categories. */
  params: Params;
  /** Per image / category / area results, index `k * A * I + a * I + i`; null where nothing to match. */
  evalImgs: (EvalImg | null)[] = [];
  /** Accumulated arrays, after `accumulate()`. */
  eval: EvalResult | null = null;
  /** The 12 summary numbers, after `summarize()`. */
  stats: number[] = [];

  private gts = new Map<number, EvalAnn[]>();
  private dts = new Map<number, EvalAnn[]>();
  private ious = new Map<number, IouCache>();
  private evaluated: Params | null = null;

  constructor(
    readonly cocoGt: COCO,
    readonly cocoDt: COCO,
    iouType: IouType = 'segm',
  ) {
    if (iouType !== 'bbox' && iouType !== 'segm') throw new CocoFormatError(`iouType must be 'bbox' or 'segm', got ${iouType}`);
    this.params = new Params(iouType);
    this.params.imgIds = uniqueSorted(cocoGt.getImgIds());
    this.params.catIds = uniqueSorted(cocoGt.getCatIds());
  }

  /** Runs per-image matching for every category, area range and image (`evaluate`). */
  evaluate(): void {
    const p = this.params;
    p.imgIds = uniqueSorted(p.imgIds);
    if (p.useCats) p.catIds = uniqueSorted(p.catIds);
    p.maxDets = [...p.maxDets].sort((a, b) => a - b);
    if (p.maxDets.length === 0) throw new CocoFormatError('params.maxDets must not be empty');
    this.prepare();
    const I = p.imgIds.length;
    const catIds = p.useCats ? p.catIds : [-1];
    const K = catIds.length;
    this.ious.clear();
    for (let i = 0; i < I; i++) for (let k = 0; k < K; k++) this.computeIoU(i, k);
    const maxDet = p.maxDets[p.maxDets.length - 1];
    this.evalImgs = [];
    for (let k = 0; k < K; k++) {
      for (const aRng of p.areaRng) {
        for (let i = 0; i < I; i++) this.evalImgs.push(this.evaluateImg(i, k, aRng, maxDet));
      }
    }
    this.evaluated = {
      ...p,
      imgIds: [...p.imgIds],
      catIds: [...p.catIds],
      maxDets: [...p.maxDets],
      areaRng: p.areaRng.map((r) => [r[0], r[1]] as [number, number]),
    } as Params;
  }

  private key(i: number, k: number): number {
    return i * (this.params.useCats ? this.params.catIds.length : 1) + k;
  }

  private prepare(): void {
    const p = this.params;
    const imgIndex = new Map(p.imgIds.map((id, i) => [id, i]));
    const catIndex = new Map(p.catIds.map((id, k) => [id, k]));
    const imgSet = new Set(p.imgIds);
    const catSet = new Set(p.catIds);
    this.cocoGt.prepareFor(p.iouType, imgSet, catSet);
    this.cocoDt.prepareFor(p.iouType, imgSet, catSet);
    const group = (coco: COCO): Map<number, EvalAnn[]> => {
      const out = new Map<number, EvalAnn[]>();
      // pycocotools loads per image (sorted ids), then by file order; with useCats=0 it
      // concatenates the categories in sorted order
      const ordered = p.useCats
        ? coco.anns
        : [...coco.anns].map((a, n) => ({ a, n })).sort((x, y) => catIndex.get(x.a.categoryId)! - catIndex.get(y.a.categoryId)! || x.n - y.n).map((x) => x.a);
      for (const a of ordered) {
        const i = imgIndex.get(a.imageId);
        const k = catIndex.get(a.categoryId);
        if (i === undefined || k === undefined) continue;
        const key = this.key(i, p.useCats ? k : 0);
        let list = out.get(key);
        if (!list) out.set(key, (list = []));
        list.push(a);
      }
      return out;
    };
    this.gts = group(this.cocoGt);
    this.dts = group(this.cocoDt);
  }

  private computeIoU(i: number, k: number): void {
    const key = this.key(i, k);
    const gt = this.gts.get(key) ?? [];
    let dt = this.dts.get(key) ?? [];
    if (gt.length === 0 && dt.length === 0) return;
    dt = byScore(dt);
    const maxDet = this.params.maxDets[this.params.maxDets.length - 1];
    if (dt.length > maxDet) dt = dt.slice(0, maxDet);
    const D = dt.length;
    const G = gt.length;
    const ious = new Float64Array(D * G);
    if (this.params.iouType === 'bbox') {
      for (let d = 0; d < D; d++) for (let g = 0; g < G; g++) ious[d * G + g] = boxIou(dt[d].bbox, gt[g].bbox, gt[g].iscrowd);
    } else {
      for (let d = 0; d < D; d++) {
        const dm = dt[d].mask!;
        for (let g = 0; g < G; g++) ious[d * G + g] = preparedIou(dm, gt[g].mask!, gt[g].iscrowd);
      }
    }
    this.ious.set(key, { dt, ious });
  }

  private evaluateImg(i: number, k: number, aRng: [number, number], maxDet: number): EvalImg | null {
    const p = this.params;
    const key = this.key(i, k);
    const gtAll = this.gts.get(key) ?? [];
    const cache = this.ious.get(key);
    if (!cache) return null;
    const [lo, hi] = aRng;
    const G = gtAll.length;
    // ground truth: not ignored first (stable)
    const ign = new Uint8Array(G);
    for (let g = 0; g < G; g++) ign[g] = gtAll[g].iscrowd || gtAll[g].area < lo || gtAll[g].area > hi ? 1 : 0;
    const gtind = new Int32Array(G);
    let ng = 0;
    for (let g = 0; g < G; g++) if (!ign[g]) gtind[ng++] = g;
    for (let g = 0; g < G; g++) if (ign[g]) gtind[ng++] = g;
    const gt: EvalAnn[] = new Array<EvalAnn>(G);
    const gtIg = new Uint8Array(G);
    const crowd = new Uint8Array(G);
    for (let g = 0; g < G; g++) {
      gt[g] = gtAll[gtind[g]];
      gtIg[g] = ign[gtind[g]];
      crowd[g] = gt[g].iscrowd ? 1 : 0;
    }
    const dt = cache.dt.length > maxDet ? cache.dt.slice(0, maxDet) : cache.dt;
    const D = dt.length;
    const T = p.iouThrs.length;
    const Gc = G; // columns of the cached matrix
    const gtm = new Float64Array(T * G);
    const dtm = new Float64Array(T * D);
    const dtIg = new Uint8Array(T * D);
    if (D > 0 && G > 0) {
      const ious = cache.ious;
      for (let t = 0; t < T; t++) {
        const thr = p.iouThrs[t];
        for (let d = 0; d < D; d++) {
          let iou = Math.min(thr, 1 - 1e-10);
          let m = -1;
          const row = d * Gc;
          for (let g = 0; g < G; g++) {
            if (gtm[t * G + g] > 0 && !crowd[g]) continue;
            if (m > -1 && gtIg[m] === 0 && gtIg[g] === 1) break;
            const v = ious[row + gtind[g]];
            if (v < iou) continue;
            iou = v;
            m = g;
          }
          if (m === -1) continue;
          dtIg[t * D + d] = gtIg[m];
          dtm[t * D + d] = gt[m].id;
          gtm[t * G + m] = dt[d].id;
        }
      }
    }
    for (let d = 0; d < D; d++) {
      const out = dt[d].area < lo || dt[d].area > hi;
      if (!out) continue;
      for (let t = 0; t < T; t++) if (dtm[t * D + d] === 0) dtIg[t * D + d] = 1;
    }
    const dtScores = new Float64Array(D);
    const dtIds = new Array<number>(D);
    for (let d = 0; d < D; d++) {
      dtScores[d] = dt[d].score;
      dtIds[d] = dt[d].id;
    }
    const gtIds = new Array<number>(G);
    for (let g = 0; g < G; g++) gtIds[g] = gt[g].id;
    return {
      imageId: p.imgIds[i],
      categoryId: p.useCats ? p.catIds[k] : -1,
      aRng,
      maxDet,
      dtIds,
      gtIds,
      dtMatches: dtm,
      gtMatches: gtm,
      dtScores,
      gtIgnore: gtIg,
      dtIgnore: dtIg,
    };
  }

  /** Builds the precision / recall / score arrays from `evalImgs` (`accumulate`). */
  accumulate(): void {
    const pe = this.evaluated;
    if (!pe) throw new CocoFormatError('COCOeval.accumulate: run evaluate() first');
    const p = this.params;
    const T = p.iouThrs.length;
    const R = p.recThrs.length;
    const K = p.useCats ? p.catIds.length : 1;
    const A = p.areaRng.length;
    const M = p.maxDets.length;
    const precision = new Float64Array(T * R * K * A * M).fill(-1);
    const recall = new Float64Array(T * K * A * M).fill(-1);
    const scores = new Float64Array(T * R * K * A * M).fill(-1);
    const I0 = pe.imgIds.length;
    const A0 = pe.areaRng.length;
    const eps = 2 ** -52;
    const setK = new Set(pe.useCats ? pe.catIds : [-1]);
    const setA = new Set(pe.areaRng.map((r) => `${r[0]},${r[1]}`));
    const setM = new Set(pe.maxDets);
    const setI = new Set(pe.imgIds);
    const kList = (p.useCats ? p.catIds : [-1]).flatMap((c, n) => (setK.has(c) ? [n] : []));
    const mList = p.maxDets.filter((m) => setM.has(m));
    const aList = p.areaRng.flatMap((r, n) => (setA.has(`${r[0]},${r[1]}`) ? [n] : []));
    const iList = p.imgIds.flatMap((id, n) => (setI.has(id) ? [n] : []));
    const maxAll = Math.max(...mList);
    for (let k = 0; k < kList.length; k++) {
      const Nk = kList[k] * A0 * I0;
      // images with something to match; the same for every area range (evaluateImg returns null
      // only without ground truth and detections), and so is each image's detection list
      const slots: number[] = [];
      for (const i of iList) if (this.evalImgs[Nk + aList[0] * I0 + i]) slots.push(i);
      if (slots.length === 0 || aList.length === 0) continue;
      // concatenated detections (image by image, each cut at maxDet) sorted once by descending
      // score, stably (numpy mergesort); a stable order restricted to a subset is that subset's order
      let total = 0;
      const first = slots.map((i) => this.evalImgs[Nk + aList[0] * I0 + i]!);
      for (const e of first) total += Math.min(e.dtScores.length, maxAll);
      const sc = new Float64Array(total);
      const slotOf = new Int32Array(total);
      const detOf = new Int32Array(total);
      let n = 0;
      first.forEach((e, s) => {
        const nd = Math.min(e.dtScores.length, maxAll);
        for (let d = 0; d < nd; d++, n++) {
          sc[n] = e.dtScores[d];
          slotOf[n] = s;
          detOf[n] = d;
        }
      });
      const order = Array.from({ length: total }, (_, j) => j).sort((x, y) => sc[y] - sc[x] || x - y);
      for (let a = 0; a < aList.length; a++) {
        const Na = aList[a] * I0;
        const E = slots.map((i) => this.evalImgs[Nk + Na + i]!);
        let npig = 0;
        for (const e of E) for (let g = 0; g < e.gtIgnore.length; g++) if (e.gtIgnore[g] === 0) npig++;
        if (npig === 0) continue;
        let prevN = -1;
        for (let m = 0; m < mList.length; m++) {
          const maxDet = mList[m];
          // the sorted detections within maxDet: 1 = true positive, 2 = false positive, 0 = ignored
          let N = 0;
          for (let j = 0; j < total; j++) if (detOf[order[j]] < maxDet) N++;
          if (m > 0 && N === prevN && mList[m - 1] < maxDet) {
            // the kept detections are nested in maxDet, so the same count means the same set
            // (e.g. maxDets 100/300/1000 with at most 100 detections per image): same numbers
            for (let t = 0; t < T; t++) {
              const r0 = ((t * K + k) * A + a) * M;
              recall[r0 + m] = recall[r0 + m - 1];
              for (let r = 0; r < R; r++) {
                const z = (((t * R + r) * K + k) * A + a) * M;
                precision[z + m] = precision[z + m - 1];
                scores[z + m] = scores[z + m - 1];
              }
            }
            continue;
          }
          prevN = N;
          const scSorted = new Float64Array(N);
          const code = new Uint8Array(T * N);
          let q = 0;
          for (let j = 0; j < total; j++) {
            const o = order[j];
            const d = detOf[o];
            if (d >= maxDet) continue;
            const e = E[slotOf[o]];
            const D = e.dtScores.length;
            scSorted[q] = sc[o];
            for (let t = 0; t < T; t++) {
              const idx = t * D + d;
              code[t * N + q] = e.dtIgnore[idx] ? 0 : e.dtMatches[idx] !== 0 ? 1 : 2;
            }
            q++;
          }
          const rc = new Float64Array(N);
          const pr = new Float64Array(N);
          for (let t = 0; t < T; t++) {
            let tp = 0;
            let fp = 0;
            const base = t * N;
            for (let j = 0; j < N; j++) {
              const c = code[base + j];
              if (c === 1) tp++;
              else if (c === 2) fp++;
              rc[j] = tp / npig;
              pr[j] = tp / (fp + tp + eps);
            }
            const rIdx = ((t * K + k) * A + a) * M + m;
            recall[rIdx] = N ? rc[N - 1] : 0;
            for (let j = N - 1; j > 0; j--) if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
            // searchsorted(rc, recThrs, 'left'); zeros from the first threshold past the last detection
            let pi = 0;
            for (let r = 0; r < R; r++) {
              const thr = p.recThrs[r];
              while (pi < N && rc[pi] < thr) pi++;
              const pIdx = (((t * R + r) * K + k) * A + a) * M + m;
              if (pi >= N) {
                for (let r2 = r; r2 < R; r2++) {
                  const z = (((t * R + r2) * K + k) * A + a) * M + m;
                  precision[z] = 0;
                  scores[z] = 0;
                }
                break;
              }
              precision[pIdx] = pr[pi];
              scores[pIdx] = scSorted[pi];
            }
          }
        }
      }
    }
    this.eval = { counts: [T, R, K, A, M], precision, recall, scores };
  }

  /** One summary number: mean precision (`ap`) or recall over the selected setting, -1 if none. */
  summarizeOne(ap: boolean, iouThr?: number, areaRng = 'all', maxDets = 100): number {
    const ev = this.eval;
    if (!ev) throw new CocoFormatError('COCOeval.summarize: run accumulate() first');
    const p = this.params;
    const [T, R, K, A, M] = ev.counts;
    const aind = p.areaRngLbl.flatMap((l, n) => (l === areaRng ? [n] : []));
    const mind = p.maxDets.flatMap((m, n) => (m === maxDets ? [n] : []));
    const tind = iouThr === undefined ? p.iouThrs.map((_, n) => n) : p.iouThrs.flatMap((v, n) => (v === iouThr ? [n] : []));
    // numpy pairs aind/mind element-wise (both have one entry in practice)
    const pairs: [number, number][] = [];
    if (aind.length === mind.length) aind.forEach((a, n) => pairs.push([a, mind[n]]));
    else if (aind.length === 1) mind.forEach((m) => pairs.push([aind[0], m]));
    else if (mind.length === 1) aind.forEach((a) => pairs.push([a, mind[0]]));
    const vals: number[] = [];
    if (ap) {
      for (const t of tind) for (let r = 0; r < R; r++) for (let k = 0; k < K; k++) for (const [a, m] of pairs) {
        const v = ev.precision[(((t * R + r) * K + k) * A + a) * M + m];
        if (v > -1) vals.push(v);
      }
    } else {
      for (const t of tind) for (let k = 0; k < K; k++) for (const [a, m] of pairs) {
        const v = ev.recall[((t * K + k) * A + a) * M + m];
        if (v > -1) vals.push(v);
      }
    }
    void T;
    return meanOrMinusOne(vals);
  }

  /** Computes the 12 detection `stats` in pycocotools' order (`summarize`). */
  summarize(): number[] {
    const md = this.params.maxDets;
    if (md.length < 3) throw new CocoFormatError(`summarize needs 3 maxDets values, got [${md.join(', ')}]`);
    this.stats = [
      this.summarizeOne(true),
      this.summarizeOne(true, 0.5, 'all', md[2]),
      this.summarizeOne(true, 0.75, 'all', md[2]),
      this.summarizeOne(true, undefined, 'small', md[2]),
      this.summarizeOne(true, undefined, 'medium', md[2]),
      this.summarizeOne(true, undefined, 'large', md[2]),
      this.summarizeOne(false, undefined, 'all', md[0]),
      this.summarizeOne(false, undefined, 'all', md[1]),
      this.summarizeOne(false, undefined, 'all', md[2]),
      this.summarizeOne(false, undefined, 'small', md[2]),
      this.summarizeOne(false, undefined, 'medium', md[2]),
      this.summarizeOne(false, undefined, 'large', md[2]),
    ];
    return this.stats;
  }

  /** The 12 lines pycocotools prints for `stats` (after `summarize()`). */
  summaryLines(): string[] {
    const md = this.params.maxDets;
    const thr = this.params.iouThrs;
    const spec: [boolean, number | undefined, string, number][] = [
      [true, undefined, 'all', 100],
      [true, 0.5, 'all', md[2]],
      [true, 0.75, 'all', md[2]],
      [true, undefined, 'small', md[2]],
      [true, undefined, 'medium', md[2]],
      [true, undefined, 'large', md[2]],
      [false, undefined, 'all', md[0]],
      [false, undefined, 'all', md[1]],
      [false, undefined, 'all', md[2]],
      [false, undefined, 'small', md[2]],
      [false, undefined, 'medium', md[2]],
      [false, undefined, 'large', md[2]],
    ];
    return spec.map(([ap, iouThr, area, maxDets], n) => {
      const title = ap ? 'Average Precision' : 'Average Recall';
      const type = ap ? '(AP)' : '(AR)';
      const iouStr = iouThr === undefined ? `${thr[0].toFixed(2)}:${thr[thr.length - 1].toFixed(2)}` : iouThr.toFixed(2);
      return ` ${title.padEnd(18)} ${type} @[ IoU=${iouStr.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${formatFixed(this.stats[n], 3)}`;
    });
  }

  /**
   * Per-category numbers at area `all` and the last `maxDets` (as MMDetection's classwise table):
   * AP, AP50, AP75, AP small / medium / large, AR and recall per IoU threshold; keys are category
   * ids (sorted, as `params.catIds`).
   */
  perCategory(): Map<number, CategorySummary> {
    const ev = this.eval;
    if (!ev) throw new CocoFormatError('COCOeval.perCategory: run accumulate() first');
    const p = this.params;
    const [T, R, K, A, M] = ev.counts;
    const m = M - 1;
    const out = new Map<number, CategorySummary>();
    const prec = (k: number, a: number, ts: number[]): number | null => {
      const vals: number[] = [];
      for (const t of ts) for (let r = 0; r < R; r++) {
        const v = ev.precision[(((t * R + r) * K + k) * A + a) * M + m];
        if (v > -1) vals.push(v);
      }
      return vals.length ? meanOrMinusOne(vals) : null;
    };
    const all = Array.from({ length: T }, (_, t) => t);
    const t50 = p.iouThrs.findIndex((v) => v === 0.5);
    const t75 = p.iouThrs.findIndex((v) => v === 0.75);
    const cats = p.useCats ? p.catIds : [-1];
    cats.forEach((catId, k) => {
      const recallPerIou = all.map((t) => ev.recall[((t * K + k) * A + 0) * M + m]);
      const rv = recallPerIou.filter((v) => v > -1);
      out.set(catId, {
        ap: prec(k, 0, all),
        ap50: t50 >= 0 ? prec(k, 0, [t50]) : null,
        ap75: t75 >= 0 ? prec(k, 0, [t75]) : null,
        apS: A > 1 ? prec(k, 1, all) : null,
        apM: A > 2 ? prec(k, 2, all) : null,
        apL: A > 3 ? prec(k, 3, all) : null,
        ar: rv.length ? meanOrMinusOne(rv) : null,
        recallPerIou,
      });
    });
    return out;
  }
}

/**
 * Python's `'{:.Nf}'.format(x)` / `round(x, N)` text: correctly rounded, ties to even on the
 * exact binary value (JS `toFixed` rounds exact ties up).
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  const s = x.toFixed(digits);
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + 1 + digits);
  if (/^50*$/.test(tail)) {
    // exact tie: toFixed rounded away from zero; Python rounds to even
    const down = Math.abs(x).toFixed(100).slice(0, dot + 1 + digits).replace(/\.$/, '');
    const lastDigit = Number(down[down.length - 1]);
    if (lastDigit % 2 === 0) return (x < 0 ? '-' : '') + down;
  }
  return s;
}

/** Python's `round(x, digits)` as a number (half-even on the exact value). */
export function pyRound(x: number, digits: number): number {
  return Number(formatFixed(x, digits));
}
