/**
 * RoIAlign forward and backward kernels for tfjs's `wasm` backend. They run the shared JavaScript
 * loops of `roi_align_impl.ts` directly on views of the wasm heap (no copies in or out): the work is
 * O(K · outH · outW · C · samples), small next to the convolutions around it.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  RoIAlign,
  RoIAlignGrad,
  type RoIAlignAttrs,
  type RoIAlignGradAttrs,
  type RoIAlignGradInputs,
  type RoIAlignInputs,
} from '../kernel_names';
import { roiAlignBackwardImpl, roiAlignForwardImpl } from '../roi_align_impl';

/** `wasm` RoIAlign forward: `x [N,H,W,C]`, `rois [K,5]` → `[K, pooledH, pooledW, C]`. */
export function roiAlignWasm(args: { inputs: RoIAlignInputs; backend: BackendWasm; attrs: NamedAttrMap }): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as RoIAlignAttrs;
  const { x, rois } = inputs;
  const numRois = rois.shape[0];
  const out = backend.makeOutput([numRois, attrs.pooledHeight, attrs.pooledWidth, x.shape[3]], 'float32');
  if (numRois === 0) return out;
  // Views are taken after makeOutput: allocating may grow (and detach) the wasm heap.
  roiAlignForwardImpl(
    backend.typedArrayFromHeap(x),
    x.shape,
    backend.typedArrayFromHeap(rois),
    numRois,
    attrs,
    backend.typedArrayFromHeap(out) as Float32Array,
  );
  return out;
}

/** `wasm` RoIAlign backward: `dy [K,pooledH,pooledW,C]`, `rois [K,5]` → `dx [N,H,W,C]`. */
export function roiAlignGradWasm(args: {
  inputs: RoIAlignGradInputs;
  backend: BackendWasm;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as RoIAlignGradAttrs;
  const { dy, rois } = inputs;
  const dx = backend.makeOutput([...attrs.xShape], 'float32');
  const dxValues = backend.typedArrayFromHeap(dx) as Float32Array;
  dxValues.fill(0);
  roiAlignBackwardImpl(
    backend.typedArrayFromHeap(dy),
    backend.typedArrayFromHeap(rois),
    rois.shape[0],
    attrs.xShape,
    attrs,
    dxValues,
  );
  return dx;
}

/** Registers {@link roiAlignWasm} as `RoIAlign` on `wasm`. */
export const roiAlignWasmConfig: KernelConfig = {
  kernelName: RoIAlign,
  backendName: 'wasm',
  kernelFunc: roiAlignWasm as unknown as KernelFunc,
};

/** Registers {@link roiAlignGradWasm} as `RoIAlignGrad` on `wasm`. */
export const roiAlignGradWasmConfig: KernelConfig = {
  kernelName: RoIAlignGrad,
  backendName: 'wasm',
  kernelFunc: roiAlignGradWasm as unknown as KernelFunc,
};
