/**
 * `RoIAlign` forward kernel for the `webgpu` backend (program in `roi_align_webgpu.ts`).
 * Only types come from `@tensorflow/tfjs-backend-webgpu`, so importing this file does not load
 * (and register) the backend: in Node, Dawn must be set up before that happens (`node_webgpu.ts`).
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { RoIAlign, type RoIAlignAttrs, type RoIAlignInputs } from '../kernel_names';
import { RoIAlignProgram } from '../roi_align_webgpu';

/** `webgpu` RoIAlign forward: `x [N,H,W,C]`, `rois [K,5]` → `[K, pooledH, pooledW, C]`. */
export function roiAlignWebGPU(args: {
  inputs: RoIAlignInputs;
  backend: WebGPUBackend;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as RoIAlignAttrs;
  const { x, rois } = inputs;
  const program = new RoIAlignProgram(rois.shape[0], attrs.pooledHeight, attrs.pooledWidth, x.shape[3], attrs.aligned);
  const uniformData = [
    { type: 'float32', data: [attrs.spatialScale] },
    { type: 'int32', data: [attrs.samplingRatio] },
  ];
  return backend.runWebGPUProgram(program, [x, rois], 'float32', uniformData);
}

/** Registers {@link roiAlignWebGPU} as `RoIAlign` on `webgpu`. */
export const roiAlignWebGPUConfig: KernelConfig = {
  kernelName: RoIAlign,
  backendName: 'webgpu',
  kernelFunc: roiAlignWebGPU as unknown as KernelFunc,
};
