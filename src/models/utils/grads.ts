/**
 * Gradients of an ASYNC loss function. tfjs's `variableGrads` needs a synchronous function, but a
 * two-stage detector reads proposals back between the RPN and the RoI head (`await data()`, the
 * only way on WebGPU). This helper keeps the tfjs gradient tape open across the await: it starts a
 * tape and a scope, runs `f`, then lets `variableGrads` back-propagate through the recorded tape.
 * Nothing else may run tfjs ops concurrently while `f` is pending (true in the training worker and
 * the CLI).
 */
import * as tf from '@tensorflow/tfjs-core';

interface EngineInternals {
  startTape(): void;
  endTape(): void;
  startScope(name?: string): void;
  endScope(result?: unknown): void;
  state: { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null };
}

/** Result of {@link variableGradsAsync}. */
export interface AsyncGradsResult<T> {
  /** The scalar that was differentiated. */
  value: tf.Scalar;
  /** Gradient per variable name (absent where the variable is not on the path). */
  grads: tf.NamedTensorMap;
  /** What `f` returned besides the scalar (kept alive; caller disposes). */
  extra: T;
}

/**
 * Like `tf.variableGrads`, for an async `f` returning `{loss, extra}`.
 *
 * @param f - computes the scalar loss (may await readbacks).
 * @param varList - variables to differentiate (default: all trainable).
 */
export async function variableGradsAsync<T extends tf.TensorContainer>(
  f: () => Promise<{ loss: tf.Scalar; extra: T }>,
  varList?: tf.Variable[],
): Promise<AsyncGradsResult<T>> {
  const engine = tf.engine() as unknown as EngineInternals;
  engine.startScope('variableGradsAsync');
  engine.startTape();
  let result: AsyncGradsResult<T> | null = null;
  try {
    const { loss, extra } = await f();
    const { value, grads } = tf.variableGrads(() => loss, varList);
    result = { value, grads, extra };
    return result;
  } finally {
    engine.endTape();
    if (engine.state.gradientDepth === 0 && engine.state.activeTape !== null) {
      for (const node of engine.state.activeTape) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
    }
    const keep: tf.Tensor[] = [];
    if (result !== null) {
      const r = result as AsyncGradsResult<T>;
      keep.push(r.value, ...Object.values(r.grads).filter((g): g is tf.Tensor => g != null));
      collectTensors(r.extra, keep);
    }
    engine.endScope(keep);
  }
}

function collectTensors(x: unknown, out: tf.Tensor[]): void {
  if (x instanceof tf.Tensor) out.push(x);
  else if (Array.isArray(x)) for (const v of x) collectTensors(v, out);
  else if (x !== null && typeof x === 'object') for (const v of Object.values(x)) collectTensors(v, out);
}
