import { describe, expect, it } from 'vitest';
import { pythonFloatRepr, pythonJsonDumps } from './python_json.ts';

describe('pythonFloatRepr', () => {
  it.each([
    [72, '72.0'],
    [0, '0.0'],
    [-0, '-0.0'],
    [0.1, '0.1'],
    [1.5e-5, '1.5e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [123456789012345.6, '123456789012345.6'],
    [1e22, '1e+22'],
    [-2.5e-7, '-2.5e-07'],
    [1.171875, '1.171875'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
  ])('%s -> %s', (x, s) => {
    expect(pythonFloatRepr(x)).toBe(s);
  });
});

describe('pythonJsonDumps', () => {
  it('uses Python default separators, ints vs float keys, ensure_ascii', () => {
    const text = pythonJsonDumps({ a: [1, 2], bbox: [1, 2.5], s: 'é"\n\u007f', n: null, t: true }, { floatKeys: new Set(['bbox']) });
    expect(text).toBe('{"a": [1, 2], "bbox": [1.0, 2.5], "s": "\\u00e9\\"\\n\\u007f", "n": null, "t": true}');
  });
  it('writes empty containers like Python', () => {
    expect(pythonJsonDumps({ a: [], b: {} })).toBe('{"a": [], "b": {}}');
  });
});
