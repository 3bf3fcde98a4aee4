/**
 * Faster R-CNN (https://arxiv.org/abs/1506.01497).
 *
 * @see mmdet/models/detectors/faster_rcnn.py (MMDetection 3.3)
 */
import { TwoStageDetector, type TwoStageDetectorConfig } from './two_stage';

/** mmdet `FasterRCNN`: a two-stage detector with a box-only RoI head. */
export class FasterRCNN extends TwoStageDetector {
  constructor(cfg: TwoStageDetectorConfig, prefix = '') {
    super(cfg, prefix);
  }
}
