import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFixtureJson } from '../../testing/fixtures';
import { clipGradNorm } from './clip_grad';
import { buildOptimWrapper, buildParamGroups, isNormParamName, scaleLr } from './optim_wrapper';
import type { ParamGroup } from './param_group';
import { SGD, withSGDDefaults } from './sgd';
import { clipGradNormReference, float32, float64, SGDReference } from './sgd_reference';

interface Probe {
  iteration: number;
  lr_used: number;
  grad_w00: number;
  param_w00_before: number;
  momentum_buffer_w00_after: number;
  param_w00_after: number;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const fixture = () =>
  readFixtureJson<{ lr: number[]; momentum_probe: Probe[]; config: { optim_wrapper: { optimizer: Record<string, number> } } }>(
    'schedules',
    'b_schedule_1x.json',
  );

function probeGrads(t: number): Map<string, Float64Array> {
  return new Map([
    ['weight', Float64Array.from([1 + 0.5 * t, -2 + 0.25 * t])],
    ['bias', Float64Array.from([0.125 * (t + 1)])],
  ]);
}

describe('SGD reference vs torch 1.13 momentum probe', () => {
  it('float32 reference reproduces every probe value exactly', () => {
    const f = fixture();
    const params = new Map([
      ['weight', Float64Array.from([0.5, -0.25])],
      ['bias', Float64Array.from([0.1])],
    ]);
    const group = withSGDDefaults({ params: ['weight', 'bias'] }, { lr: 0.02, momentum: 0.9, weight_decay: 0.0001 });
    const sgd = new SGDReference(params, [group], float32);
    expect(f.momentum_probe.length).toBe(3);
    for (const p of f.momentum_probe) {
      group.lr = f.lr[p.iteration]!;
      expect(p.lr_used).toBe(group.lr);
      expect(params.get('weight')![0]).toBe(p.param_w00_before);
      const g = probeGrads(p.iteration);
      expect(g.get('weight')![0]).toBe(p.grad_w00);
      sgd.step(g);
      expect(sgd.state.get('weight')![0]).toBe(p.momentum_buffer_w00_after);
      expect(params.get('weight')![0]).toBe(p.param_w00_after);
    }
  });

  it('tfjs SGD (cpu backend) gives the same float32 buffers and parameters', async () => {
    const f = fixture();
    const w = tf.variable(tf.tensor2d([[0.5, -0.25]]), true, 'probe_w');
    const b = tf.variable(tf.tensor1d([0.1]), true, 'probe_b');
    const sgd = new SGD(new Map<string, tf.Variable>([['weight', w], ['bias', b]]), [{ params: ['weight', 'bias'] }], {
      lr: 0.02,
      momentum: 0.9,
      weight_decay: 0.0001,
    });
    for (const p of f.momentum_probe) {
      sgd.paramGroups[0]!.lr = f.lr[p.iteration]!;
      const g = probeGrads(p.iteration);
      const gw = tf.tensor2d([Array.from(g.get('weight')!)]);
      const gb = tf.tensor1d(Array.from(g.get('bias')!));
      sgd.step(new Map<string, tf.Tensor>([['weight', gw], ['bias', gb]]));
      gw.dispose();
      gb.dispose();
      expect((await sgd.buffers.get('weight')!.data())[0]).toBe(p.momentum_buffer_w00_after);
      expect((await w.data())[0]).toBe(p.param_w00_after);
    }
    sgd.dispose();
    w.dispose();
    b.dispose();
  });
});

describe('SGD variants: tfjs vs float32 reference', () => {
  const variants: Array<Partial<ParamGroup>> = [
    { momentum: 0.9, weight_decay: 0.0001 },
    { momentum: 0.9, weight_decay: 0, nesterov: true },
    { momentum: 0.8, dampening: 0.3, weight_decay: 0.01 },
    { momentum: 0, weight_decay: 0.001 },
  ];
  for (const v of variants) {
    it(JSON.stringify(v), async () => {
      const n = 37;
      const init = Float64Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 1.3)));
      const ref = new SGDReference(new Map([['p', Float64Array.from(init)]]), [withSGDDefaults({ params: ['p'], ...v }, { lr: 0.05 })], float32);
      const pv = tf.variable(tf.tensor1d(Array.from(init)), true);
      const sgd = new SGD(new Map([['p', pv]]), [{ params: ['p'], ...v }], { lr: 0.05 });
      for (let t = 0; t < 6; t++) {
        const g = Float64Array.from({ length: n }, (_, i) => Math.fround(Math.cos(i * 0.7 + t)));
        ref.paramGroups[0]!.lr = sgd.paramGroups[0]!.lr = 0.05 / (t + 1);
        ref.step(new Map([['p', g]]));
        const gt = tf.tensor1d(Array.from(g));
        sgd.step({ p: gt });
        gt.dispose();
      }
      const got = await pv.data();
      const want = ref.params.get('p')!;
      for (let i = 0; i < n; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(2 * 2 ** -23 * Math.abs(want[i]!) + 1e-12);
      // and the float64 reference agrees with float32 within float32 precision
      const ref64 = new SGDReference(new Map([['p', Float64Array.from(init)]]), [withSGDDefaults({ params: ['p'], ...v }, { lr: 0.05 })], float64);
      expect(ref64.params.get('p')![0]).toBe(init[0]);
      sgd.dispose();
      pv.dispose();
    });
  }
  it('rejects nesterov without momentum', () => {
    expect(() => withSGDDefaults({ params: [], nesterov: true }, { lr: 0.1 })).toThrow(/Nesterov/);
  });
});

describe('clip_grad_norm_', () => {
  it('tfjs matches the reference and clips to max_norm', async () => {
    const a = Float64Array.from([3, 4, 0]);
    const b = Float64Array.from([12]);
    const ra = Float64Array.from(a);
    const rb = Float64Array.from(b);
    const total = clipGradNormReference([ra, rb], 6.5);
    expect(total).toBeCloseTo(13, 12);
    const { grads, totalNorm } = clipGradNorm([tf.tensor1d(Array.from(a)), tf.tensor1d(Array.from(b))], 6.5);
    expect(await totalNorm.data()).toEqual(new Float32Array([13]));
    const ga = await grads[0]!.data();
    for (let i = 0; i < 3; i++) expect(ga[i]).toBeCloseTo(ra[i]!, 5);
    expect((await grads[1]!.data())[0]).toBeCloseTo(rb[0]!, 5);
    expect(Math.hypot(...ra, ...rb)).toBeCloseTo(6.5, 5);
    // below the threshold nothing changes
    const same = clipGradNormReference([Float64Array.from([0.1])], 1);
    expect(same).toBeCloseTo(0.1, 15);
  });
});

describe('paramwise_cfg and optim wrapper', () => {
  const mk = (name: string, shape: number[], trainable = true) => ({ name, variable: tf.variable(tf.zeros(shape), trainable) });

  it('one group without paramwise_cfg, frozen params excluded', () => {
    const ps = [mk('backbone.conv1.weight', [2, 2], false), mk('neck.conv.weight', [2]), mk('neck.conv.bias', [2])];
    const g = buildParamGroups(ps, { lr: 0.02, weight_decay: 1e-4 }, undefined);
    expect(g).toEqual([{ params: ['neck.conv.weight', 'neck.conv.bias'] }]);
  });

  it('bias/norm multipliers and custom keys (longest key wins)', () => {
    const ps = [
      mk('backbone.layer1.0.bn1.weight', [4]),
      mk('backbone.layer1.0.bn1.bias', [4]),
      mk('backbone.layer1.0.downsample.1.weight', [4]),
      mk('neck.fpn_convs.0.conv.bias', [4]),
      mk('roi_head.bbox_head.fc_cls.weight', [4, 4]),
      mk('roi_head.bbox_head.fc_reg.weight', [4, 4]),
    ];
    const g = buildParamGroups(ps, { lr: 0.02, weight_decay: 1e-4 }, {
      bias_lr_mult: 2,
      bias_decay_mult: 0,
      norm_decay_mult: 0,
      custom_keys: { roi_head: { lr_mult: 0.5 }, 'bbox_head.fc_cls': { lr_mult: 10, decay_mult: 3 } },
    });
    const by = Object.fromEntries(g.map((x) => [x.params[0], x]));
    expect(by['backbone.layer1.0.bn1.weight']).toEqual({ params: ['backbone.layer1.0.bn1.weight'], weight_decay: 0 });
    expect(by['backbone.layer1.0.bn1.bias']).toEqual({ params: ['backbone.layer1.0.bn1.bias'], weight_decay: 0 });
    expect(by['backbone.layer1.0.downsample.1.weight']!.weight_decay).toBe(0);
    expect(by['neck.fpn_convs.0.conv.bias']).toEqual({ params: ['neck.fpn_convs.0.conv.bias'], lr: 0.04, weight_decay: 0 });
    expect(by['roi_head.bbox_head.fc_cls.weight']!.lr).toBe(0.2);
    expect(by['roi_head.bbox_head.fc_cls.weight']!.weight_decay).toBeCloseTo(3e-4, 18);
    expect(by['roi_head.bbox_head.fc_reg.weight']!.lr).toBe(0.01);
    expect(isNormParamName('backbone.conv1.weight')).toBe(false);
  });

  it('updateParams computes gradients, clips, steps; auto_scale_lr scales lr', async () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, 'ow_w');
    const ow = buildOptimWrapper(
      { type: 'OptimWrapper', optimizer: { type: 'SGD', lr: 0.1, momentum: 0.9, weight_decay: 0 }, clip_grad: { max_norm: 1 } },
      [{ name: 'w', variable: w }],
    );
    expect(scaleLr(ow, { enable: true, base_batch_size: 16 }, 8)).toBe(0.5);
    expect(ow.getLr()).toEqual([0.05]);
    expect(scaleLr(ow, { enable: false, base_batch_size: 16 }, 8)).toBeNull();
    // loss = sum(w^2) → grad 2w = [2, 4], norm sqrt(20) → clipped to unit norm
    const { loss, gradNorm } = await ow.updateParams(() => tf.sum(tf.square(w)) as tf.Scalar);
    expect((await loss.data())[0]).toBe(5);
    expect((await gradNorm!.data())[0]).toBeCloseTo(Math.sqrt(20), 5);
    const got = await w.data();
    const c = 1 / (Math.sqrt(20) + 1e-6);
    expect(got[0]).toBeCloseTo(1 - 0.05 * 2 * c, 6);
    expect(got[1]).toBeCloseTo(2 - 0.05 * 4 * c, 6);
    const sd = await ow.stateDict();
    expect(sd.param_groups[0]!.param_names).toEqual(['w']);
    expect(Array.from(sd.state[0]!.momentum_buffer.data).map((x) => +x.toFixed(5))).toEqual([+(2 * c).toFixed(5), +(4 * c).toFixed(5)]);
    expect(() => buildOptimWrapper({ optimizer: { type: 'Adam', lr: 1 } }, [])).toThrow(/only 'SGD'/);
  });
});
