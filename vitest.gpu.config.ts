/**
 * Vitest config for the WebGPU tests (`*.gpu.test.ts`): `npx vitest run -c vitest.gpu.config.ts`.
 * They run in Node on Dawn (npm `webgpu`). Unless VK_ICD_FILENAMES is already set (or
 * DETSTUDIO_SYSTEM_VULKAN=1 asks for the system's Vulkan drivers, e.g. a real GPU), Dawn is pointed at
 * Chromium's SwiftShader; where the system has no libvulkan.so.1, Chromium's own is put on
 * LD_LIBRARY_PATH. Both are set here, in the main process, so the forked test workers start with them
 * (the dynamic loader reads them at process start). SwiftShader is slow: keep shapes tiny.
 */
import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const CHROMIUM_DIR = '/usr/lib/chromium';
const SWIFTSHADER_ICD = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;
const SYSTEM_LIBVULKAN = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
];

if (process.env.DETSTUDIO_SYSTEM_VULKAN !== '1' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}
if (!SYSTEM_LIBVULKAN.some((p) => existsSync(p)) && existsSync(`${CHROMIUM_DIR}/libvulkan.so.1`)) {
  process.env.LD_LIBRARY_PATH = [CHROMIUM_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
}

export default defineConfig({
  test: {
    include: ['src/**/*.gpu.test.ts'],
    exclude: ['node_modules/**'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    setupFiles: ['src/testing/setup_tfjs.ts'],
  },
});
