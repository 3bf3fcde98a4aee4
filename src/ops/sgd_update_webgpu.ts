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

  /** Whether the gradient is multiplied by the one-element input `Scale` first (gradient clipping). */
  readonly scaled: boolean;

  /**
   * @param shape - the parameter's shape.
   * @param numInputs - tensor inputs of the parameter's shape (a `Scale` input comes after them).
   * @param scaled - whether the program reads `Scale`.
   */
  constructor(shape: number[], numInputs: number, scaled: boolean) {
    this.outputShape = shape.slice();
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    const size = this.outputShape.reduce((a, b) => a * b, 1);
    this.outputComponent = sgdUpdateComponents(size);
    this.scaled = scaled;
    this.variableComponents = new Array<number>(numInputs).fill(this.outputComponent);
    if (scaled) this.variableComponents.push(1);
    // The backend spreads a dispatch over y/z when x exceeds the device limit.
    this.dispatch = [Math.ceil(size / this.outputComponent / SGD_UPDATE_WORKGROUP_SIZE), 1, 1];
  }

  /** WGSL type of one invocation's values. */
  protected get valueType(): string {
    return this.outputComponent === 4 ? 'vec4<f32>' : 'f32';
  }

  /**
   * WGSL for `d = g + p·wd` (weight decay only when the uniform flag is set, as `wd !== 0` in JS),
   * where `g` is the gradient times `Scale[0]` when the program is scaled (clipping, as `g·coef`).
   */
  protected decayedGradSnippet(): string {
    const g = `${this.valueType}(Grad[index])`;
    return `
      let g = ${this.scaled ? `${g} * f32(Scale[0])` : g};
      let p = ${this.valueType}(Param[index]);
      var d = g;
      if (uniforms.useWeightDecay != 0) {
        d = g + p * uniforms.weightDecay;
      }`;
  }

  abstract getUserCode(): string;
}

/**
 * New momentum buffer from `Param`, `Grad` and, after the first step, `Buf` (all of one shape;
 * a scaled program also reads the one-element `Scale`):
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

  constructor(shape: number[], hasBuffer: boolean, scaled = false) {
    super(shape, hasBuffer ? 3 : 2, scaled);
    this.hasBuffer = hasBuffer;
    this.variableNames = hasBuffer ? ['Param', 'Grad', 'Buf'] : ['Param', 'Grad'];
    if (scaled) this.variableNames.push('Scale');
    this.shaderKey = `sgdMomentumBuffer_${hasBuffer}_${scaled}_${this.outputComponent}`;
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
 * (momentum), or all three (Nesterov), plus the one-element `Scale` when scaled:
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

  /** @param scaled - ignored with heavy-ball momentum, which does not read the gradient. */
  constructor(shape: number[], mode: SGDUpdateMode, scaled = false) {
    super(shape, mode === 'nesterov' ? 3 : 2, scaled && mode !== 'momentum');
    this.mode = mode;
    // Every declared input must be read: the pipeline layout is derived from the shader ('auto').
    this.variableNames = mode === 'plain' ? ['Param', 'Grad'] : mode === 'momentum' ? ['Param', 'Buf'] : ['Param', 'Grad', 'Buf'];
    if (this.scaled) this.variableNames.push('Scale');
    this.shaderKey = `sgdParamUpdate_${mode}_${this.scaled}_${this.outputComponent}`;
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

/** Invocations per workgroup of {@link SquaredNormPartialsProgram}. */
export const SQUARED_NORM_WORKGROUP_SIZE = 256;

/**
 * Partial sums of squares of up to a few tensors in one dispatch (the squared L2 norms behind
 * `clip_grad_norm_`): inputs `X0 … X{k-1}`, flattened to 1-D; `parts` workgroups per input, each
 * summing a strided share of the input's elements and reducing its threads' sums in workgroup
 * memory. Output `[k · parts]`: input `t`'s partial sums are at `t·parts … t·parts + parts − 1`.
 * `parts` is a uniform; the input count is part of the shader key.
 */
export class SquaredNormPartialsProgram implements WebGPUProgram {
  variableNames: string[];
  uniforms = 'parts : i32,';
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [SQUARED_NORM_WORKGROUP_SIZE, 1, 1];

  constructor(numInputs: number, parts: number) {
    this.variableNames = Array.from({ length: numInputs }, (_, i) => `X${i}`);
    this.outputShape = [numInputs * parts];
    this.dispatchLayout = { x: [0] };
    this.dispatch = [numInputs * parts, 1, 1];
    this.shaderKey = `squaredNormPartials_${numInputs}`;
  }

  getUserCode(): string {
    const n = SQUARED_NORM_WORKGROUP_SIZE;
    const branches = this.variableNames
      .map(
        (name, t) => `if (t == ${t}) {
        let size = uniforms.${name.toLowerCase()}Shape;
        for (var i = part * ${n} + i32(localId.x); i < size; i = i + stride) {
          let v = f32(${name}[i]);
          acc = acc + v * v;
        }
      }`,
      )
      .join(' else ');
    return `
  var<workgroup> partial : array<f32, ${n}>;

  fn main(index : i32) {
    let wg = i32(workgroupId.x);
    let t = wg / uniforms.parts;
    let part = wg - t * uniforms.parts;
    let stride = uniforms.parts * ${n};
    var acc = 0.0;
    ${branches}
    partial[localId.x] = acc;
    workgroupBarrier();
    for (var s = ${n / 2}u; s > 0u; s = s >> 1u) {
      if (localId.x < s) {
        partial[localId.x] = partial[localId.x] + partial[localId.x + s];
      }
      workgroupBarrier();
    }
    if (localId.x == 0u) {
      setOutputAtIndex(wg, partial[0]);
    }
  }
`;
  }
}
