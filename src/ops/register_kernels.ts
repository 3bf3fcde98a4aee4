/**
 * The one explicit list of DetStudio's custom kernels and gradients (tfjs's
 * `register_all_kernels.ts` pattern). {@link registerOpsKernels} is idempotent; the ops call it
 * themselves, so importing `src/ops` is enough. Nothing here loads a tfjs backend: kernels for a
 * backend that is never initialised are simply never used.
 */
import { getGradient, getKernel, registerGradient, registerKernel, type GradConfig, type KernelConfig } from '@tensorflow/tfjs-core';
import { roiAlignGradConfig } from './gradients/RoIAlign_grad';
import { roiAlignWebGPUConfig } from './kernels/RoIAlign';
import { roiAlignCpuConfig, roiAlignGradCpuConfig } from './kernels/RoIAlign_cpu';
import { roiAlignGradWasmConfig, roiAlignWasmConfig } from './kernels/RoIAlign_wasm';
import { roiAlignGradWebGPUConfig } from './kernels/RoIAlignGrad';
import { sgdMomentumBufferWebGPUConfig, sgdParamUpdateWebGPUConfig, squaredNormPartialsWebGPUConfig } from './kernels/SGDUpdate';

/** Every custom kernel, for every backend. */
export const kernelConfigs: readonly KernelConfig[] = [
  roiAlignCpuConfig,
  roiAlignGradCpuConfig,
  roiAlignWasmConfig,
  roiAlignGradWasmConfig,
  roiAlignWebGPUConfig,
  roiAlignGradWebGPUConfig,
  sgdMomentumBufferWebGPUConfig,
  sgdParamUpdateWebGPUConfig,
  squaredNormPartialsWebGPUConfig,
];

/** Every custom gradient. */
export const gradConfigs: readonly GradConfig[] = [roiAlignGradConfig];

let registered = false;

/** Registers {@link kernelConfigs} and {@link gradConfigs} with tfjs (once; later calls do nothing). */
export function registerOpsKernels(): void {
  if (registered) return;
  for (const config of kernelConfigs) {
    if (getKernel(config.kernelName, config.backendName) == null) registerKernel(config);
  }
  for (const config of gradConfigs) {
    if (getGradient(config.kernelName) == null) registerGradient(config);
  }
  registered = true;
}
