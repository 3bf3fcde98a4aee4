import { describe, expect, it } from 'vitest';
import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16, toFloat32 } from './dtypes.ts';

describe('16-bit float conversions', () => {
  it('decodes float16 bit patterns exactly', () => {
    const bits = new Uint16Array([0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x7c00, 0xfc00]);
    const v = float16ToFloat32(bits);
    expect(Array.from(v)).toEqual([0, -0, 1, -2, 65504, 2 ** -24, 2 ** -14, 0.333251953125, Infinity, -Infinity]);
    expect(Number.isNaN(float16ToFloat32(new Uint16Array([0x7e00]))[0])).toBe(true);
  });

  it('encodes float32 to float16 with round-to-nearest-even, inverse on every half value', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = float32ToFloat16(float16ToFloat32(all));
    const wrong: number[] = [];
    for (let i = 0; i < 65536; i++) {
      const isNaN16 = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (!isNaN16 && back[i] !== i) wrong.push(i);
    }
    expect(wrong).toEqual([]);
    // Ties to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10 → 1.
    expect(Array.from(float32ToFloat16([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 1e-8, 3 * 2 ** -25]))).toEqual([0x3c00, 0x3c02, 0x7c00, 0, 0x0002]);
  });

  it('round-trips bfloat16 and rounds to nearest even', () => {
    const bits = new Uint16Array([0x3f80, 0xbf00, 0x0001, 0x7f80, 0x4049]);
    expect(Array.from(float32ToBfloat16(bfloat16ToFloat32(bits)))).toEqual(Array.from(bits));
    expect(Array.from(float32ToBfloat16([1 + 2 ** -8, 1 + 3 * 2 ** -8]))).toEqual([0x3f80, 0x3f82]);
  });

  it('offers float32 views of any tensor', () => {
    const f = new Float32Array([1, 2]);
    expect(toFloat32({ dtype: 'float32', shape: [2], data: f })).toBe(f);
    expect(Array.from(toFloat32({ dtype: 'float16', shape: [1], data: new Uint16Array([0x3800]) }))).toEqual([0.5]);
    expect(Array.from(toFloat32({ dtype: 'int64', shape: [1], data: new BigInt64Array([7n]) }))).toEqual([7]);
  });
});
