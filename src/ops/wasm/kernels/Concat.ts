/**
 * `Concat` for the wasm backend with element loops for narrow slices. tfjs-wasm copies every
 * (outer index, input) slice with `subarray` + `set`, which for the box-coordinate concats of the
 * detector (`[2000, 4] ⧺ [2000, 1]`, `[1536, 1, 2] ⧺ [1536, 1, 2]`) means thousands of typed-array
 * views for a few floats each (measured ~1–9 ms per call). Slices of fewer than 32 elements are
 * copied with a loop here; wider ones, strings and single non-empty inputs go to the backend's kernel.
 */
import { backend_util, Concat, type ConcatAttrs, type ConcatInputs, getKernel, type KernelConfig, type KernelFunc, type TensorInfo, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

let original: KernelFunc | undefined;

type Values = Float32Array | Int32Array | Uint8Array;

function copySlices(out: Values, ins: Values[], inner: number[], outer: number, total: number): void {
  for (let b = 0; b < outer; b++) {
    let o = b * total;
    for (let i = 0; i < ins.length; i++) {
      const v = ins[i]!;
      const n = inner[i]!;
      const from = b * n;
      for (let j = 0; j < n; j++) out[o + j] = v[from + j]!;
      o += n;
    }
  }
}

function concat(args: { inputs: ConcatInputs; backend: BackendWasm; attrs: ConcatAttrs }): TensorInfo {
  const { inputs, backend } = args;
  const all = inputs as TensorInfo[];
  if (all.length === 0 || all[0]!.dtype === 'string') return original!(args as never) as TensorInfo;
  const axis = util.parseAxisParam(args.attrs.axis, all[0]!.shape)[0]!;
  backend_util.assertParamsConsistent(all.map((t) => t.shape), axis);
  const parts = all.filter((t) => util.sizeFromShape(t.shape) > 0);
  const inner = parts.map((t) => util.sizeFromShape(t.shape.slice(axis)));
  if (parts.length < 2 || Math.max(...inner) >= 32) return original!(args as never) as TensorInfo;
  const outShape = backend_util.computeOutShape(all.map((t) => t.shape), axis);
  const out = backend.makeOutput(outShape, all[0]!.dtype);
  const outer = util.sizeFromShape(parts[0]!.shape.slice(0, axis));
  const total = inner.reduce((a, b) => a + b, 0);
  // Views taken after makeOutput (allocating may grow the heap).
  copySlices(backend.typedArrayFromHeap(out) as Values, parts.map((t) => backend.typedArrayFromHeap(t) as Values), inner, outer, total);
  return out;
}

/** Wraps the wasm backend's Concat (kept for wide slices and strings). */
export function makeConcatConfig(): KernelConfig {
  const base = getKernel(Concat, 'wasm');
  if (!base) throw new Error('the wasm backend must be imported before DetStudio wasm kernels');
  original = base.kernelFunc;
  return { kernelName: Concat, backendName: 'wasm', setupFunc: base.setupFunc, kernelFunc: concat as unknown as KernelFunc };
}
