// Gradients come from tfjs-core's ES build (see src/runner/build_train.test.ts).
import '@tensorflow/tfjs-core/dist/index.js';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from '../../ops/backend';
import { variableGradsAsync } from '../utils/grads';
import { SmoothL1Loss } from './smooth_l1_loss';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

it('SmoothL1Loss: values of torch.where(|x| < β, 0.5 x²/β, |x| − 0.5β) and a trainable gradient', async () => {
  const beta = 1.0;
  const d = [-2.5, -1.0, -0.5, 0, 0.25, 0.999, 1.0, 3];
  const loss = new SmoothL1Loss({ beta, reduction: 'none' as never });
  const pred = tf.variable(tf.tensor2d(d, [2, 4]), true, 'smooth_l1_pred');
  const target = tf.zeros([2, 4]);
  const expected = d.map((x) => (Math.abs(x) < beta ? (0.5 * x * x) / beta : Math.abs(x) - 0.5 * beta));
  const values = loss.forward(pred, target, null);
  Array.from(values.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  // bit-identical to the where-form (no gradient needed here): 1·quad + 0·lin is exactly quad
  const diff = tf.abs(pred);
  const whereForm = tf.where(tf.less(diff, beta), tf.div(tf.mul(tf.square(diff), 0.5), beta), tf.sub(diff, 0.5 * beta));
  expect(Array.from(values.dataSync())).toEqual(Array.from(whereForm.dataSync()));
  tf.dispose([diff, whereForm]);
  // mean loss: d/dx = (x/β if |x| < β else sign(x)) / n
  const mean = new SmoothL1Loss({ beta });
  const r = await variableGradsAsync(async () => ({ loss: mean.forward(pred, target, null) as tf.Scalar, extra: {} }), [pred]);
  const g = Array.from(r.grads.smooth_l1_pred!.dataSync());
  const want = d.map((x) => (Math.abs(x) < beta ? x / beta : Math.sign(x)) / d.length);
  g.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  tf.dispose([values, r.value, ...Object.values(r.grads), target]);
  pred.dispose();
});
