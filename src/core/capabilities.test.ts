import { describe, expect, it } from 'vitest';
import { WASM_SIMD_PROBE, chooseBackend, describeBackend, detectCapabilities } from './capabilities.ts';
import type { CapabilityEnv } from './capabilities.ts';

const swiftShader = {
  info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)', isFallbackAdapter: true },
  features: new Set(['timestamp-query', 'float32-filterable']),
  limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30, maxComputeWorkgroupStorageSize: 32768 },
};

function browserLike(adapter: unknown, extra: Partial<CapabilityEnv> = {}): CapabilityEnv {
  return {
    document: {},
    navigator: { gpu: { requestAdapter: async () => adapter as never }, hardwareConcurrency: 8, storage: { getDirectory: () => undefined } },
    crossOriginIsolated: true,
    WebAssembly,
    SharedArrayBuffer,
    Worker: function Worker() {},
    indexedDB: {},
    ...extra,
  };
}

describe('WASM_SIMD_PROBE', () => {
  it('is a valid module where SIMD exists (Node 20 has it) and invalid once its types disagree', () => {
    expect(WebAssembly.validate(WASM_SIMD_PROBE)).toBe(true);
    const broken = WASM_SIMD_PROBE.slice();
    broken[14] = 0x7f; // declare the result i32: the v128.const body no longer type-checks
    expect(WebAssembly.validate(broken)).toBe(false);
  });
});

describe('detectCapabilities', () => {
  it('reports a WebGPU adapter and picks webgpu', async () => {
    const caps = await detectCapabilities(browserLike(swiftShader));
    expect(caps.context).toBe('window');
    expect(caps.webgpu.available).toBe(true);
    if (!caps.webgpu.available) throw new Error('unreachable');
    expect(caps.webgpu.adapter.isFallbackAdapter).toBe(true);
    expect(caps.webgpu.adapter.features).toEqual(['float32-filterable', 'timestamp-query']);
    expect(caps.webgpu.adapter.limits.maxComputeWorkgroupStorageSize).toBe(32768);
    expect(caps.backend).toBe('webgpu');
    expect(caps.wasm).toEqual({ available: true, simd: true, threads: true });
    expect(caps.opfs).toBe(true);
    expect(caps.hardwareConcurrency).toBe(8);
    expect(describeBackend(caps)).toBe('WebGPU (software adapter: google swiftshader SwiftShader Device (Subzero))');
  });

  it('falls back to wasm when requestAdapter returns null, and says why', async () => {
    const caps = await detectCapabilities(browserLike(null, { crossOriginIsolated: false }));
    expect(caps.webgpu.available).toBe(false);
    if (caps.webgpu.available) throw new Error('unreachable');
    expect(caps.webgpu.reason).toMatch(/returned no adapter/);
    expect(caps.backend).toBe('wasm');
    expect(caps.wasm.threads).toBe(false);
    expect(describeBackend(caps)).toBe('CPU (WebAssembly, SIMD, single thread)');
  });

  it('falls back when navigator.gpu is missing or requestAdapter throws', async () => {
    const noGpu = await detectCapabilities({ navigator: {}, WebAssembly });
    expect(noGpu.webgpu.available).toBe(false);
    expect(noGpu.backend).toBe('wasm');
    const throwing = await detectCapabilities({
      navigator: { gpu: { requestAdapter: async () => { throw new Error('device lost'); } } },
    });
    expect(throwing.webgpu).toEqual({ available: false, reason: 'navigator.gpu.requestAdapter() failed: device lost' });
    expect(throwing.backend).toBe('cpu');
    expect(describeBackend(throwing)).toMatch(/plain JavaScript/);
  });

  it('detects the Node context from process.versions', async () => {
    const caps = await detectCapabilities({ process: { versions: { node: '20.0.0' } } });
    expect(caps.context).toBe('node');
    expect(caps.worker).toBe(false);
    expect(caps.indexedDB).toBe(false);
  });

  it('chooseBackend orders webgpu > wasm > cpu', () => {
    const off = { available: false as const, reason: '' };
    expect(chooseBackend({ webgpu: off, wasm: { available: false, simd: false, threads: false } })).toBe('cpu');
    expect(chooseBackend({ webgpu: off, wasm: { available: true, simd: false, threads: false } })).toBe('wasm');
  });
});
