/**
 * Splits a structured record into its typed-array payloads and a small cloneable skeleton, and
 * back. Payloads are packed into chunks of bounded size so a 350 MB checkpoint is stored as a few
 * dozen large values rather than one giant IndexedDB value (or hundreds of tiny ones).
 */

/** Typed arrays a record may hold. */
export type Payload = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | BigInt64Array;

const CTORS = {
  Float32Array, Float64Array, Int32Array, Uint8Array, Int8Array, Int16Array, Uint16Array, BigInt64Array,
} as const;
type CtorName = keyof typeof CTORS;

/** Where one payload lives: chunk index, byte offset and length, and its array type. */
export interface PayloadRef {
  __payload__: true;
  type: CtorName;
  chunk: number;
  offset: number;
  byteLength: number;
}

function isPayload(v: unknown): v is Payload {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && v.constructor.name in CTORS;
}

function isRef(v: unknown): v is PayloadRef {
  return typeof v === 'object' && v !== null && (v as PayloadRef).__payload__ === true;
}

/** Result of {@link splitPayloads}. */
export interface SplitRecord<T> {
  /** The record with every typed array replaced by a {@link PayloadRef}. */
  skeleton: T;
  /** Packed chunks (each ≤ chunkBytes unless a single payload is larger). */
  chunks: ArrayBuffer[];
  /** Total payload bytes. */
  bytes: number;
}

/** Replaces typed arrays by references and packs their bytes into chunks (8-byte aligned). */
export function splitPayloads<T>(record: T, chunkBytes = 32 * 2 ** 20): SplitRecord<T> {
  const found: { arr: Payload; ref: PayloadRef }[] = [];
  const walk = (v: unknown): unknown => {
    if (isPayload(v)) {
      const ref: PayloadRef = { __payload__: true, type: v.constructor.name as CtorName, chunk: 0, offset: 0, byteLength: v.byteLength };
      found.push({ arr: v, ref });
      return ref;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  const skeleton = walk(record) as T;
  // Assign chunks greedily in record order.
  const sizes: number[] = [];
  let chunk = 0;
  let used = 0;
  for (const f of found) {
    const len = f.arr.byteLength;
    if (used > 0 && used + len > chunkBytes) {
      sizes.push(used);
      chunk++;
      used = 0;
    }
    f.ref.chunk = chunk;
    f.ref.offset = used;
    used += Math.ceil(len / 8) * 8;
  }
  if (used > 0 || sizes.length === 0) sizes.push(used);
  const chunks = sizes.map((s) => new ArrayBuffer(s));
  let bytes = 0;
  for (const f of found) {
    new Uint8Array(chunks[f.ref.chunk]!, f.ref.offset, f.arr.byteLength).set(new Uint8Array(f.arr.buffer, f.arr.byteOffset, f.arr.byteLength));
    bytes += f.arr.byteLength;
  }
  return { skeleton, chunks, bytes };
}

/** Rebuilds the record: every {@link PayloadRef} becomes a typed array viewing its chunk. */
export function joinPayloads<T>(skeleton: T, chunks: ArrayBuffer[]): T {
  const walk = (v: unknown): unknown => {
    if (isRef(v)) {
      const buf = chunks[v.chunk];
      if (!buf || v.offset + v.byteLength > buf.byteLength) {
        throw new Error(`checkpoint payload missing or truncated (chunk ${v.chunk}, offset ${v.offset}, ${v.byteLength} bytes)`);
      }
      const Ctor = CTORS[v.type];
      return new Ctor(buf, v.offset, v.byteLength / Ctor.BYTES_PER_ELEMENT);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(skeleton) as T;
}
