import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { BlobFileTree, blobSource, DirectoryHandleTree, FileNotFoundError, MemoryFileTree, normalizePath, SubFileTree, ZipFileTree, ZipFormatError } from './file_tree.ts';

const te = new TextEncoder();

describe('FileTree implementations', () => {
  it('ZipFileTree reads stored and deflated entries lazily from a Blob, skipping folders and __MACOSX', async () => {
    const zip = zipSync({
      'ds/a.txt': [te.encode('hello'), { level: 0 }],
      'ds/sub/b.bin': [new Uint8Array(5000).fill(7), { level: 9 }],
      'ds/empty/': new Uint8Array(0),
      '__MACOSX/ds/._a.txt': te.encode('x'),
    });
    let reads = 0;
    const src = blobSource(new Blob([zip]));
    const counting = { size: src.size, read: (o: number, n: number) => (reads++, src.read(o, n)) };
    const tree = await ZipFileTree.open(counting);
    expect(tree.list().sort()).toEqual(['ds/a.txt', 'ds/sub/b.bin']);
    const before = reads;
    expect(new TextDecoder().decode(await tree.read('ds/a.txt'))).toBe('hello');
    expect(reads - before).toBe(2); // local header + data, nothing else
    const b = await tree.read('./ds/sub/b.bin');
    expect(b.length).toBe(5000);
    expect(b.every((v) => v === 7)).toBe(true);
    await expect(tree.read('ds/missing')).rejects.toBeInstanceOf(FileNotFoundError);
    await expect(ZipFileTree.open(blobSource(new Blob([te.encode('not a zip')])))).rejects.toBeInstanceOf(ZipFormatError);
  });

  it('SubFileTree and MemoryFileTree normalise paths', async () => {
    const mem = new MemoryFileTree([['.\\top\\x.txt', te.encode('1')], ['/top/y/z.txt', te.encode('2')], ['other.txt', te.encode('3')]]);
    expect(mem.list().sort()).toEqual(['other.txt', 'top/x.txt', 'top/y/z.txt']);
    const sub = new SubFileTree(mem, 'top');
    expect(sub.list().sort()).toEqual(['x.txt', 'y/z.txt']);
    expect(new TextDecoder().decode(await sub.read('y/z.txt'))).toBe('2');
    expect(normalizePath('./a//b\\c')).toBe('a/b/c');
  });
});

describe('browser-side trees', () => {
  it('BlobFileTree and DirectoryHandleTree list and read files', async () => {
    const blobs = new BlobFileTree([['root/a.txt', new Blob([te.encode('A')])]]);
    expect(blobs.list()).toEqual(['root/a.txt']);
    expect(new TextDecoder().decode(await blobs.read('root/a.txt'))).toBe('A');
    const file = (name: string, text: string) => ({ kind: 'file' as const, name, getFile: async () => new Blob([te.encode(text)]) });
    const dir = (name: string, children: unknown[]) => ({
      kind: 'directory' as const,
      name,
      async *values() {
        yield* children as never[];
      },
    });
    const tree = await DirectoryHandleTree.open(dir('top', [file('x.txt', 'X'), dir('sub', [file('y.txt', 'Y')])]) as never);
    expect(tree.list().sort()).toEqual(['sub/y.txt', 'x.txt']);
    expect(new TextDecoder().decode(await tree.read('sub/y.txt'))).toBe('Y');
  });
});
