/**
 * Registers every model part under its MMDetection `type` name (MODELS / TASK_UTILS), in one
 * explicit list. Imported by `src/models/index.ts`.
 */
import { MODELS, TASK_UTILS } from '../registry/registries';
import type { ConfigDict } from '../registry/registry';
import { takePrefix } from './builders';
import { ResNet, type ResNetConfig } from './backbones/resnet';
import { FPN, type FPNConfig } from './necks/fpn';
import { RPNHead, type RPNHeadConfig } from './dense_heads/rpn_head';
import { StandardRoIHead } from './roi_heads/standard_roi_head';
import { SingleRoIExtractor, type SingleRoIExtractorConfig } from './roi_heads/roi_extractors/single_roi_extractor';
import { ConvFCBBoxHead, Shared2FCBBoxHead } from './roi_heads/bbox_heads/convfc_bbox_head';
import { FCNMaskHead } from './roi_heads/mask_heads/fcn_mask_head';
import { CrossEntropyLoss } from './losses/cross_entropy_loss';
import { L1Loss, SmoothL1Loss } from './losses/smooth_l1_loss';
import { DetDataPreprocessor } from './data_preprocessors/data_preprocessor';
import { MaskRCNN } from './detectors/mask_rcnn';
import { FasterRCNN } from './detectors/faster_rcnn';
import type { TwoStageDetectorConfig } from './detectors/two_stage';
import { AnchorGenerator, type AnchorGeneratorConfig } from './task_modules/prior_generators/anchor_generator';
import { DeltaXYWHBBoxCoder } from './task_modules/coders/delta_xywh_bbox_coder';
import { MaxIoUAssigner, type MaxIoUAssignerConfig } from './task_modules/assigners/max_iou_assigner';
import { RandomSampler, type RandomSamplerConfig } from './task_modules/samplers/random_sampler';
import { bboxOverlaps } from './task_modules/assigners/iou2d_calculator';

let done = false;

/** Fills MODELS and TASK_UTILS (idempotent). */
export function registerModels(): void {
  if (done) return;
  done = true;
  const mod = <C>(name: string, fallback: string, make: (cfg: C, prefix: string) => unknown) =>
    MODELS.register(name, (args: ConfigDict) => {
      const [cfg, prefix] = takePrefix(args, fallback);
      return make(cfg as C, prefix);
    });
  mod<ResNetConfig>('ResNet', 'backbone', (c, p) => new ResNet(c, p));
  mod<FPNConfig>('FPN', 'neck', (c, p) => new FPN(c, p));
  mod<RPNHeadConfig>('RPNHead', 'rpn_head', (c, p) => new RPNHead(c, p));
  mod<ConfigDict>('StandardRoIHead', 'roi_head', (c, p) => new StandardRoIHead(c, p));
  mod<SingleRoIExtractorConfig>('SingleRoIExtractor', '', (c) => new SingleRoIExtractor(c));
  mod<ConfigDict>('Shared2FCBBoxHead', 'roi_head.bbox_head', (c, p) => new Shared2FCBBoxHead(c, p));
  mod<ConfigDict>('ConvFCBBoxHead', 'roi_head.bbox_head', (c, p) => new ConvFCBBoxHead(c, p));
  mod<ConfigDict>('FCNMaskHead', 'roi_head.mask_head', (c, p) => new FCNMaskHead(c, p));
  mod<TwoStageDetectorConfig>('MaskRCNN', '', (c, p) => new MaskRCNN(c, p));
  mod<TwoStageDetectorConfig>('FasterRCNN', '', (c, p) => new FasterRCNN(c, p));
  MODELS.register('CrossEntropyLoss', (c) => new CrossEntropyLoss(c));
  MODELS.register('L1Loss', (c) => new L1Loss(c));
  MODELS.register('SmoothL1Loss', (c) => new SmoothL1Loss(c));
  MODELS.register('DetDataPreprocessor', (c) => new DetDataPreprocessor(c));
  TASK_UTILS.register('AnchorGenerator', (c) => new AnchorGenerator(c as AnchorGeneratorConfig));
  TASK_UTILS.register('DeltaXYWHBBoxCoder', (c) => new DeltaXYWHBBoxCoder(c));
  TASK_UTILS.register('MaxIoUAssigner', (c) => new MaxIoUAssigner(c as MaxIoUAssignerConfig));
  TASK_UTILS.register('RandomSampler', (c) => new RandomSampler(c as RandomSamplerConfig));
  TASK_UTILS.register('BboxOverlaps2D', () => ({ overlaps: bboxOverlaps }));
}

registerModels();
