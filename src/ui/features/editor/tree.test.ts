import { describe, expect, it } from 'vitest';
import { buildTree, folderOf, relativePath } from './tree.ts';

describe('buildTree', () => {
  it('nests paths, folders before files', () => {
    const tree = buildTree(['cityscapes/b.py', '_base_/models/m.py', 'a.py', '_base_/default_runtime.py']);
    expect(tree.map((n) => n.name)).toEqual(['_base_', 'cityscapes', 'a.py']);
    expect(tree[0]!.children.map((n) => `${n.kind}:${n.path}`)).toEqual(['folder:_base_/models', 'file:_base_/default_runtime.py']);
  });
});

describe('relativePath', () => {
  it('writes paths the way _base_ lists do', () => {
    expect(relativePath('user', 'cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py')).toBe('../cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py');
    expect(relativePath('cityscapes', 'cityscapes/x.py')).toBe('./x.py');
    expect(relativePath('', '_base_/models/m.py')).toBe('./_base_/models/m.py');
    expect(relativePath('a/b', '_base_/m.py')).toBe('../../_base_/m.py');
    expect(folderOf('a/b/c.py')).toBe('a/b');
    expect(folderOf('c.py')).toBe('');
  });
});
