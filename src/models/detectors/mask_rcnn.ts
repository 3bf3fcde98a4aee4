/**
 * Mask R-CNN (https://arxiv.org/abs/1703.06870).
 *
 * @see mmdet/models/detectors/mask_rcnn.py (MMDetection 3.3)
 */
import { TwoStageDetector, type TwoStageDetectorConfig } from './two_stage';

/** mmdet `MaskRCNN`: a two-stage detector whose RoI head has a mask branch. */
export class MaskRCNN extends TwoStageDetector {
  constructor(cfg: TwoStageDetectorConfig, prefix = '') {
    super(cfg, prefix);
  }
}
