/**
 * Non-maximum suppression with torchvision's semantics (`torchvision.ops.nms` / `batched_nms`, which
 * mmcv's `nms` and MMDetection's `batched_nms` match): boxes are visited in decreasing score order, a
 * kept box suppresses every later box whose IoU with it is strictly greater than the threshold, and
 * IoU uses areas `(x2 - x1) * (y2 - y1)` (no "+1"). Arithmetic is done in float32 (`Math.fround`),
 * as torch does for float32 boxes.
 *
 * NMS is sequential and data-dependent, so it runs on the CPU for every backend. The tensor entry
 * points ({@link nms}, {@link batchedNms}) read their inputs back from the backend in ONE transfer
 * (boxes, scores and class ids are concatenated on the device first) and return kept indices as an
 * `Int32Array`; the typed-array entry points ({@link nmsIndices}, {@link batchedNmsIndices}) do no
 * tfjs work at all.
 */
import { cast, concat, expandDims, tidy, type Tensor1D, type Tensor2D } from '@tensorflow/tfjs-core';

const f = Math.fround;

/**
 * NMS on plain arrays.
 *
 * @param boxes Flat `[N * 4]` array of `(x1, y1, x2, y2)` rows.
 * @param scores `[N]` scores.
 * @param iouThreshold A box is suppressed when its IoU with a kept, higher-scoring box is `> iouThreshold`.
 * @returns Indices of the kept boxes, in decreasing score order (ties: lower index first).
 */
export function nmsIndices(boxes: ArrayLike<number>, scores: ArrayLike<number>, iouThreshold: number): Int32Array {
  const n = scores.length;
  if (boxes.length !== n * 4) throw new Error(`nms: boxes must hold ${n} x 4 values, got ${boxes.length}`);
  if (n === 0) return new Int32Array(0);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Stable descending sort by score (TypedArray.prototype.sort is stable); NaN sorts first, as in torch.sort.
  const key = new Float64Array(n);
  for (let i = 0; i < n; i++) key[i] = Number.isNaN(scores[i]) ? Infinity : scores[i];
  order.sort((a, b) => (key[b] > key[a] ? 1 : key[b] < key[a] ? -1 : a - b));
  // Boxes and areas in score order, so the inner loop walks memory sequentially.
  const sorted = new Float64Array(n * 4);
  const areas = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const i = order[r];
    const x1 = boxes[i * 4];
    const y1 = boxes[i * 4 + 1];
    const x2 = boxes[i * 4 + 2];
    const y2 = boxes[i * 4 + 3];
    sorted[r * 4] = x1;
    sorted[r * 4 + 1] = y1;
    sorted[r * 4 + 2] = x2;
    sorted[r * 4 + 3] = y2;
    areas[r] = f(f(x2 - x1) * f(y2 - y1));
  }
  const suppressed = new Uint8Array(n);
  const keep = new Int32Array(n);
  let numKept = 0;
  for (let r = 0; r < n; r++) {
    if (suppressed[r]) continue;
    keep[numKept++] = order[r];
    const ix1 = sorted[r * 4];
    const iy1 = sorted[r * 4 + 1];
    const ix2 = sorted[r * 4 + 2];
    const iy2 = sorted[r * 4 + 3];
    const iarea = areas[r];
    for (let q = r + 1; q < n; q++) {
      if (suppressed[q]) continue;
      const w = Math.max(0, f(Math.min(ix2, sorted[q * 4 + 2]) - Math.max(ix1, sorted[q * 4])));
      if (w === 0 && iouThreshold >= 0) continue; // IoU 0 cannot exceed a non-negative threshold
      const h = Math.max(0, f(Math.min(iy2, sorted[q * 4 + 3]) - Math.max(iy1, sorted[q * 4 + 1])));
      const inter = f(w * h);
      const iou = f(inter / f(f(iarea + areas[q]) - inter));
      if (iou > iouThreshold) suppressed[q] = 1;
    }
  }
  return keep.slice(0, numKept);
}

/**
 * Class-aware NMS on plain arrays: boxes of different classes never suppress each other. Uses the
 * coordinate-offset trick of torchvision / MMDetection: every box is shifted by
 * `idx * (max_coordinate + 1)` (in float32), so one NMS pass handles all classes.
 *
 * @param boxes Flat `[N * 4]` array of `(x1, y1, x2, y2)` rows.
 * @param scores `[N]` scores.
 * @param idxs `[N]` class (or any group) ids, non-negative integers.
 * @param iouThreshold Suppression threshold (IoU strictly greater suppresses).
 * @returns Kept indices into the inputs, in decreasing score order.
 */
export function batchedNmsIndices(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  idxs: ArrayLike<number>,
  iouThreshold: number,
): Int32Array {
  const n = scores.length;
  if (idxs.length !== n) throw new Error(`batchedNms: idxs must hold ${n} values, got ${idxs.length}`);
  if (boxes.length !== n * 4) throw new Error(`batchedNms: boxes must hold ${n} x 4 values, got ${boxes.length}`);
  if (n === 0) return new Int32Array(0);
  let maxCoordinate = -Infinity;
  for (let i = 0; i < n * 4; i++) if (boxes[i] > maxCoordinate) maxCoordinate = boxes[i];
  const step = f(maxCoordinate + 1);
  const shifted = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const offset = f(idxs[i] * step);
    for (let j = 0; j < 4; j++) shifted[i * 4 + j] = boxes[i * 4 + j] + offset;
  }
  return nmsIndices(shifted, scores, iouThreshold);
}

/**
 * {@link nmsIndices} on tensors from any backend: reads boxes and scores back in one transfer.
 *
 * @param boxes float32 `[N, 4]`, `(x1, y1, x2, y2)` absolute pixels.
 * @param scores float32 `[N]`.
 * @param iouThreshold Suppression threshold (IoU strictly greater suppresses).
 * @returns Kept indices, in decreasing score order.
 */
export async function nms(boxes: Tensor2D, scores: Tensor1D, iouThreshold: number): Promise<Int32Array> {
  const n = scores.shape[0];
  if (n === 0) return new Int32Array(0);
  const packed = tidy(() => concat([cast(boxes, 'float32'), expandDims(cast(scores, 'float32'), 1)], 1));
  const values = await packed.data();
  packed.dispose();
  const flatBoxes = new Float32Array(n * 4);
  const flatScores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 4; j++) flatBoxes[i * 4 + j] = values[i * 5 + j];
    flatScores[i] = values[i * 5 + 4];
  }
  return nmsIndices(flatBoxes, flatScores, iouThreshold);
}

/**
 * {@link batchedNmsIndices} on tensors from any backend: reads boxes, scores and ids back in one transfer.
 *
 * @param boxes float32 `[N, 4]`, `(x1, y1, x2, y2)` absolute pixels.
 * @param scores float32 `[N]`.
 * @param idxs int32 or float32 `[N]` class ids.
 * @param iouThreshold Suppression threshold (IoU strictly greater suppresses).
 * @returns Kept indices, in decreasing score order.
 */
export async function batchedNms(
  boxes: Tensor2D,
  scores: Tensor1D,
  idxs: Tensor1D,
  iouThreshold: number,
): Promise<Int32Array> {
  const n = scores.shape[0];
  if (n === 0) return new Int32Array(0);
  const packed = tidy(() =>
    concat([cast(boxes, 'float32'), expandDims(cast(scores, 'float32'), 1), expandDims(cast(idxs, 'float32'), 1)], 1),
  );
  const values = await packed.data();
  packed.dispose();
  const flatBoxes = new Float32Array(n * 4);
  const flatScores = new Float32Array(n);
  const flatIdxs = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 4; j++) flatBoxes[i * 4 + j] = values[i * 6 + j];
    flatScores[i] = values[i * 6 + 4];
    flatIdxs[i] = values[i * 6 + 5];
  }
  return batchedNmsIndices(flatBoxes, flatScores, flatIdxs, iouThreshold);
}
