/**
 * Plain data structures passed between data pipeline and model (mmdet `DetDataSample` and
 * `InstanceData`, reduced to what the model needs). Boxes are absolute `x1y1x2y2` in network-input
 * pixels; arrays are row-major typed arrays so they cross worker boundaries cheaply.
 *
 * @see mmdet/structures/det_data_sample.py (MMDetection 3.3)
 */

/** Binary instance masks `[count, height, width]`, one byte (0/1) per pixel. */
export interface BitmapMasks {
  data: Uint8Array;
  count: number;
  height: number;
  width: number;
}

/** Ground-truth instances of one image. */
export interface InstanceData {
  /** `[G*4]` x1y1x2y2, network-input pixels. */
  bboxes: Float32Array;
  /** `[G]` class indices 0..K-1. */
  labels: Int32Array;
  /** Instance masks at the (padded) input size, for mask heads. */
  masks?: BitmapMasks;
}

/** Image meta information (mmdet metainfo keys). */
export interface ImgMeta {
  /** `[h, w]` of the resized image (network input before padding). */
  img_shape: [number, number];
  /** `[h, w]` of the original image. */
  ori_shape?: [number, number];
  /** `[w_scale, h_scale]` from the original to the resized image (x first, as mmdet). */
  scale_factor?: [number, number];
  /** `[h, w]` after padding. */
  pad_shape?: [number, number];
  /** `[h, w]` of the padded batch. */
  batch_input_shape?: [number, number];
  [k: string]: unknown;
}

/** One image's sample (mmdet `DetDataSample`). */
export interface DetDataSample {
  metainfo: ImgMeta;
  gt_instances?: InstanceData;
  /** Boxes to ignore (`ignore_iof_thr`). */
  ignored_instances?: { bboxes: Float32Array };
}

/** Detections of one image (mmdet `pred_instances`). */
export interface DetResult {
  /** `[D*4]` boxes (original-image pixels when `rescale`, input pixels otherwise). */
  bboxes: Float32Array;
  /** `[D]` scores, descending. */
  scores: Float32Array;
  /** `[D]` labels. */
  labels: Int32Array;
  /** Binary masks `[D, h, w]` (h, w = original image with `rescale`, else the rescaled canvas). */
  masks?: BitmapMasks;
}

/** Proposals of one image (RPN output): `[K*4]` boxes and `[K]` scores, descending. */
export interface Proposals {
  bboxes: Float32Array;
  scores: Float32Array;
}
