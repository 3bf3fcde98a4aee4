/**
 * The training kernels tfjs's wasm backend lacks, registered in one explicit list (tfjs style).
 * Import this module once, before the first training step on the `wasm` backend.
 */
import { type KernelConfig, registerKernel } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter';
import { unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum';

/** Every kernel this module adds to the wasm backend. */
export const wasmTrainingKernels: KernelConfig[] = [conv2DBackpropFilterConfig, unsortedSegmentSumConfig];

let registered = false;

/** Registers the kernels (idempotent). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const config of wasmTrainingKernels) registerKernel(config);
  registered = true;
}

registerWasmTrainingKernels();
