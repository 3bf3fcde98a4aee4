/**
 * `Conv2DBackpropFilter` for the wasm backend (tfjs 4.22 has none), built on the backend's own
 * XNNPACK convolution instead of JavaScript loops.
 *
 * The filter gradient of a convolution is itself a convolution:
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·s + kh·d − pt, ow·s + kw·d − pl, ci] · dy[n, oh, ow, co]
 *
 * which is the NHWC convolution of X' = transpose(x, [3, 1, 2, 0]) (shape [Ci, H, W, N]: input channels
 * become the batch, the batch becomes the channels) with the filter F' = transpose(dy, [1, 2, 0, 3])
 * (shape [OH, OW, N, Co]), using stride d and dilation s (the forward stride becomes the dilation), the
 * forward's top/left padding, and a bottom/right padding chosen so that the output is exactly KH × KW
 * (negative means: crop the input first). The result [Ci, KH, KW, Co] is transposed to HWIO.
 *
 * Inputs x: [N, H, W, Ci] float32 (channelsLast only); dy: [N, OH, OW, Co]. Attrs as tfjs's
 * `Conv2DBackpropFilterAttrs` (strides, pad incl. explicit, dataFormat 'NHWC', dimRoundingMode,
 * filterShape [KH, KW, Ci, Co]). Dilations of the forward conv are 1 (tfjs's conv2d gradient
 * requires it).
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
import { transposeConfig } from '@tensorflow/tfjs-backend-wasm/dist/kernels/Transpose';
import { sliceConfig } from '@tensorflow/tfjs-backend-wasm/dist/kernels/Slice';

type WasmConv2d = (
  xId: number, batch: number, inH: number, inW: number, filterId: number, fH: number, fW: number,
  padTop: number, padRight: number, padBottom: number, padLeft: number, isSamePad: number,
  dilH: number, dilW: number, strideH: number, strideW: number, inC: number, outC: number, outId: number,
) => void;

let wasmConv2d: WasmConv2d;

function setup(backend: BackendWasm): void {
  // The same exported C function the wasm backend's Conv2D kernel uses (XNNPACK convolution).
  wasmConv2d = backend.wasm.cwrap('Conv2D', null, Array(19).fill('number')) as unknown as WasmConv2d;
  // The module instances of the helper kernels imported here may not be the ones the backend set up
  // (a bundler can load the package twice): give them their cwrapped functions too.
  transposeConfig.setupFunc?.(backend);
  sliceConfig.setupFunc?.(backend);
}

function transpose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return (transposeConfig.kernelFunc as KernelFunc)({ inputs: { x }, backend, attrs: { perm } }) as TensorInfo;
}

function conv2DBackpropFilter(args: {
  inputs: Conv2DBackpropFilterInputs;
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  if (!wasmConv2d) setup(backend); // registered after the backend initialised: no setup call came
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const $dataFormat = backend_util.convertConv2DDataFormat(dataFormat);
  if ($dataFormat !== 'channelsLast') {
    throw new Error(`wasm Conv2DBackpropFilter supports only NHWC, got ${dataFormat}`);
  }
  const convInfo = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, $dataFormat);
  const [n, inH, inW, inC] = x.shape as [number, number, number, number];
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = convInfo;
  const outC = convInfo.outChannels;
  const dh = convInfo.dilationHeight;
  const dw = convInfo.dilationWidth;
  const padTop = convInfo.padInfo.top;
  const padLeft = convInfo.padInfo.left;
  // Bottom/right padding making the (stride dh, dilation sh) conv produce exactly kh rows (kw cols).
  let padBottom = dh * (kh - 1) + sh * (oh - 1) + 1 - inH - padTop;
  let padRight = dw * (kw - 1) + sw * (ow - 1) + 1 - inW - padLeft;

  const temps: TensorInfo[] = [];
  let src: TensorInfo = x;
  let srcH = inH;
  let srcW = inW;
  if (padBottom < 0 || padRight < 0) {
    // Rows/cols the forward conv never read: crop them rather than pass negative padding.
    srcH = padBottom < 0 ? inH + padBottom : inH;
    srcW = padRight < 0 ? inW + padRight : inW;
    src = (sliceConfig.kernelFunc as KernelFunc)({
      inputs: { x }, backend, attrs: { begin: [0, 0, 0, 0], size: [n, srcH, srcW, inC] },
    }) as TensorInfo;
    temps.push(src);
    padBottom = Math.max(padBottom, 0);
    padRight = Math.max(padRight, 0);
  }
  const xT = transpose(backend, src, [3, 1, 2, 0]); // [Ci, H, W, N]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH, OW, N, Co]
  temps.push(xT, dyT);

  const raw = backend.makeOutput([inC, kh, kw, outC], 'float32'); // [Ci, KH, KW, Co]
  temps.push(raw);
  wasmConv2d(
    backend.dataIdMap.get(xT.dataId)!.id, inC, srcH, srcW,
    backend.dataIdMap.get(dyT.dataId)!.id, oh, ow,
    padTop, padRight, padBottom, padLeft, 0,
    sh, sw, dh, dw, n, outC,
    backend.dataIdMap.get(raw.dataId)!.id);
  const out = transpose(backend, raw, [1, 2, 0, 3]); // [KH, KW, Ci, Co]
  for (const t of temps) backend.disposeData(t.dataId);
  return out;
}

/** Kernel config: register with `registerKernel`. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  setupFunc: setup as unknown as KernelConfig['setupFunc'],
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
