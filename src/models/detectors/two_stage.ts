/**
 * Two-stage detector base: backbone → neck → RPN → RoI head, with `extractFeat`, `loss` and
 * `predict`. `loss` is async because proposals are read back once per image between the RPN and the
 * RoI head; use {@link lossAndGrads} to differentiate it.
 *
 * @see mmdet/models/detectors/two_stage.py (MMDetection 3.3)
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../layers/module';
import type { ResNet } from '../backbones/resnet';
import type { FPN } from '../necks/fpn';
import type { RPNHead, ProposalCfg } from '../dense_heads/rpn_head';
import type { StandardRoIHead } from '../roi_heads/standard_roi_head';
import { DetDataPreprocessor } from '../data_preprocessors/data_preprocessor';
import type { DetDataSample, DetResult, Proposals } from '../structures';
import { buildModule } from '../builders';
import { variableGradsAsync, type AsyncGradsResult } from '../utils/grads';
import { sumTensors } from '../losses/utils';
import { MODELS } from '../../registry/registries';
import type { ConfigDict } from '../../registry/registry';

/** Constructor options (mmdet config keys). */
export interface TwoStageDetectorConfig {
  backbone: ConfigDict;
  neck?: ConfigDict | null;
  rpn_head?: ConfigDict | null;
  roi_head?: ConfigDict | null;
  train_cfg?: ConfigDict | null;
  test_cfg?: ConfigDict | null;
  data_preprocessor?: ConfigDict | null;
  init_cfg?: unknown;
  [k: string]: unknown;
}

/** mmdet `TwoStageDetector`. */
export class TwoStageDetector extends Module {
  readonly backbone: ResNet;
  readonly neck: FPN | null;
  readonly rpnHead: RPNHead;
  readonly roiHead: StandardRoIHead;
  readonly dataPreprocessor: DetDataPreprocessor;
  readonly trainCfg: ConfigDict | null;
  readonly testCfg: ConfigDict | null;
  /** Warnings raised while building (e.g. RPN num_classes forced to 1). */
  readonly warnings: string[] = [];

  constructor(cfg: TwoStageDetectorConfig, prefix = '') {
    super(prefix);
    const p = (n: string) => (prefix === '' ? n : `${prefix}.${n}`);
    this.trainCfg = cfg.train_cfg ?? null;
    this.testCfg = cfg.test_cfg ?? null;
    this.backbone = this.addModule('backbone', buildModule(cfg.backbone, p('backbone')) as ResNet);
    this.neck = cfg.neck ? this.addModule('neck', buildModule(cfg.neck, p('neck')) as FPN) : null;
    if (!cfg.rpn_head) throw new Error('TwoStageDetector: rpn_head is required');
    const rpnCfg: ConfigDict = { ...cfg.rpn_head };
    if (rpnCfg.num_classes === undefined) {
      rpnCfg.num_classes = 1;
    } else if (rpnCfg.num_classes !== 1) {
      this.warnings.push(
        `The \`num_classes\` should be 1 in RPN, but get ${String(rpnCfg.num_classes)}, please set rpn_head.num_classes = 1 in your config file.`,
      );
      rpnCfg.num_classes = 1;
    }
    rpnCfg.train_cfg = (this.trainCfg?.rpn as ConfigDict | undefined) ?? null;
    rpnCfg.test_cfg = (this.testCfg?.rpn as ConfigDict | undefined) ?? null;
    this.rpnHead = this.addModule('rpn_head', buildModule(rpnCfg, p('rpn_head')) as RPNHead);
    if (!cfg.roi_head) throw new Error('TwoStageDetector: roi_head is required');
    const roiCfg: ConfigDict = {
      ...cfg.roi_head,
      train_cfg: (this.trainCfg?.rcnn as ConfigDict | undefined) ?? null,
      test_cfg: (this.testCfg?.rcnn as ConfigDict | undefined) ?? null,
    };
    this.roiHead = this.addModule('roi_head', buildModule(roiCfg, p('roi_head')) as StandardRoIHead);
    const dp = cfg.data_preprocessor ?? { type: 'DetDataPreprocessor' };
    this.dataPreprocessor = MODELS.build(dp) as DetDataPreprocessor;
  }

  /** Backbone (+ neck) features of a normalised NHWC batch. */
  extractFeat(inputs: tf.Tensor4D): tf.Tensor4D[] {
    const c = this.backbone.forward(inputs);
    return this.neck ? this.neck.forward(c) : c;
  }

  /**
   * Training losses. All returned tensors are scalars; `acc` is logged but not part of the total.
   *
   * @param inputs - `[N, H, W, 3]` normalised input (the data preprocessor's output).
   * @param samples - per-image metainfo and ground truth.
   */
  async loss(inputs: tf.Tensor4D, samples: DetDataSample[]): Promise<Record<string, tf.Scalar>> {
    const feats = this.extractFeat(inputs);
    const outs = this.rpnHead.forward(feats);
    const rpnLosses = this.rpnHead.loss(outs, samples);
    const proposalCfg = ((this.trainCfg?.rpn_proposal as ProposalCfg | undefined) ?? (this.testCfg?.rpn as ProposalCfg | undefined)) ?? {};
    const proposals = await this.rpnHead.predictProposals(outs, samples, proposalCfg);
    this.lastProposals = proposals;
    const roiLosses = this.roiHead.loss(feats, proposals, samples);
    return { ...rpnLosses, ...roiLosses };
  }

  /**
   * Losses and the gradient of their total (mmengine `parse_losses`: the sum of every key containing
   * `loss`) with respect to the trainable parameters, keyed by state_dict key.
   */
  async lossAndGrads(inputs: tf.Tensor4D, samples: DetDataSample[]): Promise<AsyncGradsResult<Record<string, tf.Scalar>>> {
    return variableGradsAsync(async () => {
      const losses = await this.loss(inputs, samples);
      const terms = Object.entries(losses)
        .filter(([k]) => k.includes('loss'))
        .map(([, v]) => v);
      return { loss: sumTensors(terms) as tf.Scalar, extra: losses };
    }, this.trainableParameters());
  }

  /** Proposals of the last `loss` call (for inspection and tests). */
  lastProposals: Proposals[] | null = null;

  /**
   * Inference.
   *
   * @param rescale - boxes and masks in original-image pixels (`ori_shape`, `scale_factor`).
   */
  async predict(inputs: tf.Tensor4D, samples: DetDataSample[], rescale = true): Promise<DetResult[]> {
    const feats = this.extractFeat(inputs);
    const outs = this.rpnHead.forward(feats);
    const proposals = await this.rpnHead.predictProposals(outs, samples, (this.testCfg?.rpn as ProposalCfg | undefined) ?? {});
    this.lastProposals = proposals;
    const res = await this.roiHead.predict(feats, proposals, samples, rescale);
    tf.dispose([...feats, ...outs.clsScores, ...outs.bboxPreds]);
    return res;
  }
}
