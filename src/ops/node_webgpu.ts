/**
 * WebGPU for Node through Dawn (the npm package `webgpu`): installs Dawn's `GPU` as `navigator.gpu`
 * plus the WebGPU globals (`GPUBufferUsage`, …). It must run BEFORE `@tensorflow/tfjs-backend-webgpu`
 * is imported, because that module registers its backend only if `navigator.gpu` exists at import
 * time; `initBackend` takes care of the order.
 *
 * Dawn picks the Vulkan driver the system offers, so on a Linux box with a GPU and its Vulkan driver
 * this is a real GPU. Without one, Chromium's SwiftShader can stand in (a software, "fallback"
 * adapter, for correctness checks on tiny shapes only):
 * `VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json`, and, where the system has no
 * `libvulkan.so.1`, `LD_LIBRARY_PATH=/usr/lib/chromium` (both must be set before Node starts).
 * Also locates the wasm binaries for Node. Browser code never imports this file.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where Debian's Chromium keeps SwiftShader's Vulkan ICD (and its own libvulkan). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let installed: Promise<boolean> | null = null;

/**
 * Installs Dawn as `navigator.gpu` (once). Resolves false, with no side effects beyond a warning
 * from Dawn, when the `webgpu` package cannot be loaded.
 *
 * @param dawnOptions Dawn toggles passed to `create()` (e.g. `['backend=vulkan']`).
 */
export function installNodeWebGPU(dawnOptions: string[] = []): Promise<boolean> {
  installed ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (g.navigator?.gpu) return true;
    let dawn: { create(options: string[]): GPU; globals: object };
    try {
      // Loaded at run time through require so that bundlers never try to include the native addon.
      dawn = createRequire(import.meta.url)('webgpu') as typeof dawn;
    } catch {
      try {
        dawn = (await import('webgpu')) as typeof dawn;
      } catch {
        return false;
      }
    }
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create(dawnOptions);
    if (g.navigator) {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
    } else {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
    return true;
  })();
  return installed;
}

/**
 * The folder holding tfjs's wasm binaries, as a path prefix for `setWasmPaths` (in Node, tfjs's ES
 * build would otherwise look for them beside its emscripten glue, where they are not).
 */
export function nodeWasmDir(): string {
  const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return join(dirname(pkg), 'dist') + '/';
}
