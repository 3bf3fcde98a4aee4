/**
 * WebGPU program for the RoIAlign backward pass (NHWC). One invocation takes one upstream-gradient
 * element `(k, ph, pw, c)` and scatters it onto the (up to) four feature cells of every bilinear
 * sample of its bin. Different RoIs and bins hit the same cells, so the output is accumulated with
 * atomics: WGSL has no float atomics, so each add is a compare-exchange loop on the float's bits
 * (`result` is `array<atomic<i32>>` when `atomic` is set). The output must be zero-filled first.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { channelComponents, flatDispatch, roiAlignCommonSnippet, ROI_ALIGN_WORKGROUP_SIZE } from './roi_align_webgpu';

/**
 * RoIAlign backward: `Dy [K,pooledH,pooledW,C]`, `Rois [K,5]` → accumulates into `dx [N,H,W,C]`.
 * When `C % 4 == 0` an invocation handles four neighbouring channels (one vec4 read of `Dy`, shared
 * geometry), issuing one atomic add per channel. The `dySize` uniform counts invocations.
 */
export class RoIAlignGradProgram implements WebGPUProgram {
  variableNames = ['Dy', 'Rois'];
  uniforms = 'spatialScale : f32, samplingRatio : i32, dySize : i32,';
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [ROI_ALIGN_WORKGROUP_SIZE, 1, 1];
  atomic = true;
  variableComponents: number[];
  /** Channels per invocation (1 or 4). */
  vec: 1 | 4;
  aligned: boolean;

  constructor(xShape: number[], dyShape: number[], aligned: boolean) {
    this.outputShape = xShape;
    this.dispatchLayout = { x: [0, 1, 2, 3] };
    this.vec = channelComponents(xShape[3]);
    this.variableComponents = [this.vec, 1];
    this.dispatch = flatDispatch((dyShape[0] * dyShape[1] * dyShape[2] * dyShape[3]) / this.vec);
    this.aligned = aligned;
    this.shaderKey = `roiAlignGrad_${aligned}_${this.vec}`;
  }

  /** WGSL adding `weight * grad` (all of the invocation's channels) at element offset `at`. */
  private addCorner(at: string, weight: string): string {
    if (this.vec === 1) return `addToResult(${at}, ${weight} * grad);`;
    return `{
            let p = ${at};
            let v = ${weight} * grad;
            addToResult(p, v.x);
            addToResult(p + 1, v.y);
            addToResult(p + 2, v.z);
            addToResult(p + 3, v.w);
          }`;
  }

  getUserCode(): string {
    return `
  ${roiAlignCommonSnippet(this.aligned, 'uniforms.outShape.x')}

  fn addToResult(i : i32, v : f32) {
    var old = atomicLoad(&result[i]);
    loop {
      let swapped = atomicCompareExchangeWeak(&result[i], old, bitcast<i32>(bitcast<f32>(old) + v));
      if (swapped.exchanged) {
        break;
      }
      old = swapped.old_value;
    }
  }

  fn main(index : i32) {
    if (index < uniforms.dySize) {
      let channels = uniforms.dyShape.w;
      let pooledW = uniforms.dyShape.z;
      let pooledH = uniforms.dyShape.y;
      let e = index * ${this.vec};
      let c = e % channels;
      let t = e / channels;
      let pw = t % pooledW;
      let t2 = t / pooledW;
      let ph = t2 % pooledH;
      let k = t2 / pooledH;
      let g = roiGeometry(k, pooledH, pooledW);
      if (g.batch < 0) {
        return;
      }
      let height = uniforms.outShape.y;
      let width = uniforms.outShape.z;
      let imageBase = g.batch * height * width * channels + c;
      let grad = Dy[index] / g.count;
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
          ${this.addCorner('rowLo + ax.lo * channels', 'hy * hx')}
          ${this.addCorner('rowLo + ax.hi * channels', 'hy * ax.frac')}
          ${this.addCorner('rowHi + ax.lo * channels', 'ay.frac * hx')}
          ${this.addCorner('rowHi + ax.hi * channels', 'ay.frac * ax.frac')}
        }
      }
    }
  }
`;
  }
}
