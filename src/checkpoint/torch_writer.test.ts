import { describe, expect, it } from 'vitest';
import { readFixtureBytes } from '../testing/fixtures.ts';
import { convertCheckpoint, readCheckpoint, writeCheckpointParts } from './checkpoint.ts';
import { DTYPE_SIZE, tensorBytes, type DType, type TensorRecord } from './dtypes.ts';
import { PY_ATTRS, markTuple } from './pickle.ts';
import { readSafetensors, writeSafetensors } from './safetensors.ts';
import { readPth } from './torch_reader.ts';
import { mmdetCheckpointObject, writePth } from './torch_writer.ts';
import { concatBytes, crc32 } from './zip.ts';

/** Bytes of every tensor equal, same keys in the same order. */
function expectSameStateDict(a: Map<string, TensorRecord>, b: Map<string, TensorRecord>) {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [k, t] of a) {
    const u = b.get(k)!;
    expect(u.dtype, k).toBe(t.dtype);
    expect(u.shape, k).toEqual(t.shape);
    expect(Buffer.from(tensorBytes(u.data)).equals(Buffer.from(tensorBytes(t.data))), k).toBe(true);
  }
}

interface ZipRecord {
  name: string;
  method: number;
  crc: number;
  size: number;
  dataOffset: number;
}

/** Walks a zip the way PyTorchStreamReader (miniz) does: end record → central directory → local headers. */
function zipRecords(bytes: Uint8Array): ZipRecord[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = bytes.length - 22;
  expect(dv.getUint32(eocd, true)).toBe(0x06054b50);
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  expect(p + dv.getUint32(eocd + 12, true)).toBe(eocd);
  const out: ZipRecord[] = [];
  for (let i = 0; i < count; i++) {
    expect(dv.getUint32(p, true)).toBe(0x02014b50);
    const nameLen = dv.getUint16(p + 28, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    const local = dv.getUint32(p + 42, true);
    expect(dv.getUint32(local, true)).toBe(0x04034b50);
    expect(dv.getUint32(local + 14, true)).toBe(dv.getUint32(p + 16, true)); // crc in local header too
    const dataOffset = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    out.push({ name, method: dv.getUint16(p + 10, true), crc: dv.getUint32(p + 16, true), size: dv.getUint32(p + 24, true), dataOffset });
    p += 46 + nameLen + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
  }
  return out;
}

// Argument sizes of the opcodes a protocol-2 state-dict pickle may contain (pickletools' table).
const OPS: Record<number, [string, (b: Uint8Array, dv: DataView, p: number) => number]> = {
  0x80: ['PROTO', () => 1],
  0x7d: ['EMPTY_DICT', () => 0],
  0x5d: ['EMPTY_LIST', () => 0],
  0x29: ['EMPTY_TUPLE', () => 0],
  0x28: ['MARK', () => 0],
  0x58: ['BINUNICODE', (_b, dv, p) => 4 + dv.getUint32(p, true)],
  0x63: ['GLOBAL', (b, _dv, p) => b.indexOf(10, b.indexOf(10, p) + 1) + 1 - p],
  0x71: ['BINPUT', () => 1],
  0x68: ['BINGET', () => 1],
  0x52: ['REDUCE', () => 0],
  0x74: ['TUPLE', () => 0],
  0x85: ['TUPLE1', () => 0],
  0x86: ['TUPLE2', () => 0],
  0x87: ['TUPLE3', () => 0],
  0x51: ['BINPERSID', () => 0],
  0x4b: ['BININT1', () => 1],
  0x4d: ['BININT2', () => 2],
  0x4a: ['BININT', () => 4],
  0x8a: ['LONG1', (b, _dv, p) => 1 + b[p]!],
  0x47: ['BINFLOAT', () => 8],
  0x89: ['NEWFALSE', () => 0],
  0x88: ['NEWTRUE', () => 0],
  0x4e: ['NONE', () => 0],
  0x75: ['SETITEMS', () => 0],
  0x65: ['APPENDS', () => 0],
  0x62: ['BUILD', () => 0],
  0x2e: ['STOP', () => 0],
};

function disassemble(pkl: Uint8Array): { op: string; arg: Uint8Array }[] {
  const dv = new DataView(pkl.buffer, pkl.byteOffset, pkl.byteLength);
  const ops: { op: string; arg: Uint8Array }[] = [];
  let p = 0;
  while (p < pkl.length) {
    const entry = OPS[pkl[p]!];
    if (!entry) throw new Error(`unexpected opcode 0x${pkl[p]!.toString(16)} at ${p}`);
    const len = entry[1](pkl, dv, p + 1);
    ops.push({ op: entry[0], arg: pkl.subarray(p + 1, p + 1 + len) });
    p += 1 + len;
    if (entry[0] === 'STOP') break;
  }
  expect(p).toBe(pkl.length);
  return ops;
}

describe('writePth', () => {
  const src = readPth(readFixtureBytes('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth'));
  const out = writePth(mmdetCheckpointObject(src.meta, src.stateDict));

  it('round-trips the tiny Mask R-CNN checkpoint bit-exactly (tensors, key order, meta)', () => {
    const back = readPth(out, { verifyCrc: true });
    expect(back.recordPrefix).toBe('archive');
    expectSameStateDict(src.stateDict, back.stateDict);
    expect(back.meta).toEqual(src.meta);
  });

  it('writes the zip records, alignment and CRCs torch reads', () => {
    const recs = zipRecords(out);
    const n = src.stateDict.size;
    const names = recs.map((r) => r.name);
    expect(names[0]).toBe('archive/data.pkl');
    expect(names[1]).toBe('archive/byteorder');
    expect(names[names.length - 1]).toBe('archive/version');
    const dataNames = names.slice(2, -1);
    expect(dataNames).toEqual(Array.from({ length: n }, (_, i) => `archive/data/${i}`).sort());
    for (const r of recs) {
      expect(r.method, r.name).toBe(0);
      expect(r.dataOffset % 64, r.name).toBe(0);
      expect(crc32(out.subarray(r.dataOffset, r.dataOffset + r.size)), r.name).toBe(r.crc);
    }
    const text = (name: string) => {
      const r = recs.find((x) => x.name === name)!;
      return new TextDecoder().decode(out.subarray(r.dataOffset, r.dataOffset + r.size));
    };
    expect(text('archive/byteorder')).toBe('little');
    expect(text('archive/version')).toBe('3\n');
  });

  it('writes a protocol-2 data.pkl with only the opcodes and globals torch.save emits for a state dict', () => {
    const recs = zipRecords(out);
    const pklRec = recs.find((r) => r.name === 'archive/data.pkl')!;
    const ops = disassemble(out.subarray(pklRec.dataOffset, pklRec.dataOffset + pklRec.size));
    expect(ops[0]!.op).toBe('PROTO');
    expect(ops[0]!.arg[0]).toBe(2);
    const globals = new Set(ops.filter((o) => o.op === 'GLOBAL').map((o) => new TextDecoder().decode(o.arg).trim().replace('\n', '.')));
    expect([...globals].sort()).toEqual(['collections.OrderedDict', 'torch.FloatStorage', 'torch.LongStorage', 'torch._utils._rebuild_tensor_v2']);
    // Every persistent id is ('storage', <StorageClass>, '<key>', 'cpu', numel) and names a record
    // whose size is numel * element size.
    const sizes = new Map(recs.map((r) => [r.name, r.size]));
    let persids = 0;
    const dtypeByStorage: Record<string, DType> = { FloatStorage: 'float32', LongStorage: 'int64' };
    const memo = new Map<number, string>();
    let lastGlobal = '';
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i]!;
      if (o.op === 'GLOBAL') lastGlobal = new TextDecoder().decode(o.arg).trim().replace('\n', '.');
      if (o.op === 'BINPUT' && ops[i - 1]!.op === 'GLOBAL') memo.set(o.arg[0]!, lastGlobal);
      if (o.op !== 'BINPERSID') continue;
      persids++;
      // MARK 'storage' <GLOBAL torch.XStorage | BINGET> '<key>' 'cpu' <int numel> TUPLE BINPERSID
      expect(ops[i - 1]!.op).toBe('TUPLE');
      let j = i - 1;
      while (ops[j]!.op !== 'MARK') j--;
      const items = ops.slice(j + 1, i - 1).filter((o) => o.op !== 'BINPUT');
      expect(items.map((o) => o.op)).toEqual(['BINUNICODE', items[1]!.op, 'BINUNICODE', 'BINUNICODE', items[4]!.op]);
      const str = (o: { arg: Uint8Array }) => new TextDecoder().decode(o.arg.subarray(4));
      expect(str(items[0]!)).toBe('storage');
      const cls = items[1]!.op === 'BINGET' ? memo.get(items[1]!.arg[0]!)! : new TextDecoder().decode(items[1]!.arg).trim().replace('\n', '.');
      const key = str(items[2]!);
      expect(str(items[3]!)).toBe('cpu');
      const numelOp = items[4]!;
      const numel =
        numelOp.op === 'BININT1' ? numelOp.arg[0]! : numelOp.op === 'BININT2' ? numelOp.arg[0]! | (numelOp.arg[1]! << 8) : new DataView(numelOp.arg.buffer, numelOp.arg.byteOffset).getInt32(0, true);
      const dtype = dtypeByStorage[cls.split('.')[1]!]!;
      expect(sizes.get(`archive/data/${key}`)).toBe(numel * DTYPE_SIZE[dtype]);
    }
    expect(persids).toBe(src.stateDict.size);
  });

  it('keeps tuples, bytes, big ints, non-string keys and dict attributes', () => {
    const sd = new Map<string, TensorRecord>([['w', { dtype: 'float32', shape: [2], data: new Float32Array([1.5, -2]) }]]);
    Object.defineProperty(sd, PY_ATTRS, { value: { _metadata: { '': { version: 1 } } } });
    const meta = { t: markTuple(['a', 1]), b: new Uint8Array([0, 200]), big: 2n ** 80n, m: new Map([[3, 'x']]), f: 0.25, s: new Set([1]) };
    const back = readPth(writePth(mmdetCheckpointObject(meta, sd)));
    expect(back.meta).toEqual(meta);
    expect((back.stateDict as unknown as Record<symbol, unknown>)[PY_ATTRS]).toEqual({ _metadata: { '': { version: 1 } } });
  });

  it('writes every dtype and reads it back bit-exactly, through .pth and safetensors', () => {
    const sd = new Map<string, TensorRecord>([
      ['f64', { dtype: 'float64', shape: [3], data: new Float64Array([Math.PI, -0, 1e-310]) }],
      ['f16', { dtype: 'float16', shape: [2, 2], data: new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]) }],
      ['bf16', { dtype: 'bfloat16', shape: [1, 3], data: new Uint16Array([0x3f80, 0xbf00, 0x0001]) }],
      ['i64', { dtype: 'int64', shape: [], data: new BigInt64Array([-(2n ** 62n)]) }],
      ['i32', { dtype: 'int32', shape: [2], data: new Int32Array([-7, 2 ** 31 - 1]) }],
      ['i16', { dtype: 'int16', shape: [1], data: new Int16Array([-300]) }],
      ['i8', { dtype: 'int8', shape: [1], data: new Int8Array([-5]) }],
      ['u8', { dtype: 'uint8', shape: [3], data: new Uint8Array([0, 128, 255]) }],
      ['b', { dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) }],
      ['empty', { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) }],
    ]);
    expectSameStateDict(sd, readPth(writePth(mmdetCheckpointObject({}, sd))).stateDict);
    expectSameStateDict(sd, readSafetensors(writeSafetensors(sd, {})).stateDict);
  });

  it('lists NaN and Inf weights as warnings', () => {
    const sd = new Map<string, TensorRecord>([
      ['ok', { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) }],
      ['bad', { dtype: 'float32', shape: [3], data: new Float32Array([NaN, Infinity, 1]) }],
      ['half', { dtype: 'float16', shape: [2], data: new Uint16Array([0x7e00, 0xfc00]) }],
    ]);
    const back = readPth(writePth(mmdetCheckpointObject({}, sd)));
    expect(back.warnings).toEqual(['bad: 1 NaN and 1 Inf values (of 3)', 'half: 1 NaN and 1 Inf values (of 2)']);
  });
});

describe('safetensors and conversion', () => {
  const fixtures = ['subset_zip_fp32.pth', 'subset_zip_fp16.pth', 'subset_legacy_fp32.pth'];

  it('converts .pth → .safetensors → .pth bit-exactly, keeping key order and meta', () => {
    for (const f of fixtures) {
      const bytes = readFixtureBytes('checkpoints', f);
      const src = readPth(bytes);
      const st = convertCheckpoint(bytes, 'safetensors');
      const mid = readCheckpoint(st);
      expect(mid.format).toBe('safetensors');
      expectSameStateDict(src.stateDict, mid.stateDict);
      expect(mid.meta).toEqual(JSON.parse(JSON.stringify(src.meta)));
      const back = readCheckpoint(convertCheckpoint(st, 'pth'));
      expect(back.format).toBe('torch-zip');
      expectSameStateDict(src.stateDict, back.stateDict);
    }
  });

  it('writes a valid safetensors layout: 8-aligned header, contiguous aligned data', () => {
    const src = readPth(readFixtureBytes('checkpoints', 'subset_zip_fp32.pth'));
    const st = concatBytes(writeCheckpointParts('safetensors', src.stateDict, src.meta));
    const n = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    expect(Object.keys(header)[0]).toBe('__metadata__');
    const ranges = Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .map(([, v]) => v)
      .sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);
    let end = 0;
    for (const r of ranges) {
      expect(r.data_offsets[0]).toBe(end);
      expect(r.data_offsets[0] % (r.dtype === 'I64' ? 8 : 4)).toBe(0);
      end = r.data_offsets[1];
    }
    expect(8 + n + end).toBe(st.length);
    expect(() => readSafetensors(st.subarray(0, st.length - 4))).toThrow(/truncated/);
  });
});
