/**
 * Parser/evaluator unit tests: the Python subset configs use, Python semantics (int vs float, tuples,
 * comprehension scopes, slicing, f-strings), and bad input that must fail clearly and quickly.
 */
import { describe, expect, it } from 'vitest';
import { MemoryFS } from './fs.ts';
import { resolveConfig } from './loader.ts';
import { bracketError, parsePython } from './parser.ts';
import { PyDict, PyFloat, PyTuple, repr, reprFloat, toFixtureJSON, type PyValue } from './values.ts';

function run(src: string, files: Record<string, string> = {}): ReturnType<typeof resolveConfig> {
  return resolveConfig('/t/main.py', new MemoryFS({ '/t/main.py': src, ...files }));
}

function value(src: string, name = 'x'): PyValue | undefined {
  const r = run(src);
  if (!r.ok) throw new Error(`${r.error.name}: ${r.error.message} (line ${r.error.line})`);
  return r.cfg.get(name);
}

function json(src: string, name = 'x'): unknown {
  return toFixtureJSON(value(src, name) ?? null);
}

function error(src: string, files: Record<string, string> = {}): { name: string; message: string; line: number; col: number; from: number; to: number } {
  const r = run(src, files);
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

describe('literals and types', () => {
  it('keeps int and float apart', () => {
    expect(value('x = 1')).toBe(1);
    expect(value('x = 1.0')).toBeInstanceOf(PyFloat);
    expect(value('x = 0.')).toBeInstanceOf(PyFloat);
    expect(json('x = [0., 0., 1e-3, .5, 1_000, 0x10]')).toEqual([0, 0, 0.001, 0.5, 1000, 16]);
    expect(repr(value('x = [0., 1e-3, 1e-05, 2.5e16, 100.0]')!)).toBe('[0.0, 0.001, 1e-05, 2.5e+16, 100.0]');
    expect(reprFloat(0.1 + 0.2)).toBe('0.30000000000000004');
  });
  it('distinguishes tuples from lists, incl. () and (7,)', () => {
    expect(json('x = (1, [2, (3,)], ())')).toEqual({ __tuple__: [1, [2, { __tuple__: [3] }], { __tuple__: [] }] });
    expect(json('x = 1, 2')).toEqual({ __tuple__: [1, 2] });
    expect(json('x = dict(a=1),')).toEqual({ __tuple__: [{ a: 1 }] });
    expect(json('x = (5)')).toBe(5);
  });
  it('strings: prefixes, escapes, concatenation, f-strings', () => {
    expect(value(`x = 'a\\tb' "c" r'\\n'`)).toBe('a\tbc\\n');
    expect(value(`x = """multi\nline"""`)).toBe('multi\nline');
    expect(value(`n = 3\nx = f'{n:03d}-{n * 1.5:.2f}-{"q"!r}-{{lit}}'`)).toBe("003-4.50-'q'-{lit}");
    expect(value(`x = 'a{}b{k}'.format(1, k='z')`)).toBe('a1bz');
    expect(value(`x = '%s_%d' % ('r', 50)`)).toBe('r_50');
  });
  it('dicts keep insertion order, ** splats and literal keys', () => {
    expect(json(`b = dict(q=1)\nx = {'z': 1, 'a': 2, **b, 3: 'k'}`)).toEqual({ z: 1, a: 2, q: 1, 3: 'k' });
    expect(json(`x = dict(b=1, a=2, **dict(c=3))`)).toEqual({ b: 1, a: 2, c: 3 });
    expect(json(`x = dict([('a', 1)], b=2)`)).toEqual({ a: 1, b: 2 });
  });
});

describe('expressions', () => {
  it('arithmetic follows Python', () => {
    expect(value('x = 7 // 2')).toBe(3);
    expect(value('x = -7 // 2')).toBe(-4);
    expect(value('x = -7 % 3')).toBe(2);
    expect(value('x = 2 ** 10')).toBe(1024);
    expect(value('x = 7 / 2')).toEqual(new PyFloat(3.5));
    expect(value('x = 4 / 2')).toEqual(new PyFloat(2));
    expect(value('x = 0.02 / 4 * 2')).toEqual(new PyFloat(0.01));
    expect(value('x = True + 1')).toBe(2);
    expect(json(`x = [1] * 3 + [2]`)).toEqual([1, 1, 1, 2]);
    expect(value(`x = 'ab' * 2`)).toBe('abab');
  });
  it('comparison, boolean and conditional expressions', () => {
    expect(value('x = 1 < 2 < 3')).toBe(true);
    expect(value('x = 3 > 2 > 2')).toBe(false);
    expect(value('x = 2 in [1, 2] and "a" not in "bcd"')).toBe(true);
    expect(value('x = None or 5')).toBe(5);
    expect(value('x = 0 and 5')).toBe(0);
    expect(value('x = not []')).toBe(true);
    expect(value('x = "y" if 1 > 2 else "n"')).toBe('n');
    expect(value('x = (1, 2) == (1, 2) and [1] != [1.0]')).toBe(false);
    expect(value('x = None is None')).toBe(true);
  });
  it('attribute and subscript access, slicing', () => {
    expect(json(`a = [1, 2, 3, 4, 5]\nx = (a[1:3], a[::-1], a[-2:], a[::2], 'abcd'[1:])`)).toEqual({
      __tuple__: [[2, 3], [5, 4, 3, 2, 1], [4, 5], [1, 3, 5], 'bcd'],
    });
    expect(value(`d = dict(k=dict(z=[10, 20]))\nx = d['k']['z'][-1]`)).toBe(20);
    expect(json(`t = (1, 2, 3)\nx = t[:2]`)).toEqual({ __tuple__: [1, 2] });
  });
  it('comprehensions with their own scope', () => {
    expect(json('x = [i * i for i in range(5) if i % 2 == 0]')).toEqual([0, 4, 16]);
    expect(json('x = {k: v for k, v in zip("ab", [1, 2])}')).toEqual({ a: 1, b: 2 });
    expect(json('x = [(i, j) for i in range(2) for j in range(2) if i != j]')).toEqual([{ __tuple__: [0, 1] }, { __tuple__: [1, 0] }]);
    expect(value('x = sum(i for i in range(4))')).toBe(6);
    const r = run('x = [i for i in range(3)]');
    expect(r.ok && r.cfg.has('i')).toBe(false);
  });
  it('the allowed builtins', () => {
    expect(json(`x = [len([1, 2]), min(3, 1), max([4, 9]), abs(-2), round(2.5), round(3.5), int('7'), int(3.9), str(5), bool('')]`)).toEqual([2, 1, 9, 2, 2, 4, 7, 3, '5', false]);
    expect(json(`x = (sorted([3, 1, 2]), sorted([1, 2], reverse=True), list(enumerate('ab', 1)), tuple([1]), list(range(1, 7, 2)))`)).toEqual({
      __tuple__: [[1, 2, 3], [2, 1], [{ __tuple__: [1, 'a'] }, { __tuple__: [2, 'b'] }], { __tuple__: [1] }, [1, 3, 5]],
    });
    expect(value('x = float("1e-3")')).toEqual(new PyFloat(0.001));
    expect(value('x = round(0.12345, 2)')).toEqual(new PyFloat(0.12));
  });
  it('pure methods of values', () => {
    expect(json(`a = [1]\na.append(2)\na.extend((3, 4))\nx = a`)).toEqual([1, 2, 3, 4]);
    expect(json(`d = dict(a=1)\nd.update(b=2)\nx = (d.get('a'), d.get('z', 0), list(d.keys()), 'a,b'.split(','), '-'.join(['p', 'q']))`)).toEqual({
      __tuple__: [1, 0, ['a', 'b'], ['a', 'b'], 'p-q'],
    });
  });
  it('statements: unpacking, augmented assignment, if and for', () => {
    expect(json(`a, (b, c) = 1, (2, 3)\nx = [a, b, c]`)).toEqual([1, 2, 3]);
    expect(json(`x = [1]\nx += [2]\nn = 1\nn *= 4\ny = n`)).toEqual([1, 2]);
    expect(value(`n = 1\nn *= 4\nx = n`)).toBe(4);
    expect(value(`flag = True\nif flag:\n    x = 1\nelse:\n    x = 2`)).toBe(1);
    expect(json(`x = []\nfor i in range(3):\n    x.append(i * 10)`)).toEqual([0, 10, 20]);
  });
  it('range values become lists and builtins bound to names are dropped', () => {
    expect(json('x = range(3)')).toEqual([0, 1, 2]);
    const r = run('f = len\nx = f([1, 2])\n');
    expect(r.ok && toFixtureJSON(r.cfg)).toEqual({ x: 2 });
  });

  it('drops __names but keeps _private names', () => {
    const r = run('__hidden = 1\n_private = 2\nx = __hidden + 1');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.cfg.keys()).toEqual(['_private', 'x']);
  });
});

describe('predefined variables and _base_ access', () => {
  it('substitutes {{fileDirname}} and friends', () => {
    expect(json(`x = ['{{fileDirname}}', '{{ fileBasename }}', '{{fileBasenameNoExtension}}', '{{fileExtname}}']`)).toEqual(['/t', 'main.py', 'main', '.py']);
  });
  it('substitutes {{$ENV:default}} from the given environment or the default', () => {
    const src = "root = '{{$DATA_ROOT:data/coco/}}'\nn = {{ $WORKERS:2 }}\n";
    let r = resolveConfig('/t/main.py', new MemoryFS({ '/t/main.py': src }));
    expect(r.ok && toFixtureJSON(r.cfg)).toEqual({ root: 'data/coco/', n: 2 });
    r = resolveConfig('/t/main.py', new MemoryFS({ '/t/main.py': src }), { env: { DATA_ROOT: '/mnt/coco/' } });
    expect(r.ok && toFixtureJSON(r.cfg)).toEqual({ root: '/mnt/coco/', n: 2 });
    const e = error("x = '{{$NOPE:}}'\n");
    expect(`${e.name}: ${e.message}`).toBe("KeyError: '`NOPE` cannot be found in `os.environ`. Please set `NOPE` in environment or give a default value.'");
  });

  it('_base_.x gives live ConfigDicts usable in expressions', () => {
    const files = { '/t/base.py': "lr = 0.02\nsteps = [dict(type='A'), dict(type='B', size=(1, 1))]\nmodel = dict(trunk=dict(depth=50))\n" };
    const r = run("_base_ = './base.py'\nx = _base_.lr / 4\ny = _base_.steps[:1]\nz = _base_['model']['trunk'].depth\n_base_.steps[1].size = (200, 100)\n", files);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.cfg.get('x')).toEqual(new PyFloat(0.005));
    expect(toFixtureJSON(r.cfg.get('y')!)).toEqual([{ type: 'A' }]);
    expect(r.cfg.get('z')).toBe(50);
    // mutating the base in place changes the output although the child never assigns steps
    expect(toFixtureJSON(r.cfg.get('steps')!)).toEqual([{ type: 'A' }, { type: 'B', size: { __tuple__: [200, 100] } }]);
  });
  it("missing _base_ attribute: AttributeError: 'ConfigDict' object has no attribute", () => {
    const e = error("_base_ = './base.py'\nx = _base_.model.width\n", { '/t/base.py': 'model = dict(depth=1)\n' });
    expect(`${e.name}: ${e.message}`).toBe("AttributeError: 'ConfigDict' object has no attribute 'width'");
    expect(e.line).toBe(2);
  });
  it('missing {{_base_.x}} path: KeyError', () => {
    const e = error("_base_ = './base.py'\nx = {{_base_.model.width}}\n", { '/t/base.py': 'model = dict(depth=1)\n' });
    expect(`${e.name}: ${e.message}`).toBe("KeyError: 'width'");
    expect(e.line).toBe(2);
    expect(e.col).toBe(5);
  });
});

describe('merge rules beyond the fixtures', () => {
  it('duplicate keys among bases of one list: KeyError even when the child overrides', () => {
    const e = error("_base_ = ['./a.py', './b.py']\nmodel = dict(x=1)\n", { '/t/a.py': 'model = dict(a=1)\n', '/t/b.py': 'model = dict(b=1)\nother = 1\n' });
    expect(`${e.name}: ${e.message}`).toBe(`KeyError: "Duplicate key is not allowed among bases. Duplicate keys: {'model'}"`);
  });
  it('a dict over a non-dict without _delete_: TypeError', () => {
    const e = error("_base_ = './b.py'\nsched = dict(type='B')\n", { '/t/b.py': "sched = [dict(type='A')]\n" });
    expect(`${e.name}: ${e.message}`).toBe(
      "TypeError: sched={'type': 'B'} in child config cannot inherit from base because sched is a dict in the child config but is of type <class 'list'> in base config. You may set `_delete_=True` to ignore the base config.",
    );
    expect(e.line).toBe(2);
  });
  it('_delete_ is kept in a dict whose key is new', () => {
    const r = run("_base_ = './b.py'\nfresh = dict(_delete_=True, y=2)\n", { '/t/b.py': 'a = 1\n' });
    expect(r.ok && toFixtureJSON(r.cfg)).toEqual({ a: 1, fresh: { _delete_: true, y: 2 } });
  });
  it('re-declaring a wrapped dataset mixes keys (the RepeatDataset trap)', () => {
    const r = run("_base_ = './b.py'\nloader = dict(dataset=dict(type='MySet', ann_file='mine.json'))\n", {
      '/t/b.py': "loader = dict(dataset=dict(type='RepeatDataset', times=8, dataset=dict(type='C')))\n",
    });
    expect(r.ok && toFixtureJSON(r.cfg)).toEqual({ loader: { dataset: { type: 'MySet', times: 8, dataset: { type: 'C' }, ann_file: 'mine.json' } } });
  });
  it('reserved keys: KeyError', () => {
    const e = error('filename = 1\n');
    expect(`${e.name}: ${e.message}`).toBe("KeyError: 'filename is reserved for config file'");
  });
  it('a tuple _base_ fails like MMEngine', () => {
    const e = error("_base_ = ('./a.py', './b.py')\n");
    expect(`${e.name}: ${e.message}`).toBe("TypeError: join() argument must be str, bytes, or os.PathLike object, not 'tuple'");
  });
  it('.json bases give lists; chains resolve relative to each file', () => {
    const r = run("_base_ = ['./sub/mid.py']\nc = 3\n", {
      '/t/sub/mid.py': "_base_ = '../j/base.json'\nb = 2\n",
      '/t/j/base.json': '{"a": [1, 2], "f": 1.5}',
    });
    expect(r.ok && toFixtureJSON(r.cfg)).toEqual({ a: [1, 2], f: 1.5, b: 2, c: 3 });
  });
  it('cfg-options: list index out of range, tuple index, non-dict at an index', () => {
    const base = "steps = [dict(type='Load')]\nt = (1, 2)\n";
    const r1 = resolveConfig('/t/main.py', new MemoryFS({ '/t/main.py': base }), { cfgOptions: ['steps.5.size=1'] });
    expect(!r1.ok && `${r1.error.name}: ${r1.error.message}`).toBe(`KeyError: "Index 5 exceeds the length of list [{'type': 'Load'}]"`);
    const r2 = resolveConfig('/t/main.py', new MemoryFS({ '/t/main.py': base }), { cfgOptions: ['t.0.y=1'] });
    expect(!r2.ok && r2.error.name).toBe('TypeError');
    expect(!r2.ok && r2.error.message).toContain("is of type <class 'tuple'> in base config");
    const r3 = resolveConfig('/t/main.py', new MemoryFS({ '/t/main.py': base }), { cfgOptions: ['steps.0=Replaced'] });
    expect(!r3.ok && `${r3.error.name}: ${r3.error.message}`).toBe("AttributeError: 'str' object has no attribute 'items'");
  });
  it('mmdet:: scoped bases resolve into the built-in root', () => {
    const fs = new MemoryFS({ '/u/c.py': "_base_ = 'mmdet::_base_/x.py'\nb = 2\n", '/builtin/configs/_base_/x.py': 'a = 1\n' });
    const r = resolveConfig('/u/c.py', fs);
    expect(r.ok && toFixtureJSON(r.cfg)).toEqual({ a: 1, b: 2 });
  });
});

describe('bad input fails clearly and quickly', () => {
  it('syntax errors: CPython messages and positions', () => {
    let e = error('model = dict(\n    type=1,\nb = 2\n');
    expect(`${e.name}: ${e.message}`).toBe("SyntaxError: '(' was never closed (<unknown>, line 1)");
    expect([e.line, e.col]).toEqual([1, 13]);
    e = error('x = [1, 2)\n');
    expect(e.message).toBe("closing parenthesis ')' does not match opening parenthesis '[' (<unknown>, line 1)");
    e = error('x = 1)\n');
    expect(e.message).toBe("unmatched ')' (<unknown>, line 1)");
    e = error('x = = 2\n');
    expect(e.message).toBe('invalid syntax (<unknown>, line 1)');
    expect(bracketError("s = '(' # )\n")).toBeUndefined();
    expect(parsePython('x = [0., 1.]\n').syntaxError).toBeUndefined();
  });
  it('unknown names', () => {
    const e = error('x = undefined_thing + 1\n');
    expect(`${e.name}: ${e.message}`).toBe("NameError: name 'undefined_thing' is not defined");
    expect([e.line, e.col, e.to - e.from]).toEqual([1, 5, 'undefined_thing'.length]);
  });
  it('import statements (other than read_base) are errors at their position', () => {
    let e = error('a = 1\nimport os\n');
    expect(e.name).toBe('ImportError');
    expect(e.line).toBe(2);
    e = error('from os import path\n_base_ = []\n');
    expect(e.name).toBe('ImportError');
  });
  it('calls to anything but dict and the pure builtins', () => {
    for (const [src, col] of [
      ["x = open('/etc/passwd')", 5],
      ["x = eval('1')", 5],
      ["x = __import__('os')", 5],
      ["x = getattr(dict(), 'a')", 5],
    ] as const) {
      const e = error(src);
      expect(e.name, src).toBe('ConfigSubsetError');
      expect(e.col).toBe(col);
      expect(e.message).toContain('only dict()');
    }
    expect(error('def f():\n    return 1\n').name).toBe('ConfigSubsetError');
    expect(error('x = lambda: 1\n').name).toBe('ConfigSubsetError');
    expect(error('x = {1, 2}\n').name).toBe('ConfigSubsetError');
    expect(error('class A:\n    pass\n').name).toBe('ConfigSubsetError');
    expect(error('while True:\n    pass\n').name).toBe('ConfigSubsetError');
  });
  it('huge values fail within a bounded time', () => {
    const t0 = Date.now();
    let e = error('x = [0] * 10**9\n');
    expect(e.name).toBe('MemoryError');
    e = error("x = 'a' * 10**12\n");
    expect(e.name).toBe('MemoryError');
    e = error('x = list(range(10**9))\n');
    expect(e.name).toBe('MemoryError');
    e = error('x = [i for i in range(10**8)]\n');
    expect(e.name).toBe('MemoryError');
    e = error('x = 10 ** 400\n');
    expect(e.name).toBe('OverflowError');
    e = error('x = []\nfor i in range(10**7):\n    x.append(i)\n');
    expect(e.name).toBe('MemoryError');
    e = error('x = 0\nfor i in range(10**5):\n    x += i * i\n');
    expect(e.name).toBe('MemoryError');
    expect(e.message).toContain('evaluation steps');
    e = error("s = 'ab' * 10**6\nx = [c for c in s]\n");
    expect(e.name).toBe('MemoryError');
    expect(Date.now() - t0).toBeLessThan(5000);
  });
  it('inputs too deep for the parser fail like CPython', () => {
    const t0 = Date.now();
    const e = error(`x = ${'('.repeat(5000)}1${')'.repeat(5000)}\n`);
    expect(e.message).toBe('too many nested parentheses (<unknown>, line 1)');
    expect(error(`x = ${'-'.repeat(100000)}1\n`).name).toBe('SyntaxError');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('deep recursion fails with RecursionError', () => {
    const t0 = Date.now();
    const long = `x = ${Array(3000).fill('1').join(' + ')}\n`;
    expect(error(long).name).toBe('RecursionError');
    const chain = `x = ${Array(1000).fill('1 if True else').join(' ')} 0\n`;
    expect(error(chain).name).toBe('RecursionError');
    // what Python accepts still evaluates
    expect(value(`x = ${'['.repeat(150)}1${']'.repeat(150)}\n`)).toBeDefined();
    expect(value(`x = ${Array(300).fill('1').join(' + ')}\n`)).toBe(300);
    expect(Date.now() - t0).toBeLessThan(3000);
  });
  it('cyclic _base_ chains and missing bases', () => {
    const files = { '/t/a.py': "_base_ = './b.py'\n", '/t/b.py': "_base_ = './a.py'\n" };
    const e = error("_base_ = './a.py'\n", files);
    expect(e.name).toBe('ConfigParsingError');
    expect(e.message).toContain('Cyclic _base_ inheritance');
    const self = resolveConfig('/t/s.py', new MemoryFS({ '/t/s.py': "_base_ = './s.py'\n" }));
    expect(!self.ok && self.error.name).toBe('ConfigParsingError');
    const m = error("_base_ = ['./ok.py', './missing.py']\n", { '/t/ok.py': 'a = 1\n' });
    expect(`${m.name}: ${m.message}`).toBe("FileNotFoundError: [Errno 2] No such file or directory: '/t/./missing.py'");
    expect([m.line, m.col]).toEqual([1, 22]);
  });
  it('an error inside a base is located in the base and names the _base_ entry that pulled it in', () => {
    const r = run("_base_ = ['./ok.py', './bad.py']\n", { '/t/ok.py': 'a = 1\n', '/t/bad.py': 'b = 1\nc = nope\n' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.file).toBe('/t/bad.py');
    expect([r.error.line, r.error.col]).toEqual([2, 5]);
    expect(r.error.via).toMatchObject({ file: '/t/main.py', line: 1, col: 22 });
  });
  it('non-dict results are never dicts silently', () => {
    expect(value('x = dict()')).toBeInstanceOf(PyDict);
    expect(value('x = tuple()')).toBeInstanceOf(PyTuple);
  });
});

describe('pure-Python (read_base) style', () => {
  it('mixing styles in one chain raises MMEngine errors', () => {
    const lazyBase = "from mmengine.config import read_base\nwith read_base():\n    from .plain import *\nb = 2\n";
    const r1 = run("_base_ = './lazy.py'\n", { '/t/lazy.py': lazyBase, '/t/plain.py': 'a = 1\n' });
    expect(!r1.ok && r1.error.name).toBe('RuntimeError');
    expect(!r1.ok && r1.error.message).toContain('either "lazy_import" or non-"lazy_import"');
    const r2 = run("from mmengine.config import read_base\nwith read_base():\n    from .classic import *\n", { '/t/classic.py': "_base_ = './plain.py'\nc = 3\n", '/t/plain.py': 'a = 1\n' });
    expect(!r2.ok && r2.error.name).toBe('ConfigParsingError');
    expect(!r2.ok && r2.error.message).toContain('`_base_ = "_base_"`');
  });
  it('only read_base imports inside the block; named imports bring only those names', () => {
    const e = error("from mmengine.config import read_base\nwith read_base():\n    x = 1\n");
    expect(e.name).toBe('ConfigParsingError');
    const r = run("from mmengine.config import read_base\nwith read_base():\n    from .b import a as alias\nz = alias + 1\n", { '/t/b.py': 'a = 1\nb = 2\n' });
    expect(r.ok && toFixtureJSON(r.cfg)).toEqual({ alias: 1, z: 2 });
  });
});
