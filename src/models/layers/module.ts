/**
 * A minimal `nn.Module` for tfjs: a tree of modules whose parameters and buffers are tf.Variables
 * named by their full MMDetection state_dict key (`backbone.layer1.0.conv1.weight`).
 *
 * tfjs registers variables by name globally, so two live models cannot share names: call
 * {@link Module.dispose} before building another model with the same keys.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Joins a parent prefix and a child name with a dot (empty prefix → just the name). */
export function joinKey(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

let seedCounter = 20240613;
/** Next seed for parameter initialisers (deterministic per process). */
export function nextSeed(): number {
  seedCounter = (seedCounter * 1103515245 + 12345) % 2147483647;
  return seedCounter;
}

/** Parameter initialisers, named as in mmengine's `init_cfg` types. */
export type Init =
  | { type: 'zeros' }
  | { type: 'ones' }
  | { type: 'constant'; value: number }
  | { type: 'normal'; std: number; mean?: number }
  | { type: 'uniform'; a: number; b: number };

/** Creates a tensor of `shape` filled by `init`. */
export function initTensor(shape: number[], init: Init): tf.Tensor {
  switch (init.type) {
    case 'zeros':
      return tf.zeros(shape);
    case 'ones':
      return tf.ones(shape);
    case 'constant':
      return tf.fill(shape, init.value);
    case 'normal':
      return tf.randomNormal(shape, init.mean ?? 0, init.std, 'float32', nextSeed());
    case 'uniform':
      return tf.randomUniform(shape, init.a, init.b, 'float32', nextSeed());
  }
}

/** Base class of every model part: owns parameters, buffers and child modules. */
export class Module {
  /** Training mode (`module.train()` in PyTorch); affects BatchNorm only. */
  training = true;
  /** Full key prefix of this module (`backbone.layer1.0`). */
  readonly prefix: string;
  private readonly ownParams = new Map<string, tf.Variable>();
  private readonly ownBuffers = new Map<string, tf.Variable>();
  private readonly childModules = new Map<string, Module>();

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Creates a trainable parameter `<prefix>.<name>`. */
  protected addParam(name: string, shape: number[], init: Init): tf.Variable {
    const key = joinKey(this.prefix, name);
    const v = tf.variable(initTensor(shape, init), true, key);
    this.ownParams.set(name, v);
    return v;
  }

  /** Creates a non-trainable buffer `<prefix>.<name>` (BN running stats). */
  protected addBuffer(name: string, shape: number[], init: Init): tf.Variable {
    const key = joinKey(this.prefix, name);
    const v = tf.variable(initTensor(shape, init), false, key);
    this.ownBuffers.set(name, v);
    return v;
  }

  /** Registers a child module (its prefix must already be `<prefix>.<name>`). */
  protected addModule<M extends Module>(name: string, m: M): M {
    this.childModules.set(name, m);
    return m;
  }

  /** Direct children. */
  children(): Module[] {
    return [...this.childModules.values()];
  }

  /** This module and all descendants, depth first. */
  modules(): Module[] {
    const out: Module[] = [this];
    for (const c of this.childModules.values()) out.push(...c.modules());
    return out;
  }

  /** All parameters keyed by full state_dict key, in creation order. */
  namedParameters(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    this.collect(out, false);
    return out;
  }

  /** Parameters and buffers keyed by full state_dict key (what a checkpoint's state_dict holds). */
  stateDict(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    this.collect(out, true);
    return out;
  }

  private collect(out: Map<string, tf.Variable>, withBuffers: boolean): void {
    for (const [n, v] of this.ownParams) out.set(joinKey(this.prefix, n), v);
    if (withBuffers) for (const [n, v] of this.ownBuffers) out.set(joinKey(this.prefix, n), v);
    for (const c of this.childModules.values()) c.collect(out, withBuffers);
  }

  /** Trainable parameters (those with `trainable` true, i.e. `requires_grad`). */
  trainableParameters(): tf.Variable[] {
    return [...this.namedParameters().values()].filter((v) => v.trainable);
  }

  /** Sets `requires_grad` on every parameter of this subtree. */
  requiresGrad(flag: boolean): void {
    for (const v of this.namedParameters().values()) v.trainable = flag;
  }

  /** Sets training mode recursively (PyTorch `train(mode)`); subclasses may override. */
  train(mode = true): this {
    this.training = mode;
    for (const c of this.childModules.values()) c.train(mode);
    return this;
  }

  /** Disposes every parameter and buffer (frees their global tfjs names). */
  dispose(): void {
    for (const v of this.stateDict().values()) v.dispose();
  }
}
