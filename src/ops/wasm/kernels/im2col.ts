/**
 * The transposed im2col matrix of an NHWC convolution, shared by the wasm convolution kernels:
 *
 *   colsᵀ[(kh·KW + kw)·Ci + ci, (n, oh, ow)] = x[n, oh·sh + kh − pt, ow·sw + kw − pl, ci]  (0 outside)
 *
 * Built from x transposed to `[N, Ci, H, W]`, so every row segment is a contiguous copy.
 */

/** Geometry of {@link im2colT}: images `n0 … n0 + nb − 1`, input/output sizes, kernel, stride, padding. */
export interface Im2colGeometry {
  n0: number;
  nb: number;
  ci: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
}

/**
 * Fills `colsᵀ` (`c`, `[KH·KW·Ci, nb·OH·OW]`) rows `(kh, kw, ci)` × columns `(n − n0, oh, ow)` for
 * images `n0 … n0 + nb − 1` from `src`, x transposed to `[N, Ci, H, W]`: every entry is written
 * (zeros outside the image). Stride-1 rows of 64 or more are block copies.
 */
export function im2colT(
  c: Float32Array, src: Float32Array,
  g: Im2colGeometry,
): void {
  const { n0, nb, ci, h, w, oh, ow, kh, kw, sh, sw, pt, pl } = g;
  const plane = oh * ow;
  const width = nb * plane;
  for (let a = 0; a < kh; a++) {
    // Output rows / columns whose input position lies inside the image.
    const oy0 = Math.min(oh, Math.max(0, Math.ceil((pt - a) / sh)));
    const oy1 = Math.max(oy0, Math.min(oh, Math.floor((h - 1 + pt - a) / sh) + 1));
    for (let b = 0; b < kw; b++) {
      const ox0 = Math.min(ow, Math.max(0, Math.ceil((pl - b) / sw)));
      const ox1 = Math.max(ox0, Math.min(ow, Math.floor((w - 1 + pl - b) / sw) + 1));
      const edges = ox0 > 0 || ox1 < ow;
      for (let k = 0; k < ci; k++) {
        const rowBase = ((a * kw + b) * ci + k) * width;
        for (let i = 0; i < nb; i++) {
          const planeBase = ((n0 + i) * ci + k) * h * w;
          const colBase = rowBase + i * plane;
          if (oy0 > 0) c.fill(0, colBase, colBase + oy0 * ow);
          if (oy1 < oh) c.fill(0, colBase + oy1 * ow, colBase + plane);
          for (let y = oy0; y < oy1; y++) {
            const dst = colBase + y * ow;
            const from = planeBase + (y * sh + a - pt) * w + b - pl; // input index of output column 0
            if (edges) {
              for (let xo = 0; xo < ox0; xo++) c[dst + xo] = 0;
              for (let xo = ox1; xo < ow; xo++) c[dst + xo] = 0;
            }
            if (sw === 1) {
              if (ox1 - ox0 >= 64) c.set(src.subarray(from + ox0, from + ox1), dst + ox0);
              else for (let xo = ox0; xo < ox1; xo++) c[dst + xo] = src[from + xo]!;
            } else {
              for (let xo = ox0; xo < ox1; xo++) c[dst + xo] = src[from + xo * sw]!;
            }
          }
        }
      }
    }
  }
}
