/**
 * A pickle virtual machine (protocols 0–5, the opcodes CPython and PyTorch emit) with an
 * allow-list of Python globals, the JavaScript counterpart of `torch.load(weights_only=True)`.
 *
 * Nothing is ever executed: allowed globals map to small data constructors (an `OrderedDict`, a
 * tensor view over a storage, a numpy scalar), anything else is refused with an
 * {@link UnpicklingError} naming the global. Values come out as JavaScript data: `None` → `null`,
 * `int` → `number` (a `bigint` beyond 2^53), `float` → `number`, `str` → `string`,
 * `bytes` → `Uint8Array`, `list` → array, `tuple` → array marked with {@link PY_TUPLE}, `set` →
 * `Set`, `dict` → `Map` (converted to plain objects by {@link toPlain}), tensors →
 * {@link PendingTensor} (materialised by the checkpoint reader once storages are known).
 *
 * @see https://github.com/python/cpython/blob/3.11/Lib/pickletools.py (opcode reference)
 */
import type { DType } from './dtypes.ts';
import { DetStudioError } from '../core/errors.ts';
import { UnpicklingError } from './errors.ts';

/** Symbol set (non-enumerable, `true`) on arrays that were Python tuples, so a writer can emit tuples again. */
export const PY_TUPLE: unique symbol = Symbol.for('detstudio.pyTuple') as never;
/**
 * Symbol holding a dict's instance attributes set by pickle `BUILD` (PyTorch's
 * `state_dict._metadata`), kept non-enumerable so the value stays plain data.
 */
export const PY_ATTRS: unique symbol = Symbol.for('detstudio.pyAttrs') as never;

/** Marks an array as a Python tuple (see {@link PY_TUPLE}); returns it. */
export function markTuple<T extends unknown[]>(arr: T): T {
  Object.defineProperty(arr, PY_TUPLE, { value: true, enumerable: false });
  return arr;
}

/** Whether an array was a Python tuple. */
export function isTuple(value: unknown): boolean {
  return Array.isArray(value) && (value as unknown as Record<symbol, unknown>)[PY_TUPLE] === true;
}

/** A storage referenced by a persistent id: its element type and where its bytes come from. */
export interface StorageRef {
  dtype: DType;
  /** The storage key (`data/<key>` in the zip format, the legacy root key). */
  key: string;
  /** Device the storage was saved from (`cpu`, `cuda:0`). */
  location: string;
  /** Number of elements the persistent id declares (-1 when unknown). */
  numel: number;
  /** Offset in elements into the root storage (legacy view storages), else 0. */
  viewOffset: number;
}

/** A tensor as `_rebuild_tensor_v2` describes it, before its storage bytes are attached. */
export class PendingTensor {
  constructor(
    readonly storage: StorageRef,
    readonly storageOffset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** A numpy array from `numpy.core.multiarray._reconstruct` + `BUILD`. */
export class NumpyArray {
  shape: number[] = [];
  dtype: NumpyDType | null = null;
  fortranOrder = false;
  raw: Uint8Array | null = null;
}

/** A numpy dtype (`numpy.dtype('f8')` + `BUILD` state with the byte order). */
export class NumpyDType {
  byteorder = '=';
  constructor(readonly str: string) {}
}

/** An instance of an opaque (explicitly permitted, not interpreted) Python class. */
export interface OpaqueObject {
  __class__: string;
  args: unknown[];
  state?: unknown;
}

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /** Resolves a persistent id (PyTorch storages). Without it, persistent ids are an error. */
  persistentLoad?: (pid: unknown) => unknown;
  /**
   * Globals (`module.name`, or `module.*`) to accept as {@link OpaqueObject} records instead of
   * refusing them, e.g. `mmengine.logging.history_buffer.HistoryBuffer` in a full MMEngine
   * checkpoint's `message_hub`. Empty by default, as `weights_only=True`.
   */
  opaqueGlobals?: readonly string[];
}

interface GlobalImpl {
  /** Called by REDUCE / NEWOBJ / INST / OBJ with the argument tuple. */
  call?: (args: unknown[]) => unknown;
}

/** A resolved allow-listed global. */
export class PyGlobal {
  constructor(
    readonly qualname: string,
    readonly impl: GlobalImpl,
    /** For storage classes: the element type. */
    readonly storageDtype?: DType,
  ) {}
}

/** Storage class names (`torch.FloatStorage`, …) and their element types. */
export const STORAGE_CLASS_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};

const UNSUPPORTED_STORAGES = new Set([
  'ComplexFloatStorage',
  'ComplexDoubleStorage',
  'QInt8Storage',
  'QUInt8Storage',
  'QInt32Storage',
  'QUInt4x2Storage',
  'QUInt2x4Storage',
]);

const TORCH_DTYPE_NAMES = new Set([
  'float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'int64', 'long', 'int32', 'int',
  'int16', 'short', 'int8', 'uint8', 'bool', 'complex64', 'complex128', 'cfloat', 'cdouble',
]);
const TORCH_CONSTANTS = new Set([
  'strided', 'sparse_coo', 'sparse_csr', 'contiguous_format', 'channels_last', 'preserve_format',
  'per_tensor_affine', 'per_channel_affine',
]);

function asInt(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(v);
  }
  throw new UnpicklingError(`expected an integer for ${what}, got ${describe(v)}`);
}

function asIntArray(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new UnpicklingError(`expected a tuple for ${what}, got ${describe(v)}`);
  return v.map((x, i) => asInt(x, `${what}[${i}]`));
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return isTuple(v) ? `tuple(len ${v.length})` : `list(len ${v.length})`;
  if (v instanceof Map) return 'dict';
  if (v instanceof PyGlobal) return `global ${v.qualname}`;
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  return typeof v;
}

function rebuildTensor(args: unknown[], fn: string): PendingTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageHandle)) {
    throw new UnpicklingError(`${fn}: first argument must be a storage (persistent id), got ${describe(storage)}`);
  }
  return new PendingTensor(storage.ref, asInt(offset, 'storage_offset'), asIntArray(size, 'size'), asIntArray(stride, 'stride'));
}

/** A storage object returned by the checkpoint's persistent-id resolver. */
export class StorageHandle {
  constructor(readonly ref: StorageRef) {}
}

const NUMPY_MODULES = new Set(['numpy.core.multiarray', 'numpy._core.multiarray']);

function decodeNumpyScalar(dtype: unknown, raw: unknown): unknown {
  if (!(dtype instanceof NumpyDType)) throw new UnpicklingError('numpy scalar: expected a numpy.dtype');
  if (!(raw instanceof Uint8Array)) throw new UnpicklingError('numpy scalar: expected bytes');
  const little = dtype.byteorder !== '>';
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const kind = dtype.str.replace(/^[<>=|]/, '');
  const need = (n: number) => {
    if (raw.byteLength < n) throw new UnpicklingError(`numpy scalar ${kind}: ${raw.byteLength} bytes`);
  };
  switch (kind) {
    case 'f8': need(8); return dv.getFloat64(0, little);
    case 'f4': need(4); return dv.getFloat32(0, little);
    case 'f2': need(2); { const b = dv.getUint16(0, little); return halfBitsToNumber(b); }
    case 'i8': need(8); return normBig(dv.getBigInt64(0, little));
    case 'u8': need(8); return normBig(dv.getBigUint64(0, little));
    case 'i4': need(4); return dv.getInt32(0, little);
    case 'u4': need(4); return dv.getUint32(0, little);
    case 'i2': need(2); return dv.getInt16(0, little);
    case 'u2': need(2); return dv.getUint16(0, little);
    case 'i1': need(1); return dv.getInt8(0);
    case 'u1': need(1); return dv.getUint8(0);
    case 'b1': need(1); return dv.getUint8(0) !== 0;
    default:
      throw new UnpicklingError(`numpy scalar of dtype '${dtype.str}' is not supported`);
  }
}

function halfBitsToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function normBig(b: bigint): number | bigint {
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/**
 * Resolves `module.name` against the allow-list. Returns `null` when it is not allowed.
 * Python 2 module names (`__builtin__`, `copy_reg`) are mapped to Python 3 ones first.
 */
export function findAllowedGlobal(module: string, name: string): PyGlobal | null {
  if (module === '__builtin__') module = 'builtins';
  const q = `${module}.${name}`;
  if (module === 'torch') {
    if (name in STORAGE_CLASS_DTYPES) return new PyGlobal(q, {}, STORAGE_CLASS_DTYPES[name]);
    if (UNSUPPORTED_STORAGES.has(name)) {
      throw new UnpicklingError(`the checkpoint holds a ${q} tensor; complex and quantized tensors are not supported`);
    }
    if (TORCH_DTYPE_NAMES.has(name) || TORCH_CONSTANTS.has(name)) return new PyGlobal(q, {});
    if (name === 'device') {
      return new PyGlobal(q, {
        call: (a) => (a.length > 1 && a[1] !== null ? `${String(a[0])}:${String(a[1])}` : String(a[0])),
      });
    }
    if (name === 'Size') return new PyGlobal(q, { call: (a) => markTuple([...((a[0] as unknown[]) ?? [])]) });
    if (name === 'Tensor') return new PyGlobal(q, {});
  }
  if (q === 'torch.nn.parameter.Parameter') return new PyGlobal(q, {});
  if (q === 'torch._utils._rebuild_tensor_v2' || q === 'torch._utils._rebuild_tensor') {
    return new PyGlobal(q, { call: (a) => rebuildTensor(a, name) });
  }
  if (q === 'torch._utils._rebuild_parameter' || q === 'torch._utils._rebuild_parameter_with_state') {
    return new PyGlobal(q, {
      call: (a) => {
        if (!(a[0] instanceof PendingTensor)) throw new UnpicklingError(`${name}: expected a tensor, got ${describe(a[0])}`);
        return a[0];
      },
    });
  }
  if (q === 'torch._tensor._rebuild_from_type_v2') {
    return new PyGlobal(q, {
      call: (a) => {
        const [fn, type, args] = a;
        if (!(fn instanceof PyGlobal) || !fn.impl.call) throw new UnpicklingError(`${name}: bad rebuild function`);
        if (!(type instanceof PyGlobal) || !['torch.Tensor', 'torch.nn.parameter.Parameter'].includes(type.qualname)) {
          throw new UnpicklingError(`${name}: tensor subclass ${describe(type)} is not supported`);
        }
        return fn.impl.call(args as unknown[]);
      },
    });
  }
  if (q === 'torch.serialization._get_layout') return new PyGlobal(q, { call: (a) => String(a[0]) });
  if (
    q === 'torch._utils._rebuild_sparse_tensor' ||
    q === 'torch._utils._rebuild_sparse_csr_tensor' ||
    q === 'torch._utils._rebuild_qtensor' ||
    q === 'torch._utils._rebuild_meta_tensor_no_storage' ||
    q === 'torch._utils._rebuild_wrapper_subclass' ||
    q === 'torch._utils._rebuild_device_tensor_from_numpy'
  ) {
    throw new UnpicklingError(`the checkpoint uses ${q}: sparse, quantized, meta and subclass tensors are not supported`);
  }
  if (q === 'collections.OrderedDict') {
    return new PyGlobal(q, { call: (a) => mapFromPairs(a[0]) });
  }
  if (q === 'builtins.set' || q === 'builtins.frozenset') {
    return new PyGlobal(q, { call: (a) => new Set((a[0] as Iterable<unknown>) ?? []) });
  }
  if (q === 'builtins.bytearray' || q === 'builtins.bytes') {
    return new PyGlobal(q, { call: (a) => bytesFromArgs(a) });
  }
  if (q === '_codecs.encode') {
    return new PyGlobal(q, { call: (a) => bytesFromArgs(a) });
  }
  if (NUMPY_MODULES.has(module) && name === 'scalar') {
    return new PyGlobal(q, { call: (a) => decodeNumpyScalar(a[0], a[1]) });
  }
  if (NUMPY_MODULES.has(module) && name === '_reconstruct') {
    return new PyGlobal(q, { call: () => new NumpyArray() });
  }
  if (q === 'numpy.ndarray') return new PyGlobal(q, {});
  if (q === 'numpy.dtype') return new PyGlobal(q, { call: (a) => new NumpyDType(String(a[0])) });
  return null;
}

function mapFromPairs(items: unknown): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  if (items === undefined || items === null) return m;
  if (!Array.isArray(items)) throw new UnpicklingError('OrderedDict: expected a list of pairs');
  for (const pair of items) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new UnpicklingError('OrderedDict: expected (key, value) pairs');
    m.set(pair[0], pair[1]);
  }
  return m;
}

function bytesFromArgs(a: unknown[]): Uint8Array {
  const [src, enc] = a;
  if (src === undefined) return new Uint8Array(0);
  if (src instanceof Uint8Array) return src.slice();
  if (Array.isArray(src)) return Uint8Array.from(src as number[]);
  if (typeof src !== 'string') throw new UnpicklingError(`bytes: unsupported source ${describe(src)}`);
  const e = typeof enc === 'string' ? enc.toLowerCase().replace('-', '') : 'latin1';
  if (e === 'latin1' || e === 'iso88591') {
    const out = new Uint8Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const c = src.charCodeAt(i);
      if (c > 255) throw new UnpicklingError('bytes: latin1 string with a character above U+00FF');
      out[i] = c;
    }
    return out;
  }
  if (e === 'utf8') return new TextEncoder().encode(src);
  throw new UnpicklingError(`bytes: unsupported encoding ${String(enc)}`);
}

function opaqueAllowed(list: readonly string[] | undefined, module: string, name: string): boolean {
  if (!list) return false;
  return list.some((p) => p === `${module}.${name}` || (p.endsWith('.*') && p.slice(0, -2) === module));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

function decodeUtf8(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    // Python writes lone surrogates with 'surrogatepass'; fall back to a lenient decode.
    return new TextDecoder('utf-8').decode(b);
  }
}

/** Result of {@link unpickle}. */
export interface UnpickleResult {
  value: unknown;
  /** Offset just after the STOP opcode (several pickles follow each other in the legacy format). */
  end: number;
}

const MARK = Symbol('mark');

/**
 * Runs the pickle starting at `start` in `bytes` and returns the object it builds.
 *
 * @throws UnpicklingError for a disallowed global (message names it), an unknown or unsupported
 *   opcode, or a truncated stream.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}, start = 0): UnpickleResult {
  try {
    return runPickle(bytes, options, start);
  } catch (err) {
    if (err instanceof DetStudioError) throw err;
    throw new UnpicklingError(`corrupt pickle data: ${(err as Error).message}`);
  }
}

function runPickle(bytes: Uint8Array, options: UnpickleOptions, start: number): UnpickleResult {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength;
  let pos = start;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const need = (k: number) => {
    if (pos + k > n) {
      throw new UnpicklingError(`pickle data was truncated (needed ${k} bytes at offset ${pos}, only ${n - pos} left)`);
    }
  };
  const readLine = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) throw new UnpicklingError(`pickle data was truncated (no newline after offset ${pos})`);
    const s = latin1.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const readBytes = (k: number): Uint8Array => {
    need(k);
    const b = bytes.subarray(pos, pos + k);
    pos += k;
    return b;
  };
  const readU64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new UnpicklingError('pickle length field too large');
    return Number(v);
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw new UnpicklingError(`pickle stack underflow at offset ${pos - 1}`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new UnpicklingError(`pickle stack underflow at offset ${pos - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) throw new UnpicklingError(`pickle MARK missing at offset ${pos - 1}`);
    stack = prev;
    return items;
  };
  const findClass = (rawModule: string, name: string): unknown => {
    const module = rawModule === '__builtin__' ? 'builtins' : rawModule === 'copy_reg' ? 'copyreg' : rawModule;
    const g = findAllowedGlobal(module, name);
    if (g) return g;
    if (opaqueAllowed(options.opaqueGlobals, module, name)) {
      const qual = `${module}.${name}`;
      return new PyGlobal(qual, { call: (args) => ({ __class__: qual, args }) as OpaqueObject });
    }
    throw new UnpicklingError(
      `refusing to load: the pickle references the global '${module}.${name}', which is not on the allow-list of ` +
        'globals that PyTorch state-dict checkpoints use (the same rule as torch.load(weights_only=True)). ' +
        'Only tensors, storages, OrderedDict, numpy scalars and plain Python containers can be loaded.',
      { global: `${module}.${name}` },
    );
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyGlobal) || !fn.impl.call) {
      throw new UnpicklingError(`cannot call ${describe(fn)} while unpickling`);
    }
    if (!Array.isArray(args)) throw new UnpicklingError(`call of ${fn.qualname}: arguments must be a tuple`);
    return fn.impl.call(args);
  };
  const setItem = (d: unknown, k: unknown, v: unknown) => {
    if (d instanceof Map) d.set(k, v);
    else throw new UnpicklingError(`SETITEM on ${describe(d)}`);
  };
  const build = (obj: unknown, state: unknown) => {
    if (obj instanceof Map) {
      let attrs = state;
      if (Array.isArray(attrs) && attrs.length === 2) attrs = attrs[0] ?? attrs[1];
      if (attrs instanceof Map) {
        const existing = (obj as unknown as Record<symbol, Map<unknown, unknown>>)[PY_ATTRS] ?? new Map();
        for (const [k, v] of attrs) existing.set(k, v);
        Object.defineProperty(obj, PY_ATTRS, { value: existing, enumerable: false, configurable: true });
      }
      return;
    }
    if (obj instanceof NumpyDType) {
      if (Array.isArray(state) && typeof state[1] === 'string') obj.byteorder = state[1];
      return;
    }
    if (obj instanceof NumpyArray) {
      if (!Array.isArray(state) || state.length < 5) throw new UnpicklingError('numpy array: unexpected state');
      obj.shape = asIntArray(state[1], 'numpy shape');
      obj.dtype = state[2] instanceof NumpyDType ? state[2] : null;
      obj.fortranOrder = state[3] === true;
      if (!(state[4] instanceof Uint8Array)) throw new UnpicklingError('numpy arrays of Python objects are not supported');
      obj.raw = state[4];
      return;
    }
    if (obj instanceof PendingTensor) return; // Parameter/tensor python attributes are dropped
    if (obj !== null && typeof obj === 'object' && '__class__' in obj) {
      (obj as OpaqueObject).state = state;
      return;
    }
    throw new UnpicklingError(`BUILD on ${describe(obj)} is not supported`);
  };

  for (;;) {
    need(1);
    const op = bytes[pos++]!;
    switch (op) {
      case 0x80: // PROTO
        need(1);
        if (bytes[pos]! > 5) throw new UnpicklingError(`unsupported pickle protocol ${bytes[pos]}`);
        pos += 1;
        break;
      case 0x95: // FRAME
        readU64();
        break;
      case 0x2e: // STOP
        if (stack.length === 0) throw new UnpicklingError('pickle STOP with an empty stack');
        return { value: stack[stack.length - 1], end: pos };
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(dv.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        need(1);
        stack.push(bytes[pos++]!);
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(dv.getUint16(pos, true));
        pos += 2;
        break;
      case 0x49: {
        // INT
        const s = readLine().trim();
        if (s === '00') stack.push(false);
        else if (s === '01') stack.push(true);
        else stack.push(normBig(BigInt(s)));
        break;
      }
      case 0x4c: {
        // LONG
        const s = readLine().trim().replace(/L$/, '');
        stack.push(normBig(BigInt(s)));
        break;
      }
      case 0x8a: {
        // LONG1
        need(1);
        const k = bytes[pos++]!;
        stack.push(decodeLong(readBytes(k)));
        break;
      }
      case 0x8b: {
        // LONG4
        need(4);
        const k = dv.getInt32(pos, true);
        pos += 4;
        if (k < 0) throw new UnpicklingError('LONG4 with negative length');
        stack.push(decodeLong(readBytes(k)));
        break;
      }
      case 0x46: // FLOAT
        stack.push(parseFloat(readLine()));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x53: // STRING
        stack.push(parsePyStringLiteral(readLine()));
        break;
      case 0x54: {
        // BINSTRING
        need(4);
        const k = dv.getInt32(pos, true);
        pos += 4;
        stack.push(decodeUtf8(readBytes(k)));
        break;
      }
      case 0x55: {
        // SHORT_BINSTRING
        need(1);
        const k = bytes[pos++]!;
        stack.push(decodeUtf8(readBytes(k)));
        break;
      }
      case 0x56: // UNICODE (raw-unicode-escape)
        stack.push(readLine().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string, b: string) =>
          String.fromCodePoint(parseInt(a ?? b, 16)),
        ));
        break;
      case 0x58: {
        // BINUNICODE
        need(4);
        const k = dv.getUint32(pos, true);
        pos += 4;
        stack.push(decodeUtf8(readBytes(k)));
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        need(1);
        const k = bytes[pos++]!;
        stack.push(decodeUtf8(readBytes(k)));
        break;
      }
      case 0x8d: // BINUNICODE8
        stack.push(decodeUtf8(readBytes(readU64())));
        break;
      case 0x42: {
        // BINBYTES
        need(4);
        const k = dv.getUint32(pos, true);
        pos += 4;
        stack.push(readBytes(k).slice());
        break;
      }
      case 0x43: {
        // SHORT_BINBYTES
        need(1);
        const k = bytes[pos++]!;
        stack.push(readBytes(k).slice());
        break;
      }
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(readBytes(readU64()).slice());
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw new UnpicklingError('out-of-band pickle buffers (protocol 5 NEXT_BUFFER) are not supported');
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) throw new UnpicklingError(`APPEND to ${describe(l)}`);
        l.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) throw new UnpicklingError(`APPENDS to ${describe(l)}`);
        for (const it of items) l.push(it);
        break;
      }
      case 0x6c: {
        // LIST (pop the mark before touching `stack`: popMark replaces it)
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push(markTuple([]));
        break;
      case 0x74: {
        // TUPLE
        const items = markTuple(popMark());
        stack.push(items);
        break;
      }
      case 0x85: // TUPLE1
        stack.push(markTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(markTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(markTuple([a, b, c]));
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const m = new Map<unknown, unknown>();
        for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i], items[i + 1]);
        stack.push(m);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const d = top();
        if (items.length % 2) throw new UnpicklingError('SETITEMS with an odd number of items');
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) throw new UnpicklingError(`ADDITEMS to ${describe(s)}`);
        for (const it of items) s.add(it);
        break;
      }
      case 0x91: {
        // FROZENSET
        const items = new Set(popMark());
        stack.push(items);
        break;
      }
      case 0x70: // PUT
        memo.set(parseInt(readLine(), 10), top());
        break;
      case 0x71: // BINPUT
        need(1);
        memo.set(bytes[pos++]!, top());
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memo.set(dv.getUint32(pos, true), top());
        pos += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        let idx: number;
        if (op === 0x67) idx = parseInt(readLine(), 10);
        else if (op === 0x68) {
          need(1);
          idx = bytes[pos++]!;
        } else {
          need(4);
          idx = dv.getUint32(pos, true);
          pos += 4;
        }
        if (!memo.has(idx)) throw new UnpicklingError(`pickle memo key ${idx} not found`);
        stack.push(memo.get(idx));
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = readLine();
        const name = readLine();
        stack.push(findClass(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new UnpicklingError('STACK_GLOBAL needs two strings');
        stack.push(findClass(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        pop(); // kwargs
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x69: {
        // INST
        const module = readLine();
        const name = readLine();
        const args = popMark();
        const obj = call(findClass(module, name), args);
        stack.push(obj);
        break;
      }
      case 0x6f: {
        // OBJ
        const items = popMark();
        const [cls, ...args] = items;
        const obj = call(cls, args);
        stack.push(obj);
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        build(top(), state);
        break;
      }
      case 0x50: // PERSID
      case 0x51: {
        // BINPERSID
        const pid = op === 0x50 ? readLine() : pop();
        if (!options.persistentLoad) throw new UnpicklingError('pickle uses persistent ids but no resolver was given');
        stack.push(options.persistentLoad(pid));
        break;
      }
      case 0x82:
      case 0x83:
      case 0x84:
        throw new UnpicklingError('pickle extension registry opcodes (EXT1/2/4) are not supported');
      default:
        throw new UnpicklingError(
          `invalid pickle opcode 0x${op.toString(16).padStart(2, '0')} at offset ${pos - 1} (not a pickle, or corrupt)`,
        );
    }
  }
}

function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return normBig(v);
}

function parsePyStringLiteral(line: string): string {
  const s = line.trim();
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q) throw new UnpicklingError('STRING opcode argument is not quoted');
  const body = s.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' };
    return map[e] ?? `\\${e}`;
  });
}
