/**
 * RoIAlign forward and backward kernels for tfjs's pure-JS `cpu` backend (the numerical reference),
 * on the shared typed-array implementation in `roi_align_impl.ts`.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  RoIAlign,
  RoIAlignGrad,
  type RoIAlignAttrs,
  type RoIAlignGradAttrs,
  type RoIAlignGradInputs,
  type RoIAlignInputs,
} from '../kernel_names';
import { roiAlignBackwardImpl, roiAlignForwardImpl, type NumericArray } from '../roi_align_impl';

/** `cpu` RoIAlign forward: `x [N,H,W,C]`, `rois [K,5]` → `[K, pooledH, pooledW, C]`. */
export function roiAlignCpu(args: { inputs: RoIAlignInputs; backend: MathBackendCPU; attrs: NamedAttrMap }): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as RoIAlignAttrs;
  const { x, rois } = inputs;
  const numRois = rois.shape[0];
  const outShape = [numRois, attrs.pooledHeight, attrs.pooledWidth, x.shape[3]];
  const out = new Float32Array(outShape[0] * outShape[1] * outShape[2] * outShape[3]);
  roiAlignForwardImpl(
    backend.readSync(x.dataId) as NumericArray,
    x.shape,
    backend.readSync(rois.dataId) as NumericArray,
    numRois,
    attrs,
    out,
  );
  return backend.makeTensorInfo(outShape, 'float32', out);
}

/** `cpu` RoIAlign backward: `dy [K,pooledH,pooledW,C]`, `rois [K,5]` → `dx [N,H,W,C]`. */
export function roiAlignGradCpu(args: {
  inputs: RoIAlignGradInputs;
  backend: MathBackendCPU;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as RoIAlignGradAttrs;
  const { dy, rois } = inputs;
  const { xShape } = attrs;
  const dx = new Float32Array(xShape[0] * xShape[1] * xShape[2] * xShape[3]);
  roiAlignBackwardImpl(
    backend.readSync(dy.dataId) as NumericArray,
    backend.readSync(rois.dataId) as NumericArray,
    rois.shape[0],
    xShape,
    attrs,
    dx,
  );
  return backend.makeTensorInfo([...xShape], 'float32', dx);
}

/** Registers {@link roiAlignCpu} as `RoIAlign` on `cpu`. */
export const roiAlignCpuConfig: KernelConfig = {
  kernelName: RoIAlign,
  backendName: 'cpu',
  kernelFunc: roiAlignCpu as unknown as KernelFunc,
};

/** Registers {@link roiAlignGradCpu} as `RoIAlignGrad` on `cpu`. */
export const roiAlignGradCpuConfig: KernelConfig = {
  kernelName: RoIAlignGrad,
  backendName: 'cpu',
  kernelFunc: roiAlignGradCpu as unknown as KernelFunc,
};
