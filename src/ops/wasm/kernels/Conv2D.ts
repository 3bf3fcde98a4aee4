/**
 * `Conv2D` for the wasm backend with a GEMM path for convolutions whose filter dwarfs the image
 * (ResNet's last stage at training sizes: 4×8 pixels, 3×3×512×512 filters). tfjs-wasm hands every
 * new filter tensor to XNNPACK, which transposes it to OHWI and repacks it (~9 ns per weight); in
 * training the weights change every step, so each call pays that, and for such shapes it costs more
 * than the convolution itself. Here instead
 *
 *   outᵀ[Co, N·OH·OW] = Wᵀ[Co, KH·KW·Ci] · colsᵀ[KH·KW·Ci, N·OH·OW]
 *
 * with one plain transpose of the filter and XNNPACK packing only the (small) im2col matrix
 * ({@link im2colT}); a last transpose gives NHWC. Other shapes, NCHW, dilations and non-float32
 * inputs run the backend's own kernel.
 */
import {
  backend_util,
  Conv2D,
  type Conv2DAttrs,
  type Conv2DInputs,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { im2colT } from './im2col';
import { alloc, free, heapF32, matMulNN, transposeF32 } from './wasm_util';

let original: KernelFunc | undefined;

/**
 * Forward convolution as `Wᵀ · colsᵀ` (see the module comment). Any stride and padding, dilation 1.
 *
 * @param x - `[N, H, W, Ci]` float32.
 * @param filter - `[KH, KW, Ci, Co]` float32.
 * @param info - `computeConv2DInfo` of the convolution.
 * @returns `[N, OH, OW, Co]`.
 */
export function conv2DGemm(backend: BackendWasm, x: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const rows = kh * kw * ci;
  const p = n * oh * ow;
  const wT = transposeF32(backend, { ...filter, shape: [rows, co] }, [1, 0]); // [Co, KH·KW·Ci]
  const xT = transposeF32(backend, x, [0, 3, 1, 2]); // [N, Ci, H, W]
  const cols = alloc(backend, [1, rows, p]);
  im2colT(heapF32(backend, cols), heapF32(backend, xT), {
    n0: 0, nb: n, ci, h, w, oh, ow, kh, kw, sh, sw, pt: info.padInfo.top, pl: info.padInfo.left,
  });
  free(backend, xT);
  const outT = matMulNN(backend, { ...wT, shape: [1, co, rows] }, [1, co, rows], cols, [1, rows, p]);
  free(backend, wT, cols);
  const out = transposeF32(backend, { ...outT, shape: [co, p] }, [1, 0]);
  free(backend, outT);
  return { ...out, shape: [n, oh, ow, co] };
}

/**
 * True where {@link conv2DGemm} beats XNNPACK's convolution: the filter is at least 4× the im2col
 * matrix (`Co ≥ 4·N·OH·OW`), so repacking the filter would dominate. Measured on the demo model's
 * shapes (bench/wasm_kernels.bench.ts).
 */
export function forwardPrefersGemm(info: backend_util.Conv2DInfo): boolean {
  return info.outChannels >= 4 * info.batchSize * info.outHeight * info.outWidth;
}

function conv2D(args: { inputs: Conv2DInputs; backend: BackendWasm; attrs: Conv2DAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs;
  const $dataFormat = backend_util.convertConv2DDataFormat(dataFormat);
  if ($dataFormat === 'channelsLast' && x.dtype === 'float32' && filter.dtype === 'float32') {
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      strides, dilations, pad, dimRoundingMode, false, $dataFormat);
    if (info.dilationHeight === 1 && info.dilationWidth === 1 && forwardPrefersGemm(info)) {
      return conv2DGemm(backend, x, filter, info);
    }
  }
  return original!(args as never) as TensorInfo;
}

/** Wraps the wasm backend's Conv2D (kept for every other shape). */
export function makeConv2DConfig(): KernelConfig {
  const base = getKernel(Conv2D, 'wasm');
  if (!base) throw new Error('the wasm backend must be imported before DetStudio wasm kernels');
  original = base.kernelFunc;
  return { kernelName: Conv2D, backendName: 'wasm', setupFunc: base.setupFunc, kernelFunc: conv2D as unknown as KernelFunc };
}
