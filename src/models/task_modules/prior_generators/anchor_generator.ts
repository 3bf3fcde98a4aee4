/**
 * Anchor generator of anchor-based heads. Anchors are computed on the CPU in float32 arithmetic
 * (they depend only on feature-map sizes) and cached per shape.
 *
 * Base anchors are centred at `center_offset * stride` (0 = the top-left corner of a cell, as mmdet);
 * for a ratio r = h/w: `h = base * scale * sqrt(r)`, `w = base * scale / sqrt(r)`. Within a level the
 * order is row-major over (y, x), then the base anchors (ratio-major with one scale).
 *
 * @see mmdet/models/task_modules/prior_generators/anchor_generator.py (MMDetection 3.3)
 */

const f = Math.fround;

/** Constructor options (mmdet config keys). */
export interface AnchorGeneratorConfig {
  strides: (number | number[])[];
  ratios: number[];
  scales?: number[];
  base_sizes?: number[];
  scale_major?: boolean;
  octave_base_scale?: number;
  scales_per_octave?: number;
  centers?: unknown;
  center_offset?: number;
  [k: string]: unknown;
}

/** mmdet `AnchorGenerator`. */
export class AnchorGenerator {
  readonly strides: number[];
  readonly ratios: number[];
  readonly scales: number[];
  readonly baseSizes: number[];
  readonly scaleMajor: boolean;
  readonly centerOffset: number;
  /** Base anchors per level, `[A*4]` float32 (x1, y1, x2, y2). */
  readonly baseAnchors: Float32Array[];
  private readonly cache = new Map<string, Float32Array>();

  constructor(cfg: AnchorGeneratorConfig) {
    this.strides = cfg.strides.map((s) => {
      if (Array.isArray(s)) {
        if (s[0] !== s[1]) throw new Error('AnchorGenerator: non-square strides are not supported');
        return s[0]!;
      }
      return s;
    });
    this.ratios = cfg.ratios;
    if (cfg.scales !== undefined) {
      this.scales = cfg.scales;
    } else if (cfg.octave_base_scale !== undefined && cfg.scales_per_octave !== undefined) {
      const n = cfg.scales_per_octave;
      this.scales = Array.from({ length: n }, (_, i) => 2 ** (i / n) * cfg.octave_base_scale!);
    } else {
      throw new Error('AnchorGenerator: either scales or octave_base_scale with scales_per_octave should be set');
    }
    if (cfg.centers != null) throw new Error('AnchorGenerator: custom centers are not supported');
    this.baseSizes = cfg.base_sizes ?? this.strides;
    if (this.baseSizes.length !== this.strides.length) throw new Error('AnchorGenerator: base_sizes and strides differ in length');
    this.scaleMajor = cfg.scale_major ?? true;
    this.centerOffset = cfg.center_offset ?? 0;
    this.baseAnchors = this.baseSizes.map((b) => this.genBaseAnchors(b));
  }

  /** Number of levels. */
  get numLevels(): number {
    return this.strides.length;
  }

  /** Base anchors per location (same for every level). */
  get numBaseAnchors(): number {
    return this.ratios.length * this.scales.length;
  }

  private genBaseAnchors(base: number): Float32Array {
    const ctr = f(this.centerOffset * base);
    const hr = this.ratios.map((r) => f(Math.sqrt(f(r))));
    const wr = hr.map((h) => f(1 / h));
    const ws: number[] = [];
    const hs: number[] = [];
    if (this.scaleMajor) {
      for (let i = 0; i < this.ratios.length; i++) {
        for (const s of this.scales) {
          ws.push(f(f(base * wr[i]!) * f(s)));
          hs.push(f(f(base * hr[i]!) * f(s)));
        }
      }
    } else {
      for (const s of this.scales) {
        for (let i = 0; i < this.ratios.length; i++) {
          ws.push(f(f(base * f(s)) * wr[i]!));
          hs.push(f(f(base * f(s)) * hr[i]!));
        }
      }
    }
    const out = new Float32Array(ws.length * 4);
    for (let a = 0; a < ws.length; a++) {
      out[a * 4] = ctr - f(0.5 * ws[a]!);
      out[a * 4 + 1] = ctr - f(0.5 * hs[a]!);
      out[a * 4 + 2] = ctr + f(0.5 * ws[a]!);
      out[a * 4 + 3] = ctr + f(0.5 * hs[a]!);
    }
    return out;
  }

  /** Anchors of level `level` on a `h`×`w` map: `[h*w*A*4]` float32, order (y, x, a). */
  singleLevelGridPriors(h: number, w: number, level: number): Float32Array {
    const key = `${level}:${h}x${w}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const base = this.baseAnchors[level]!;
    const stride = this.strides[level]!;
    const A = base.length / 4;
    const out = new Float32Array(h * w * A * 4);
    let o = 0;
    for (let y = 0; y < h; y++) {
      const sy = y * stride;
      for (let x = 0; x < w; x++) {
        const sx = x * stride;
        for (let a = 0; a < A; a++) {
          out[o++] = base[a * 4]! + sx;
          out[o++] = base[a * 4 + 1]! + sy;
          out[o++] = base[a * 4 + 2]! + sx;
          out[o++] = base[a * 4 + 3]! + sy;
        }
      }
    }
    this.cache.set(key, out);
    return out;
  }

  /** Anchors of every level for feature-map sizes `[[h, w], …]`. */
  gridPriors(featmapSizes: [number, number][]): Float32Array[] {
    return featmapSizes.map(([h, w], i) => this.singleLevelGridPriors(h, w, i));
  }
}
