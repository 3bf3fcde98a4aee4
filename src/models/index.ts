/**
 * DetStudio's model package (mirror of `mmdet/models`): importing it registers every model type.
 * Build a detector from a resolved config with {@link buildDetector}.
 */
import './register';
import { MODELS } from '../registry/registries';
import type { ConfigDict } from '../registry/registry';
import type { TwoStageDetector } from './detectors/two_stage';

export { registerModels } from './register';
export { Module } from './layers/module';
export { ResNet } from './backbones/resnet';
export { FPN } from './necks/fpn';
export { RPNHead, rpnPostProcess } from './dense_heads/rpn_head';
export { StandardRoIHead, bbox2roi } from './roi_heads/standard_roi_head';
export { SingleRoIExtractor, mapRoiLevels } from './roi_heads/roi_extractors/single_roi_extractor';
export { ConvFCBBoxHead, Shared2FCBBoxHead } from './roi_heads/bbox_heads/convfc_bbox_head';
export { FCNMaskHead } from './roi_heads/mask_heads/fcn_mask_head';
export { pasteMask, pasteMaskProbs, pasteRegion } from './roi_heads/mask_heads/paste_mask';
export { CrossEntropyLoss } from './losses/cross_entropy_loss';
export { L1Loss, SmoothL1Loss } from './losses/smooth_l1_loss';
export { DetDataPreprocessor } from './data_preprocessors/data_preprocessor';
export { TwoStageDetector } from './detectors/two_stage';
export { MaskRCNN } from './detectors/mask_rcnn';
export { FasterRCNN } from './detectors/faster_rcnn';
export { AnchorGenerator } from './task_modules/prior_generators/anchor_generator';
export { DeltaXYWHBBoxCoder } from './task_modules/coders/delta_xywh_bbox_coder';
export { MaxIoUAssigner, type AssignResult } from './task_modules/assigners/max_iou_assigner';
export { RandomSampler, type SamplingResult } from './task_modules/samplers/random_sampler';
export { bboxOverlaps } from './task_modules/assigners/iou2d_calculator';
export { variableGradsAsync } from './utils/grads';
export type * from './structures';

/**
 * Builds a detector from `cfg.model` of a resolved config (or the model dict itself).
 * Parameters are named by MMDetection state_dict keys; `dispose()` frees them.
 */
export function buildDetector(modelCfg: ConfigDict): TwoStageDetector {
  return MODELS.build(modelCfg) as TwoStageDetector;
}
