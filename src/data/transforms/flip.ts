/**
 * `RandomFlip` (mmcv / mmdet): with probability `prob` mirror image, boxes and masks.
 *
 * @see mmcv/transforms/processing.py `RandomFlip`, mmdet/datasets/transforms/transforms.py `RandomFlip`
 */
import { flipHorizontal, flipVertical } from './image_ops.ts';
import { defaultRng, type Results, type Rng, type Transform } from './types.ts';

/** Options of {@link RandomFlip}. */
export interface RandomFlipCfg {
  prob?: number | number[];
  direction?: string | string[];
}

const DIRECTIONS = ['horizontal', 'vertical', 'diagonal'];

/**
 * `RandomFlip`: picks a direction from `direction` (+ none) with probabilities `prob` (a float is
 * split evenly between the directions), as `np.random.choice` does; sets `flip` and `flip_direction`.
 */
export class RandomFlip implements Transform {
  readonly type = 'RandomFlip';
  private readonly choices: Array<string | null>;
  private readonly probs: number[];

  constructor(
    cfg: RandomFlipCfg,
    private readonly rng: Rng = defaultRng,
  ) {
    const dirs = typeof cfg.direction === 'string' || cfg.direction === undefined ? [cfg.direction ?? 'horizontal'] : [...cfg.direction];
    for (const d of dirs) if (!DIRECTIONS.includes(d)) throw new Error(`RandomFlip: direction '${d}' is not one of ${DIRECTIONS.join(', ')}`);
    const prob = cfg.prob ?? null;
    if (prob === null) throw new Error('RandomFlip: prob must be given');
    if (Array.isArray(prob)) {
      if (prob.length !== dirs.length) throw new Error('RandomFlip: prob and direction lists must have the same length');
      const total = prob.reduce((a, b) => a + b, 0);
      if (total > 1) throw new Error('RandomFlip: the probabilities sum to more than 1');
      this.probs = [...prob, 1 - total];
    } else {
      if (prob < 0 || prob > 1) throw new Error(`RandomFlip: prob ${prob} is not in [0, 1]`);
      this.probs = [...dirs.map(() => prob / dirs.length), 1 - prob];
    }
    this.choices = [...dirs, null];
  }

  /** Draws the direction for one sample (`_choose_direction`), `null` = no flip. */
  chooseDirection(): string | null {
    const u = this.rng.random();
    let acc = 0;
    for (let i = 0; i < this.choices.length; i++) {
      acc += this.probs[i]!;
      if (u < acc) return this.choices[i]!;
    }
    return this.choices[this.choices.length - 1]!;
  }

  transform(results: Results): Results {
    return this.applyDirection(results, this.chooseDirection());
  }

  /**
   * Applies a drawn direction: sets `flip` / `flip_direction` and flips. `imageMirrored` says the
   * image was already mirrored horizontally (by a fused resize, see `Compose`).
   */
  applyDirection(results: Results, dir: string | null, imageMirrored = false): Results {
    if (dir === null) {
      if (imageMirrored) throw new Error('RandomFlip: the image was mirrored but no flip was drawn');
      results.flip = false;
      results.flip_direction = null;
      return results;
    }
    results.flip = true;
    results.flip_direction = dir;
    flipResults(results, dir, imageMirrored);
    return results;
  }
}

/**
 * Mirrors image, boxes (`HorizontalBoxes.flip_`) and masks of `results` in place. With
 * `imageMirrored` the image's horizontal part is taken as done (only a diagonal flip's vertical half
 * is left for it).
 */
export function flipResults(results: Results, dir: string, imageMirrored = false): void {
  const img = results.img;
  if (!img) throw new Error('RandomFlip: results has no img');
  const { width: w, height: h } = img;
  if (imageMirrored && dir === 'vertical') throw new Error('RandomFlip: a vertical flip cannot follow a horizontally mirrored image');
  const doFlip = (data: Uint8Array, n: number, ph: number, pw: number, c: number, horizontalDone: boolean): Uint8Array => {
    if (dir === 'horizontal') return horizontalDone ? data : flipHorizontal(data, n, ph, pw, c);
    if (dir === 'vertical') return flipVertical(data, n, ph, pw, c);
    return flipVertical(horizontalDone ? data : flipHorizontal(data, n, ph, pw, c), n, ph, pw, c);
  };
  // Channel planes flip as `channels` one-channel images.
  const imgData = img.planar ? doFlip(img.data, img.channels, h, w, 1, imageMirrored) : doFlip(img.data, 1, h, w, img.channels, imageMirrored);
  if (imgData !== img.data) results.img = { ...img, data: imgData };
  const b = results.gt_bboxes;
  if (b) {
    for (let i = 0; i < b.length; i += 4) {
      if (dir !== 'vertical') {
        const x1 = b[i]!;
        b[i] = w - b[i + 2]!;
        b[i + 2] = w - x1;
      }
      if (dir !== 'horizontal') {
        const y1 = b[i + 1]!;
        b[i + 1] = h - b[i + 3]!;
        b[i + 3] = h - y1;
      }
    }
  }
  const m = results.gt_masks;
  if (m) results.gt_masks = { ...m, data: doFlip(m.data, m.n, m.height, m.width, 1, false) };
}
