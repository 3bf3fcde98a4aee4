import { describe, expect, it } from 'vitest';
import { resolveDrop, sourceFromInput, type CapturedDrop } from './drop.ts';

const file = (name: string, path?: string): File => {
  const f = new File([new Uint8Array([1])], name);
  if (path) Object.defineProperty(f, 'webkitRelativePath', { value: path });
  return f;
};

function dirEntry(name: string, children: unknown[]) {
  let done = false;
  return {
    isFile: false,
    isDirectory: true,
    name,
    createReader: () => ({
      readEntries: (ok: (e: unknown[]) => void) => {
        ok(done ? [] : children);
        done = true;
      },
    }),
  };
}
const fileEntry = (name: string) => ({ isFile: true, isDirectory: false, name, file: (ok: (f: File) => void) => ok(file(name)) });

describe('resolveDrop', () => {
  it('one folder with a handle is imported through the handle', async () => {
    const handle = { kind: 'directory' as const, name: 'cityscapes' };
    const out = await resolveDrop({ handles: [Promise.resolve(handle)], entries: [null], files: [] });
    expect(out).toEqual([{ kind: 'handle', handle, name: 'cityscapes' }]);
  });

  it('falls back to webkitGetAsEntry folders (walked to loose files) and zips from the file list', async () => {
    const drop: CapturedDrop = {
      handles: [null, null],
      entries: [dirEntry('ds', [fileEntry('a.json'), dirEntry('img', [fileEntry('x.png')])]) as never, null],
      files: [file('ds'), file('archive.zip')],
    };
    const out = await resolveDrop(drop);
    expect(out.map((s) => s.kind)).toEqual(['zip', 'files']);
    const loose = out[1]!;
    expect(loose.kind === 'files' && loose.files.map((f) => f.path)).toEqual(['ds/a.json', 'ds/img/x.png']);
    expect(loose.name).toBe('ds');
  });
});

describe('sourceFromInput', () => {
  it('uses webkitRelativePath for folders and recognises a single zip', () => {
    const s = sourceFromInput([file('x.png', 'cityscapes/leftImg8bit/x.png'), file('y.json', 'cityscapes/gtFine/y.json')]);
    expect(s).toMatchObject({ kind: 'files', name: 'cityscapes' });
    expect(s?.kind === 'files' && s.files.map((f) => f.path)).toEqual(['cityscapes/leftImg8bit/x.png', 'cityscapes/gtFine/y.json']);
    expect(sourceFromInput([file('d.zip')])).toMatchObject({ kind: 'zip', name: 'd.zip' });
    expect(sourceFromInput([])).toBeNull();
  });
});
