/**
 * `Identity` for the wasm backend without a copy: the output shares the input's heap buffer
 * (reference counted, as the backend's own `Reshape` does; the cpu and WebGL backends' Identity
 * share data the same way). tfjs-wasm's kernel copies the whole buffer, and the engine runs
 * `Identity` for every tensor it saves for the backward pass (`saveTensorsForBackwardMode` clones
 * each kernel's saved inputs/outputs): ~2,250 full copies per train step of the demo model, filter
 * tensors of 9 MiB among them. Tensors are immutable and no kernel writes into an input, so sharing
 * the buffer gives identical values.
 */
import { getKernel, Identity, type IdentityInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

let original: KernelFunc | undefined;

function identity(args: { inputs: IdentityInputs; backend: BackendWasm }): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  if (x.dtype === 'string') return original!(args as never) as TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Replaces the wasm backend's copying Identity (kept for string tensors). */
export function makeIdentityConfig(): KernelConfig {
  const base = getKernel(Identity, 'wasm');
  if (!base) throw new Error('the wasm backend must be imported before DetStudio wasm kernels');
  original = base.kernelFunc;
  return { kernelName: Identity, backendName: 'wasm', setupFunc: base.setupFunc, kernelFunc: identity as unknown as KernelFunc };
}
