/**
 * 2-D IoU between two box sets on CPU arrays, float32 arithmetic (mmdet `bbox_overlaps`, mode
 * `iou`, eps 1e-6, no +1). Boxes are absolute `x1y1x2y2`.
 *
 * @see mmdet/structures/bbox/bbox_overlaps.py (MMDetection 3.3)
 */

const f = Math.fround;

/**
 * IoU matrix `[G, N]` (row-major) between `a` (`[G*4]`) and `b` (`[N*4]`).
 *
 * @param mode - `iou` (intersection over union) or `iof` (intersection over the area of `a` rows).
 */
export function bboxOverlaps(a: ArrayLike<number>, b: ArrayLike<number>, mode: 'iou' | 'iof' = 'iou', eps = 1e-6): Float32Array {
  const g = a.length / 4;
  const n = b.length / 4;
  const out = new Float32Array(g * n);
  const areaB = new Float32Array(n);
  for (let j = 0; j < n; j++) areaB[j] = f(f(b[j * 4 + 2]! - b[j * 4]!) * f(b[j * 4 + 3]! - b[j * 4 + 1]!));
  const e = f(eps);
  for (let i = 0; i < g; i++) {
    const ax1 = a[i * 4]!;
    const ay1 = a[i * 4 + 1]!;
    const ax2 = a[i * 4 + 2]!;
    const ay2 = a[i * 4 + 3]!;
    const areaA = f(f(ax2 - ax1) * f(ay2 - ay1));
    const row = i * n;
    for (let j = 0; j < n; j++) {
      const o = j * 4;
      const w = f(Math.min(ax2, b[o + 2]!) - Math.max(ax1, b[o]!));
      const h = f(Math.min(ay2, b[o + 3]!) - Math.max(ay1, b[o + 1]!));
      if (w <= 0 || h <= 0) continue;
      const overlap = f(w * h);
      const union = mode === 'iou' ? Math.max(f(f(areaA + areaB[j]!) - overlap), e) : Math.max(areaA, e);
      out[row + j] = f(overlap / union);
    }
  }
  return out;
}
