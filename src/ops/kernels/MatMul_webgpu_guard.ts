/**
 * Guard around the `webgpu` backend's `BatchMatMul` and `_FusedMatMul` kernels (tfjs-backend-webgpu
 * 4.22). For a product with batch 1, a shared dimension K ≥ 2000 and few output tiles, tfjs picks
 * its split-K matmul program; that program loads B as vec4 without checking `transposeB` (its packed
 * sibling does), so with `transposeB` it reads four consecutive K values as four output columns and
 * the result is wrong (measured: `[12, 3136] × [256, 3136]ᵀ` off by 150 % on Dawn/SwiftShader — the
 * tiny Mask R-CNN's first shared FC). The guard predicts that choice with tfjs's own rule and then
 * transposes B explicitly and multiplies with `transposeB = false`; every other call goes straight to
 * the original kernel. Only types come from `@tensorflow/tfjs-backend-webgpu`: call
 * {@link installWebGPUMatMulGuard} after that package is imported (it registers the kernels).
 */
import { env, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/** tfjs-backend-webgpu's `MatMulProgramType.MatMulSplitKProgram`. */
const SPLIT_K_PROGRAM = 1;
const GUARDED = ['BatchMatMul', '_FusedMatMul'] as const;
const guardedFuncs = new WeakSet<KernelFunc>();

/** What decides tfjs's matmul program and the split-K vec4 path. */
export interface MatMulChoiceInput {
  aShape: readonly number[];
  bShape: readonly number[];
  transposeA: boolean;
  transposeB: boolean;
  /** The backend's `thresholdToIncreaseWorkgroups` (8, or 16 on Intel Gen12+). */
  threshold: number;
  /** Value of the `WEBGPU_MATMUL_PROGRAM_TYPE` flag (-1: let tfjs choose). */
  programType?: number;
  /** Value of `WEBGPU_THRESHOLD_TO_INCREASE_WORKGROUPS_FOR_MATMUL` (≤ 0: use `threshold`). */
  thresholdFlag?: number;
}

/**
 * True when tfjs-backend-webgpu 4.22 would run this product on its split-K program in vec4 mode
 * with `transposeB` set — the combination that computes a wrong result.
 */
export function splitKMisreadsTransposedB(c: MatMulChoiceInput): boolean {
  if (!c.transposeB) return false;
  const ra = c.aShape.length;
  const rb = c.bShape.length;
  const k = c.transposeA ? c.aShape[ra - 2]! : c.aShape[ra - 1]!;
  const m = c.transposeA ? c.aShape[ra - 1]! : c.aShape[ra - 2]!;
  const n = c.bShape[rb - 2]!;
  const prod = (s: readonly number[]) => s.slice(0, -2).reduce((x, y) => x * y, 1);
  const batch = Math.max(prod(c.aShape), prod(c.bShape));
  let splitK: boolean;
  const programType = c.programType ?? -1;
  if (programType >= 0) {
    splitK = programType === SPLIT_K_PROGRAM;
  } else {
    const threshold = (c.thresholdFlag ?? -1) > 0 ? c.thresholdFlag! : c.threshold;
    const tiles = batch * Math.ceil(m / 32) * Math.ceil(n / 32);
    const fewTiles = tiles <= threshold || (m <= 8 && tiles <= threshold * 2);
    splitK = fewTiles && batch * m * n > 128 && batch === 1 && k >= 2000;
  }
  const vec4 = ((c.transposeA && m % 4 === 0) || (!c.transposeA && k % 4 === 0)) && n % 4 === 0;
  return splitK && vec4;
}

function guard(original: KernelFunc): KernelFunc {
  const guarded: KernelFunc = (args) => {
    const backend = args.backend as WebGPUBackend;
    const attrs = (args.attrs ?? {}) as NamedAttrMap;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const needed = splitKMisreadsTransposedB({
      aShape: a.shape,
      bShape: b.shape,
      transposeA: Boolean(attrs.transposeA),
      transposeB: Boolean(attrs.transposeB),
      threshold: (backend as unknown as { thresholdToIncreaseWorkgroups?: number }).thresholdToIncreaseWorkgroups ?? 8,
      programType: env().getNumber('WEBGPU_MATMUL_PROGRAM_TYPE'),
      thresholdFlag: env().getNumber('WEBGPU_THRESHOLD_TO_INCREASE_WORKGROUPS_FOR_MATMUL'),
    });
    if (!needed) return original(args);
    const transpose = getKernel('Transpose', 'webgpu');
    if (transpose == null) throw new Error('MatMul guard: the webgpu Transpose kernel is not registered');
    const r = b.shape.length;
    const perm = [...Array(r - 2).keys(), r - 1, r - 2];
    const bT = transpose.kernelFunc({ inputs: { x: b }, backend, attrs: { perm } }) as TensorInfo;
    try {
      const inputs: NamedTensorInfoMap = { ...args.inputs, b: bT };
      return original({ inputs, backend, attrs: { ...attrs, transposeB: false } });
    } finally {
      backend.disposeData(bT.dataId);
    }
  };
  guardedFuncs.add(guarded);
  return guarded;
}

/**
 * Wraps the registered `webgpu` `BatchMatMul` and `_FusedMatMul` kernels with the guard (once;
 * later calls, or kernels not registered yet, do nothing). Returns the number of kernels wrapped now.
 */
export function installWebGPUMatMulGuard(): number {
  let wrapped = 0;
  for (const name of GUARDED) {
    const config = getKernel(name, 'webgpu');
    if (config == null || guardedFuncs.has(config.kernelFunc)) continue;
    const next: KernelConfig = { ...config, kernelFunc: guard(config.kernelFunc) };
    unregisterKernel(name, 'webgpu');
    registerKernel(next);
    wrapped++;
  }
  return wrapped;
}

/** True when the `webgpu` `BatchMatMul` kernel currently registered is the guarded one. */
export function webgpuMatMulGuarded(): boolean {
  const config = getKernel('BatchMatMul', 'webgpu');
  return config != null && guardedFuncs.has(config.kernelFunc);
}
