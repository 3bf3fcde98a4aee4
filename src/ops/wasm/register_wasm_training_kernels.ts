/**
 * The training kernels tfjs's wasm backend lacks (Conv2DBackpropFilter, UnsortedSegmentSum) and
 * faster or fixed replacements for some it has (BatchMatMul with transposed operands, Conv2D with
 * large filters, Conv2DBackpropInput, Concat of narrow slices, GatherV2 by block copies, a copy-free Identity, MaxPoolGrad, whose tfjs-wasm version drops negative
 * maxima), registered in one explicit list (tfjs style). Importing this module registers them; it imports the
 * wasm backend first so the kernels it wraps exist.
 */
import '@tensorflow/tfjs-backend-wasm';
import { type KernelConfig, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { makeBatchMatMulConfig } from './kernels/BatchMatMul';
import { makeConcatConfig } from './kernels/Concat';
import { makeConv2DConfig } from './kernels/Conv2D';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter';
import { makeConv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput';
import { makeGatherV2Config } from './kernels/GatherV2';
import { makeIdentityConfig } from './kernels/Identity';
import { makeMaxPoolGradConfig } from './kernels/MaxPoolGrad';
import { unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum';

let registered: KernelConfig[] | undefined;

/** Registers the kernels (idempotent) and returns them. */
export function registerWasmTrainingKernels(): KernelConfig[] {
  if (registered) return registered;
  const configs = [
    conv2DBackpropFilterConfig,
    unsortedSegmentSumConfig,
    makeBatchMatMulConfig(),
    makeConv2DBackpropInputConfig(),
    makeIdentityConfig(),
    makeMaxPoolGradConfig(),
    makeGatherV2Config(),
    makeConv2DConfig(),
    makeConcatConfig(),
  ];
  for (const config of configs) {
    // Replacing a kernel the backend registered itself: unregister first (no duplicate warning).
    if (getKernel(config.kernelName, 'wasm')) unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  }
  registered = configs;
  return configs;
}

registerWasmTrainingKernels();
