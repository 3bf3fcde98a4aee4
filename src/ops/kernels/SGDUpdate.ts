/**
 * Fused SGD kernels for the `webgpu` backend (programs in `sgd_update_webgpu.ts`): one dispatch for
 * the momentum buffer and one for the parameter. Hyper-parameters arrive as kernel attributes and
 * go to the shader as uniforms. Only types come from `@tensorflow/tfjs-backend-webgpu`.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import {
  SGDMomentumBuffer,
  SGDParamUpdate,
  type SGDMomentumBufferAttrs,
  type SGDParamUpdateAttrs,
  type SGDUpdateInputs,
} from '../kernel_names';
import { SGDMomentumBufferProgram, SGDParamUpdateProgram } from '../sgd_update_webgpu';

function checkInputs(name: string, tensors: Array<TensorInfo | undefined>): void {
  const shape = tensors[0]!.shape;
  for (const t of tensors) {
    if (t === undefined) continue;
    if (t.dtype !== 'float32') throw new Error(`${name}: inputs must be float32, got ${t.dtype}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${name}: inputs must share one shape, got [${shape}] and [${t.shape}]`);
    }
  }
}

/** `webgpu` {@link SGDMomentumBuffer}: `param`, `grad`, optional `buf` → the new momentum buffer. */
export function sgdMomentumBufferWebGPU(args: {
  inputs: SGDUpdateInputs;
  backend: WebGPUBackend;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as SGDMomentumBufferAttrs;
  const { param, grad, buf } = inputs;
  checkInputs(SGDMomentumBuffer, [param, grad, buf]);
  const program = new SGDMomentumBufferProgram(param.shape, buf !== undefined);
  const uniformData = [
    { type: 'float32', data: [attrs.momentum] },
    { type: 'float32', data: [1 - attrs.dampening] },
    { type: 'float32', data: [attrs.weightDecay] },
    { type: 'int32', data: [attrs.weightDecay !== 0 ? 1 : 0] },
  ];
  return backend.runWebGPUProgram(program, buf ? [param, grad, buf] : [param, grad], 'float32', uniformData);
}

/** `webgpu` {@link SGDParamUpdate}: `param`, `grad`, `buf` (with momentum) → the new parameter. */
export function sgdParamUpdateWebGPU(args: {
  inputs: SGDUpdateInputs;
  backend: WebGPUBackend;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as SGDParamUpdateAttrs;
  const { param, grad, buf } = inputs;
  checkInputs(SGDParamUpdate, [param, grad, buf]);
  if (attrs.momentum !== 0 && buf === undefined) throw new Error(`${SGDParamUpdate}: momentum needs the updated buffer 'buf'`);
  const mode = attrs.momentum === 0 ? 'plain' : attrs.nesterov ? 'nesterov' : 'momentum';
  const program = new SGDParamUpdateProgram(param.shape, mode);
  const uniformData = [
    { type: 'float32', data: [-attrs.lr] },
    { type: 'float32', data: [attrs.momentum] },
    { type: 'float32', data: [attrs.weightDecay] },
    { type: 'int32', data: [attrs.weightDecay !== 0 ? 1 : 0] },
  ];
  const programInputs = mode === 'plain' ? [param, grad] : mode === 'momentum' ? [param, buf!] : [param, grad, buf!];
  return backend.runWebGPUProgram(program, programInputs, 'float32', uniformData);
}

/** Registers {@link sgdMomentumBufferWebGPU} as `SGDMomentumBuffer` on `webgpu`. */
export const sgdMomentumBufferWebGPUConfig: KernelConfig = {
  kernelName: SGDMomentumBuffer,
  backendName: 'webgpu',
  kernelFunc: sgdMomentumBufferWebGPU as unknown as KernelFunc,
};

/** Registers {@link sgdParamUpdateWebGPU} as `SGDParamUpdate` on `webgpu`. */
export const sgdParamUpdateWebGPUConfig: KernelConfig = {
  kernelName: SGDParamUpdate,
  backendName: 'webgpu',
  kernelFunc: sgdParamUpdateWebGPU as unknown as KernelFunc,
};
