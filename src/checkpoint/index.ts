/**
 * Checkpoints: PyTorch `.pth` (zip and legacy) and safetensors reading and writing through an
 * allow-listed unpickler, and MMDetection state-dict ↔ model layout mapping with MMEngine's
 * `load_from` semantics. Pure TypeScript (no DOM, no tfjs): runs in workers and Node.
 */
export * from './dtypes.ts';
export * from './errors.ts';
export { PY_ATTRS, PY_TUPLE, isTuple, markTuple, unpickle, type UnpickleOptions } from './pickle.ts';
export { readPth, type Checkpoint, type ReadCheckpointOptions } from './torch_reader.ts';
export { writePth, writePthParts, mmdetCheckpointObject, type WritePthOptions } from './torch_writer.ts';
export { readSafetensors, writeSafetensors, writeSafetensorsParts } from './safetensors.ts';
export * from './checkpoint.ts';
export { concatBytes, crc32, ZipArchive } from './zip.ts';
export * from './mmdet_layout.ts';
