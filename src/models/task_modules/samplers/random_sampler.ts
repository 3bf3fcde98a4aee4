/**
 * Random positive/negative sampler with a seeded RNG, and mmdet's `SamplingResult`.
 * With `num` large enough (e.g. 100000, `pos_fraction=1`) it takes every positive and negative, which
 * is deterministic (no random draw happens), as the reference fixtures use.
 *
 * @see mmdet/models/task_modules/samplers/random_sampler.py, base_sampler.py, sampling_result.py
 */
import type { AssignResult } from '../assigners/max_iou_assigner';
import { seededRng, type StatefulRng } from '../../../data/transforms/types';

/** Constructor options (mmdet config keys). */
export interface RandomSamplerConfig {
  num: number;
  pos_fraction: number;
  neg_pos_ub?: number;
  add_gt_as_proposals?: boolean;
  /** Seed of the sampler's RNG (DetStudio addition; default 0). */
  seed?: number;
  [k: string]: unknown;
}

/** Sampling outcome for one image. Indices refer to the candidate list (gts first if added). */
export interface SamplingResult {
  /** Sorted indices of the sampled positives. */
  posInds: Int32Array;
  /** Sorted indices of the sampled negatives. */
  negInds: Int32Array;
  /** Candidate boxes `[M*4]` (gt boxes prepended when `add_gt_as_proposals`). */
  priors: Float32Array;
  /** `[P*4]` boxes of the positives. */
  posPriors: Float32Array;
  /** `[Q*4]` boxes of the negatives. */
  negPriors: Float32Array;
  /** 0-based assigned gt per positive. */
  posAssignedGtInds: Int32Array;
  /** `[P*4]` gt boxes of the positives. */
  posGtBboxes: Float32Array;
  /** gt label per positive. */
  posGtLabels: Int32Array;
  /** 1 where a positive is a gt box added as a proposal. */
  posIsGt: Uint8Array;
  /** `max(#pos, 1)`. */
  numPos: number;
  /** `max(#neg, 1)`. */
  numNeg: number;
  /** `numPos + numNeg` (normaliser of RPN losses). */
  avgFactor: number;
}

function gatherBoxes(boxes: ArrayLike<number>, inds: ArrayLike<number>): Float32Array {
  const out = new Float32Array(inds.length * 4);
  for (let i = 0; i < inds.length; i++) for (let c = 0; c < 4; c++) out[i * 4 + c] = boxes[inds[i]! * 4 + c]!;
  return out;
}

/** mmdet `RandomSampler`. */
export class RandomSampler {
  readonly num: number;
  readonly posFraction: number;
  readonly negPosUb: number;
  readonly addGtAsProposals: boolean;
  /** The sampler's own generator (mulberry32, the same as the pipelines'). */
  private readonly rng: StatefulRng;

  constructor(cfg: RandomSamplerConfig) {
    this.num = cfg.num;
    this.posFraction = cfg.pos_fraction;
    this.negPosUb = cfg.neg_pos_ub ?? -1;
    this.addGtAsProposals = cfg.add_gt_as_proposals ?? true;
    this.rng = seededRng(cfg.seed ?? 0);
  }

  /** The random generator's state (saved in checkpoints so a resumed run samples like an uninterrupted one). */
  getState(): number {
    return this.rng.getState().state;
  }

  /** Continues from a state returned by {@link getState}. */
  setState(state: number): void {
    this.rng.setState({ type: 'mulberry32', state });
  }

  /** Picks `num` of `gallery` uniformly without replacement (partial Fisher–Yates). */
  randomChoice(gallery: number[], num: number): number[] {
    const a = gallery.slice();
    for (let i = 0; i < num; i++) {
      const j = i + Math.floor(this.rng.random() * (a.length - i));
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a.slice(0, num);
  }

  /**
   * Samples positives and negatives.
   *
   * @param assign - the assigner's result on `priors`.
   * @param priors - `[N*4]` candidate boxes.
   * @param gtBboxes - `[G*4]` gt boxes.
   * @param gtLabels - `[G]` gt labels.
   */
  sample(assign: AssignResult, priors: Float32Array, gtBboxes: ArrayLike<number>, gtLabels: ArrayLike<number>): SamplingResult {
    const numGts = gtBboxes.length / 4;
    let cand = priors;
    let gtInds = assign.gtInds;
    let labels = assign.labels;
    let gtFlags = new Uint8Array(priors.length / 4);
    if (this.addGtAsProposals && numGts > 0) {
      cand = new Float32Array(gtBboxes.length + priors.length);
      cand.set(Array.from(gtBboxes));
      cand.set(priors, gtBboxes.length);
      gtInds = new Int32Array(numGts + assign.gtInds.length);
      labels = new Int32Array(numGts + assign.labels.length);
      for (let i = 0; i < numGts; i++) {
        gtInds[i] = i + 1;
        labels[i] = gtLabels[i]!;
      }
      gtInds.set(assign.gtInds, numGts);
      labels.set(assign.labels, numGts);
      const flags = new Uint8Array(numGts + gtFlags.length);
      flags.fill(1, 0, numGts);
      gtFlags = flags;
    }
    const pos: number[] = [];
    const neg: number[] = [];
    for (let j = 0; j < gtInds.length; j++) {
      if (gtInds[j]! > 0) pos.push(j);
      else if (gtInds[j] === 0) neg.push(j);
    }
    const numExpectedPos = Math.trunc(this.num * this.posFraction);
    const posSel = pos.length <= numExpectedPos ? pos : this.randomChoice(pos, numExpectedPos);
    let numExpectedNeg = this.num - posSel.length;
    if (this.negPosUb >= 0) {
      const ub = Math.trunc(this.negPosUb * Math.max(1, posSel.length));
      numExpectedNeg = Math.min(numExpectedNeg, ub);
    }
    const negSel = neg.length <= numExpectedNeg ? neg : this.randomChoice(neg, numExpectedNeg);
    const posInds = Int32Array.from(posSel).sort();
    const negInds = Int32Array.from(negSel).sort();
    const posAssignedGtInds = new Int32Array(posInds.length);
    const posGtLabels = new Int32Array(posInds.length);
    const posIsGt = new Uint8Array(posInds.length);
    for (let i = 0; i < posInds.length; i++) {
      posAssignedGtInds[i] = gtInds[posInds[i]!]! - 1;
      posGtLabels[i] = labels[posInds[i]!]!;
      posIsGt[i] = gtFlags[posInds[i]!]!;
    }
    const numPos = Math.max(posInds.length, 1);
    const numNeg = Math.max(negInds.length, 1);
    return {
      posInds,
      negInds,
      priors: cand,
      posPriors: gatherBoxes(cand, posInds),
      negPriors: gatherBoxes(cand, negInds),
      posAssignedGtInds,
      posGtBboxes: numGts > 0 ? gatherBoxes(gtBboxes, posAssignedGtInds) : new Float32Array(0),
      posGtLabels,
      posIsGt,
      numPos,
      numNeg,
      avgFactor: numPos + numNeg,
    };
  }
}
