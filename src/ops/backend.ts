/**
 * Backend set-up shared by the training worker and the CLI: WebGPU first (with the adapter's maximum
 * buffer limits), else tfjs's wasm backend (threads when allowed), and the pure-JS `cpu` backend only
 * when explicitly asked for as a numerical reference — never for training. Returns what runs and a
 * user-facing notice for the UI / CLI.
 *
 * In Node, WebGPU comes from Dawn (`node_webgpu.ts`), installed before the tfjs WebGPU backend is
 * imported; a software ("fallback") adapter such as SwiftShader is used only when `prefer: 'webgpu'`
 * asks for it, since wasm is far faster on a CPU. In the browser, import `backend_browser.ts`, which
 * adds the wasm binaries' URLs and the thread policy of Vite builds.
 */
import * as tf from '@tensorflow/tfjs-core';
import './tfjs_register';
import { registerOpsKernels } from './register_kernels';
import { installWebGPUMatMulGuard } from './kernels/MatMul_webgpu_guard';
import { installWebGPUConv2DBackpropFilter } from './kernels/Conv2DBackpropFilter_webgpu';

/** A backend DetStudio can run on. */
export type BackendName = 'webgpu' | 'wasm' | 'cpu';

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Backend to try first. Default: WebGPU on a hardware adapter, else wasm. `'cpu'` must be explicit. */
  prefer?: BackendName;
  /** The backend will train: the pure-JS `cpu` backend is refused (it is far too slow). */
  forTraining?: boolean;
  /** Where the wasm binaries are: a URL prefix ending in `/`, or a map from file name to URL. */
  wasmPaths?: string | Partial<Record<WasmBinaryName, string>>;
  /** Allow the multi-threaded wasm binary (needs cross-origin isolation). Default: tfjs decides. */
  wasmThreads?: boolean;
  /** Called if the WebGPU device is lost (driver reset, GPU process crash …), with a message for the UI. */
  onDeviceLost?: (message: string) => void;
}

/** File names of tfjs's three wasm binaries. */
export type WasmBinaryName = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

/** The WebGPU adapter, as far as the browser / Dawn tells. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** What {@link initBackend} set up. */
export interface BackendInfo {
  /** The active tfjs backend (`tf.getBackend()`). */
  name: BackendName;
  /** True for a software WebGPU adapter (SwiftShader …). False when not on WebGPU. */
  isFallbackAdapter: boolean;
  /** The WebGPU adapter (also filled when WebGPU was found but not used), else null. */
  adapterInfo: AdapterSummary | null;
  /** The WebGPU device's limits that matter for training (bytes / counts), else null. */
  limits: Record<string, number> | null;
  /** One sentence for the UI / CLI: what runs and, on a fallback, why. */
  notice: string;
  /** wasm only: SIMD and the number of threads XNNPACK uses. */
  wasm?: { simd: boolean; threads: number };
}

/** Device limits requested at the adapter's maximum (tfjs's default device keeps WebGPU's small defaults for some). */
const MAX_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Optional device features tfjs-backend-webgpu uses when present. */
const OPTIONAL_FEATURES = ['timestamp-query', 'bgra8unorm-storage'] as const;

const isNode =
  typeof process !== 'undefined' && process.versions?.node != null && typeof (globalThis as { window?: unknown }).window === 'undefined';

/** Module installing Dawn in Node; a variable so bundlers leave it (and the native addon) out of browser builds. */
const NODE_WEBGPU_MODULE = './node_webgpu.ts';

let current: BackendInfo | null = null;

/** The WebGPU backend this module created (reused by later calls until its device is lost). */
let webgpuState: { adapterInfo: AdapterSummary; fallback: boolean; limits: Record<string, number> } | null = null;

/** The backend set up by the last {@link initBackend}, or null. */
export function currentBackend(): BackendInfo | null {
  return current;
}

/**
 * Chooses, initialises and activates a tfjs backend, and registers DetStudio's kernels and tfjs's
 * gradients. Order: WebGPU on a hardware adapter; wasm; `cpu` only with `prefer: 'cpu'` and not for
 * training. Throws when nothing suitable works.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  registerOpsKernels();
  const { prefer, forTraining = false } = options;
  const verb = forTraining ? 'Training' : 'Running';

  if (prefer === 'cpu') {
    if (forTraining) {
      throw new Error(
        "The pure-JS 'cpu' backend is a numerical reference only and far too slow to train; " +
          "train on 'webgpu' or 'wasm' instead",
      );
    }
    return activateCpu(`${verb} on the pure-JS cpu backend (numerical reference, very slow)`);
  }

  let why = '';
  let adapterInfo: AdapterSummary | null = null;
  if (prefer !== 'wasm' && webgpuState && (prefer === 'webgpu' || !webgpuState.fallback)) {
    if (await tf.setBackend('webgpu')) {
      const { adapterInfo: a, fallback, limits } = webgpuState;
      current = { name: 'webgpu', isFallbackAdapter: fallback, adapterInfo: a, limits, notice: webgpuNotice(a, fallback, verb) };
      return current;
    }
    webgpuState = null;
  }
  if (prefer !== 'wasm') {
    const gpu = await getGpu();
    const adapter = gpu ? await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null) : null;
    if (adapter) {
      adapterInfo = summarize(adapter);
      const fallback = isFallback(adapter);
      if (!fallback || prefer === 'webgpu') {
        try {
          return await activateWebGPU(adapter, adapterInfo, fallback, verb, options.onDeviceLost);
        } catch (err) {
          why = `WebGPU failed to start (${(err as Error).message})`;
        }
      } else {
        why = `Only a software WebGPU adapter (${describe(adapterInfo)})`;
      }
    } else {
      why = gpu ? 'No WebGPU adapter' : 'No WebGPU in this environment';
    }
  }

  try {
    const wasm = await activateWasm(options);
    const how = `${wasm.simd ? 'SIMD' : 'no SIMD'}, ${wasm.threads > 1 ? `${wasm.threads} threads` : 'single-threaded'}`;
    const notice =
      prefer === 'wasm'
        ? `${verb} on CPU (wasm, ${how})`
        : `${why}: ${verb.toLowerCase()} on CPU (wasm, ${how}), much slower`;
    current = { name: 'wasm', isFallbackAdapter: false, adapterInfo, limits: null, notice, wasm };
    return current;
  } catch (err) {
    const wasmWhy = `the wasm backend failed to start (${(err as Error).message})`;
    if (forTraining) throw new Error(`${why ? `${why}, and ` : ''}${wasmWhy}: no backend can train here`);
    return activateCpu(`${why ? `${why}, and ` : ''}${wasmWhy}: running on the pure-JS cpu backend, very slow`);
  }
}

async function getGpu(): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode) return null;
  if (!(await (await loadNodeModule()).installNodeWebGPU())) return null;
  return (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu ?? null;
}

function loadNodeModule(): Promise<typeof import('./node_webgpu')> {
  return import(/* @vite-ignore */ NODE_WEBGPU_MODULE) as Promise<typeof import('./node_webgpu')>;
}

function isFallback(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return Boolean(info?.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter);
}

function summarize(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
}

function describe(a: AdapterSummary): string {
  const parts = [a.vendor, a.architecture, a.description || a.device].filter((p) => p !== '');
  return parts.length > 0 ? [...new Set(parts)].join(' ') : 'unnamed adapter';
}

async function activateWebGPU(
  adapter: GPUAdapter,
  adapterInfo: AdapterSummary,
  fallback: boolean,
  verb: string,
  onDeviceLost?: (message: string) => void,
): Promise<BackendInfo> {
  const requiredLimits: Record<string, number> = {};
  for (const name of MAX_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  // Importing the backend registers tfjs's own 'webgpu' factory (default limits); replace it with ours.
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  // tfjs 4.22's split-K matmul misreads a transposed B; route those products around it.
  installWebGPUMatMulGuard();
  installWebGPUConv2DBackpropFilter();
  if (tf.findBackendFactory('webgpu') != null) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info), 3);
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
  const limits: Record<string, number> = {};
  for (const name of MAX_LIMITS) {
    const v = (device.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof v === 'number') limits[name] = v;
  }
  const notice = webgpuNotice(adapterInfo, fallback, verb);
  const info: BackendInfo = { name: 'webgpu', isFallbackAdapter: fallback, adapterInfo, limits, notice };
  const state = { adapterInfo, fallback, limits };
  webgpuState = state;
  void device.lost.then((lost) => {
    if (webgpuState === state) webgpuState = null;
    if (lost.reason === 'destroyed') return; // disposed on purpose
    const message = `The WebGPU device was lost (${lost.message || 'no reason given'}); reload to start again`;
    info.notice = message;
    onDeviceLost?.(message);
  });
  current = info;
  return current;
}

function webgpuNotice(adapterInfo: AdapterSummary, fallback: boolean, verb: string): string {
  return fallback
    ? `${verb} on WebGPU with a software adapter (${describe(adapterInfo)}): correct but very slow`
    : `${verb} on WebGPU (${describe(adapterInfo)})`;
}

async function activateWasm(options: InitBackendOptions): Promise<{ simd: boolean; threads: number }> {
  // Import first: the wasm package registers the WASM_HAS_MULTITHREAD_SUPPORT flag on import, and
  // tfjs refuses to set an unregistered flag (the backend itself initialises only at setBackend).
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (options.wasmThreads === false) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (options.wasmPaths != null) {
    wasm.setWasmPaths(options.wasmPaths);
  } else if (isNode) {
    wasm.setWasmPaths((await loadNodeModule()).nodeWasmDir());
  }
  // The training kernels tfjs's wasm backend lacks (src/ops/wasm/), registered on import.
  await import('./wasm/register_wasm_training_kernels');
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  return { simd, threads: wasm.getThreadsCount() };
}

async function activateCpu(notice: string): Promise<BackendInfo> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") failed');
  current = { name: 'cpu', isFallbackAdapter: false, adapterInfo: null, limits: null, notice };
  return current;
}
