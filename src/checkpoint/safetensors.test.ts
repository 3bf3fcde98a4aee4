import { describe, expect, it } from 'vitest';
import { readCheckpoint } from './checkpoint.ts';
import { readSafetensors, writeSafetensors } from './safetensors.ts';
import type { TensorRecord } from './dtypes.ts';

/** Written by the reference implementation: `safetensors.numpy.save_file({...}, metadata={'format': 'np'})`. */
const REFERENCE =
  '10010000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a226e70227d2c226e223a7b226474797065223a22493634222c227368617065223a5b5d2c22646174615f6f666673657473223a5b302c385d7d2c22622e776569676874223a7b226474797065223a22463332222c227368617065223a5b332c345d2c22646174615f6f666673657473223a5b382c35365d7d2c22612e68223a7b226474797065223a22463136222c227368617065223a5b355d2c22646174615f6f666673657473223a5b35362c36365d7d2c227a2e626f6f6c223a7b226474797065223a22424f4f4c222c227368617065223a5b325d2c22646174615f6f666673657473223a5b36362c36385d7d7d2020202020202007000000000000006cbf003e7f4607bebdf2233fdfd5d63da12109bffd22b93e79e9a63fe673723ffe2734bf55f9a1bfea8e1fbf6e45293da6c000b3fcbcdcb95bb80100';
const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));

describe('safetensors', () => {
  it('reads a file written by the reference implementation', () => {
    const ckpt = readCheckpoint(hex(REFERENCE));
    expect(ckpt.format).toBe('safetensors');
    expect(ckpt.meta).toEqual({ format: 'np' });
    expect([...ckpt.stateDict.keys()]).toEqual(['n', 'b.weight', 'a.h', 'z.bool']);
    expect(ckpt.stateDict.get('n')).toEqual({ dtype: 'int64', shape: [], data: new BigInt64Array([7n]) });
    const w = ckpt.stateDict.get('b.weight')!;
    expect(w.shape).toEqual([3, 4]);
    expect(Array.from(new Uint32Array(w.data.buffer, w.data.byteOffset, 12))).toEqual([
      1040236396, 3188147839, 1059320509, 1037489631, 3205046689, 1052320509, 1067903353, 1064465382, 3207866366, 3215063381, 3206516458, 1026114926,
    ]);
    // float16 data, read as raw bits.
    expect(Array.from(ckpt.stateDict.get('a.h')!.data as Uint16Array)).toEqual([49318, 45824, 48380, 47580, 47195]);
    expect(ckpt.stateDict.get('z.bool')).toEqual({ dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) });
  });

  it('round-trips meta through __metadata__ and rejects inconsistent headers', () => {
    const sd = new Map<string, TensorRecord>([['x', { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) }]]);
    const meta = { mmdet_version: '3.3.0', CLASSES: ['a', 'b'], epoch: 12 };
    expect(readSafetensors(writeSafetensors(sd, meta)).meta).toEqual(meta);
    const bad = new TextEncoder().encode('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}');
    const file = new Uint8Array(8 + bad.length + 8);
    new DataView(file.buffer).setBigUint64(0, BigInt(bad.length), true);
    file.set(bad, 8);
    expect(() => readSafetensors(file)).toThrow(/8 bytes for shape \[3\]/);
    expect(() => readSafetensors(file.subarray(0, 6))).toThrow(/not a safetensors file/);
  });
});
