/**
 * `RoIAlignGrad` kernel for the `webgpu` backend: zero-fills `dx` on the GPU (through the backend's
 * own `Fill` kernel), then accumulates the scattered gradient atomically (`roi_align_grad_webgpu.ts`).
 */
import { getKernel, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { RoIAlignGrad, type RoIAlignGradAttrs, type RoIAlignGradInputs } from '../kernel_names';
import { RoIAlignGradProgram } from '../roi_align_grad_webgpu';

/** `webgpu` RoIAlign backward: `dy [K,pooledH,pooledW,C]`, `rois [K,5]` → `dx [N,H,W,C]`. */
export function roiAlignGradWebGPU(args: {
  inputs: RoIAlignGradInputs;
  backend: WebGPUBackend;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as RoIAlignGradAttrs;
  const { dy, rois } = inputs;
  const xShape = [...attrs.xShape];
  const fill = getKernel('Fill', 'webgpu');
  if (fill == null) throw new Error('roiAlign backward: the webgpu backend has no Fill kernel');
  const dx = fill.kernelFunc({ backend, attrs: { shape: xShape, value: 0, dtype: 'float32' }, inputs: {} }) as TensorInfo;
  const dySize = dy.shape.reduce((a, b) => a * b, 1);
  if (dySize === 0) return dx;
  const program = new RoIAlignGradProgram(xShape, dy.shape, attrs.aligned);
  const uniformData = [
    { type: 'float32', data: [attrs.spatialScale] },
    { type: 'int32', data: [attrs.samplingRatio] },
    { type: 'int32', data: [dySize / program.vec] },
  ];
  return backend.runWebGPUProgram(program, [dy, rois], 'float32', uniformData, dx);
}

/** Registers {@link roiAlignGradWebGPU} as `RoIAlignGrad` on `webgpu`. */
export const roiAlignGradWebGPUConfig: KernelConfig = {
  kernelName: RoIAlignGrad,
  backendName: 'webgpu',
  kernelFunc: roiAlignGradWebGPU as unknown as KernelFunc,
};
