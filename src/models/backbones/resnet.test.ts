/**
 * ResNet depths 18/34/50/101/152: state_dict keys and shapes exactly as MMDetection's `ResNet`
 * creates them (checked against an independent listing written from mmdet's structure, the real
 * R50 checkpoint's key list and torchvision's published parameter counts), and `frozen_stages` /
 * `norm_eval` behaviour on a BasicBlock network (depth 18).
 */
// Vitest loads tfjs-core's CommonJS build for bare imports while the setup's gradient registrations
// come from its ES build; initialise the ES build too so tensors it creates can `clone()` in gradients.
import '@tensorflow/tfjs-core/dist/index.js';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toCheckpointShape } from '../../checkpoint/mmdet_layout';
import { initBackend } from '../../ops/backend';
import { readFixtureJson } from '../../testing/fixtures';
import { BatchNorm2d } from '../layers/nn';
import { modelStateShapes } from '../utils/load_checkpoint';
import { ResNet, type ResNetConfig } from './resnet';

type Entry = [key: string, shape: number[]];

/**
 * What MMDetection's `ResNet(depth, base_channels=b)` puts in its state_dict, in module creation
 * order (PyTorch shapes): stem `conv1` 7×7 + `bn1`; stage i has planes `b·2^i`; a BasicBlock (18, 34,
 * expansion 1) is `conv1` 3×3, `bn1`, `conv2` 3×3, `bn2`; a Bottleneck (50+, expansion 4) is `conv1`
 * 1×1, `bn1`, `conv2` 3×3, `bn2`, `conv3` 1×1 to 4·planes, `bn3`; the first block of a stage has
 * `downsample.0` (1×1 conv) + `downsample.1` (BN) when its stride is not 1 or its input width
 * differs from planes·expansion (so not in layer1 of 18/34). Every BN has weight, bias,
 * running_mean, running_var and num_batches_tracked.
 */
function mmdetResNetStateDict(depth: number, base = 64, prefix = 'backbone'): Entry[] {
  const stages: Record<number, number[]> = { 18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3] };
  const basic = depth < 50;
  const out: Entry[] = [];
  const bn = (p: string, c: number) => {
    for (const n of ['weight', 'bias', 'running_mean', 'running_var']) out.push([`${p}.${n}`, [c]]);
    out.push([`${p}.num_batches_tracked`, []]);
  };
  out.push([`${prefix}.conv1.weight`, [base, 3, 7, 7]]);
  bn(`${prefix}.bn1`, base);
  let inplanes = base;
  stages[depth]!.forEach((blocks, i) => {
    const planes = base * 2 ** i;
    const width = basic ? planes : planes * 4;
    for (let j = 0; j < blocks; j++) {
      const p = `${prefix}.layer${i + 1}.${j}`;
      if (basic) {
        out.push([`${p}.conv1.weight`, [planes, inplanes, 3, 3]]);
        bn(`${p}.bn1`, planes);
        out.push([`${p}.conv2.weight`, [planes, planes, 3, 3]]);
        bn(`${p}.bn2`, planes);
      } else {
        out.push([`${p}.conv1.weight`, [planes, inplanes, 1, 1]]);
        bn(`${p}.bn1`, planes);
        out.push([`${p}.conv2.weight`, [planes, planes, 3, 3]]);
        bn(`${p}.bn2`, planes);
        out.push([`${p}.conv3.weight`, [width, planes, 1, 1]]);
        bn(`${p}.bn3`, width);
      }
      const stride = j === 0 && i > 0 ? 2 : 1;
      if (j === 0 && (stride !== 1 || inplanes !== width)) {
        out.push([`${p}.downsample.0.weight`, [width, inplanes, 1, 1]]);
        bn(`${p}.downsample.1`, width);
      }
      inplanes = width;
    }
  });
  return out;
}

/** The model's state_dict in PyTorch layout (keys in creation order, with num_batches_tracked). */
function stateDictOf(net: ResNet): Entry[] {
  return [...modelStateShapes(net)].map(([k, s]) => [k, toCheckpointShape(s)]);
}

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

let net: ResNet | null = null;
beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});
afterEach(() => {
  net?.dispose();
  net = null;
});

describe('ResNet depths: MMDetection state_dict names and shapes', () => {
  // Narrow widths keep the big depths cheap to build; names and the block structure do not depend on them.
  it.each([18, 34, 50, 101, 152])('depth %i (base_channels 8) creates exactly mmdet\'s keys and shapes, in order', (depth) => {
    net = new ResNet({ depth, base_channels: 8 });
    expect(stateDictOf(net)).toEqual(mmdetResNetStateDict(depth, 8));
    const basic = depth < 50;
    expect(net.stageChannels).toEqual(basic ? [8, 16, 32, 64] : [32, 64, 128, 256]);
    if (basic) expect(stateDictOf(net).some(([k]) => k.includes('conv3') || k.includes('bn3'))).toBe(false);
    if (basic) expect(stateDictOf(net).some(([k]) => k.startsWith('backbone.layer1.0.downsample'))).toBe(false);
  });

  it('the expected listing agrees with torchvision: key counts and parameter counts at full width', () => {
    // torchvision resnetNN state_dict sizes and parameter counts, minus the classifier `fc`
    // (2 keys; 512·1000+1000 or 2048·1000+1000 parameters), which mmdet's ResNet does not have.
    const torchvision: Record<number, { keys: number; params: number; fc: number }> = {
      18: { keys: 122, params: 11_689_512, fc: 513_000 },
      34: { keys: 218, params: 21_797_672, fc: 513_000 },
      50: { keys: 320, params: 25_557_032, fc: 2_049_000 },
      101: { keys: 626, params: 44_549_160, fc: 2_049_000 },
      152: { keys: 932, params: 60_192_808, fc: 2_049_000 },
    };
    for (const [d, tv] of Object.entries(torchvision)) {
      const sd = mmdetResNetStateDict(Number(d));
      expect(sd.length, `depth ${d}`).toBe(tv.keys - 2);
      const params = sd.filter(([k]) => !/running_|num_batches/.test(k)).reduce((a, [, s]) => a + numel(s), 0);
      expect(params, `depth ${d}`).toBe(tv.params - tv.fc);
    }
  });

  it('depth 50 at full width matches the real MMDetection R50 checkpoint key for key', () => {
    const real = readFixtureJson<{ keys: { key: string; shape: number[] }[] }>('checkpoints', 'mask_rcnn_r50_fpn_coco_keys.json');
    const backbone: Entry[] = real.keys.filter((e) => e.key.startsWith('backbone.')).map((e) => [e.key, e.shape]);
    expect(backbone.length).toBe(318);
    expect(mmdetResNetStateDict(50)).toEqual(backbone);
    net = new ResNet({ depth: 50 });
    expect(stateDictOf(net)).toEqual(backbone);
  });

  it('depth 18 at full width: shapes, and the outputs of mmdet\'s docstring example (1×3×32×32)', () => {
    net = new ResNet({ depth: 18 });
    expect(stateDictOf(net)).toEqual(mmdetResNetStateDict(18));
    net.train(false);
    const outs = tf.tidy(() => net!.forward(tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D));
    // NHWC here; mmdet prints (1, 64, 8, 8), (1, 128, 4, 4), (1, 256, 2, 2), (1, 512, 1, 1).
    expect(outs.map((o) => o.shape)).toEqual([
      [1, 8, 8, 64],
      [1, 4, 4, 128],
      [1, 2, 2, 256],
      [1, 1, 1, 512],
    ]);
    tf.dispose(outs);
  });

  it('rejects a depth mmdet does not know, like mmdet', () => {
    expect(() => new ResNet({ depth: 42 })).toThrow(/invalid depth 42 for resnet/);
  });
});

describe('ResNet-18: frozen_stages and norm_eval', () => {
  const cfg = (extra: Partial<ResNetConfig>): ResNetConfig => ({ depth: 18, base_channels: 4, ...extra });
  const frozenPrefix = (k: string) => /^backbone\.(conv1|bn1|layer1)\./.test(k);
  const bns = (n: ResNet) => n.modules().filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);

  it('frozen_stages=1: stem and layer1 get requires_grad False, layers 2-4 stay trainable', () => {
    net = new ResNet(cfg({ frozen_stages: 1 }));
    const params = [...net.namedParameters()];
    expect(params.length).toBe(mmdetResNetStateDict(18, 4).filter(([k]) => /weight|bias/.test(k)).length);
    for (const [k, v] of params) expect(v.trainable, k).toBe(!frozenPrefix(k));
    // Stem: conv1.weight + bn1.{weight,bias}; layer1: 2 BasicBlocks × (2 conv weights + 2 BNs × 2).
    expect(params.filter(([k]) => frozenPrefix(k)).length).toBe(3 + 2 * (2 + 2 * 2));
  });

  it('frozen_stages -1 freezes nothing and 4 freezes every stage', () => {
    net = new ResNet(cfg({ frozen_stages: -1 }));
    expect(net.trainableParameters().length).toBe(net.namedParameters().size);
    net.dispose();
    net = new ResNet(cfg({ frozen_stages: 4 }));
    expect(net.trainableParameters().length).toBe(0);
  });

  it('train(): norm_eval keeps every BN in eval; without it only the frozen stages\' BNs are in eval', () => {
    net = new ResNet(cfg({ frozen_stages: 1, norm_eval: true }));
    net.train(true);
    expect(bns(net).every((b) => !b.training)).toBe(true);
    net.dispose();
    net = new ResNet(cfg({ frozen_stages: 1, norm_eval: false }));
    net.train(true);
    for (const b of bns(net)) expect(b.training, b.prefix).toBe(!frozenPrefix(`${b.prefix}.`));
    net.train(false);
    expect(bns(net).every((b) => !b.training)).toBe(true);
    net.train(true);
    expect(bns(net).filter((b) => b.training).length).toBe(bns(net).filter((b) => !frozenPrefix(`${b.prefix}.`)).length);
  });

  it('a training-mode forward updates running stats only outside the frozen stages (norm_eval False), nowhere with norm_eval', () => {
    const run = (normEval: boolean) => {
      const n = new ResNet(cfg({ frozen_stages: 1, norm_eval: normEval }));
      n.train(true);
      const before = new Map(bns(n).map((b) => [b.prefix, Array.from(b.runningMean.dataSync())]));
      tf.tidy(() => n.forward(tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 3) as tf.Tensor4D));
      const changed = bns(n)
        .filter((b) => Array.from(b.runningMean.dataSync()).some((v, i) => v !== before.get(b.prefix)![i]))
        .map((b) => b.prefix);
      const all = bns(n).map((b) => b.prefix);
      n.dispose();
      return { changed, all };
    };
    const withNormEval = run(true);
    expect(withNormEval.changed).toEqual([]);
    const without = run(false);
    expect(without.changed).toEqual(without.all.filter((p) => !frozenPrefix(`${p}.`)));
    expect(without.changed.length).toBeGreaterThan(0);
  });

  it('gradients reach layers 2-4 only', () => {
    net = new ResNet(cfg({ frozen_stages: 1 }));
    net.train(true);
    const x = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(() => tf.addN(net!.forward(x).map((o) => tf.sum(o))) as tf.Scalar);
    const names = Object.keys(grads);
    expect(names.length).toBe(net.trainableParameters().length);
    expect(names.some((k) => frozenPrefix(k))).toBe(false);
    expect(names.filter((k) => k.startsWith('backbone.layer2.')).length).toBeGreaterThan(0);
    tf.dispose([x, value, ...Object.values(grads)]);
  });
});
