/**
 * WebGPU programs of the fused momentum-SGD update (`torch.optim.SGD`, `_single_tensor_sgd`). A
 * program has one output, so a parameter with momentum takes two dispatches: the momentum buffer
 * ({@link SGDMomentumBufferProgram}), then the parameter ({@link SGDParamUpdateProgram}), where the
 * generic tfjs path dispatches one kernel per `mul`/`add` (6 to 8 per parameter).
 *
 * Every hyper-parameter (lr, momentum, dampening, weight decay) is a uniform, so the LR and momentum
 * schedulers never cause a shader recompile; only structure (first step or not, Nesterov or not,
 * momentum or not, vec4 or scalar access) goes into the shader key. The arithmetic keeps the
 * operation order of `SGD.step` on the other backends: `d = g + p·wd`, `buf = buf·mom + d·(1 − damp)`,
 * `p = p + update·(−lr)`. A shader compiler may contract a product and a sum into one FMA, so a
 * result can differ from the unfused path in the last bit.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/** Invocations per workgroup of the SGD programs. */
export const SGD_UPDATE_WORKGROUP_SIZE = 64;

/** Elements per invocation: 4 (vec4 loads and stores) when the element count allows, else 1. */
export function sgdUpdateComponents(size: number): 1 | 4 {
  return size % 4 === 0 ? 4 : 1;
}

/** Fields shared by both programs: a flat elementwise dispatch over the parameter's elements. */
abstract class SGDElementwiseProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract uniforms: string;
  abstract shaderKey: string;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [SGD_UPDATE_WORKGROUP_SIZE, 1, 1];
  size = true;
  outputComponent: number;
  variableComponents: number[];

  constructor(shape: number[], numInputs: number) {
    this.outputShape = shape.slice();
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    const size = this.outputShape.reduce((a, b) => a * b, 1);
    this.outputComponent = sgdUpdateComponents(size);
    this.variableComponents = new Array<number>(numInputs).fill(this.outputComponent);
    // The backend spreads a dispatch over y/z when x exceeds the device limit.
    this.dispatch = [Math.ceil(size / this.outputComponent / SGD_UPDATE_WORKGROUP_SIZE), 1, 1];
  }

  /** WGSL type of one invocation's values. */
  protected get valueType(): string {
    return this.outputComponent === 4 ? 'vec4<f32>' : 'f32';
  }

  /** WGSL for `d = g + p·wd` (weight decay only when the uniform flag is set, as `wd !== 0` in JS). */
  protected decayedGradSnippet(): string {
    return `
      let g = ${this.valueType}(Grad[index]);
      let p = ${this.valueType}(Param[index]);
      var d = g;
      if (uniforms.useWeightDecay != 0) {
        d = g + p * uniforms.weightDecay;
      }`;
  }

  abstract getUserCode(): string;
}

/**
 * New momentum buffer from `Param`, `Grad` and, after the first step, `Buf` (all of one shape):
 * `buf·momentum + d·(1 − dampening)`, or `d` itself on the first step (`hasBuffer` false), where
 * `d = g + p·weightDecay`.
 *
 * Uniforms: `momentum`, `dampScale` (= 1 − dampening), `weightDecay`, `useWeightDecay` (0 or 1).
 */
export class SGDMomentumBufferProgram extends SGDElementwiseProgram {
  variableNames: string[];
  uniforms = 'momentum : f32, dampScale : f32, weightDecay : f32, useWeightDecay : i32,';
  shaderKey: string;
  readonly hasBuffer: boolean;

  constructor(shape: number[], hasBuffer: boolean) {
    super(shape, hasBuffer ? 3 : 2);
    this.hasBuffer = hasBuffer;
    this.variableNames = hasBuffer ? ['Param', 'Grad', 'Buf'] : ['Param', 'Grad'];
    this.shaderKey = `sgdMomentumBuffer_${hasBuffer}_${this.outputComponent}`;
  }

  getUserCode(): string {
    const result = this.hasBuffer ? `${this.valueType}(Buf[index]) * uniforms.momentum + d * uniforms.dampScale` : 'd';
    return `
  fn main(index : i32) {
    if (index < uniforms.size) {
      ${this.decayedGradSnippet()}
      setOutputAtIndex(index, ${result});
    }
  }
`;
  }
}

/**
 * New parameter from `Param` and `Grad` (no momentum), `Param` and the already updated `Buf`
 * (momentum), or all three (Nesterov):
 * `p + update·negLr` with `update = buf` (or `d + buf·momentum` with Nesterov, or `d` without
 * momentum), `d = g + p·weightDecay`.
 *
 * Uniforms: `negLr` (= −lr), `momentum`, `weightDecay`, `useWeightDecay` (0 or 1).
 */
export class SGDParamUpdateProgram extends SGDElementwiseProgram {
  variableNames: string[];
  uniforms = 'negLr : f32, momentum : f32, weightDecay : f32, useWeightDecay : i32,';
  shaderKey: string;
  readonly mode: SGDUpdateMode;

  constructor(shape: number[], mode: SGDUpdateMode) {
    super(shape, mode === 'nesterov' ? 3 : 2);
    this.mode = mode;
    // Every declared input must be read: the pipeline layout is derived from the shader ('auto').
    this.variableNames = mode === 'plain' ? ['Param', 'Grad'] : mode === 'momentum' ? ['Param', 'Buf'] : ['Param', 'Grad', 'Buf'];
    this.shaderKey = `sgdParamUpdate_${mode}_${this.outputComponent}`;
  }

  getUserCode(): string {
    const buf = `${this.valueType}(Buf[index])`;
    const update = this.mode === 'plain' ? 'd' : this.mode === 'nesterov' ? `d + ${buf} * uniforms.momentum` : buf;
    // Heavy-ball momentum does not need d (nor the gradient) at all.
    const grad = this.mode === 'momentum' ? `let p = ${this.valueType}(Param[index]);` : this.decayedGradSnippet();
    return `
  fn main(index : i32) {
    if (index < uniforms.size) {
      ${grad}
      setOutputAtIndex(index, p + (${update}) * uniforms.negLr);
    }
  }
`;
  }
}

/** Which update a {@link SGDParamUpdateProgram} applies: no momentum, heavy-ball momentum, Nesterov. */
export type SGDUpdateMode = 'plain' | 'momentum' | 'nesterov';
