/**
 * `MaxPoolGrad` for the wasm backend, replacing tfjs-wasm 4.22's, which drops the gradient of every
 * window whose maximum is negative (measured: `maxPool(x, 1, 2)` of standard-normal x passes the
 * gradient of only the positive entries; the cpu backend passes all). MMDetection's FPN makes P6 as
 * `max_pool2d(P5, 1, stride=2)`, so on wasm the RPN loss of P6 lost about half of its gradient into
 * the P5 output conv.
 *
 *   dx[n, y, x, c] = Σ over output cells (oy, ox) whose window's first maximum (scan order, padding
 *                    excluded) is x[n, y, x, c] of dy[n, oy, ox, c]
 *
 * as the cpu backend computes it (ties: the first position in row-major window order; a window of
 * NaNs only passes no gradient). NHWC float32; dilation 1 (tfjs's gradient requires it).
 */
import {
  backend_util,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  MaxPoolGrad,
  type MaxPoolGradAttrs,
  type MaxPoolGradInputs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { alloc, heapF32 } from './wasm_util';

let original: KernelFunc | undefined;

function maxPoolGrad(args: { inputs: MaxPoolGradInputs; backend: BackendWasm; attrs: MaxPoolGradAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const input = inputs.input as TensorInfo;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') return original!(args as never) as TensorInfo;
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const dx = alloc(backend, input.shape as number[]);
  const d = heapF32(backend, dx);
  const x = heapF32(backend, input);
  const g = heapF32(backend, dy);
  d.fill(0);
  const best = new Float32Array(c);
  const arg = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - pt;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pl;
        best.fill(-Infinity);
        arg.fill(-1);
        for (let ky = 0; ky < fh; ky++) {
          const iy = y0 + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < fw; kx++) {
            const ix = x0 + kx;
            if (ix < 0 || ix >= w) continue;
            const base = ((b * h + iy) * w + ix) * c;
            for (let k = 0; k < c; k++) {
              const v = x[base + k]!;
              if (v > best[k]!) {
                best[k] = v;
                arg[k] = base + k;
              }
            }
          }
        }
        const o = ((b * oh + oy) * ow + ox) * c;
        for (let k = 0; k < c; k++) {
          const a = arg[k]!;
          if (a >= 0) d[a]! += g[o + k]!;
        }
      }
    }
  }
  return dx;
}

/** Replaces the wasm backend's MaxPoolGrad (kept for non-float32 inputs). */
export function makeMaxPoolGradConfig(): KernelConfig {
  const base = getKernel(MaxPoolGrad, 'wasm');
  if (!base) throw new Error('the wasm backend must be imported before DetStudio wasm kernels');
  original = base.kernelFunc;
  return { kernelName: MaxPoolGrad, backendName: 'wasm', setupFunc: base.setupFunc, kernelFunc: maxPoolGrad as unknown as KernelFunc };
}
