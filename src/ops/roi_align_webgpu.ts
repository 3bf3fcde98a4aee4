/**
 * WebGPU program for the RoIAlign forward pass (NHWC). One invocation computes one output element
 * `(k, ph, pw, c)`; neighbouring invocations differ in `c`, so their feature reads are contiguous.
 * The WGSL helpers `roiGeometry` / `axisCoeffs` follow torchvision's `roi_align` kernel and are shared
 * with the backward program in `roi_align_grad_webgpu.ts`.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { MAX_SAMPLING_GRID } from './roi_align_impl';

/** Invocations per workgroup of the RoIAlign programs. */
export const ROI_ALIGN_WORKGROUP_SIZE = 64;

/** Flat dispatch over `size` elements (the backend reshapes it when it exceeds a dimension limit). */
export function flatDispatch(size: number): [number, number, number] {
  return [Math.ceil(size / ROI_ALIGN_WORKGROUP_SIZE), 1, 1];
}

/**
 * WGSL shared by the forward and backward programs: RoI geometry (reading the `Rois` buffer, `[K, 5]`
 * rows `(batch_idx, x1, y1, x2, y2)`, converted to f32 whatever its stored type) and per-axis
 * bilinear coefficients.
 * `numImages`, `height`, `width` are WGSL expressions for the feature-map shape.
 */
export function roiAlignCommonSnippet(aligned: boolean, numImages: string): string {
  return `
  struct RoIGeometry {
    batch : i32,
    startX : f32,
    startY : f32,
    binW : f32,
    binH : f32,
    gridW : i32,
    gridH : i32,
    count : f32,
  };

  struct AxisCoeffs {
    valid : bool,
    lo : i32,
    hi : i32,
    frac : f32,
  };

  fn isFiniteF32(v : f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
  }

  // batch = -1 marks a RoI with an out-of-range batch index or a non-finite coordinate (it
  // produces zeros: a shader cannot throw like the cpu/wasm kernels do).
  fn roiGeometry(k : i32, pooledH : i32, pooledW : i32) -> RoIGeometry {
    var g : RoIGeometry;
    let r = k * 5;
    g.batch = i32(f32(Rois[r]));
    if (g.batch < 0 || g.batch >= ${numImages} || !isFiniteF32(f32(Rois[r + 1])) || !isFiniteF32(f32(Rois[r + 2])) ||
        !isFiniteF32(f32(Rois[r + 3])) || !isFiniteF32(f32(Rois[r + 4]))) {
      g.batch = -1;
      return g;
    }
    let offset = ${aligned ? '0.5' : '0.0'};
    let s = uniforms.spatialScale;
    g.startX = f32(Rois[r + 1]) * s - offset;
    g.startY = f32(Rois[r + 2]) * s - offset;
    var roiW = f32(Rois[r + 3]) * s - offset - g.startX;
    var roiH = f32(Rois[r + 4]) * s - offset - g.startY;
    ${aligned ? '' : 'roiW = max(roiW, 1.0);\n    roiH = max(roiH, 1.0);'}
    g.binW = roiW / f32(pooledW);
    g.binH = roiH / f32(pooledH);
    if (uniforms.samplingRatio > 0) {
      g.gridW = uniforms.samplingRatio;
      g.gridH = uniforms.samplingRatio;
    } else {
      g.gridW = i32(min(ceil(roiW / f32(pooledW)), ${MAX_SAMPLING_GRID}.0));
      g.gridH = i32(min(ceil(roiH / f32(pooledH)), ${MAX_SAMPLING_GRID}.0));
    }
    g.count = f32(max(g.gridW * g.gridH, 1));
    return g;
  }

  // Bilinear neighbours along one axis of 'size' cells for a sample at v; invalid beyond [-1, size].
  fn axisCoeffs(vIn : f32, size : i32) -> AxisCoeffs {
    var a : AxisCoeffs;
    a.valid = !(vIn < -1.0 || vIn > f32(size));
    var v = max(vIn, 0.0);
    a.lo = i32(floor(v));
    if (a.lo >= size - 1) {
      a.lo = size - 1;
      a.hi = size - 1;
      v = f32(a.lo);
    } else {
      a.hi = a.lo + 1;
    }
    a.frac = v - f32(a.lo);
    return a;
  }
`;
}

/** Channels per invocation: 4 (vec4 loads and stores) when the channel count allows, else 1. */
export function channelComponents(channels: number): 1 | 4 {
  return channels % 4 === 0 ? 4 : 1;
}

/**
 * RoIAlign forward: `Feats [N,H,W,C]`, `Rois [K,5]` → `[K, pooledH, pooledW, C]`. When `C % 4 == 0`
 * an invocation computes four neighbouring channels with vec4 arithmetic, so the RoI geometry and
 * bilinear coefficients are computed once per four outputs.
 */
export class RoIAlignProgram implements WebGPUProgram {
  variableNames = ['Feats', 'Rois'];
  uniforms = 'spatialScale : f32, samplingRatio : i32,';
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [ROI_ALIGN_WORKGROUP_SIZE, 1, 1];
  size = true;
  outputComponent: number;
  variableComponents: number[];
  aligned: boolean;

  constructor(numRois: number, pooledHeight: number, pooledWidth: number, channels: number, aligned: boolean) {
    this.outputShape = [numRois, pooledHeight, pooledWidth, channels];
    this.dispatchLayout = { x: [0, 1, 2, 3] };
    this.outputComponent = channelComponents(channels);
    this.variableComponents = [this.outputComponent, 1];
    this.dispatch = flatDispatch((numRois * pooledHeight * pooledWidth * channels) / this.outputComponent);
    this.aligned = aligned;
    this.shaderKey = `roiAlign_${aligned}_${this.outputComponent}`;
  }

  getUserCode(): string {
    const vec = this.outputComponent;
    const zero = vec === 4 ? 'vec4<f32>(0.0)' : '0.0';
    // Reads convert to f32: tfjs's webgpu Cast from int32/bool to float32 only relabels the tensor,
    // so the buffer behind a float32 tensor can still be declared array<i32> (the mask-target path
    // aligns a cast 0/1 bitmap).
    const at = (i: string) => (vec === 4 ? `vec4<f32>(Feats[(${i}) / 4])` : `f32(Feats[${i}])`);
    return `
  ${roiAlignCommonSnippet(this.aligned, 'uniforms.featsShape.x')}

  fn main(index : i32) {
    if (index < uniforms.size) {
      let coords = getCoordsFromIndex(index * ${vec});
      let k = coords[0];
      let ph = coords[1];
      let pw = coords[2];
      let c = coords[3];
      let g = roiGeometry(k, uniforms.outShape[1], uniforms.outShape[2]);
      if (g.batch < 0) {
        setOutputAtIndex(index, ${zero});
        return;
      }
      let height = uniforms.featsShape.y;
      let width = uniforms.featsShape.z;
      let channels = uniforms.featsShape.w;
      let imageBase = g.batch * height * width * channels + c;
      var acc = ${zero};
      for (var iy = 0; iy < g.gridH; iy++) {
        let y = g.startY + f32(ph) * g.binH + (f32(iy) + 0.5) * g.binH / f32(g.gridH);
        let ay = axisCoeffs(y, height);
        if (!ay.valid) {
          continue;
        }
        let rowLo = imageBase + ay.lo * width * channels;
        let rowHi = imageBase + ay.hi * width * channels;
        let hy = 1.0 - ay.frac;
        for (var ix = 0; ix < g.gridW; ix++) {
          let x = g.startX + f32(pw) * g.binW + (f32(ix) + 0.5) * g.binW / f32(g.gridW);
          let ax = axisCoeffs(x, width);
          if (!ax.valid) {
            continue;
          }
          let hx = 1.0 - ax.frac;
          acc = acc + hy * hx * ${at('rowLo + ax.lo * channels')} + hy * ax.frac * ${at('rowLo + ax.hi * channels')} +
              ay.frac * hx * ${at('rowHi + ax.lo * channels')} + ay.frac * ax.frac * ${at('rowHi + ax.hi * channels')};
        }
      }
      setOutputAtIndex(index, acc / g.count);
    }
  }
`;
  }
}
