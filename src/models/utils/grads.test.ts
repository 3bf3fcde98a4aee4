import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../ops/backend';
import { variableGradsAsync } from './grads';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

it('variableGradsAsync differentiates through an awaited readback and frees the tape', async () => {
  const v = tf.variable(tf.tensor1d([1, 2, 3]), true, 'grads_test_v');
  const before = tf.memory().numTensors;
  const r = await variableGradsAsync(async () => {
    const a = tf.mul(v, 2);
    const d = await a.data(); // data-dependent constant: d[0] = 2
    const loss = tf.add(tf.add(tf.sum(a), tf.sum(tf.square(v))), tf.sum(tf.mul(v, d[0]!)));
    return { loss: loss as tf.Scalar, extra: { a } };
  }, [v]);
  // loss = 2Σv + Σv² + 2Σv = 12 + 14 + 12; d/dv = 2 + 2v + 2.
  expect(r.value.dataSync()[0]).toBeCloseTo(38, 5);
  expect(Array.from(r.grads.grads_test_v!.dataSync())).toEqual([6, 8, 10]);
  expect(Array.from(r.extra.a.dataSync())).toEqual([2, 4, 6]);
  tf.dispose([r.value, r.extra.a, ...Object.values(r.grads)]);
  expect(tf.memory().numTensors).toBe(before);
  v.dispose();
});
