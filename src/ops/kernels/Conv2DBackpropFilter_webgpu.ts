/**
 * `Conv2DBackpropFilter` for the `webgpu` backend, replacing tfjs-backend-webgpu 4.22's kernel (one
 * thread per filter weight looping over the whole image: 168 ms for the 3×3 256→256 gradient at
 * 256×512 on an H200) with a tiled split-K GEMM (`conv2d_backprop_filter_webgpu.ts`). NHWC float32
 * only; anything else (NCHW, other dtypes, empty tensors) goes to the original kernel, which
 * {@link installWebGPUConv2DBackpropFilter} keeps. Only types come from
 * `@tensorflow/tfjs-backend-webgpu`: install after that package is imported (it registers the kernels).
 */
import { backend_util, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import {
  chooseDerFilterTile,
  Conv2DDerFilterTiledProgram,
  DER_FILTER_TILES,
  type DerFilterTile,
  type DerFilterTileName,
  planDerFilterSplits,
  SplitSumProgram,
  tileM,
  tileN,
  type SplitPlan,
} from '../conv2d_backprop_filter_webgpu';

const KERNEL = 'Conv2DBackpropFilter';
const installedFuncs = new WeakSet<KernelFunc>();
let tiledCalls = 0;

/** How many times the tiled program computed a filter gradient (fallbacks not counted). */
export function conv2DBackpropFilterTiledCalls(): number {
  return tiledCalls;
}

/** The launch of one filter gradient: tile, dispatch and split-K plan. */
export interface DerFilterLaunch extends SplitPlan {
  tile: DerFilterTile;
  /** The named tile, or 'custom'. */
  tileName: DerFilterTileName | 'custom';
  /** Workgroups: Cout tiles, Cin tiles, taps × splits. */
  dispatch: [number, number, number];
}

/**
 * Tile, split-K plan and dispatch for a filter gradient of `filterShape [KH,KW,Cin,Cout]` over K
 * positions; `tile` (a name or a tile) overrides {@link chooseDerFilterTile} (benchmarks).
 */
export function planDerFilterLaunch(
  filterShape: readonly number[],
  positions: number,
  tile?: DerFilterTileName | DerFilterTile,
): DerFilterLaunch {
  const [kh, kw, cin, cout] = filterShape as [number, number, number, number];
  const choice = tile ?? chooseDerFilterTile(cin, cout);
  const name = typeof choice === 'string' ? choice : 'custom';
  const t = typeof choice === 'string' ? DER_FILTER_TILES[choice] : choice;
  const taps = kh * kw;
  const tilesN = Math.ceil(cout / tileN(t));
  const tilesM = Math.ceil(cin / tileM(t));
  const plan = planDerFilterSplits({
    tiles: tilesN * tilesM * taps,
    k: positions,
    filterSize: taps * cin * cout,
    taps,
    threads: t.wx * t.wy,
    tk: t.tk,
  });
  return { ...plan, tile: t, tileName: name, dispatch: [tilesN, tilesM, taps * plan.splits] };
}

type Conv2DBackpropFilterArgs = Parameters<KernelFunc>[0];

/**
 * The tiled filter gradient for one kernel call, or null when it does not apply (NCHW, not float32,
 * empty, or `dy` not the convolution's output shape): then the caller runs tfjs's kernel. `tile`
 * overrides the tile choice (benchmarks).
 */
export function conv2DBackpropFilterTiled(
  args: Conv2DBackpropFilterArgs,
  tile?: DerFilterTileName | DerFilterTile,
): TensorInfo | null {
  const backend = args.backend as WebGPUBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = (args.attrs ?? {}) as NamedAttrMap;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dataFormat?: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if ((dataFormat ?? 'NHWC') !== 'NHWC' || x.dtype !== 'float32' || dy.dtype !== 'float32' || x.shape.length !== 4) {
    return null;
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const expectDy = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  const positions = info.batchSize * info.outHeight * info.outWidth;
  if (positions === 0 || info.inChannels === 0 || info.outChannels === 0 || dy.shape.some((d, i) => d !== expectDy[i])) {
    return null;
  }
  const launch = planDerFilterLaunch(info.filterShape, positions, tile);
  const filterSize = info.filterShape.reduce((a, b) => a * b, 1);
  const outShape = launch.splits === 1 ? [...info.filterShape] : [launch.splits, filterSize];
  const program = new Conv2DDerFilterTiledProgram(
    outShape,
    launch.dispatch,
    launch.tile,
    info.inChannels % 4 === 0,
    info.outChannels % 4 === 0,
  );
  const uniforms = [
    info.padInfo.top,
    info.padInfo.left,
    info.strideHeight,
    info.strideWidth,
    info.filterHeight,
    info.filterWidth,
    info.inChannels,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    positions,
    launch.chunk,
  ].map((v) => ({ type: 'int32', data: [v] }));
  const result = backend.runWebGPUProgram(program, [x, dy], 'float32', uniforms);
  tiledCalls++;
  if (launch.splits === 1) return result;
  try {
    return backend.runWebGPUProgram(new SplitSumProgram([...info.filterShape]), [result], 'float32');
  } finally {
    backend.disposeData(result.dataId);
  }
}

let originalFunc: KernelFunc | null = null;

/** tfjs-backend-webgpu's own kernel, kept by {@link installWebGPUConv2DBackpropFilter} (null before). */
export function originalWebGPUConv2DBackpropFilter(): KernelFunc | null {
  return originalFunc;
}

function tiled(original: KernelFunc): KernelFunc {
  const func: KernelFunc = (args) => conv2DBackpropFilterTiled(args) ?? original(args);
  installedFuncs.add(func);
  return func;
}

/**
 * Replaces the registered `webgpu` `Conv2DBackpropFilter` kernel with the tiled split-K one (once;
 * later calls, or a backend package not imported yet, do nothing). Returns true when installed now.
 */
export function installWebGPUConv2DBackpropFilter(): boolean {
  const config = getKernel(KERNEL, 'webgpu');
  if (config == null || installedFuncs.has(config.kernelFunc)) return false;
  originalFunc = config.kernelFunc;
  const next: KernelConfig = { ...config, kernelFunc: tiled(config.kernelFunc) };
  unregisterKernel(KERNEL, 'webgpu');
  registerKernel(next);
  return true;
}

/** True when the `webgpu` `Conv2DBackpropFilter` kernel currently registered is the tiled one. */
export function webgpuConv2DBackpropFilterTiled(): boolean {
  const config = getKernel(KERNEL, 'webgpu');
  return config != null && installedFuncs.has(config.kernelFunc);
}
