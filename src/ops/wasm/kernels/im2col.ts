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
 * (zeros outside the image). For stride 1 with OW = W a whole plane is one block copy; otherwise
 * rows of 16 or more are.
 */
export function im2colT(
  c: Float32Array, src: Float32Array,
  g: Im2colGeometry,
): void {
  const { n0, nb, ci, h, w, oh, ow, kh, kw, sh, sw, pt, pl } = g;
  const plane = oh * ow;
  const width = nb * plane;
  const blockRows = sh === 1 && sw === 1 && ow === w; // 'same'-padded stride-1 convolutions
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
          if (blockRows && oy1 > oy0) {
            // Input rows are consecutive and as wide as output rows: one block copy from the first
            // valid element of the first row to the last of the last row, then the edge columns
            // (which received the neighbouring rows' ends) are zeroed.
            const from = planeBase + (oy0 + a - pt) * w + b - pl + ox0;
            const dst = colBase + oy0 * ow + ox0;
            c.set(src.subarray(from, from + (oy1 - oy0 - 1) * ow + (ox1 - ox0)), dst);
            if (edges) {
              for (let y = oy0; y < oy1; y++) {
                const row = colBase + y * ow;
                for (let xo = 0; xo < ox0; xo++) c[row + xo] = 0;
                for (let xo = ox1; xo < ow; xo++) c[row + xo] = 0;
              }
            }
            continue;
          }
          for (let y = oy0; y < oy1; y++) {
            const dst = colBase + y * ow;
            const from = planeBase + (y * sh + a - pt) * w + b - pl; // input index of output column 0
            if (edges) {
              for (let xo = 0; xo < ox0; xo++) c[dst + xo] = 0;
              for (let xo = ox1; xo < ow; xo++) c[dst + xo] = 0;
            }
            if (sw === 1) {
              if (ox1 - ox0 >= 16) c.set(src.subarray(from + ox0, from + ox1), dst + ox0);
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
