/**
 * What this JavaScript environment can run: WebGPU (and which adapter), WebAssembly with SIMD and
 * threads, workers, OPFS and IndexedDB. Computed once at start-up (main thread and worker each ask
 * for themselves) and turned into the compute backend the studio will use: `webgpu` when an adapter
 * exists, else `wasm` (CPU), else the pure-JS `cpu` backend.
 *
 * A pure leaf: it reads an injected environment object (default `globalThis`) through a small
 * structural type, so it runs and is tested in Node without DOM typings or tfjs.
 */

/** The compute backend the studio picks from the capabilities, best first. */
export type BackendName = 'webgpu' | 'wasm' | 'cpu';

/** Summary of the WebGPU adapter that `navigator.gpu.requestAdapter()` returned. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  /** True for software adapters such as SwiftShader (slow; fine for correctness, not for speed). */
  isFallbackAdapter: boolean;
  features: string[];
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
  };
}

/** Everything the studio needs to know about the environment, as plain serialisable data. */
export interface Capabilities {
  /** Where the detection ran. */
  context: 'window' | 'worker' | 'node' | 'unknown';
  webgpu:
    | { available: true; adapter: AdapterSummary }
    | { available: false; reason: string };
  wasm: { available: boolean; simd: boolean; threads: boolean };
  crossOriginIsolated: boolean;
  worker: boolean;
  opfs: boolean;
  indexedDB: boolean;
  hardwareConcurrency: number;
  /** The backend the studio will train and infer with. */
  backend: BackendName;
}

interface GPUAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  features?: Iterable<string>;
  limits?: Partial<Record<'maxBufferSize' | 'maxStorageBufferBindingSize' | 'maxComputeWorkgroupStorageSize', number>>;
}

/** The parts of a global scope this module reads; `globalThis` in browsers and workers. */
export interface CapabilityEnv {
  navigator?: {
    gpu?: { requestAdapter(options?: { powerPreference?: string }): Promise<GPUAdapterLike | null> };
    storage?: { getDirectory?: unknown };
    hardwareConcurrency?: number;
  };
  crossOriginIsolated?: boolean;
  WebAssembly?: { validate(bytes: Uint8Array<ArrayBuffer>): boolean };
  SharedArrayBuffer?: unknown;
  Worker?: unknown;
  indexedDB?: unknown;
  document?: unknown;
  importScripts?: unknown;
  process?: { versions?: { node?: string } };
}

/**
 * A minimal module whose one function returns a `v128.const`: valid only where WebAssembly SIMD is
 * supported. Written out by hand: header, type ()→v128, one function, its body.
 */
export const WASM_SIMD_PROBE: Uint8Array<ArrayBuffer> = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: func () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code section: body of 20 bytes, no locals, v128.const
  ...new Array<number>(16).fill(0), // the 16 immediate bytes
  0x0b, // end
]);

/** Milliseconds after which a pending `requestAdapter()` counts as "no adapter". */
const ADAPTER_TIMEOUT_MS = 5000;

function detectContext(env: CapabilityEnv): Capabilities['context'] {
  if (env.document !== undefined) return 'window';
  if (env.importScripts !== undefined) return 'worker';
  if (env.process?.versions?.node) return 'node';
  return 'unknown';
}

function summariseAdapter(adapter: GPUAdapterLike): AdapterSummary {
  const info = adapter.info ?? {};
  const limits = adapter.limits ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false),
    features: adapter.features ? [...adapter.features].sort() : [],
    limits: {
      maxBufferSize: Number(limits.maxBufferSize ?? 0),
      maxStorageBufferBindingSize: Number(limits.maxStorageBufferBindingSize ?? 0),
      maxComputeWorkgroupStorageSize: Number(limits.maxComputeWorkgroupStorageSize ?? 0),
    },
  };
}

async function detectWebGPU(env: CapabilityEnv): Promise<Capabilities['webgpu']> {
  const gpu = env.navigator?.gpu;
  if (!gpu) {
    return { available: false, reason: 'navigator.gpu is missing: this browser has no WebGPU (or the page is not a secure context).' };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const adapter = await Promise.race([
      gpu.requestAdapter({ powerPreference: 'high-performance' }),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), ADAPTER_TIMEOUT_MS);
      }),
    ]);
    if (adapter === 'timeout') {
      return { available: false, reason: `navigator.gpu.requestAdapter() did not answer within ${ADAPTER_TIMEOUT_MS / 1000} s.` };
    }
    if (!adapter) {
      return { available: false, reason: 'navigator.gpu.requestAdapter() returned no adapter (WebGPU is disabled or no GPU driver is usable).' };
    }
    return { available: true, adapter: summariseAdapter(adapter) };
  } catch (err) {
    return { available: false, reason: `navigator.gpu.requestAdapter() failed: ${(err as Error)?.message ?? String(err)}` };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function detectWasm(env: CapabilityEnv, isolated: boolean): Capabilities['wasm'] {
  const wasm = env.WebAssembly;
  if (!wasm || typeof wasm.validate !== 'function') return { available: false, simd: false, threads: false };
  let simd = false;
  try {
    simd = wasm.validate(WASM_SIMD_PROBE);
  } catch {
    simd = false;
  }
  const threads = isolated && typeof env.SharedArrayBuffer === 'function';
  return { available: true, simd, threads };
}

/** Picks the backend: WebGPU when an adapter exists, else wasm, else the pure-JS cpu backend. */
export function chooseBackend(caps: Pick<Capabilities, 'webgpu' | 'wasm'>): BackendName {
  if (caps.webgpu.available) return 'webgpu';
  if (caps.wasm.available) return 'wasm';
  return 'cpu';
}

/**
 * Detects the capabilities of `env` (default: the current global scope).
 *
 * Args:
 *   env: the global scope to inspect; tests pass plain objects.
 * Returns:
 *   The capabilities, including the chosen backend.
 */
export async function detectCapabilities(env: CapabilityEnv = globalThis as unknown as CapabilityEnv): Promise<Capabilities> {
  const isolated = env.crossOriginIsolated === true;
  const webgpu = await detectWebGPU(env);
  const wasm = detectWasm(env, isolated);
  return {
    context: detectContext(env),
    webgpu,
    wasm,
    crossOriginIsolated: isolated,
    worker: typeof env.Worker === 'function',
    opfs: typeof env.navigator?.storage?.getDirectory === 'function',
    indexedDB: env.indexedDB !== undefined && env.indexedDB !== null,
    hardwareConcurrency: env.navigator?.hardwareConcurrency ?? 1,
    backend: chooseBackend({ webgpu, wasm }),
  };
}

/** One-line, user-facing description of the backend the studio will use, e.g. for the header. */
export function describeBackend(caps: Capabilities): string {
  if (caps.webgpu.available) {
    const a = caps.webgpu.adapter;
    const name = [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'unnamed adapter';
    return a.isFallbackAdapter ? `WebGPU (software adapter: ${name})` : `WebGPU (${name})`;
  }
  if (caps.backend === 'wasm') {
    const extras = [caps.wasm.simd ? 'SIMD' : 'no SIMD', caps.wasm.threads ? 'threads' : 'single thread'].join(', ');
    return `CPU (WebAssembly, ${extras})`;
  }
  return 'CPU (plain JavaScript, very slow)';
}
