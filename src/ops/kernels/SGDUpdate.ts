/**
 * Fused SGD kernels for the `webgpu` backend (programs in `sgd_update_webgpu.ts`): one dispatch for
 * the momentum buffer and one for the parameter, and the batched squared norms behind gradient
 * clipping. Hyper-parameters arrive as kernel attributes and go to the shader as uniforms. Only
 * types come from `@tensorflow/tfjs-backend-webgpu`.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import {
  SGDMomentumBuffer,
  SGDParamUpdate,
  SquaredNormPartials,
  type SGDMomentumBufferAttrs,
  type SGDParamUpdateAttrs,
  type SGDUpdateInputs,
} from '../kernel_names';
import {
  SGDMomentumBufferProgram,
  SGDParamUpdateProgram,
  SQUARED_NORM_WORKGROUP_SIZE,
  SquaredNormPartialsProgram,
} from '../sgd_update_webgpu';

function checkScale(name: string, scale: TensorInfo | undefined): void {
  if (scale === undefined) return;
  if (scale.dtype !== 'float32' || scale.shape.reduce((a, b) => a * b, 1) !== 1) {
    throw new Error(`${name}: 'scale' must be a one-element float32 tensor, got ${scale.dtype} [${scale.shape}]`);
  }
}

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
  const { param, grad, buf, scale } = inputs;
  checkInputs(SGDMomentumBuffer, [param, grad, buf]);
  checkScale(SGDMomentumBuffer, scale);
  const program = new SGDMomentumBufferProgram(param.shape, buf !== undefined, scale !== undefined);
  const uniformData = [
    { type: 'float32', data: [attrs.momentum] },
    { type: 'float32', data: [1 - attrs.dampening] },
    { type: 'float32', data: [attrs.weightDecay] },
    { type: 'int32', data: [attrs.weightDecay !== 0 ? 1 : 0] },
  ];
  const programInputs = buf ? [param, grad, buf] : [param, grad];
  if (scale) programInputs.push(scale);
  return backend.runWebGPUProgram(program, programInputs, 'float32', uniformData);
}

/** `webgpu` {@link SGDParamUpdate}: `param`, `grad`, `buf` (with momentum) → the new parameter. */
export function sgdParamUpdateWebGPU(args: {
  inputs: SGDUpdateInputs;
  backend: WebGPUBackend;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as SGDParamUpdateAttrs;
  const { param, grad, buf, scale } = inputs;
  checkInputs(SGDParamUpdate, [param, grad, buf]);
  checkScale(SGDParamUpdate, scale);
  if (attrs.momentum !== 0 && buf === undefined) throw new Error(`${SGDParamUpdate}: momentum needs the updated buffer 'buf'`);
  const mode = attrs.momentum === 0 ? 'plain' : attrs.nesterov ? 'nesterov' : 'momentum';
  const program = new SGDParamUpdateProgram(param.shape, mode, scale !== undefined);
  const uniformData = [
    { type: 'float32', data: [-attrs.lr] },
    { type: 'float32', data: [attrs.momentum] },
    { type: 'float32', data: [attrs.weightDecay] },
    { type: 'int32', data: [attrs.weightDecay !== 0 ? 1 : 0] },
  ];
  const programInputs = mode === 'plain' ? [param, grad] : mode === 'momentum' ? [param, buf!] : [param, grad, buf!];
  if (program.scaled) programInputs.push(scale!);
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

/** Most inputs of one {@link SquaredNormPartials} call: the output takes one of WebGPU's 8 default storage bindings. */
export const SQUARED_NORM_MAX_INPUTS = 7;

/** `webgpu` {@link SquaredNormPartials}: `x0 … x{k-1}` → partial sums of squares `[k · parts]`. */
export function squaredNormPartialsWebGPU(args: {
  inputs: NamedTensorInfoMap;
  backend: WebGPUBackend;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const xs: TensorInfo[] = [];
  for (let i = 0; inputs[`x${i}`] !== undefined; i++) xs.push(inputs[`x${i}`]!);
  if (xs.length === 0 || xs.length > SQUARED_NORM_MAX_INPUTS || Object.keys(inputs).length !== xs.length) {
    throw new Error(`${SquaredNormPartials}: expects inputs x0 … x{k-1}, 1 <= k <= ${SQUARED_NORM_MAX_INPUTS}`);
  }
  const sizes = xs.map((x) => x.shape.reduce((a, b) => a * b, 1));
  if (xs.some((x, i) => x.dtype !== 'float32' || sizes[i] === 0)) {
    throw new Error(`${SquaredNormPartials}: inputs must be non-empty float32 tensors`);
  }
  // Enough workgroups that each thread sums about 16 elements of the largest input, at most 256.
  const perGroup = SQUARED_NORM_WORKGROUP_SIZE * 16;
  const parts = Math.min(256, Math.max(1, Math.ceil(Math.max(...sizes) / perGroup)));
  const program = new SquaredNormPartialsProgram(xs.length, parts);
  // Flat views (a reshape shares the data, as the backend's own Reshape kernel does).
  const flat = xs.map((x, i) => ({ dataId: x.dataId, shape: [sizes[i]!], dtype: x.dtype }));
  return backend.runWebGPUProgram(program, flat, 'float32', [{ type: 'int32', data: [parts] }]);
}

/** Registers {@link squaredNormPartialsWebGPU} as `SquaredNormPartials` on `webgpu`. */
export const squaredNormPartialsWebGPUConfig: KernelConfig = {
  kernelName: SquaredNormPartials,
  backendName: 'webgpu',
  kernelFunc: squaredNormPartialsWebGPU as unknown as KernelFunc,
};
