/**
 * A faster `Conv2DBackpropInput` for the wasm backend (tfjs-wasm's own is a scalar loop, ~2 vs
 * ~20 GFLOP/s on 2 cores), the input gradient of an NHWC convolution with an HWIO filter:
 *
 *   dx[n, y, x, ci] = Σ_{kh, kw, co} dy[n, oh, ow, co] · W[kh, kw, ci, co],  y = oh·sh + kh − pt
 *
 * Two exact formulations, picked by shape:
 *
 * - **GEMM + col2im** ({@link conv2DBackpropInputGemm}): `colsᵀ = W · dyᵀ`, with the filter read
 *   in place as a `[KH·KW·Ci, Co]` matrix and `dyᵀ` as `[Co, N·OH·OW]`, then every column entry
 *   `colsᵀ[(kh, kw, ci), (n, oh, ow)]` is added into `dx` at its input position (col2im). XNNPACK
 *   repacks only the small `dyᵀ`, and strided convolutions cost no extra multiplications. Best when
 *   the filter is large next to the activations (deep ResNet stages: 4×8 pixels, 512 channels).
 * - **Transposed convolution** ({@link conv2DBackpropInputConv}): a stride-1 XNNPACK convolution of
 *   dy — zero-dilated by the stride when sh, sw > 1 — with the filter flipped in space and its channel
 *   axes swapped, padded by KH − 1 − pt on top (KW − 1 − pl left) and whatever makes the output
 *   exactly H × W at the bottom/right. XNNPACK repacks the whole filter on every call, which is
 *   cheap for small filters on large images (stride-1 64-channel convs at 32×64).
 *
 * Falls back to the backend's own kernel for NCHW, non-float32 or a negative transposed padding.
 */
import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type Conv2DBackpropInputInputs,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { alloc, conv2dRaw, free, heapF32, matMulNN, transposeF32 } from './wasm_util';

let original: KernelFunc | undefined;

/**
 * Input gradient as one GEMM `W[KH·KW·Ci, Co] · dyᵀ[Co, N·OH·OW]` followed by col2im into a
 * channel-first buffer and one transpose to NHWC. Any stride and padding.
 *
 * @param dy - `[N, OH, OW, Co]` float32.
 * @param filter - `[KH, KW, Ci, Co]` float32.
 * @param info - the forward convolution's `computeConv2DInfo` (input shape = dx's shape).
 * @returns dx `[N, H, W, Ci]`.
 */
export function conv2DBackpropInputGemm(
  backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const plane = oh * ow;
  const p = n * plane;
  const rows = kh * kw * ci;
  const dyT = transposeF32(backend, { ...dy, shape: [p, co] }, [1, 0]); // [Co, P]
  const colsT = matMulNN(backend, { ...filter, shape: [1, rows, co] }, [1, rows, co], { ...dyT, shape: [1, co, p] }, [1, co, p]);
  free(backend, dyT);
  const dxT = alloc(backend, [n, ci, h, w]);
  {
    const d = heapF32(backend, dxT);
    const c = heapF32(backend, colsT);
    d.fill(0);
    for (let a = 0; a < kh; a++) {
      // Output rows whose input row y = oy·sh + a − pt lies inside the image.
      const oy0 = Math.max(0, Math.ceil((pt - a) / sh));
      const oy1 = Math.min(oh, Math.floor((h - 1 + pt - a) / sh) + 1);
      for (let b = 0; b < kw; b++) {
        const ox0 = Math.max(0, Math.ceil((pl - b) / sw));
        const ox1 = Math.min(ow, Math.floor((w - 1 + pl - b) / sw) + 1);
        if (oy0 >= oy1 || ox0 >= ox1) continue;
        for (let k = 0; k < ci; k++) {
          const row = ((a * kw + b) * ci + k) * p;
          for (let i = 0; i < n; i++) {
            const src0 = row + i * plane;
            const dst0 = (i * ci + k) * h * w + b - pl;
            for (let oy = oy0; oy < oy1; oy++) {
              const src = src0 + oy * ow;
              const dst = dst0 + (oy * sh + a - pt) * w;
              if (sw === 1) {
                for (let ox = ox0; ox < ox1; ox++) d[dst + ox] += c[src + ox]!;
              } else {
                for (let ox = ox0; ox < ox1; ox++) d[dst + ox * sw] += c[src + ox]!;
              }
            }
          }
        }
      }
    }
  }
  free(backend, colsT);
  const dx = transposeF32(backend, dxT, [0, 2, 3, 1]);
  free(backend, dxT);
  return dx;
}

/**
 * Input gradient as a stride-1 XNNPACK convolution of (zero-dilated) dy with the flipped,
 * channel-swapped filter. Null where a transposed padding would be negative.
 *
 * @param dy - `[N, OH, OW, Co]` float32.
 * @param filter - `[KH, KW, Ci, Co]` float32.
 * @param info - the forward convolution's `computeConv2DInfo`.
 * @returns dx `[N, H, W, Ci]`, or null.
 */
export function conv2DBackpropInputConv(
  backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo,
): TensorInfo | null {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const ptT = kh - 1 - info.padInfo.top;
  const plT = kw - 1 - info.padInfo.left;
  const dh = (oh - 1) * sh + 1;
  const dw = (ow - 1) * sw + 1;
  const pbT = h - dh - ptT + kh - 1;
  const prT = w - dw - plT + kw - 1;
  if (ptT < 0 || plT < 0 || pbT < 0 || prT < 0) return null;
  // Filter: [KH, KW, Ci, Co] → swap channels → [KH, KW, Co, Ci] → flip both spatial axes.
  const wT = transposeF32(backend, filter, [0, 1, 3, 2]);
  const wF = alloc(backend, [kh, kw, co, ci]);
  {
    const s = heapF32(backend, wT);
    const d = heapF32(backend, wF);
    const block = co * ci;
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const from = ((kh - 1 - a) * kw + (kw - 1 - b)) * block;
        d.set(s.subarray(from, from + block), (a * kw + b) * block);
      }
    }
  }
  let src: TensorInfo = dy;
  if (sh > 1 || sw > 1) {
    src = alloc(backend, [n, dh, dw, co]);
    const d = heapF32(backend, src);
    d.fill(0);
    const s = heapF32(backend, dy);
    for (let i = 0; i < n; i++) {
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          const from = ((i * oh + y) * ow + x) * co;
          d.set(s.subarray(from, from + co), ((i * dh + y * sh) * dw + x * sw) * co);
        }
      }
    }
  }
  const out = conv2dRaw(backend, src, wF, {
    pads: [ptT, prT, pbT, plT], stride: [1, 1], dilation: [1, 1], outH: h, outW: w,
  });
  free(backend, wT, wF);
  if (src !== dy) free(backend, src);
  return out;
}

/**
 * True where {@link conv2DBackpropInputGemm} is the faster formulation: strided convolutions
 * (the transposed convolution would multiply the stride² zeros of the dilated dy), and filters
 * more than twice the size of the output gradient (the transposed convolution repacks the whole filter each call,
 * the GEMM only dy). Measured on the demo model's shapes (bench/wasm_kernels.bench.ts).
 */
export function backpropInputPrefersGemm(info: backend_util.Conv2DInfo): boolean {
  const filterSize = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  const dySize = info.batchSize * info.outHeight * info.outWidth * info.outChannels;
  return info.strideHeight > 1 || info.strideWidth > 1 || filterSize > 2 * dySize;
}

function conv2DBackpropInput(args: {
  inputs: Conv2DBackpropInputInputs;
  backend: BackendWasm;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const $dataFormat = backend_util.convertConv2DDataFormat(dataFormat);
  if ($dataFormat !== 'channelsLast' || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
    return original!(args as never) as TensorInfo;
  }
  const info = backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, $dataFormat);
  if (backpropInputPrefersGemm(info)) return conv2DBackpropInputGemm(backend, dy, filter, info);
  return conv2DBackpropInputConv(backend, dy, filter, info) ?? conv2DBackpropInputGemm(backend, dy, filter, info);
}

/** Wraps the wasm backend's Conv2DBackpropInput (kept as the fallback). */
export function makeConv2DBackpropInputConfig(): KernelConfig {
  const base = getKernel(Conv2DBackpropInput, 'wasm');
  if (!base) throw new Error('the wasm backend must be imported before DetStudio wasm kernels');
  original = base.kernelFunc;
  return {
    kernelName: Conv2DBackpropInput,
    backendName: 'wasm',
    setupFunc: base.setupFunc,
    kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
  };
}
