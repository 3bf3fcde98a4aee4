/**
 * Pastes a 28×28 mask probability map into an image canvas the way mmdet's `_do_paste_mask` does on
 * the CPU (one detection at a time, `skip_empty=True`): for each pixel centre of a window around the
 * box, `F.grid_sample(align_corners=False)` bilinear sampling with zeros outside, float32 arithmetic.
 *
 * @see mmdet/models/roi_heads/mask_heads/fcn_mask_head.py `_do_paste_mask` (MMDetection 3.3)
 */

const f = Math.fround;

/** Window `[x0, y0, x1, y1)` of canvas pixels that mmdet evaluates for a box (skip_empty). */
export function pasteRegion(box: ArrayLike<number>, imgH: number, imgW: number): [number, number, number, number] {
  const x0 = Math.max(Math.floor(box[0]!) - 1, 0);
  const y0 = Math.max(Math.floor(box[1]!) - 1, 0);
  const x1 = Math.min(Math.ceil(box[2]!) + 1, imgW);
  const y1 = Math.min(Math.ceil(box[3]!) + 1, imgH);
  return [x0, y0, x1, y1];
}

/**
 * Pasted probabilities of one mask.
 *
 * @param probs - `[mh*mw]` probabilities (row-major).
 * @param box - (x0, y0, x1, y1) on the canvas, float32 values.
 * @param imgH - canvas height.
 * @param imgW - canvas width.
 * @returns `[imgH*imgW]` float32 canvas (zero outside the paste region).
 */
export function pasteMaskProbs(probs: ArrayLike<number>, mh: number, mw: number, box: ArrayLike<number>, imgH: number, imgW: number): Float32Array {
  const out = new Float32Array(imgH * imgW);
  const [rx0, ry0, rx1, ry1] = pasteRegion(box, imgH, imgW);
  const bx0 = f(box[0]!);
  const by0 = f(box[1]!);
  const bw = f(f(box[2]!) - bx0);
  const bh = f(f(box[3]!) - by0);
  const gx = new Float32Array(Math.max(rx1 - rx0, 0));
  for (let c = rx0; c < rx1; c++) {
    let g = f(f(f(f(c + 0.5) - bx0) / bw) * 2) - 1;
    if (!Number.isFinite(g)) g = 0;
    gx[c - rx0] = f(f(f(f(g + 1) * mw) - 1) / 2);
  }
  for (let r = ry0; r < ry1; r++) {
    let g = f(f(f(f(r + 0.5) - by0) / bh) * 2) - 1;
    if (!Number.isFinite(g)) g = 0;
    const iy = f(f(f(f(g + 1) * mh) - 1) / 2);
    const yN = Math.floor(iy);
    const yS = yN + 1;
    const wyS = f(iy - yN);
    const wyN = f(yS - iy);
    for (let c = rx0; c < rx1; c++) {
      const ix = gx[c - rx0]!;
      const xW = Math.floor(ix);
      const xE = xW + 1;
      const wxE = f(ix - xW);
      const wxW = f(xE - ix);
      let v = 0;
      if (yN >= 0 && yN < mh) {
        if (xW >= 0 && xW < mw) v = f(v + f(probs[yN * mw + xW]! * f(wxW * wyN)));
        if (xE >= 0 && xE < mw) v = f(v + f(probs[yN * mw + xE]! * f(wxE * wyN)));
      }
      if (yS >= 0 && yS < mh) {
        if (xW >= 0 && xW < mw) v = f(v + f(probs[yS * mw + xW]! * f(wxW * wyS)));
        if (xE >= 0 && xE < mw) v = f(v + f(probs[yS * mw + xE]! * f(wxE * wyS)));
      }
      out[r * imgW + c] = v;
    }
  }
  return out;
}

/** Binary mask (`>= thr`) of a pasted map, as bytes 0/1. */
export function pasteMask(
  probs: ArrayLike<number>,
  mh: number,
  mw: number,
  box: ArrayLike<number>,
  imgH: number,
  imgW: number,
  thr = 0.5,
): Uint8Array {
  const p = pasteMaskProbs(probs, mh, mw, box, imgH, imgW);
  const out = new Uint8Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p[i]! >= thr ? 1 : 0;
  return out;
}
