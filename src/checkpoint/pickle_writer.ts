/**
 * A protocol-2 pickler for checkpoint objects, emitting exactly the opcodes and globals that
 * `torch.save` emits for a state dict, so `torch.load(weights_only=True)` accepts the result.
 *
 * JavaScript values map to Python: `null`/`undefined` → `None`, booleans, integral numbers and
 * bigints → `int`, other numbers → `float`, strings → `str`, `Uint8Array` → `bytes`, arrays →
 * `list` (`tuple` when marked with {@link PY_TUPLE}), plain objects → `dict`, `Map` →
 * `collections.OrderedDict`, `Set` → `set`, {@link TensorRecord} → a tensor through
 * `torch._utils._rebuild_tensor_v2` with its storage as a persistent id.
 */
import { isTensorRecord, type DType, type TensorRecord } from './dtypes.ts';
import { CheckpointError } from './errors.ts';
import { PY_ATTRS, PY_TUPLE, STORAGE_CLASS_DTYPES } from './pickle.ts';

/** The storage class PyTorch pickles for each dtype (`torch.FloatStorage`, …). */
export const STORAGE_CLASS_OF: Readonly<Record<DType, string>> = Object.fromEntries(
  Object.entries(STORAGE_CLASS_DTYPES)
    .filter(([name]) => name !== 'UntypedStorage')
    .map(([name, dtype]) => [dtype, name]),
) as Record<DType, string>;

/** Pickles an object graph; tensors are handed to `storageKey`, which names their storage. */
export class Pickler {
  private buf = new Uint8Array(1 << 16);
  private len = 0;
  private readonly memo = new Map<string, number>();
  private readonly enc = new TextEncoder();

  constructor(private readonly storageKey: (t: TensorRecord) => string) {}

  /** Pickles `value` (PROTO 2 … STOP) and returns the bytes. */
  dump(value: unknown): Uint8Array {
    this.byte(0x80, 2);
    this.save(value);
    this.byte(0x2e);
    return this.buf.slice(0, this.len);
  }

  private ensure(k: number) {
    if (this.len + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + k) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  private byte(...bs: number[]) {
    this.ensure(bs.length);
    for (const b of bs) this.buf[this.len++] = b;
  }

  private raw(b: Uint8Array) {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  private u32(v: number) {
    this.byte(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  private global(module: string, name: string) {
    const q = `${module}\n${name}\n`;
    const idx = this.memo.get(q);
    if (idx !== undefined) {
      if (idx < 256) this.byte(0x68, idx);
      else (this.byte(0x6a), this.u32(idx));
      return;
    }
    this.byte(0x63);
    this.raw(this.enc.encode(q));
    const k = this.memo.size;
    this.memo.set(q, k);
    if (k < 256) this.byte(0x71, k);
    else (this.byte(0x72), this.u32(k));
  }

  private int(v: number | bigint) {
    if (typeof v === 'number' && v >= 0 && v < 256) return this.byte(0x4b, v);
    if (typeof v === 'number' && v >= 0 && v < 65536) return this.byte(0x4d, v & 0xff, v >> 8);
    if (typeof v === 'number' && v >= -(2 ** 31) && v < 2 ** 31) return (this.byte(0x4a), this.u32(v >>> 0));
    // LONG1: little-endian two's complement, minimal length.
    let b = BigInt(v);
    const out: number[] = [];
    for (;;) {
      const byte = Number(b & 0xffn);
      out.push(byte);
      b >>= 8n;
      if ((b === 0n && !(byte & 0x80)) || (b === -1n && byte & 0x80)) break;
    }
    this.byte(0x8a, out.length, ...out);
  }

  private float(v: number) {
    this.ensure(9);
    this.buf[this.len++] = 0x47;
    new DataView(this.buf.buffer).setFloat64(this.len, v, false);
    this.len += 8;
  }

  private str(s: string) {
    const b = this.enc.encode(s);
    this.byte(0x58);
    this.u32(b.length);
    this.raw(b);
  }

  private tuple(items: readonly unknown[]) {
    if (items.length === 0) return this.byte(0x29);
    if (items.length <= 3) {
      for (const it of items) this.save(it);
      return this.byte([0x85, 0x86, 0x87][items.length - 1]!);
    }
    this.byte(0x28);
    for (const it of items) this.save(it);
    this.byte(0x74);
  }

  private setItems(entries: Iterable<[unknown, unknown]>) {
    let batch = 0;
    for (const [k, v] of entries) {
      if (batch === 0) this.byte(0x28);
      this.save(k);
      this.save(v);
      if (++batch === 1000) (this.byte(0x75), (batch = 0));
    }
    if (batch) this.byte(0x75);
  }

  private attrs(obj: object) {
    const attrs = (obj as Record<symbol, unknown>)[PY_ATTRS];
    if (attrs) {
      this.save(attrs);
      this.byte(0x62); // BUILD
    }
  }

  private tensor(t: TensorRecord) {
    const cls = STORAGE_CLASS_OF[t.dtype];
    const numel = t.data.length;
    const stride = new Array<number>(t.shape.length);
    let s = 1;
    for (let i = t.shape.length - 1; i >= 0; i--) (stride[i] = s), (s *= t.shape[i]!);
    if (s !== numel) throw new CheckpointError(`tensor shape [${t.shape}] does not match its ${numel} elements`);
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.byte(0x28); // MARK (args)
    this.byte(0x28); // MARK (persistent id)
    this.str('storage');
    this.global('torch', cls);
    this.str(this.storageKey(t));
    this.str('cpu');
    this.int(numel);
    this.byte(0x74, 0x51); // TUPLE, BINPERSID
    this.int(0);
    this.tuple(t.shape);
    this.tuple(stride);
    this.byte(0x89); // False (requires_grad)
    this.global('collections', 'OrderedDict');
    this.byte(0x29, 0x52); // () REDUCE: backward_hooks
    this.byte(0x74, 0x52); // TUPLE, REDUCE
  }

  private save(v: unknown): void {
    if (v === null || v === undefined) return this.byte(0x4e);
    if (v === true) return this.byte(0x88);
    if (v === false) return this.byte(0x89);
    if (typeof v === 'number') {
      return Number.isSafeInteger(v) && !Object.is(v, -0) ? this.int(v) : this.float(v);
    }
    if (typeof v === 'bigint') return this.int(v);
    if (typeof v === 'string') return this.str(v);
    if (typeof v !== 'object') throw new CheckpointError(`cannot pickle a ${typeof v}`);
    if (isTensorRecord(v)) return this.tensor(v);
    if (v instanceof Uint8Array) {
      if (v.length === 0) {
        this.global('__builtin__', 'bytes');
        return this.byte(0x29, 0x52);
      }
      // Protocol 2 writes bytes as _codecs.encode(latin1 text, 'latin1'), as CPython does.
      this.global('_codecs', 'encode');
      let s = '';
      for (let i = 0; i < v.length; i++) s += String.fromCharCode(v[i]!);
      this.str(s);
      this.str('latin1');
      return this.byte(0x86, 0x52);
    }
    if (Array.isArray(v)) {
      if ((v as unknown as Record<symbol, unknown>)[PY_TUPLE]) return this.tuple(v);
      this.byte(0x5d);
      for (let i = 0; i < v.length; i += 1000) {
        this.byte(0x28);
        for (const it of v.slice(i, i + 1000)) this.save(it);
        this.byte(0x65);
      }
      return;
    }
    if (v instanceof Map) {
      this.global('collections', 'OrderedDict');
      this.byte(0x29, 0x52);
      this.setItems(v);
      return this.attrs(v);
    }
    if (v instanceof Set) {
      this.global('__builtin__', 'set');
      this.byte(0x5d);
      if (v.size) {
        this.byte(0x28);
        for (const it of v) this.save(it);
        this.byte(0x65);
      }
      return this.byte(0x85, 0x52);
    }
    if (ArrayBuffer.isView(v)) throw new CheckpointError('typed arrays must be wrapped as tensors ({dtype, shape, data})');
    this.byte(0x7d);
    this.setItems(Object.entries(v));
    this.attrs(v);
  }
}
