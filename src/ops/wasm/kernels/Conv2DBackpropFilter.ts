/**
 * `Conv2DBackpropFilter` for the wasm backend (tfjs 4.22 has none), on XNNPACK's GEMM:
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·sh + kh − pt, ow·sw + kw − pl, ci] · dy[n, oh, ow, co]
 *                      = colsᵀ · dy,   colsᵀ[(kh·KW + kw)·Ci + ci, (n, oh, ow)] = x[n, oh·sh + kh − pt, …, ci]
 *
 * `colsᵀ` (a transposed im2col, zeros outside the image) is filled row by row from x transposed to
 * [N, Ci, H, W], so every row copy is contiguous; the product is one plain GEMM whose result is
 * already HWIO. Images are processed in chunks so the column buffer stays bounded. Forward dilation
 * must be 1 (tfjs's conv2d gradient requires it); NHWC only.
 */
import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { alloc, free, heapF32, matMulNN, transposeF32 } from './wasm_util';

/** Upper bound on the column buffer, in floats (256 MiB). */
const MAX_COLS = 1 << 26;

function conv2DBackpropFilter(args: {
  inputs: Conv2DBackpropFilterInputs;
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const $dataFormat = backend_util.convertConv2DDataFormat(dataFormat);
  if ($dataFormat !== 'channelsLast') {
    throw new Error(`wasm Conv2DBackpropFilter supports only NHWC, got ${dataFormat}`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, $dataFormat);
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const co = info.outChannels;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const rows = kh * kw * ci;
  const plane = oh * ow;
  const chunk = Math.max(1, Math.min(n, Math.floor(MAX_COLS / (rows * plane))));

  const xT = transposeF32(backend, x, [0, 3, 1, 2]); // [N, Ci, H, W]
  const out = alloc(backend, [kh, kw, ci, co]);
  heapF32(backend, out).fill(0);
  for (let n0 = 0; n0 < n; n0 += chunk) {
    const nb = Math.min(chunk, n - n0);
    const cols = alloc(backend, [1, rows, nb * plane]);
    const dyChunk = nb === n ? dy : alloc(backend, [nb * plane, co]);
    {
      const c = heapF32(backend, cols);
      const src = heapF32(backend, xT);
      if (dyChunk !== dy) heapF32(backend, dyChunk).set(heapF32(backend, dy).subarray(n0 * plane * co, (n0 + nb) * plane * co));
      const width = nb * plane;
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) {
          for (let k = 0; k < ci; k++) {
            const rowBase = ((a * kw + b) * ci + k) * width;
            for (let i = 0; i < nb; i++) {
              const planeBase = ((n0 + i) * ci + k) * h * w;
              const colBase = rowBase + i * plane;
              for (let y = 0; y < oh; y++) {
                const iy = y * sh + a - pt;
                const dst = colBase + y * ow;
                if (iy < 0 || iy >= h) {
                  c.fill(0, dst, dst + ow);
                  continue;
                }
                const srcRow = planeBase + iy * w;
                for (let xo = 0, ix = b - pl; xo < ow; xo++, ix += sw) {
                  c[dst + xo] = ix >= 0 && ix < w ? src[srcRow + ix]! : 0;
                }
              }
            }
          }
        }
      }
    }
    const part = matMulNN(backend, cols, [1, rows, nb * plane], { ...dyChunk, shape: [1, nb * plane, co] }, [1, nb * plane, co]);
    const acc = heapF32(backend, out);
    const p = heapF32(backend, part);
    for (let i = 0; i < acc.length; i++) acc[i]! += p[i]!;
    free(backend, cols, part);
    if (dyChunk !== dy) free(backend, dyChunk);
  }
  free(backend, xT);
  return out;
}

/** Kernel config: register with `registerKernel`. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
