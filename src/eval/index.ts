/**
 * COCO evaluation, pycocotools-exact: mask RLE (`mask`), datasets / results (`coco`), the
 * evaluator (`cocoeval`) and MMDetection's `CocoMetric` (`coco_metric`). Pure TypeScript, usable in
 * the training worker and in Node.
 */
export * from './mask';
export * from './coco';
export * from './cocoeval';
export * from './coco_metric';
