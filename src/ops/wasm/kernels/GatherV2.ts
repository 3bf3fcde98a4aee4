/**
 * A faster `GatherV2` for the wasm backend: whole slices are block copies on the wasm heap, where
 * tfjs-wasm's kernel computes every element's index through strides (~30 ns per element: ~25 ms for
 * the demo model's gather of 256 RoI feature maps of 7×7×64).
 *
 *   out[o, j, i] = x[o, indices[j], i]   for x viewed as [outer, x.shape[axis], inner]
 *
 * `batchDims` 0 and 4-byte dtypes (float32, int32) only; anything else, and out-of-range indices
 * (tfjs's error), go to the backend's own kernel.
 */
import {
  GatherV2,
  type GatherV2Attrs,
  type GatherV2Inputs,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

let original: KernelFunc | undefined;

/** A 4-byte tensor's heap contents as raw 32-bit words (copying them copies the values exactly). */
function words(backend: BackendWasm, t: TensorInfo): Int32Array {
  const v = backend.typedArrayFromHeap(t);
  return new Int32Array(v.buffer, v.byteOffset, v.length);
}

function gatherV2(args: { inputs: GatherV2Inputs; backend: BackendWasm; attrs: GatherV2Attrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const indices = inputs.indices as TensorInfo;
  if (attrs.batchDims !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') {
    return original!(args as never) as TensorInfo;
  }
  const axis = util.parseAxisParam(attrs.axis, x.shape)[0]!;
  const dim = x.shape[axis]!;
  const ids = backend.typedArrayFromHeap(indices) as Int32Array;
  for (let j = 0; j < ids.length; j++) {
    if (!(ids[j]! >= 0 && ids[j]! < dim)) return original!(args as never) as TensorInfo; // its error message
  }
  const outer = util.sizeFromShape(x.shape.slice(0, axis));
  const inner = util.sizeFromShape(x.shape.slice(axis + 1));
  const count = ids.length;
  const out = backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
  if (util.sizeFromShape(out.shape) === 0) return out;
  const o = words(backend, out);
  const s = words(backend, x);
  const idx = backend.typedArrayFromHeap(indices) as Int32Array; // re-taken: makeOutput may grow the heap
  for (let a = 0; a < outer; a++) {
    for (let j = 0; j < count; j++) {
      const src = (a * dim + idx[j]!) * inner;
      const dst = (a * count + j) * inner;
      if (inner >= 32) o.set(s.subarray(src, src + inner), dst);
      else for (let i = 0; i < inner; i++) o[dst + i] = s[src + i]!;
    }
  }
  return out;
}

/** Wraps the wasm backend's GatherV2 (kept for other dtypes, batchDims and index errors). */
export function makeGatherV2Config(): KernelConfig {
  const base = getKernel(GatherV2, 'wasm');
  if (!base) throw new Error('the wasm backend must be imported before DetStudio wasm kernels');
  original = base.kernelFunc;
  return { kernelName: GatherV2, backendName: 'wasm', setupFunc: base.setupFunc, kernelFunc: gatherV2 as unknown as KernelFunc };
}
