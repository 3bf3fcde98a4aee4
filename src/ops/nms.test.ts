import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFixtureJson } from '../testing/fixtures';
import { batchedNms, batchedNmsIndices, nms, nmsIndices } from './nms';

interface NmsCase {
  id: number;
  boxes_xyxy: number[];
  scores: number[];
  idxs: number[];
  results: Record<string, { nms_keep: number[]; batched_nms_keep: number[] }>;
}

const files = readFixtureJson<{ cases: { file: string }[] }>('nms', 'index.json').cases.map((c) => c.file);
const cases = files.map((f) => readFixtureJson<NmsCase>('nms', f));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('nms / batchedNms (torchvision semantics)', () => {
  it('has the fixture cases', () => {
    expect(cases.length).toBe(6);
  });

  for (const c of cases) {
    for (const thr of Object.keys(c.results)) {
      it(`case ${c.id} IoU ${thr}: typed arrays`, () => {
        const boxes = Float32Array.from(c.boxes_xyxy);
        const scores = Float32Array.from(c.scores);
        expect(Array.from(nmsIndices(boxes, scores, Number(thr)))).toEqual(c.results[thr].nms_keep);
        expect(Array.from(batchedNmsIndices(boxes, scores, c.idxs, Number(thr)))).toEqual(
          c.results[thr].batched_nms_keep,
        );
      });
    }
  }

  it('tensor entry points agree with the fixtures on the cpu backend', async () => {
    expect(tf.getBackend()).toBe('cpu');
    for (const c of cases) {
      const n = c.scores.length;
      const boxes = tf.tensor2d(c.boxes_xyxy, [n, 4]);
      const scores = tf.tensor1d(c.scores);
      const idxs = tf.tensor1d(c.idxs, 'int32');
      for (const thr of Object.keys(c.results)) {
        expect(Array.from(await nms(boxes, scores, Number(thr)))).toEqual(c.results[thr].nms_keep);
        expect(Array.from(await batchedNms(boxes, scores, idxs, Number(thr)))).toEqual(c.results[thr].batched_nms_keep);
      }
      tf.dispose([boxes, scores, idxs]);
    }
  });

  it('suppresses only when IoU is strictly greater than the threshold, without +1', () => {
    // Boxes [0,0,2,1] and [1,0,3,1]: intersection 1, union 3, IoU exactly 1/3.
    const boxes = [0, 0, 2, 1, 1, 0, 3, 1];
    expect(Array.from(nmsIndices(boxes, [0.9, 0.8], 1 / 3 + 1e-6))).toEqual([0, 1]);
    expect(Array.from(nmsIndices(boxes, [0.9, 0.8], 0.3))).toEqual([0]);
    // Different classes never suppress each other.
    expect(Array.from(batchedNmsIndices(boxes, [0.9, 0.8], [0, 1], 0.3))).toEqual([0, 1]);
    expect(Array.from(nmsIndices([], [], 0.5))).toEqual([]);
  });
});
