import { describe, expect, it } from 'vitest';
import { resolveText } from './editor.ts';
import { MemoryFS } from './fs.ts';
import { locateKey } from './locate.ts';
import type { ResolvedConfig } from './loader.ts';

const ROOT = '/cfg';
const fs = new MemoryFS({
  [`${ROOT}/_base_/data.py`]: "data_root = 'data/x/'\ntrain_dataloader = dict(dataset=dict(type='CocoDataset', data_root=data_root, ann_file='a.json', metainfo=dict(classes=('cat',))))\n",
  [`${ROOT}/_base_/mid.py`]: "_base_ = ['./data.py']\nlr = 0.1\n",
  [`${ROOT}/_base_/other.py`]: 'model = dict(type="M")\n',
});

function resolve(text: string, path = `${ROOT}/user.py`): ResolvedConfig {
  const res = resolveText(text, path, fs);
  if (!res.ok) throw new Error(res.error.message);
  return res;
}

const at = (text: string, r: { from: number; to: number }) => text.slice(r.from, r.to);

describe('locateKey', () => {
  it('points at the value written in the edited file, or at one string of it', () => {
    const text = "_base_ = ['./_base_/data.py']\ntrain_dataloader = dict(dataset=dict(ann_file='b.json', metainfo=dict(classes=('cat', 'zebra'))))\n";
    const res = resolve(text);
    expect(at(text, locateKey(text, `${ROOT}/user.py`, res, fs, 'train_dataloader.dataset.ann_file'))).toBe("'b.json'");
    expect(at(text, locateKey(text, `${ROOT}/user.py`, res, fs, 'train_dataloader.dataset.metainfo.classes', 'zebra'))).toBe("'zebra'");
    expect(at(text, locateKey(text, `${ROOT}/user.py`, res, fs, 'train_dataloader.dataset.metainfo.classes', 'absent'))).toBe("('cat', 'zebra')");
    // a key under a written dict that the file does not write itself: the nearest written key
    expect(at(text, locateKey(text, `${ROOT}/user.py`, res, fs, 'train_dataloader.dataset.metainfo.palette'))).toBe("dict(classes=('cat', 'zebra'))");
  });

  it('follows a top-level variable to its value, and dict literals', () => {
    const text = "_base_ = ['./_base_/data.py']\nclasses = ('cat', 'zebra')\ntrain_dataloader = {'dataset': {'metainfo': dict(classes=classes)}}\n";
    const res = resolve(text);
    const loc = locateKey(text, `${ROOT}/user.py`, res, fs, 'train_dataloader.dataset.metainfo.classes', 'zebra');
    expect(at(text, loc)).toBe("'zebra'");
    expect(text.indexOf("'zebra'")).toBe(loc.from); // in `classes = (...)`, the only place it is written
    expect(loc.base).toBeUndefined();
  });

  it('shows a value from a base at the _base_ entry that pulls that file in (directly or through another base)', () => {
    const direct = "_base_ = ['./_base_/other.py', './_base_/data.py']\n";
    const d = locateKey(direct, `${ROOT}/user.py`, resolve(direct), fs, 'train_dataloader.dataset.ann_file');
    expect(at(direct, d)).toBe("'./_base_/data.py'");
    expect(d.origin).toMatchObject({ file: `${ROOT}/_base_/data.py`, line: 2 });
    const deep = "_base_ = ['./_base_/other.py', './_base_/mid.py']\n";
    const d2 = locateKey(deep, `${ROOT}/user.py`, resolve(deep), fs, 'train_dataloader.dataset.metainfo.classes', 'cat');
    expect(at(deep, d2)).toBe("'./_base_/mid.py'");
    expect(d2.base?.path).toBe(`${ROOT}/_base_/mid.py`);
  });

  it('falls back to the first character for a key written nowhere', () => {
    const text = "x = dict(a=1)\n";
    const res = resolve(text);
    expect(at(text, locateKey(text, `${ROOT}/user.py`, res, fs, 'nothing.here'))).toBe('x');
    expect(at(text, locateKey(text, `${ROOT}/user.py`, res, fs, 'x.b'))).toBe('dict(a=1)');
  });
});
