/**
 * Format-independent entry points: read any supported checkpoint, write one as `.pth` or
 * safetensors, convert between them, and summarise tensors (as `detstudio inspect-checkpoint`).
 */
import { elementAsNumber, type TensorRecord } from './dtypes.ts';
import { CheckpointError } from './errors.ts';
import { looksLikeSafetensors, readSafetensors, writeSafetensorsParts } from './safetensors.ts';
import { looksLikeLegacyPth, readPth, type Checkpoint, type ReadCheckpointOptions } from './torch_reader.ts';
import { mmdetCheckpointObject, writePthParts } from './torch_writer.ts';
import { concatBytes, looksLikeZip } from './zip.ts';

/** Output formats. */
export type CheckpointFormat = 'pth' | 'safetensors';

/**
 * Reads a `.pth` (zip or legacy) or `.safetensors` checkpoint, detected from its bytes.
 *
 * @throws CheckpointError / UnpicklingError for truncated, foreign or disallowed content.
 */
export function readCheckpoint(bytes: Uint8Array, options: ReadCheckpointOptions = {}): Checkpoint {
  if (bytes.byteLength === 0) throw new CheckpointError('the file is empty');
  if (looksLikeZip(bytes) || looksLikeLegacyPth(bytes)) return readPth(bytes, options);
  if (looksLikeSafetensors(bytes)) return readSafetensors(bytes, options);
  return readPth(bytes, options); // raises a clear "not a checkpoint" error
}

/** The format an output file name asks for (`.pth`/`.pt`/`.ckpt` or `.safetensors`). */
export function formatFromFileName(name: string): CheckpointFormat {
  const lower = name.toLowerCase();
  if (lower.endsWith('.safetensors')) return 'safetensors';
  if (lower.endsWith('.pth') || lower.endsWith('.pt') || lower.endsWith('.ckpt') || lower.endsWith('.bin')) return 'pth';
  throw new CheckpointError(`cannot tell the checkpoint format from '${name}': use a .pth or .safetensors extension`);
}

/**
 * Writes meta + state dict as MMDetection's `{meta, state_dict}` `.pth` or as safetensors (meta
 * as JSON in `__metadata__`). Returns parts; see {@link concatBytes}.
 */
export function writeCheckpointParts(
  format: CheckpointFormat,
  stateDict: Map<string, TensorRecord>,
  meta: unknown,
  options: { recordPrefix?: string } = {},
): Uint8Array[] {
  if (format === 'safetensors') return writeSafetensorsParts(stateDict, meta);
  return writePthParts(mmdetCheckpointObject(meta, stateDict), options);
}

/** Converts checkpoint bytes (any readable format) to `format`, keeping meta, keys, order and bits. */
export function convertCheckpoint(bytes: Uint8Array, format: CheckpointFormat): Uint8Array {
  const ckpt = readCheckpoint(bytes, { checkFinite: false });
  return concatBytes(writeCheckpointParts(format, ckpt.stateDict, ckpt.meta));
}

/** Per-tensor summary printed by `inspect-checkpoint --json`. */
export interface TensorSummary {
  shape: number[];
  dtype: string;
  /** Sum of all elements in float64. */
  sum: number;
  /** Sum of absolute values in float64. */
  abs_sum: number;
  /** Up to the first 8 elements. */
  first: number[];
}

/** Summarises a tensor: shape, dtype, float64 sums and its first values. */
export function summarizeTensor(t: TensorRecord): TensorSummary {
  let sum = 0;
  let abs = 0;
  const n = t.data.length;
  if (t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'int32' || t.dtype === 'int16' || t.dtype === 'int8' || t.dtype === 'uint8' || t.dtype === 'bool') {
    const d = t.data as Float32Array;
    for (let i = 0; i < n; i++) {
      const v = d[i]!;
      sum += v;
      abs += Math.abs(v);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = elementAsNumber(t, i);
      sum += v;
      abs += Math.abs(v);
    }
  }
  const first: number[] = [];
  for (let i = 0; i < Math.min(8, n); i++) first.push(elementAsNumber(t, i));
  return { shape: t.shape.slice(), dtype: t.dtype, sum, abs_sum: abs, first };
}

/** `{meta, tensors: {key: summary}}` in file order. */
export function summarizeCheckpoint(ckpt: Checkpoint): { meta: unknown; tensors: Record<string, TensorSummary> } {
  const tensors: Record<string, TensorSummary> = {};
  for (const [k, t] of ckpt.stateDict) {
    Object.defineProperty(tensors, k, { value: summarizeTensor(t), enumerable: true, writable: true, configurable: true });
  }
  return { meta: ckpt.meta, tensors };
}

/**
 * JSON text for checkpoint data: bigints as exact integer literals, tensors as summaries, `Map`s
 * as objects, `Set`s and typed arrays as lists, non-finite floats as `NaN`/`Infinity` strings.
 */
export function checkpointJson(value: unknown, indent?: number): string {
  const marks = new Map<string, string>();
  let id = 0;
  const text = JSON.stringify(
    value,
    function (_k, v: unknown) {
      if (typeof v === 'bigint') {
        const mark = `\u0000big${id++}\u0000`;
        marks.set(mark, v.toString());
        return mark;
      }
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      if (v instanceof Map) return Object.fromEntries([...v].map(([a, b]) => [String(a), b]));
      if (v instanceof Set) return [...v];
      if (v !== null && typeof v === 'object' && 'dtype' in v && 'data' in v && ArrayBuffer.isView((v as TensorRecord).data)) {
        return { tensor: summarizeTensor(v as TensorRecord) };
      }
      if (ArrayBuffer.isView(v)) return Array.from(v as Uint8Array);
      return v;
    },
    indent,
  );
  return marks.size ? text.replace(/"\\u0000big\d+\\u0000"/g, (m) => marks.get(JSON.parse(m) as string) ?? m) : text;
}
