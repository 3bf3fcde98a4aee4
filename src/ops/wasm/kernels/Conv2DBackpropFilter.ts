/**
 * `Conv2DBackpropFilter` for the wasm backend (tfjs 4.22 has none), on XNNPACK's GEMM:
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·sh + kh − pt, ow·sw + kw − pl, ci] · dy[n, oh, ow, co]
 *                      = colsᵀ · dy,   colsᵀ[(kh·KW + kw)·Ci + ci, (n, oh, ow)] = x[n, oh·sh + kh − pt, …, ci]
 *
 * `colsᵀ` (a transposed im2col, zeros outside the image) is filled row by row from x transposed to
 * [N, Ci, H, W], so every row copy is contiguous; the product is one plain GEMM whose result is
 * already HWIO (returned as is when, as usual, all images fit one chunk of the bounded column
 * buffer; otherwise chunk products are summed). Forward dilation
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
import { im2colT } from './im2col';
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
  let out: TensorInfo | null = null;
  for (let n0 = 0; n0 < n; n0 += chunk) {
    const nb = Math.min(chunk, n - n0);
    const width = nb * plane;
    const cols = alloc(backend, [1, rows, width]);
    const dyChunk = nb === n ? dy : alloc(backend, [width, co]);
    {
      const c = heapF32(backend, cols);
      const src = heapF32(backend, xT);
      if (dyChunk !== dy) heapF32(backend, dyChunk).set(heapF32(backend, dy).subarray(n0 * plane * co, (n0 + nb) * plane * co));
      im2colT(c, src, { n0, nb, ci, h, w, oh, ow, kh, kw, sh, sw, pt, pl });
    }
    const part = matMulNN(backend, cols, [1, rows, width], { ...dyChunk, shape: [1, width, co] }, [1, width, co]);
    free(backend, cols);
    if (dyChunk !== dy) free(backend, dyChunk);
    if (out === null) {
      out = part; // one chunk (the usual case): the GEMM's result is the answer
    } else {
      const acc = heapF32(backend, out);
      const p = heapF32(backend, part);
      for (let i = 0; i < acc.length; i++) acc[i]! += p[i]!;
      free(backend, part);
    }
  }
  free(backend, xT);
  return { ...out!, shape: [kh, kw, ci, co] };
}

/** Kernel config: register with `registerKernel`. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
