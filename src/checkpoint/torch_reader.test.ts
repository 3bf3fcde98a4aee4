import { describe, expect, it } from 'vitest';
import { readFixtureBytes, readFixtureJson } from '../testing/fixtures.ts';
import { summarizeTensor } from './checkpoint.ts';
import { CheckpointError, UnpicklingError } from './errors.ts';
import { readPth } from './torch_reader.ts';
import { materializeTensor } from './torch_reader.ts';
import { PendingTensor } from './pickle.ts';
import { writeZipParts, concatBytes } from './zip.ts';
import { unzipSync, zipSync } from 'fflate';
import { Pickler } from './pickle_writer.ts';
import { mmdetCheckpointObject, writePth } from './torch_writer.ts';
import type { TensorRecord } from './dtypes.ts';

interface KeyInfo {
  key: string;
  shape: number[];
  dtype: string;
  numel: number;
}
interface Probe {
  first8: number[];
  sum_float64: number;
  abs_sum_float64: number;
}
interface Manifest {
  meta: Record<string, unknown>;
  files: Record<string, { format: string; num_keys: number; keys: KeyInfo[]; probes: Record<string, Probe>; zip_record_prefix?: string }>;
}

const manifest = readFixtureJson<Manifest>('checkpoints', 'manifest.json');

function relClose(a: number, b: number, tol: number) {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
}

describe('readPth on the checkpoint fixtures', () => {
  for (const [file, info] of Object.entries(manifest.files)) {
    it(`${file}: keys, shapes, dtypes, values and meta as in manifest.json`, () => {
      const bytes = readFixtureBytes('checkpoints', file);
      const ckpt = readPth(bytes);
      expect(ckpt.format).toBe(info.format === 'zip' ? 'torch-zip' : 'torch-legacy');
      if (info.zip_record_prefix) expect(ckpt.recordPrefix).toBe(info.zip_record_prefix);
      expect(ckpt.warnings).toEqual([]);
      expect([...ckpt.stateDict.keys()]).toEqual(info.keys.map((k) => k.key));
      for (const k of info.keys) {
        const t = ckpt.stateDict.get(k.key)!;
        expect(t.dtype).toBe(k.dtype);
        expect(t.shape).toEqual(k.shape);
        expect(t.data.length).toBe(k.numel);
      }
      for (const [key, probe] of Object.entries(info.probes)) {
        const s = summarizeTensor(ckpt.stateDict.get(key)!);
        expect(s.first).toEqual(probe.first8); // exact: float32/float16 values are exact in float64
        relClose(s.sum, probe.sum_float64, 1e-9);
        relClose(s.abs_sum, probe.abs_sum_float64, 1e-9);
      }
      // Python tuples/None/float come back as arrays/null/number; compare as JSON.
      expect(JSON.parse(JSON.stringify(ckpt.meta))).toEqual(manifest.meta);
      if (info.format === 'zip') {
        // STORED, 64-byte aligned records are read in place.
        const w = ckpt.stateDict.get('backbone.conv1.weight')!;
        expect(w.data.buffer).toBe(bytes.buffer);
      }
    });
  }

  it('reads the tiny Mask R-CNN checkpoint: 360 keys, shapes, sums and first values', () => {
    const m = readFixtureJson<{
      num_keys: number;
      zip_record_prefix: string;
      keys: (KeyInfo & { sum: number; first4: number[] })[];
      meta: unknown;
    }>('tiny-mask-rcnn', 'manifest.json');
    const ckpt = readPth(readFixtureBytes('tiny-mask-rcnn', 'tiny_mask_rcnn_r50_fpn.pth'));
    expect(ckpt.stateDict.size).toBe(360);
    expect(m.num_keys).toBe(360);
    expect(ckpt.recordPrefix).toBe(m.zip_record_prefix);
    expect([...ckpt.stateDict.keys()]).toEqual(m.keys.map((k) => k.key));
    for (const k of m.keys) {
      const t = ckpt.stateDict.get(k.key)!;
      expect(t.shape).toEqual(k.shape);
      expect(t.dtype).toBe(k.dtype);
      const s = summarizeTensor(t);
      expect(s.first.slice(0, 4)).toEqual(k.first4);
      relClose(s.sum, k.sum, 1e-9);
    }
    expect(JSON.parse(JSON.stringify(ckpt.meta))).toEqual(m.meta);
  });
});

describe('readPth on other zip layouts', () => {
  it('reads a checkpoint re-zipped with DEFLATE under another record prefix', () => {
    // The fixture's small tensors (BN, biases, rpn_cls: ~8 KB) keep DEFLATE fast.
    const full = readPth(readFixtureBytes('checkpoints', 'subset_zip_fp32.pth'));
    const small = new Map([...full.stateDict].filter(([, t]) => t.data.length <= 1000));
    const src = writePth(mmdetCheckpointObject(full.meta, small), { recordPrefix: 'subset' });
    const files = unzipSync(src);
    const renamed: Record<string, [Uint8Array, { level: 6 }]> = {};
    for (const [name, data] of Object.entries(files)) renamed[name.replace(/^subset\//, 'my model.v2/')] = [data, { level: 6 }];
    const a = readPth(src);
    const b = readPth(zipSync(renamed), { verifyCrc: true });
    expect(b.recordPrefix).toBe('my model.v2');
    expect([...b.stateDict.keys()]).toEqual([...a.stateDict.keys()]);
    const bytesOf = (x: TensorRecord) => Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength);
    for (const [k, t] of a.stateDict) expect(bytesOf(b.stateDict.get(k)!).equals(bytesOf(t)), k).toBe(true);
  });

  it('byte-swaps storages of a big-endian checkpoint (byteorder record = big)', () => {
    const t: TensorRecord = { dtype: 'float32', shape: [3], data: new Float32Array([1.5, -2, 1e-20]) };
    const pkl = new Pickler(() => '0').dump({ state_dict: new Map([['w', t]]) });
    const le = new Uint8Array(t.data.buffer);
    const be = new Uint8Array(12);
    for (let i = 0; i < 12; i += 4) for (let j = 0; j < 4; j++) be[i + j] = le[i + 3 - j]!;
    const file = concatBytes(writeZipParts([
      { name: 'archive/data.pkl', data: pkl },
      { name: 'archive/byteorder', data: new TextEncoder().encode('big') },
      { name: 'archive/data/0', data: be },
      { name: 'archive/version', data: new TextEncoder().encode('3\n') },
    ]));
    expect(Array.from(readPth(file).stateDict.get('w')!.data as Float32Array)).toEqual(Array.from(t.data as Float32Array));
  });
});

describe('readPth on bad input', () => {
  const zip = readFixtureBytes('checkpoints', 'subset_zip_fp32.pth');
  const legacy = readFixtureBytes('checkpoints', 'subset_legacy_fp32.pth');

  it('says a truncated zip checkpoint is truncated', () => {
    for (const n of [100, 5000, zip.length / 2, zip.length - 10]) {
      expect(() => readPth(zip.subarray(0, Math.floor(n)))).toThrow(/truncated/);
    }
  });

  it('says a truncated legacy checkpoint is truncated', () => {
    for (const n of [20, 3000, legacy.length / 2, legacy.length - 1]) {
      let err: unknown;
      try {
        readPth(legacy.subarray(0, Math.floor(n)));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/truncated/);
    }
  });

  it('rejects files that are not checkpoints', () => {
    expect(() => readPth(new Uint8Array(0))).toThrow(/empty/);
    expect(() => readPth(new TextEncoder().encode('model = dict(type="MaskRCNN")\n'))).toThrow(CheckpointError);
    expect(() => readPth(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]))).toThrow(/not a PyTorch checkpoint/);
    const otherZip = concatBytes(writeZipParts([{ name: 'word/document.xml', data: new Uint8Array(10) }]));
    expect(() => readPth(otherZip)).toThrow(/data\.pkl/);
  });

  it('says a TorchScript archive is not a checkpoint', () => {
    const jit = concatBytes(writeZipParts([
      { name: 'model/data.pkl', data: Uint8Array.from([0x80, 2, 0x4e, 0x2e]) },
      { name: 'model/constants.pkl', data: Uint8Array.from([0x80, 2, 0x29, 0x2e]) },
      { name: 'model/code/__torch__.py', data: new Uint8Array(1) },
    ]));
    expect(() => readPth(jit)).toThrow(/TorchScript/);
  });

  it('refuses a checkpoint whose data.pkl calls a disallowed global', () => {
    // A torch-style zip whose pickle is `os.system('true')` as CPython protocol 2 writes it.
    const evil = Uint8Array.from([
      0x80, 0x02, 0x63, ...new TextEncoder().encode('posix\nsystem\n'), 0x58, 4, 0, 0, 0,
      ...new TextEncoder().encode('true'), 0x85, 0x52, 0x2e,
    ]);
    const file = concatBytes(writeZipParts([
      { name: 'archive/data.pkl', data: evil },
      { name: 'archive/version', data: new TextEncoder().encode('3\n') },
    ]));
    expect(() => readPth(file)).toThrow(UnpicklingError);
    expect(() => readPth(file)).toThrow(/'posix\.system'/);
  });
});

describe('materializeTensor', () => {
  const storage = new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]).buffer);
  const ref = { dtype: 'float32' as const, key: '0', location: 'cpu', numel: 12, viewOffset: 0 };

  it('views contiguous tensors in place, honouring the storage offset', () => {
    const t = materializeTensor(new PendingTensor(ref, 2, [2, 3], [3, 1]), storage);
    expect(Array.from(t.data as Float32Array)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(t.data.buffer).toBe(storage.buffer);
  });

  it('makes strided (transposed) tensors contiguous', () => {
    // A [3, 4] tensor transposed: shape [4, 3], stride [1, 4].
    const t = materializeTensor(new PendingTensor(ref, 0, [4, 3], [1, 4]), storage);
    expect(Array.from(t.data as Float32Array)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    const s = materializeTensor(new PendingTensor(ref, 1, [2, 2], [6, 2]), storage);
    expect(Array.from(s.data as Float32Array)).toEqual([1, 3, 7, 9]);
  });

  it('copies unaligned data and rejects tensors outside their storage', () => {
    const unaligned = new Uint8Array(storage.length + 1).subarray(1);
    unaligned.set(storage);
    const t = materializeTensor(new PendingTensor(ref, 0, [12], [1]), unaligned);
    expect(Array.from(t.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(() => materializeTensor(new PendingTensor(ref, 4, [3, 3], [3, 1]), storage)).toThrow(/does not fit/);
    expect(() => materializeTensor(new PendingTensor(ref, 0, [-1], [1]), storage)).toThrow(/invalid/);
    expect(() => materializeTensor(new PendingTensor(ref, 0, [2 ** 20, 2 ** 20], [0, 0]), storage)).toThrow(/too large/);
  });
});
