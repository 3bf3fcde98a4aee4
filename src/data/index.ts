/**
 * Public API of `src/data` that runs anywhere (Web Worker, main thread, Node). Node-only pieces are
 * imported from their own files: `node_file_tree.ts` (NodeFileTree), `node_image_decoder.ts`.
 */
export * from './file_tree.ts';
export * from './layout.ts';
export * from './import_report.ts';
export * from './import_dataset.ts';
export * from './cityscapes_labels.ts';
export * from './cityscapes_converter.ts';
export * from './coco_types.ts';
export * from './coco_dataset.ts';
export * from './datasets.ts';
export * from './data_loader.ts';
export * from './binding.ts';
export * from './png.ts';
export * from './polygon_raster.ts';
export * from './python_json.ts';
export * from './browser_image_decoder.ts';
export * from './transforms/types.ts';
export * from './transforms/image_ops.ts';
export * from './transforms/loading.ts';
export * from './transforms/resize.ts';
export * from './transforms/flip.ts';
export * from './transforms/formatting.ts';
export * from './transforms/compose.ts';
export * from './transforms/data_preprocessor.ts';
export { registerDataTypes } from './register.ts';
