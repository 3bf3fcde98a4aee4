/**
 * DetStudio's tfjs ops: RoIAlign (forward + gradient, cpu/wasm/webgpu kernels), NMS and class-batched
 * NMS. Backend setup lives in `backend.ts` (`initBackend`) and is imported separately, because it loads
 * tfjs backends; this entry point loads none.
 */
export { roiAlign, type RoIAlignOptions } from './roi_align';
export { nms, batchedNms, nmsIndices, batchedNmsIndices } from './nms';
export { registerOpsKernels } from './register_kernels';
export { RoIAlign, RoIAlignGrad, type RoIAlignAttrs, type RoIAlignGradAttrs } from './kernel_names';
