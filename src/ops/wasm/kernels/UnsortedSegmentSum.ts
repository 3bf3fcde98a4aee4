/**
 * `UnsortedSegmentSum` for the wasm backend (tfjs 4.22 has none; `gather`'s gradient needs it).
 *
 * out[s, …] = Σ_{i : ids[i] = s} x[i, …] for x of shape [N, …inner] and int32 ids of shape [N]
 * (the only form tfjs's gather gradient produces; ids of a higher rank are flattened with x's
 * leading dims). Out-of-range ids (< 0 or ≥ numSegments) are dropped, as in TensorFlow.
 * A dedicated kernel: one pass of contiguous row additions directly on the wasm heap, O(N · inner),
 * with one loop per dtype (a loop seeing both array types runs several times slower).
 */
import {
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  UnsortedSegmentSum,
  type UnsortedSegmentSumAttrs,
  type UnsortedSegmentSumInputs,
  util,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

function sumF32(o: Float32Array, xs: Float32Array, ids: Int32Array, rows: number, inner: number, numSegments: number): void {
  for (let i = 0; i < rows; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) o[dst + j]! += xs[src + j]!;
  }
}

function sumI32(o: Int32Array, xs: Int32Array, ids: Int32Array, rows: number, inner: number, numSegments: number): void {
  for (let i = 0; i < rows; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) o[dst + j] = (o[dst + j]! + xs[src + j]!) | 0;
  }
}

function unsortedSegmentSum(args: {
  inputs: UnsortedSegmentSumInputs;
  backend: BackendWasm;
  attrs: UnsortedSegmentSumAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const segmentIds = inputs.segmentIds as TensorInfo;
  const { numSegments } = attrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`wasm UnsortedSegmentSum: unsupported dtype ${x.dtype}`);
  }
  const idRank = segmentIds.shape.length;
  const rows = util.sizeFromShape(segmentIds.shape);
  const inner = util.sizeFromShape(x.shape.slice(idRank));
  const outShape = [numSegments, ...x.shape.slice(idRank)];
  const out = backend.makeOutput(outShape, x.dtype);
  const o = backend.typedArrayFromHeap(out);
  o.fill(0);
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds) as Int32Array;
  if (x.dtype === 'float32') sumF32(o as Float32Array, xs as Float32Array, ids, rows, inner, numSegments);
  else sumI32(o as Int32Array, xs as Int32Array, ids, rows, inner, numSegments);
  return out;
}

/** Kernel config: register with `registerKernel`. */
export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as KernelFunc,
};
