/**
 * Tensor element types as PyTorch names them, their sizes and typed-array containers, and
 * conversions of the 16-bit float formats to float32.
 */

/** Element types a checkpoint tensor can have (PyTorch's names without the `torch.` prefix). */
export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/**
 * Typed array holding a tensor's elements: float16/bfloat16 as raw bits in a `Uint16Array`,
 * int64 as `BigInt64Array`, bool as 0/1 in a `Uint8Array`.
 */
export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/** One tensor of a state dict: element type, shape (row-major, contiguous) and elements. */
export interface TensorRecord {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** All supported dtypes. */
export const DTYPES = Object.keys(DTYPE_SIZE) as DType[];

type TypedCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  new (length: number): TensorData;
};

const CTORS: Record<DType, TypedCtor> = {
  float32: Float32Array as unknown as TypedCtor,
  float64: Float64Array as unknown as TypedCtor,
  float16: Uint16Array as unknown as TypedCtor,
  bfloat16: Uint16Array as unknown as TypedCtor,
  int64: BigInt64Array as unknown as TypedCtor,
  int32: Int32Array as unknown as TypedCtor,
  int16: Int16Array as unknown as TypedCtor,
  int8: Int8Array as unknown as TypedCtor,
  uint8: Uint8Array as unknown as TypedCtor,
  bool: Uint8Array as unknown as TypedCtor,
};

/** Allocates a zeroed typed array for `length` elements of `dtype`. */
export function allocTensorData(dtype: DType, length: number): TensorData {
  return new CTORS[dtype](length);
}

/**
 * A typed array of `dtype` over `length` elements of `bytes` starting at byte `byteOffset` of
 * `bytes`: a view sharing memory when the start is aligned to the element size, else a copy.
 */
export function viewTensorData(dtype: DType, bytes: Uint8Array, byteOffset: number, length: number): TensorData {
  const size = DTYPE_SIZE[dtype];
  const start = bytes.byteOffset + byteOffset;
  if (byteOffset < 0 || byteOffset + length * size > bytes.byteLength) {
    throw new RangeError(`tensor data [${byteOffset}, ${byteOffset + length * size}) outside its ${bytes.byteLength}-byte storage`);
  }
  if (start % size === 0) return new CTORS[dtype](bytes.buffer, start, length);
  const copy = new Uint8Array(length * size);
  copy.set(bytes.subarray(byteOffset, byteOffset + length * size));
  return new CTORS[dtype](copy.buffer, 0, length);
}

/** The bytes of a typed array (a view, no copy). */
export function tensorBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Whether a value is a {@link TensorRecord}. */
export function isTensorRecord(value: unknown): value is TensorRecord {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<TensorRecord>;
  return typeof v.dtype === 'string' && v.dtype in DTYPE_SIZE && Array.isArray(v.shape) && ArrayBuffer.isView(v.data);
}

const F16_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = s * m * 2 ** -24;
    else if (e === 31) t[h] = m ? NaN : s * Infinity;
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

/** Decodes IEEE half-precision bits to float32 (exact). */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = F16_TABLE[bits[i]!]!;
  return out;
}

/** Decodes bfloat16 bits to float32 (exact: bfloat16 is the top half of a float32). */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i]! << 16;
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Encodes float32 values as half-precision bits, rounding to nearest even (as PyTorch's `.half()`). */
export function float32ToFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const x = u32[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      let r = mant >> shift;
      const rem = mant & ((1 << shift) - 1);
      if (rem > half || (rem === half && r & 1)) r++;
      out[i] = sign | r;
      continue;
    }
    let r = mant >> 13;
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && r & 1)) {
      r++;
      if (r === 0x400) {
        r = 0;
        e++;
        if (e >= 31) {
          out[i] = sign | 0x7c00;
          continue;
        }
      }
    }
    out[i] = sign | (e << 10) | r;
  }
  return out;
}

/** Encodes float32 values as bfloat16 bits, rounding to nearest even (as PyTorch's `.bfloat16()`). */
export function float32ToBfloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const x = u32[0]!;
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) {
      out[i] = (x >>> 16) | 0x40;
      continue;
    }
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * The tensor's elements as float32: float32 data is returned as is (no copy), float16/bfloat16
 * are decoded exactly, other types are converted (int64 through `Number`).
 */
export function toFloat32(t: TensorRecord): Float32Array {
  switch (t.dtype) {
    case 'float32':
      return t.data as Float32Array;
    case 'float16':
      return float16ToFloat32(t.data as Uint16Array);
    case 'bfloat16':
      return bfloat16ToFloat32(t.data as Uint16Array);
    case 'int64': {
      const src = t.data as BigInt64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]!);
      return out;
    }
    default:
      return Float32Array.from(t.data as ArrayLike<number>);
  }
}

/**
 * The tensor's elements as JavaScript numbers in float64 (exact for every dtype except int64
 * beyond 2^53), for sums and previews.
 */
export function elementAsNumber(t: TensorRecord, i: number): number {
  switch (t.dtype) {
    case 'float16':
      return F16_TABLE[(t.data as Uint16Array)[i]!]!;
    case 'bfloat16':
      f32[0] = 0;
      u32[0] = (t.data as Uint16Array)[i]! << 16;
      return f32[0];
    case 'int64':
      return Number((t.data as BigInt64Array)[i]!);
    default:
      return (t.data as Float32Array)[i]!;
  }
}
