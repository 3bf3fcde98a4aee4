/**
 * Micro-benchmark of `Conv2DBackpropFilter` on tfjs-webgpu, for the gpu-kit (../shared/tools/gpu-kit):
 * tfjs-backend-webgpu 4.22's own kernel against DetStudio's tiled split-K kernel
 * (src/ops/kernels/Conv2DBackpropFilter_webgpu.ts) with its default tile and each other tile, on the
 * Mask R-CNN R50-FPN shapes of bench/gpu/results-2026-11-28-h200/bench-profile.log (1024×2048). Each
 * tiled result is checked against the original kernel's (max |Δ| / max |ref|). One JSON line per
 * (shape, kernel), also to $KIT_RESULTS_DIR/conv-dw.jsonl. Timing: `reps` calls queued, one element
 * of the last output read back; median over `samples`.
 *
 * Build (here):  bash ../shared/tools/gpu-kit/make-kit.sh bench/gpu/conv_dw_webgpu.ts .gpu-kit-dw
 *                (`/.gpu-kit-dw/` in .git/info/exclude)
 * Run (there):   bash .gpu-kit-dw/run-on-gpu.sh .gpu-kit-dw [--samples=N] [--reps=N] [--only=NAME,...]
 *                [--no-original] [--no-variants] [--small]  (--small: tiny shapes, for SwiftShader)
 * Device call:   command `for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; bash .gpu-kit-dw/run-on-gpu.sh .gpu-kit-dw`,
 *                carry [".gpu-kit-dw", ".gl"] (.gl: the GL/Vulkan loader debs, see results-2026-11-28-h200/README.md;
 *                with only the kit's libvulkan1 Dawn finds no driver).
 * Measured (H200, 2026-11-28, wall time per call, 5×5 samples; before the tile defaults were set from
 * this run): 3×3 256→256 at 256×512 165.7 ms → 6.3 ms (24 TFLOP/s); 1×1 256→3 57.2 → 0.37 ms;
 * 1×1 256→12 56.6 → 0.37 ms; 1×1 256→256 57.8 → 1.1–1.3 ms; 3×3 64→64 52.2 → 0.95 ms; the
 * 512-channel and stride-2 shapes 7.8–14.6 → 0.6–0.75 ms. Max |Δ| / max |ref| vs tfjs ≤ 1.9e-5.
 */
import 'gpu-kit/setup-dawn';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-webgpu';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/ops/backend';
import {
  conv2DBackpropFilterTiled,
  originalWebGPUConv2DBackpropFilter,
  planDerFilterLaunch,
} from '../../src/ops/kernels/Conv2DBackpropFilter_webgpu';
import { chooseDerFilterTile, type DerFilterTile, type DerFilterTileName } from '../../src/ops/conv2d_backprop_filter_webgpu';

const args: Record<string, string> = {};
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (m) args[m[1]!] = m[2] ?? 'true';
}
const SMALL = args.small === 'true';
const SAMPLES = Number(args.samples ?? (SMALL ? 2 : 5));
const REPS = Number(args.reps ?? (SMALL ? 1 : 5));
const ONLY = args.only ? new Set(args.only.split(',')) : null;
const ORIGINAL = args['no-original'] !== 'true';

/** Candidate tiles beyond the named ones (`--no-variants` skips them). */
const WIDE_VARIANTS: Record<string, DerFilterTile> = args['no-variants'] === 'true' ? {} : {
  t128_k8: { wx: 16, wy: 16, vn: 2, vm: 2, tk: 8 },
  t64_8x8: { wx: 8, wy: 8, vn: 2, vm: 2, tk: 16 },
  t128x64: { wx: 16, wy: 16, vn: 1, vm: 2, tk: 16 },
  t64_k32: { wx: 16, wy: 16, vn: 1, vm: 1, tk: 32 },
};
const NARROW_VARIANTS: Record<string, DerFilterTile> = args['no-variants'] === 'true' ? {} : {
  n4: { wx: 1, wy: 64, vn: 1, vm: 1, tk: 8 },
  n16_128t: { wx: 4, wy: 32, vn: 1, vm: 1, tk: 16 },
};

interface Shape {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid' | number;
}

/** R50-FPN filter gradients at 1024×2048 (bench-profile.log's slowest), or tiny ones with --small. */
const SHAPES: Shape[] = SMALL
  ? [
      { name: 'k3_16x16_c8', x: [1, 16, 16, 8], filter: [3, 3, 8, 8], strides: 1, pad: 'same' },
      { name: 'k1_c8_to3', x: [1, 16, 16, 8], filter: [1, 1, 8, 3], strides: 1, pad: 'valid' },
    ]
  : [
      { name: 'fpn_k3_256x512_c256', x: [1, 256, 512, 256], filter: [3, 3, 256, 256], strides: 1, pad: 'same' },
      { name: 'rpn_cls_k1_256x512_c256_to3', x: [1, 256, 512, 256], filter: [1, 1, 256, 3], strides: 1, pad: 'valid' },
      { name: 'rpn_reg_k1_256x512_c256_to12', x: [1, 256, 512, 256], filter: [1, 1, 256, 12], strides: 1, pad: 'valid' },
      { name: 'lateral_k1_256x512_c256', x: [1, 256, 512, 256], filter: [1, 1, 256, 256], strides: 1, pad: 'valid' },
      { name: 'down_k1s2_256x512_c256_to512', x: [1, 256, 512, 256], filter: [1, 1, 256, 512], strides: 2, pad: 'valid' },
      { name: 'k1_128x256_c512_to256', x: [1, 128, 256, 512], filter: [1, 1, 512, 256], strides: 1, pad: 'valid' },
      { name: 'k3s2_256x512_c128', x: [1, 256, 512, 128], filter: [3, 3, 128, 128], strides: 2, pad: 1 },
      { name: 'k3_256x512_c64', x: [1, 256, 512, 64], filter: [3, 3, 64, 64], strides: 1, pad: 'same' },
      { name: 'fpn_k3_64x128_c256', x: [1, 64, 128, 256], filter: [3, 3, 256, 256], strides: 1, pad: 'same' },
      { name: 'k3_32x64_c512', x: [1, 32, 64, 512], filter: [3, 3, 512, 512], strides: 1, pad: 'same' },
    ];

const resultsDir = process.env.KIT_RESULTS_DIR ?? join(process.cwd(), 'kit-results');
mkdirSync(resultsDir, { recursive: true });
const resultsFile = join(resultsDir, 'conv-dw.jsonl');
writeFileSync(resultsFile, '');

function emit(obj: Record<string, unknown>): void {
  const line = JSON.stringify(obj);
  console.log(line);
  appendFileSync(resultsFile, `${line}\n`);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function sync(t: tf.Tensor): Promise<void> {
  const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), 0, 1));
  await one.data();
  one.dispose();
}

async function time(fn: () => tf.Tensor, samples: number, reps: number): Promise<number[]> {
  const run = async (n: number): Promise<void> => {
    let last: tf.Tensor | null = null;
    for (let i = 0; i < n; i++) {
      last?.dispose();
      last = fn();
    }
    await sync(last!);
    last!.dispose();
  };
  await run(1); // compile + warm-up
  const ms: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    await run(reps);
    ms.push((performance.now() - t0) / reps);
  }
  return ms;
}

async function main(): Promise<void> {
  const info = await initBackend({ prefer: 'webgpu' });
  if (info.name !== 'webgpu') throw new Error(`no WebGPU: ${info.notice}`);
  emit({ kind: 'adapter', notice: info.notice, fallback: info.isFallbackAdapter });
  const backend = tf.backend();
  const original = originalWebGPUConv2DBackpropFilter();
  if (original == null) throw new Error('the tiled Conv2DBackpropFilter was not installed by initBackend');
  for (const s of SHAPES) {
    if (ONLY && !ONLY.has(s.name)) continue;
    const conv = tf.backend_util.computeConv2DInfo(s.x, s.filter, s.strides, 1, s.pad);
    const dyShape: [number, number, number, number] = [s.x[0], conv.outHeight, conv.outWidth, s.filter[3]];
    const x = tf.randomUniform(s.x, -1, 1, 'float32', 1);
    const dy = tf.randomUniform(dyShape, -1, 1, 'float32', 2);
    const attrs = { strides: s.strides, pad: s.pad, dataFormat: 'NHWC', filterShape: s.filter } as unknown as tf.NamedAttrMap;
    const kernelArgs = { inputs: { x, dy }, backend, attrs };
    const positions = dyShape[0] * dyShape[1] * dyShape[2];
    const gflop = (2 * positions * s.filter.reduce((a, b) => a * b, 1)) / 1e9;
    const shape = `${s.x.join('x')} k${s.filter[0]}s${s.strides} ${s.filter[2]}->${s.filter[3]}`;
    const report = (kernel: string, ms: number[], extra: Record<string, unknown> = {}): number => {
      const med = median(ms);
      emit({ kind: 'result', name: s.name, shape, kernel, ms_median: +med.toFixed(3), ms_min: +Math.min(...ms).toFixed(3), gflops: +(gflop / (med / 1e3)).toFixed(1), ...extra });
      return med;
    };
    let ref: Float32Array | null = null;
    let originalMs = NaN;
    if (ORIGINAL) {
      const out = tf.engine().makeTensorFromTensorInfo(original(kernelArgs) as tf.TensorInfo);
      ref = (await out.data()) as Float32Array;
      out.dispose();
      originalMs = report('tfjs-4.22', await time(() => tf.engine().makeTensorFromTensorInfo(original(kernelArgs) as tf.TensorInfo), Math.min(SAMPLES, 3), 1));
    }
    const chosen = chooseDerFilterTile(s.filter[2], s.filter[3]);
    const names: DerFilterTileName[] = s.filter[3] > 16 ? ['t64', 't128'] : ['n16', 't64'];
    const variants: [string, DerFilterTileName | DerFilterTile][] = names.map((n) => [n, n]);
    for (const [n, t] of Object.entries(s.filter[3] > 16 ? WIDE_VARIANTS : NARROW_VARIANTS)) variants.push([n, t]);
    for (const [label, tile] of variants) {
      const launch = planDerFilterLaunch(s.filter, positions, tile);
      const run = (): tf.Tensor => tf.engine().makeTensorFromTensorInfo(conv2DBackpropFilterTiled(kernelArgs, tile)!);
      let err: number | null = null;
      if (ref) {
        const out = run();
        const got = (await out.data()) as Float32Array;
        out.dispose();
        let num = 0;
        let den = 0;
        ref.forEach((r, i) => {
          num = Math.max(num, Math.abs(got[i]! - r));
          den = Math.max(den, Math.abs(r));
        });
        err = num / Math.max(den, 1e-30);
      }
      const med = report(`tiled-${label}${label === chosen ? '-default' : ''}`, await time(run, SAMPLES, REPS), {
        splits: launch.splits,
        workgroups: launch.dispatch[0] * launch.dispatch[1] * launch.dispatch[2],
        max_rel_err: err,
      });
      if (label === chosen && ORIGINAL) emit({ kind: 'speedup', name: s.name, over_tfjs: +(originalMs / med).toFixed(1) });
    }
    tf.dispose([x, dy]);
  }
}

main().catch((e: unknown) => {
  emit({ kind: 'error', error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) });
  process.exitCode = 1;
});
