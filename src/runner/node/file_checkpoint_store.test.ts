import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../checkpoint';
import { type Hook, PRIORITY } from '../hooks';
import { Runner } from '../runner';
import type { RunnerModel } from '../types';
import { FileCheckpointStore } from './file_checkpoint_store';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type S = { x: number[]; y: number };

/** Tiny trainable model with a 4-D weight, so the OIHW ↔ HWIO mapping is exercised. */
class Tiny implements RunnerModel<S, number> {
  readonly w = tf.variable(tf.tensor4d([0.1, -0.2, 0.3, 0.05], [1, 1, 4, 1]), true);
  readonly b = tf.variable(tf.zeros([1]), true);
  namedParameters() {
    return [
      { name: 'head.conv.weight', variable: this.w },
      { name: 'head.conv.bias', variable: this.b },
    ];
  }
  loss(batch: S[]) {
    const x = tf.tensor2d(batch.map((s) => s.x));
    const pred = tf.add(tf.reshape(tf.matMul(x, tf.reshape(this.w, [4, 1])), [-1]), this.b);
    return { losses: { loss_mse: tf.mean(tf.square(tf.sub(pred, tf.tensor1d(batch.map((s) => s.y))))) } };
  }
  predict(batch: S[]) {
    return batch.map(() => 0);
  }
}

const data: S[] = Array.from({ length: 12 }, (_, i) => {
  const x = [Math.sin(i), Math.cos(i), Math.sin(2 * i), 1];
  return { x, y: x[0]! - 2 * x[1]! + 0.5 * x[2]! };
});

function cfg(maxEpochs: number) {
  return {
    train_dataloader: { batch_size: 3, sampler: { type: 'DefaultSampler', shuffle: true } },
    train_cfg: { type: 'EpochBasedTrainLoop', max_epochs: maxEpochs },
    optim_wrapper: { optimizer: { type: 'SGD', lr: 0.1, momentum: 0.9, weight_decay: 1e-4 } },
    param_scheduler: [{ type: 'LinearLR', start_factor: 0.1, by_epoch: false, begin: 0, end: 5 }, { type: 'MultiStepLR', milestones: [3], by_epoch: true, begin: 0, end: 4 }],
    default_hooks: { param_scheduler: { type: 'ParamSchedulerHook' }, checkpoint: { type: 'CheckpointHook', interval: 1 } },
    randomness: { seed: 7 },
  };
}

class Rec implements Hook {
  readonly name = 'Rec';
  readonly priority = PRIORITY.LOWEST;
  rows = new Map<number, { lr: number; w: number[]; buf: number[] }>();
  afterTrainIter(r: Runner) {
    this.rows.set(r.iter, {
      lr: r.optimWrapper.getLr()[0]!,
      w: Array.from(r.optimWrapper.optimizer.params.get('head.conv.weight')!.dataSync()),
      buf: Array.from(r.optimWrapper.optimizer.buffers.get('head.conv.weight')!.dataSync()),
    });
  }
}

describe('FileCheckpointStore', () => {
  it('writes MMDetection .pth files and resumes from them with identical state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detstudio-ckpt-'));
    const full = new Rec();
    const a = new Runner<S, number>({ cfg: cfg(4), model: new Tiny(), trainDataset: { length: 12, get: (i) => data[i]! }, extraHooks: [full] });
    await a.train();

    const store = new FileCheckpointStore(dir);
    const b = new Runner<S, number>({ cfg: cfg(2), model: new Tiny(), trainDataset: { length: 12, get: (i) => data[i]! }, store });
    await b.train();
    expect(readFileSync(join(dir, 'last_checkpoint'), 'utf8')).toBe(join(dir, 'epoch_2.pth'));
    expect(existsSync(join(dir, 'epoch_1.pth'))).toBe(true);
    const ck = readCheckpoint(new Uint8Array(readFileSync(join(dir, 'epoch_2.pth'))));
    expect(ck.stateDict.get('head.conv.weight')!.shape).toEqual([1, 4, 1, 1]); // OIHW
    expect(Object.keys(ck.extra).sort()).toEqual(['message_hub', 'optimizer', 'param_schedulers']);
    expect((ck.meta as { epoch: number; iter: number }).iter).toBe(8);

    const rec = await store.load('epoch_2.pth');
    const resumed = new Rec();
    const c = new Runner<S, number>({ cfg: cfg(4), model: new Tiny(), trainDataset: { length: 12, get: (i) => data[i]! }, extraHooks: [resumed] });
    await c.train(rec);
    expect(resumed.rows.size).toBe(8);
    for (const [it, row] of resumed.rows) expect(row).toEqual(full.rows.get(it));
  });
});
