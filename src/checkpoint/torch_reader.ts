/**
 * Reader of PyTorch `.pth` files in both of `torch.save`'s formats:
 *
 * - the zip format (torch ≥ 1.6): `<prefix>/data.pkl` (the pickled object, tensors as persistent
 *   ids `('storage', StorageClass, key, location, numel)`), `<prefix>/data/<key>` (raw storages,
 *   STORED and 64-byte aligned), `<prefix>/version`, optionally `<prefix>/byteorder`. The prefix is
 *   the archive name (`archive`, or the file's stem for torch < 2.x);
 * - the legacy format: pickles of the magic number, the protocol version (1001) and system info,
 *   then the object (persistent ids `('storage', StorageClass, root_key, location, numel,
 *   view_metadata)`), then the list of storage keys, then each storage as an int64 element count
 *   followed by its raw bytes.
 *
 * Tensors of STORED records are typed-array views into the file buffer where their alignment
 * allows (no copy); strided tensors are made contiguous.
 */
import { DTYPE_SIZE, numelOf, viewTensorData, allocTensorData, type DType, type TensorData, type TensorRecord } from './dtypes.ts';
import { CheckpointError, UnpicklingError } from './errors.ts';
import {
  NumpyArray,
  NumpyDType,
  PendingTensor,
  PY_ATTRS,
  PY_TUPLE,
  PyGlobal,
  StorageHandle,
  unpickle,
  type StorageRef,
  type UnpickleOptions,
} from './pickle.ts';
import { looksLikeZip, ZipArchive } from './zip.ts';

/** A loaded checkpoint. */
export interface Checkpoint {
  /** Container format the file used. */
  format: 'torch-zip' | 'torch-legacy' | 'safetensors';
  /** `checkpoint['meta']` as plain data (`null` when absent; safetensors: the parsed `__metadata__`). */
  meta: unknown;
  /** The state dict, in file order. */
  stateDict: Map<string, TensorRecord>;
  /** Other top-level entries (`optimizer`, `message_hub`, …) as plain data, tensors as records. */
  extra: Record<string, unknown>;
  /** Non-fatal findings: NaN/Inf weights, skipped non-tensor state-dict entries. */
  warnings: string[];
  /** Zip record prefix (archive name) for the zip format. */
  recordPrefix?: string;
}

/** Options for reading checkpoints. */
export interface ReadCheckpointOptions {
  /** Scan floating-point tensors for NaN/Inf and list them in `warnings` (default true). */
  checkFinite?: boolean;
  /** Verify zip CRC-32s (default false: costs a pass over the data). */
  verifyCrc?: boolean;
  /** See {@link UnpickleOptions.opaqueGlobals}. */
  opaqueGlobals?: readonly string[];
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** Whether the bytes look like a legacy (non-zip) `torch.save` file. */
export function looksLikeLegacyPth(bytes: Uint8Array): boolean {
  // PROTO 2, LONG1 10 bytes = the magic number.
  return bytes.length >= 13 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a && bytes[3] === 0x0a;
}

/** Reads a `.pth` file (zip or legacy format). */
export function readPth(bytes: Uint8Array, options: ReadCheckpointOptions = {}): Checkpoint {
  if (bytes.byteLength === 0) throw new CheckpointError('the file is empty');
  if (looksLikeZip(bytes)) return readZipPth(bytes, options);
  if (looksLikeLegacyPth(bytes)) return readLegacyPth(bytes, options);
  if (bytes.length > 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new CheckpointError('this is a tar-format checkpoint from PyTorch < 0.4, which is not supported; re-save it with a current PyTorch');
  }
  throw new CheckpointError(
    'not a PyTorch checkpoint: the file is neither a zip archive (torch.save since 1.6) nor a legacy torch.save pickle',
    { firstBytes: Array.from(bytes.subarray(0, 8)) },
  );
}

function readZipPth(bytes: Uint8Array, options: ReadCheckpointOptions): Checkpoint {
  const zip = new ZipArchive(bytes);
  const first = zip.entries[0]?.name ?? '';
  let prefix = first.includes('/') ? first.slice(0, first.indexOf('/')) : '';
  if (!zip.get(`${prefix}/data.pkl`)) {
    const pkl = zip.entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
    if (!pkl) {
      throw new CheckpointError('zip archive without a <name>/data.pkl record: not a PyTorch checkpoint', {
        records: zip.entries.slice(0, 10).map((e) => e.name),
      });
    }
    prefix = pkl.name.slice(0, -'/data.pkl'.length);
  }
  const rec = (name: string) => zip.get(`${prefix}/${name}`);
  if (rec('constants.pkl') || zip.entries.some((e) => e.name.startsWith(`${prefix}/code/`))) {
    throw new CheckpointError(
      'this is a TorchScript model (torch.jit.save), not a checkpoint: save the weights with torch.save(model.state_dict()) instead',
    );
  }
  const text = (name: string) => {
    const e = rec(name);
    return e ? new TextDecoder().decode(zip.read(e)).trim() : undefined;
  };
  const byteorder = text('byteorder') ?? 'little';
  if (byteorder !== 'little' && byteorder !== 'big') throw new CheckpointError(`unknown byteorder record '${byteorder}'`);
  const version = text('.data/version') ?? text('version');
  if (version !== undefined && !/^\d+$/.test(version)) throw new CheckpointError(`unreadable version record '${version}'`);

  const storages = new Map<string, Uint8Array>();
  const storageBytes = (ref: StorageRef): Uint8Array => {
    let b = storages.get(ref.key);
    if (!b) {
      const e = rec(`data/${ref.key}`);
      if (!e) throw new CheckpointError(`storage record '${prefix}/data/${ref.key}' is missing: the checkpoint is incomplete`);
      b = zip.read(e, options.verifyCrc);
      if (byteorder === 'big') b = swapBytes(b, DTYPE_SIZE[ref.dtype]);
      storages.set(ref.key, b);
    }
    return b;
  };
  const persistentLoad = (pid: unknown): StorageHandle => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
      throw new UnpicklingError(`unknown persistent id ${JSON.stringify(Array.isArray(pid) ? pid[0] : typeof pid)} (only tensor storages are supported)`);
    }
    return new StorageHandle(storageRef(pid[1], pid[2], pid[3], pid[4], 0));
  };
  const pkl = zip.read(rec('data.pkl')!, options.verifyCrc);
  const unpickleOpts: UnpickleOptions = { persistentLoad };
  if (options.opaqueGlobals) unpickleOpts.opaqueGlobals = options.opaqueGlobals;
  const { value } = unpickle(pkl, unpickleOpts);
  const ckpt = assemble(value, storageBytes, 'torch-zip', options);
  ckpt.recordPrefix = prefix;
  return ckpt;
}

function storageRef(type: unknown, key: unknown, location: unknown, numel: unknown, viewOffset: number): StorageRef {
  if (!(type instanceof PyGlobal) || type.storageDtype === undefined) {
    throw new UnpicklingError(`persistent id names ${type instanceof PyGlobal ? type.qualname : typeof type}, not a storage class`);
  }
  return {
    dtype: type.storageDtype,
    key: String(key),
    location: String(location),
    numel: typeof numel === 'number' ? numel : typeof numel === 'bigint' ? Number(numel) : -1,
    viewOffset,
  };
}

function readLegacyPth(bytes: Uint8Array, options: ReadCheckpointOptions): Checkpoint {
  let r = unpickle(bytes);
  if (r.value !== LEGACY_MAGIC) throw new CheckpointError('not a PyTorch checkpoint: the legacy magic number is wrong');
  r = unpickle(bytes, {}, r.end);
  if (r.value !== 1001) throw new CheckpointError(`unsupported legacy torch.save protocol version ${String(r.value)}`);
  r = unpickle(bytes, {}, r.end);
  const sysInfo = r.value instanceof Map ? r.value : new Map();
  const little = sysInfo.get('little_endian') !== false;

  const roots = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageHandle => {
    if (!Array.isArray(pid) || pid.length < 5) throw new UnpicklingError('malformed legacy persistent id');
    if (pid[0] === 'module') throw new UnpicklingError('the checkpoint pickles a whole nn.Module (torch.save(model)); only state dicts can be loaded');
    if (pid[0] !== 'storage') throw new UnpicklingError(`unknown persistent id type '${String(pid[0])}'`);
    const [, type, key, location, numel, view] = pid as unknown[];
    const root = storageRef(type, key, location, numel, 0);
    if (!roots.has(root.key)) roots.set(root.key, root);
    if (Array.isArray(view) && view.length >= 2) {
      return new StorageHandle({ ...root, viewOffset: Number(view[1]) });
    }
    return new StorageHandle(root);
  };
  const opts: UnpickleOptions = { persistentLoad };
  if (options.opaqueGlobals) opts.opaqueGlobals = options.opaqueGlobals;
  r = unpickle(bytes, opts, r.end);
  const value = r.value;
  r = unpickle(bytes, {}, r.end);
  if (!Array.isArray(r.value)) throw new CheckpointError('legacy checkpoint: storage key list missing');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = r.end;
  const storages = new Map<string, Uint8Array>();
  for (const k of r.value as unknown[]) {
    const key = String(k);
    const ref = roots.get(key);
    if (!ref) throw new CheckpointError(`legacy checkpoint: storage '${key}' is not referenced by the pickle`);
    if (p + 8 > bytes.byteLength) throw new CheckpointError(`legacy checkpoint truncated before storage '${key}'`);
    const count = Number(dv.getBigInt64(p, little));
    if (count < 0) throw new CheckpointError(`legacy checkpoint: storage '${key}' has a negative size: corrupt file`);
    const nbytes = count * DTYPE_SIZE[ref.dtype];
    p += 8;
    if (p + nbytes > bytes.byteLength) {
      throw new CheckpointError(
        `legacy checkpoint truncated: storage '${key}' needs ${nbytes} bytes at offset ${p}, the file has ${bytes.byteLength}`,
      );
    }
    let b = bytes.subarray(p, p + nbytes);
    if (!little) b = swapBytes(b, DTYPE_SIZE[ref.dtype]);
    storages.set(key, b);
    p += nbytes;
  }
  const storageBytes = (ref: StorageRef) => {
    const b = storages.get(ref.key);
    if (!b) throw new CheckpointError(`legacy checkpoint: storage '${ref.key}' has no data`);
    return b;
  };
  return assemble(value, storageBytes, 'torch-legacy', options);
}

function swapBytes(b: Uint8Array, size: number): Uint8Array {
  if (size === 1) return b;
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i += size) for (let j = 0; j < size; j++) out[i + j] = b[i + size - 1 - j]!;
  return out;
}

/** Materialises a tensor from its storage bytes: a view when contiguous and aligned, else a copy. */
export function materializeTensor(t: PendingTensor, storage: Uint8Array): TensorRecord {
  const dtype = t.storage.dtype;
  const esize = DTYPE_SIZE[dtype];
  const shape = t.size.slice();
  const numel = numelOf(shape);
  const storageElems = Math.floor(storage.byteLength / esize);
  const base = t.storage.viewOffset + t.storageOffset;
  if (shape.some((d) => d < 0) || t.stride.some((d) => d < 0) || numel > 2 ** 31 - 1) {
    throw new CheckpointError(`tensor with shape [${shape}] and stride [${t.stride}] is invalid or too large: corrupt checkpoint`);
  }
  if (numel === 0) return { dtype, shape, data: allocTensorData(dtype, 0) };
  let maxIndex = base;
  for (let i = 0; i < shape.length; i++) maxIndex += (shape[i]! - 1) * t.stride[i]!;
  if (base < 0 || maxIndex >= storageElems || t.stride.length !== shape.length) {
    throw new CheckpointError(
      `tensor of shape [${shape}] (offset ${base}, stride [${t.stride}]) does not fit its ${storageElems}-element storage '${t.storage.key}': corrupt checkpoint`,
    );
  }
  let contiguous = true;
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && t.stride[i] !== expect) contiguous = false;
    expect *= shape[i]!;
  }
  if (contiguous) return { dtype, shape, data: viewTensorData(dtype, storage, base * esize, numel) };
  const src = viewTensorData(dtype, storage, 0, storageElems) as unknown as { [i: number]: number | bigint };
  const out = allocTensorData(dtype, numel) as unknown as { [i: number]: number | bigint };
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = base;
  for (let k = 0; k < numel; k++) {
    out[k] = src[off]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += t.stride[d]!;
      if (idx[d]! < shape[d]!) break;
      off -= idx[d]! * t.stride[d]!;
      idx[d] = 0;
    }
  }
  return { dtype, shape, data: out as unknown as TensorData };
}

const NUMPY_DTYPES: Record<string, DType> = {
  f4: 'float32', f8: 'float64', f2: 'float16', i8: 'int64', i4: 'int32', i2: 'int16', i1: 'int8', u1: 'uint8', b1: 'bool',
};

function numpyToTensor(a: NumpyArray): TensorRecord {
  const str = a.dtype?.str.replace(/^[<>=|]/, '') ?? '';
  const dtype = NUMPY_DTYPES[str];
  if (!dtype || !a.raw) throw new CheckpointError(`numpy array of dtype '${a.dtype?.str ?? '?'}' is not supported`);
  let raw = a.raw;
  if (a.dtype?.byteorder === '>') raw = swapBytes(raw, DTYPE_SIZE[dtype]);
  const shape = a.shape;
  const stride = new Array<number>(shape.length);
  let s = 1;
  if (a.fortranOrder) for (let i = 0; i < shape.length; i++) (stride[i] = s), (s *= shape[i]!);
  else for (let i = shape.length - 1; i >= 0; i--) (stride[i] = s), (s *= shape[i]!);
  const ref: StorageRef = { dtype, key: 'numpy', location: 'cpu', numel: numelOf(shape), viewOffset: 0 };
  return materializeTensor(new PendingTensor(ref, 0, shape, stride), raw.slice());
}

/**
 * Converts unpickled values to plain data: dicts with only string keys → objects (others →
 * `Map`), tensors → {@link TensorRecord}, numpy arrays → records, tuples stay arrays marked with
 * {@link PY_TUPLE}, torch dtypes/devices → strings.
 */
export function toPlain(value: unknown, tensor: (t: PendingTensor) => TensorRecord, seen = new Map<unknown, unknown>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  if (value instanceof PendingTensor) {
    const r = tensor(value);
    seen.set(value, r);
    return r;
  }
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    if ((value as unknown as Record<symbol, unknown>)[PY_TUPLE]) Object.defineProperty(out, PY_TUPLE, { value: true });
    for (const v of value) out.push(toPlain(v, tensor, seen));
    return out;
  }
  if (value instanceof Map) {
    const stringKeys = [...value.keys()].every((k) => typeof k === 'string');
    let out: Record<string, unknown> | Map<unknown, unknown>;
    if (stringKeys) {
      const o: Record<string, unknown> = {};
      seen.set(value, o);
      for (const [k, v] of value) {
        Object.defineProperty(o, k as string, { value: toPlain(v, tensor, seen), enumerable: true, writable: true, configurable: true });
      }
      out = o;
    } else {
      const m = new Map<unknown, unknown>();
      seen.set(value, m);
      for (const [k, v] of value) m.set(toPlain(k, tensor, seen), toPlain(v, tensor, seen));
      out = m;
    }
    const attrs = (value as unknown as Record<symbol, unknown>)[PY_ATTRS];
    if (attrs) Object.defineProperty(out, PY_ATTRS, { value: toPlain(attrs, tensor, seen), configurable: true });
    return out;
  }
  if (value instanceof Set) {
    const s = new Set<unknown>();
    seen.set(value, s);
    for (const v of value) s.add(toPlain(v, tensor, seen));
    return s;
  }
  if (value instanceof NumpyArray) return numpyToTensor(value);
  if (value instanceof NumpyDType) return value.str;
  if (value instanceof PyGlobal) return value.qualname;
  if (value instanceof StorageHandle) {
    return tensor(new PendingTensor(value.ref, 0, [Math.max(0, value.ref.numel)], [1]));
  }
  if ('__class__' in value) {
    const o = value as { __class__: string; args: unknown[]; state?: unknown };
    return { __class__: o.__class__, args: toPlain(o.args, tensor, seen), state: toPlain(o.state, tensor, seen) };
  }
  return value;
}

/** Counts NaN and ±Inf elements of a floating-point tensor. */
export function countNonFinite(t: TensorRecord): { nan: number; inf: number } {
  let nan = 0;
  let inf = 0;
  if (t.dtype === 'float32') {
    // Exponent all ones = NaN or Inf; integer tests on the bits are the fastest scan.
    const d = t.data as Float32Array;
    const u = new Uint32Array(d.buffer, d.byteOffset, d.length);
    for (let i = 0; i < u.length; i++) {
      const b = u[i]!;
      if ((b & 0x7f800000) === 0x7f800000) {
        if (b & 0x7fffff) nan++;
        else inf++;
      }
    }
  } else if (t.dtype === 'float64') {
    const d = t.data as Float64Array;
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v - v !== 0) {
        if (v !== v) nan++;
        else inf++;
      }
    }
  } else if (t.dtype === 'float16' || t.dtype === 'bfloat16') {
    const d = t.data as Uint16Array;
    const [emask, mmask] = t.dtype === 'float16' ? [0x7c00, 0x03ff] : [0x7f80, 0x007f];
    for (let i = 0; i < d.length; i++) {
      const b = d[i]!;
      if ((b & emask) === emask) {
        if (b & mmask) nan++;
        else inf++;
      }
    }
  }
  return { nan, inf };
}

/**
 * Splits the unpickled top-level object into meta, state dict and the rest, MMEngine-style:
 * `checkpoint['state_dict']` when present, else the whole dict.
 */
function assemble(
  value: unknown,
  storageBytes: (ref: StorageRef) => Uint8Array,
  format: Checkpoint['format'],
  options: ReadCheckpointOptions,
): Checkpoint {
  const seen = new Map<unknown, unknown>();
  const tensor = (t: PendingTensor) => materializeTensor(t, storageBytes(t.storage));
  if (!(value instanceof Map)) {
    throw new CheckpointError(`the checkpoint holds a ${Array.isArray(value) ? 'list' : typeof value}, not a dict with a state_dict`);
  }
  const warnings: string[] = [];
  let sd: Map<unknown, unknown>;
  let meta: unknown = null;
  const extra: Record<string, unknown> = {};
  const sdValue = value.get('state_dict');
  if (sdValue instanceof Map) {
    sd = sdValue;
    for (const [k, v] of value) {
      if (k === 'state_dict') continue;
      if (k === 'meta') meta = toPlain(v, tensor, seen);
      else extra[String(k)] = toPlain(v, tensor, seen);
    }
  } else {
    const tensors = [...value.values()].filter((v) => v instanceof PendingTensor).length;
    if (tensors === 0) {
      throw new CheckpointError('the checkpoint has no state_dict entry and holds no tensors at its top level', {
        keys: [...value.keys()].slice(0, 20).map(String),
      });
    }
    sd = value;
  }
  const stateDict = new Map<string, TensorRecord>();
  for (const [k, v] of sd) {
    if (v instanceof PendingTensor) {
      const t = toPlain(v, tensor, seen) as TensorRecord;
      stateDict.set(String(k), t);
      if (options.checkFinite !== false) {
        const { nan, inf } = countNonFinite(t);
        if (nan || inf) warnings.push(`${String(k)}: ${nan} NaN and ${inf} Inf values (of ${t.data.length})`);
      }
    } else {
      warnings.push(`state_dict entry '${String(k)}' is not a tensor and was skipped`);
    }
  }
  const attrs = (sd as unknown as Record<symbol, unknown>)[PY_ATTRS];
  if (attrs) Object.defineProperty(stateDict, PY_ATTRS, { value: toPlain(attrs, tensor, seen), configurable: true });
  return { format, meta, stateDict, extra, warnings };
}
