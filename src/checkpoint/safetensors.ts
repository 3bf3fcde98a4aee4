/**
 * safetensors reading and writing: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}` padded with
 * spaces to a multiple of 8, then the tensors' bytes, contiguous and without holes. The MMDetection
 * meta dict travels as JSON text in `__metadata__.mmdet_meta`.
 *
 * @see https://github.com/huggingface/safetensors#format
 */
import { DTYPE_SIZE, numelOf, tensorBytes, viewTensorData, type DType, type TensorRecord } from './dtypes.ts';
import { CheckpointError } from './errors.ts';
import { countNonFinite, type Checkpoint, type ReadCheckpointOptions } from './torch_reader.ts';
import { concatBytes } from './zip.ts';

const TO_ST: Readonly<Record<DType, string>> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const FROM_ST: Readonly<Record<string, DType>> = Object.fromEntries(Object.entries(TO_ST).map(([k, v]) => [v, k as DType]));

/** Key of `__metadata__` under which the checkpoint's meta is stored as JSON. */
export const META_KEY = 'mmdet_meta';

/** Whether the bytes plausibly start a safetensors file. */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n > 1n && n <= BigInt(bytes.length) + (1n << 40n) && bytes[8] === 0x7b; // '{'
}

/** Reads a safetensors file; tensors are views into `bytes` where aligned. */
export function readSafetensors(bytes: Uint8Array, options: ReadCheckpointOptions = {}): Checkpoint {
  if (bytes.length < 8) throw new CheckpointError('not a safetensors file: shorter than its 8-byte header length');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length) {
    throw new CheckpointError(`safetensors header of ${n} bytes does not fit the ${bytes.length}-byte file: truncated or not safetensors`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`safetensors header is not valid JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new CheckpointError('safetensors header is not an object');
  const data = bytes.subarray(8 + n);
  const stateDict = new Map<string, TensorRecord>();
  const warnings: string[] = [];
  let meta: unknown = null;
  for (const [key, info] of Object.entries(header)) {
    if (key === '__metadata__') {
      const md = (info ?? {}) as Record<string, string>;
      if (typeof md[META_KEY] === 'string') {
        try {
          meta = JSON.parse(md[META_KEY]);
        } catch {
          meta = md;
        }
      } else meta = md;
      continue;
    }
    const t = info as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const dtype = FROM_ST[t.dtype ?? ''];
    if (!dtype) throw new CheckpointError(`safetensors tensor '${key}' has unsupported dtype '${String(t.dtype)}'`);
    if (!Array.isArray(t.shape) || !Array.isArray(t.data_offsets)) throw new CheckpointError(`safetensors tensor '${key}' lacks shape or data_offsets`);
    const [b, e] = t.data_offsets;
    const numel = numelOf(t.shape);
    if (e - b !== numel * DTYPE_SIZE[dtype]) {
      throw new CheckpointError(`safetensors tensor '${key}': ${e - b} bytes for shape [${t.shape}] of ${dtype}`);
    }
    if (b < 0 || e > data.length) {
      throw new CheckpointError(`safetensors tensor '${key}' [${b}, ${e}) lies beyond the ${data.length} data bytes: the file is truncated`);
    }
    const rec: TensorRecord = { dtype, shape: t.shape.slice(), data: viewTensorData(dtype, data, b, numel) };
    stateDict.set(key, rec);
    if (options.checkFinite !== false) {
      const { nan, inf } = countNonFinite(rec);
      if (nan || inf) warnings.push(`${key}: ${nan} NaN and ${inf} Inf values (of ${numel})`);
    }
  }
  return { format: 'safetensors', meta, stateDict, extra: {}, warnings };
}

/**
 * Writes a state dict (and optional meta, as JSON text) as safetensors. The header lists tensors
 * in state-dict order; their data is laid out by decreasing element size so every tensor is
 * aligned. Returns parts (tensor data not copied).
 */
export function writeSafetensorsParts(stateDict: Map<string, TensorRecord>, meta?: unknown): Uint8Array[] {
  const order = [...stateDict.entries()]
    .map(([k, t], i) => ({ k, t, i }))
    .sort((a, b) => DTYPE_SIZE[b.t.dtype] - DTYPE_SIZE[a.t.dtype] || a.i - b.i);
  const offsets = new Map<string, [number, number]>();
  let off = 0;
  for (const { k, t } of order) {
    if (numelOf(t.shape) !== t.data.length) throw new CheckpointError(`tensor '${k}': shape [${t.shape}] vs ${t.data.length} elements`);
    const len = t.data.length * DTYPE_SIZE[t.dtype];
    offsets.set(k, [off, off + len]);
    off += len;
  }
  const header: Record<string, unknown> = {};
  if (meta !== undefined && meta !== null) {
    header.__metadata__ = { format: 'pt', [META_KEY]: JSON.stringify(meta, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) };
  } else header.__metadata__ = { format: 'pt' };
  for (const [k, t] of stateDict) header[k] = { dtype: TO_ST[t.dtype], shape: t.shape, data_offsets: offsets.get(k) };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
  return [head, json, ...order.map(({ t }) => tensorBytes(t.data))];
}

/** {@link writeSafetensorsParts} concatenated. */
export function writeSafetensors(stateDict: Map<string, TensorRecord>, meta?: unknown): Uint8Array {
  return concatBytes(writeSafetensorsParts(stateDict, meta));
}
