/**
 * Small helpers shared by DetStudio's wasm kernels: direct calls of the wasm backend's exported C
 * functions (XNNPACK convolution, transpose) on tensors living in its heap, without going through
 * the engine (no tape, no extra bookkeeping), and heap views.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type WasmConv2d = (
  xId: number, batch: number, inH: number, inW: number, filterId: number, fH: number, fW: number,
  padTop: number, padRight: number, padBottom: number, padLeft: number, isSamePad: number,
  dilH: number, dilW: number, strideH: number, strideW: number, inC: number, outC: number, outId: number,
) => void;
type WasmTranspose = (
  xId: number, xShape: Uint8Array, rank: number, dtype: number, outId: number, perm: Uint8Array, permLen: number,
) => void;
type WasmBatchMatMul = (
  aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number,
  transposeA: boolean, transposeB: boolean, outId: number,
) => void;

const fns = new WeakMap<BackendWasm, { conv2d: WasmConv2d; transpose: WasmTranspose; batchMatMul: WasmBatchMatMul }>();

function wasmFns(backend: BackendWasm) {
  let f = fns.get(backend);
  if (!f) {
    const mod = backend.wasm as unknown as { cwrap(name: string, ret: null, args: string[]): unknown };
    const cwrap = mod.cwrap.bind(mod);
    f = {
      conv2d: cwrap('Conv2D', null, Array(19).fill('number')) as unknown as WasmConv2d,
      transpose: cwrap('Transpose', null, ['number', 'array', 'number', 'number', 'number', 'array', 'number']) as unknown as WasmTranspose,
      batchMatMul: cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as unknown as WasmBatchMatMul,
    };
    fns.set(backend, f);
  }
  return f;
}

function id(backend: BackendWasm, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.id;
}

const bytes = (a: number[]) => new Uint8Array(new Int32Array(a).buffer);

/** A float32 tensor's contents as a view of the wasm heap (re-take it after any allocation). */
export function heapF32(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** Allocates a float32 output tensor in the wasm heap. */
export function alloc(backend: BackendWasm, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

/** Frees temporaries made with {@link alloc} or the helpers below. */
export function free(backend: BackendWasm, ...ts: TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}

/** Transposes a float32 tensor (wasm backend's C transpose, on the shape with size-1 axes dropped). */
export function transposeF32(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  const shape = perm.map((p) => x.shape[p]!);
  const out = alloc(backend, shape);
  // Size-1 axes do not move data: drop them (a lower-rank transpose runs a simpler, faster loop).
  const kept = x.shape.map((d, i) => (d !== 1 ? i : -1)).filter((i) => i >= 0);
  const rank = new Map(kept.map((axis, r) => [axis, r]));
  const shapeR = kept.map((i) => x.shape[i]!);
  const permR = perm.filter((p) => x.shape[p] !== 1).map((p) => rank.get(p)!);
  if (permR.every((p, i) => p === i)) {
    heapF32(backend, out).set(heapF32(backend, x));
    return out;
  }
  wasmFns(backend).transpose(id(backend, x), bytes(shapeR), shapeR.length, 0 /* float32 */, id(backend, out), bytes(permR), permR.length);
  return out;
}

/** Plain (non-transposed) batched matmul [B, M, K] × [B, K, N] (XNNPACK's fast path). */
export function matMulNN(backend: BackendWasm, a: TensorInfo, aShape3: number[], b: TensorInfo, bShape3: number[]): TensorInfo {
  const out = alloc(backend, [Math.max(aShape3[0]!, bShape3[0]!), aShape3[1]!, bShape3[2]!]);
  wasmFns(backend).batchMatMul(id(backend, a), bytes(aShape3), 3, id(backend, b), bytes(bShape3), 3, false, false, id(backend, out));
  return out;
}

/** NHWC convolution with explicit padding, stride and dilation (XNNPACK). Output [N, outH, outW, outC]. */
export function conv2dRaw(
  backend: BackendWasm, x: TensorInfo, filter: TensorInfo,
  o: { pads: [number, number, number, number]; stride: [number, number]; dilation: [number, number]; outH: number; outW: number },
): TensorInfo {
  const [n, h, w, inC] = x.shape as [number, number, number, number];
  const [fh, fw, , outC] = filter.shape as [number, number, number, number];
  const out = alloc(backend, [n, o.outH, o.outW, outC]);
  const [pt, pr, pb, pl] = o.pads;
  wasmFns(backend).conv2d(id(backend, x), n, h, w, id(backend, filter), fh, fw, pt, pr, pb, pl, 0,
    o.dilation[0], o.dilation[1], o.stride[0], o.stride[1], inC, outC, id(backend, out));
  return out;
}
