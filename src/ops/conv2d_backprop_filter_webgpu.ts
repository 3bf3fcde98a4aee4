/**
 * WebGPU programs for the filter gradient of a 2-D convolution (NHWC input, HWIO filter):
 *
 *   dW[kh, kw, ci, co] = Σ_{n, y, x} X[n, y·sh − padTop + kh, x·sw − padLeft + kw, ci] · dY[n, y, x, co]
 *
 * (X read as zero outside the image). For each filter tap (kh, kw) this is a GEMM `Aᵀ·B` with
 * M = Cin, N = Cout and a long shared dimension K = N·Hout·Wout (the output positions): row p of A
 * is the Cin-vector of X under tap (kh, kw) at output position p, row p of B is dY's Cout-vector at p.
 * Both rows are contiguous in memory, so every tile load is coalesced along Cin / Cout.
 *
 * {@link Conv2DDerFilterTiledProgram}: one workgroup per (Cin tile, Cout tile, tap, K split); the
 * workgroup stages a `TK × TM` slice of A and a `TK × TN` slice of B in workgroup memory (as vec4s)
 * and each thread accumulates a `4·VM × 4·VN` register block. With more than one split, each writes
 * its partial sums to row `split` of a `[splits, KH·KW·Cin·Cout]` tensor and
 * {@link SplitSumProgram} adds the rows up; with one split it writes dW directly.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/** Tile shape of {@link Conv2DDerFilterTiledProgram}. */
export interface DerFilterTile {
  /** Threads along Cout (workgroup x). */
  wx: number;
  /** Threads along Cin (workgroup y). */
  wy: number;
  /** vec4 columns of Cout per thread (the thread's Cout block is 4·vn wide). */
  vn: number;
  /** vec4 rows of Cin per thread (the thread's Cin block is 4·vm tall). */
  vm: number;
  /** Output positions (K) staged per step. */
  tk: number;
}

/** Cout tile width (`4·vn·wx`). */
export const tileN = (t: DerFilterTile): number => 4 * t.vn * t.wx;
/** Cin tile height (`4·vm·wy`). */
export const tileM = (t: DerFilterTile): number => 4 * t.vm * t.wy;
/** Workgroup memory of a tile, bytes. */
export const tileSharedBytes = (t: DerFilterTile): number => 4 * t.tk * (tileM(t) + tileN(t));

/**
 * Named tiles: `n16` 256 Cin × 16 Cout (4×64 threads, 4×4 each; for Cout ≤ 16 such as RPN's
 * objectness / box convs), `t64` 64 × 64 (16×16 threads, 4×4 each) and `t128` 128 × 128 (16×16
 * threads, 8×8 each). Workgroup memory: 8.5, 8 and 16 KiB. Chosen from variants timed on an H200
 * (bench/gpu/conv_dw_webgpu.ts): for Cout 3 / 12 at 256×512, `n16` took 0.37 ms where 64 × 4 and
 * 128 × 16 tiles took 0.6 / 0.48 ms; for the 3×3 256→256 gradient, `t128` took 6.3 ms, 8 staged
 * positions instead of 16 6.6 ms, `t64` 7.5 ms.
 */
export const DER_FILTER_TILES = {
  n16: { wx: 4, wy: 64, vn: 1, vm: 1, tk: 8 },
  t64: { wx: 16, wy: 16, vn: 1, vm: 1, tk: 16 },
  t128: { wx: 16, wy: 16, vn: 2, vm: 2, tk: 16 },
} as const satisfies Record<string, DerFilterTile>;

/** Name of a tile in {@link DER_FILTER_TILES}. */
export type DerFilterTileName = keyof typeof DER_FILTER_TILES;

/**
 * Picks the tile for a `Cin × Cout` filter: `n16` for Cout ≤ 16, so narrow outputs do not waste most
 * of a wide tile, `t128` when both sides are ≥ 128, else `t64`.
 */
export function chooseDerFilterTile(inChannels: number, outChannels: number): DerFilterTileName {
  if (outChannels <= 16) return 'n16';
  if (inChannels >= 128 && outChannels >= 128) return 't128';
  return 't64';
}

/** What {@link planDerFilterSplits} needs. */
export interface SplitPlanInput {
  /** Workgroups without split-K: Cin tiles × Cout tiles × KH·KW. */
  tiles: number;
  /** Shared dimension: N·Hout·Wout. */
  k: number;
  /** Filter elements KH·KW·Cin·Cout (one partial row). */
  filterSize: number;
  /** Taps KH·KW (dispatch z is taps × splits, at most 65535). */
  taps: number;
  /** Threads per workgroup. */
  threads: number;
  /** Staging depth of the tile (chunks are multiples of it). */
  tk: number;
}

/** How K is cut into splits. */
export interface SplitPlan {
  /** Number of K splits (1: no split-K, dW written directly). */
  splits: number;
  /** Output positions per split (a multiple of the tile's `tk`; the last split may be shorter). */
  chunk: number;
}

/** Aim for about this many threads in flight (≈ 4 waves of a 132-SM GPU at 2048 threads/SM). */
const TARGET_THREADS = 1 << 20;
/** Fewest K steps per split: below this the partial-sum traffic outweighs the gain. */
export const MIN_K_PER_SPLIT = 256;
/** Largest partial-sum tensor, elements (128 MiB of f32). */
const MAX_PARTIAL_ELEMENTS = 32 << 20;

/**
 * Split-K rule: enough splits that `tiles × splits` workgroups carry ≈ 2²⁰ threads, but every split
 * keeps ≥ {@link MIN_K_PER_SPLIT} positions, the partial sums stay ≤ 32 Mi elements and dispatch z
 * (taps × splits) ≤ 65535. The chunk is rounded up to a multiple of `tk`, which may lower the count.
 */
export function planDerFilterSplits(p: SplitPlanInput): SplitPlan {
  const wanted = Math.ceil(TARGET_THREADS / p.threads / Math.max(1, p.tiles));
  const byK = Math.floor(p.k / MIN_K_PER_SPLIT);
  const byMemory = Math.floor(MAX_PARTIAL_ELEMENTS / Math.max(1, p.filterSize));
  const byDispatch = Math.floor(65535 / p.taps);
  let splits = Math.max(1, Math.min(wanted, byK, byMemory, byDispatch));
  let chunk = Math.ceil(p.k / splits / p.tk) * p.tk;
  splits = Math.max(1, Math.ceil(p.k / chunk));
  if (splits === 1) chunk = p.k;
  return { splits, chunk };
}

/**
 * Tiled filter-gradient GEMM (see the file comment). Inputs `x [N,H,W,Cin]`, `dy [N,Hout,Wout,Cout]`;
 * output `[splits, KH·KW·Cin·Cout]` (partial sums) or the filter shape when `splits` is 1. Shapes,
 * strides, padding and the split chunk are uniforms; the tile and the vec4 access of each input are
 * compiled in. `inVec4` needs Cin % 4 == 0, `outVec4` Cout % 4 == 0.
 */
export class Conv2DDerFilterTiledProgram implements WebGPUProgram {
  variableNames = ['x', 'dy'];
  uniforms =
    'padTop : i32, padLeft : i32, strideH : i32, strideW : i32, filterH : i32, filterW : i32, ' +
    'inChannels : i32, outChannels : i32, outHeight : i32, outWidth : i32, positions : i32, chunk : i32,';
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y: number[]; z: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  variableComponents: number[];
  tile: DerFilterTile;
  inVec4: boolean;
  outVec4: boolean;

  constructor(outputShape: number[], dispatch: [number, number, number], tile: DerFilterTile, inVec4: boolean, outVec4: boolean) {
    this.outputShape = outputShape;
    // Not a flat layout: `main()` takes no index and reads workgroupId / localId itself.
    this.dispatchLayout = outputShape.length === 4 ? { x: [3], y: [2], z: [0, 1] } : { x: [1], y: [0], z: [] };
    this.dispatch = dispatch;
    this.tile = tile;
    this.workgroupSize = [tile.wx, tile.wy, 1];
    this.inVec4 = inVec4;
    this.outVec4 = outVec4;
    this.variableComponents = [inVec4 ? 4 : 1, outVec4 ? 4 : 1];
    const t = tile;
    this.shaderKey = `conv2DDerFilterTiled_${t.wx}_${t.wy}_${t.vn}_${t.vm}_${t.tk}_${inVec4}_${outVec4}`;
  }

  getUserCode(): string {
    const { wx, wy, vn, vm, tk } = this.tile;
    const tm4 = tileM(this.tile) / 4;
    const tn4 = tileN(this.tile) / 4;
    const threads = wx * wy;
    const rows = 4 * vm;
    // Unrolled register-block update for one staged position `k`.
    const step: string[] = [];
    for (let j = 0; j < vn; j++) step.push(`let b${j} = tileB[kRow * ${tn4} + tx + ${j * wx}];`);
    for (let i = 0; i < vm; i++) step.push(`let a${i} = tileA[kRow * ${tm4} + ty + ${i * wy}];`);
    for (let i = 0; i < vm; i++) {
      for (let e = 0; e < 4; e++) {
        for (let j = 0; j < vn; j++) {
          const r = (i * 4 + e) * vn + j;
          step.push(`acc[${r}] = fma(vec4<f32>(a${i}[${e}]), b${j}, acc[${r}]);`);
        }
      }
    }
    // Unrolled write-back: row (i, e) is Cin index m0 + 4·(ty + i·wy) + e, column j is Cout vec4 tx + j·wx.
    const write: string[] = [];
    for (let i = 0; i < vm; i++) {
      for (let e = 0; e < 4; e++) {
        write.push(`{
        let ci = m0 + 4 * (ty + ${i * wy}) + ${e};
        if (ci < uniforms.inChannels) {`);
        for (let j = 0; j < vn; j++) {
          write.push(`storeRow(base + ci * uniforms.outChannels, n0 + 4 * (tx + ${j * wx}), acc[${(i * 4 + e) * vn + j}]);`);
        }
        write.push('}\n      }');
      }
    }
    const loadX = this.inVec4
      ? `if (ci < uniforms.inChannels) {
          return x[(rowStart + ci) / 4];
        }
        return vec4<f32>(0.0);`
      : `var v = vec4<f32>(0.0);
        for (var e = 0; e < 4; e++) {
          if (ci + e < uniforms.inChannels) {
            v[e] = x[rowStart + ci + e];
          }
        }
        return v;`;
    const loadDy = this.outVec4
      ? `if (co < uniforms.outChannels) {
          return dy[(p * uniforms.outChannels + co) / 4];
        }
        return vec4<f32>(0.0);`
      : `var v = vec4<f32>(0.0);
        for (var e = 0; e < 4; e++) {
          if (co + e < uniforms.outChannels) {
            v[e] = dy[p * uniforms.outChannels + co + e];
          }
        }
        return v;`;
    return `
  var<workgroup> tileA : array<vec4<f32>, ${tk * tm4}>;
  var<workgroup> tileB : array<vec4<f32>, ${tk * tn4}>;

  // Four Cin values of X under tap (kh, kw) at output position p (zero in the padding).
  fn loadA(p : i32, kEnd : i32, kh : i32, kw : i32, ci : i32) -> vec4<f32> {
    if (p >= kEnd) {
      return vec4<f32>(0.0);
    }
    let perImage = uniforms.outHeight * uniforms.outWidth;
    let n = p / perImage;
    let r = p - n * perImage;
    let oy = r / uniforms.outWidth;
    let ox = r - oy * uniforms.outWidth;
    let iy = oy * uniforms.strideH - uniforms.padTop + kh;
    let ix = ox * uniforms.strideW - uniforms.padLeft + kw;
    if (iy < 0 || iy >= uniforms.xShape.y || ix < 0 || ix >= uniforms.xShape.z) {
      return vec4<f32>(0.0);
    }
    let rowStart = ((n * uniforms.xShape.y + iy) * uniforms.xShape.z + ix) * uniforms.inChannels;
    ${loadX}
  }

  // Four Cout values of dY at output position p.
  fn loadB(p : i32, kEnd : i32, co : i32) -> vec4<f32> {
    if (p >= kEnd) {
      return vec4<f32>(0.0);
    }
    ${loadDy}
  }

  fn storeRow(rowStart : i32, co : i32, v : vec4<f32>) {
    for (var e = 0; e < 4; e++) {
      if (co + e < uniforms.outChannels) {
        setOutputAtIndex(rowStart + co + e, v[e]);
      }
    }
  }

  ${'fn main()'} {
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let lid = i32(localIndex);
    let n0 = i32(workgroupId.x) * ${4 * tn4};
    let m0 = i32(workgroupId.y) * ${4 * tm4};
    let taps = uniforms.filterH * uniforms.filterW;
    let tap = i32(workgroupId.z) % taps;
    let split = i32(workgroupId.z) / taps;
    let kh = tap / uniforms.filterW;
    let kw = tap - kh * uniforms.filterW;
    let kStart = split * uniforms.chunk;
    let kEnd = min(kStart + uniforms.chunk, uniforms.positions);

    var acc : array<vec4<f32>, ${rows * vn}>;
    // The step count depends on uniforms only (barriers need uniform control flow); the last split's
    // surplus steps load zeros.
    let steps = (uniforms.chunk + ${tk - 1}) / ${tk};
    for (var step = 0; step < steps; step++) {
      let k0 = kStart + step * ${tk};
      for (var s = lid; s < ${tk * tm4}; s += ${threads}) {
        let kRow = s / ${tm4};
        let m4 = s - kRow * ${tm4};
        tileA[s] = loadA(k0 + kRow, kEnd, kh, kw, m0 + 4 * m4);
      }
      for (var s = lid; s < ${tk * tn4}; s += ${threads}) {
        let kRow = s / ${tn4};
        let n4 = s - kRow * ${tn4};
        tileB[s] = loadB(k0 + kRow, kEnd, n0 + 4 * n4);
      }
      workgroupBarrier();
      for (var kRow = 0; kRow < ${tk}; kRow++) {
        ${step.join('\n        ')}
      }
      workgroupBarrier();
    }

    let base = (split * taps + tap) * uniforms.inChannels * uniforms.outChannels;
    ${write.join('\n      ')}
  }
`;
  }
}

/**
 * Sums the rows of a `[splits, size]` partial-sum tensor into a tensor of `outputShape`
 * (`size` elements). Row stride `size`, so neighbouring threads read neighbouring elements.
 */
export class SplitSumProgram implements WebGPUProgram {
  variableNames = ['partials'];
  outputShape: number[];
  shaderKey = 'conv2DDerFilterSplitSum';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [256, 1, 1];
  size = true;

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    const groups = Math.ceil(outputShape.reduce((a, b) => a * b, 1) / 256);
    const gx = Math.min(groups, 65535);
    this.dispatch = [gx, Math.ceil(groups / gx), 1];
  }

  getUserCode(): string {
    return `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let splits = uniforms.partialsShape.x;
      var sum = 0.0;
      for (var s = 0; s < splits; s++) {
        sum += partials[s * uniforms.size + index];
      }
      setOutputAtIndex(index, sum);
    }
  }
`;
  }
}
