import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { openConfigFilesDb } from './config_files_db.ts';
import {
  DEFAULT_CONFIG_PATH,
  allPaths,
  copyPathFor,
  createFile,
  deleteFile,
  duplicateFile,
  editFile,
  editorStore,
  effectiveFiles,
  fileText,
  hydrateUserFiles,
  isModifiedBuiltin,
  openFile,
  renameFile,
  resetEditorStore,
  setAnalysis,
  setBuiltinFiles,
  setDatasetFacts,
  setEditorPersistence,
  validateConfigPath,
} from './editor_store.ts';

const BUILTINS = {
  '_base_/models/m.py': 'model = dict(type="MaskRCNN")\n',
  [DEFAULT_CONFIG_PATH]: "_base_ = ['../_base_/models/m.py']\n",
};

let n = 0;
beforeEach(() => {
  resetEditorStore();
  setBuiltinFiles(BUILTINS);
});

describe('editor store', () => {
  it('starts on the Cityscapes config and overlays user edits on built-ins', async () => {
    const s0 = editorStore.getState();
    expect(s0.openPath).toBe(DEFAULT_CONFIG_PATH);
    await editFile(DEFAULT_CONFIG_PATH, 'x = 1\n');
    const s = editorStore.getState();
    expect(fileText(s, DEFAULT_CONFIG_PATH)).toBe('x = 1\n');
    expect(isModifiedBuiltin(s, DEFAULT_CONFIG_PATH)).toBe(true);
    expect(effectiveFiles(s)['_base_/models/m.py']).toBe(BUILTINS['_base_/models/m.py']);
    await deleteFile(DEFAULT_CONFIG_PATH); // = revert
    expect(fileText(editorStore.getState(), DEFAULT_CONFIG_PATH)).toBe(BUILTINS[DEFAULT_CONFIG_PATH]);
    expect(editorStore.getState().openPath).toBe(DEFAULT_CONFIG_PATH);
  });

  it('creates, duplicates, renames and deletes user configs', async () => {
    await duplicateFile(DEFAULT_CONFIG_PATH);
    const copy = 'cityscapes/mask-rcnn_r50_fpn_1x_cityscapes_copy.py';
    expect(editorStore.getState().openPath).toBe(copy);
    expect(copyPathFor(editorStore.getState(), DEFAULT_CONFIG_PATH)).toBe('cityscapes/mask-rcnn_r50_fpn_1x_cityscapes_copy2.py');
    await renameFile(copy, 'cityscapes/mine.py');
    expect(editorStore.getState().openPath).toBe('cityscapes/mine.py');
    expect(() => renameFile('_base_/models/m.py', 'x.py')).toThrow(/cannot be renamed/);
    expect(() => createFile('cityscapes/mine.py', '')).toThrow(/already exists/);
    expect(() => createFile('../evil.py', '')).toThrow(/segment/);
    await createFile('user/new.py', 'a = 1\n');
    expect(allPaths(editorStore.getState())).toEqual(['_base_/models/m.py', DEFAULT_CONFIG_PATH, 'cityscapes/mine.py', 'user/new.py']);
    await deleteFile('user/new.py');
    expect(editorStore.getState().openPath).toBe(DEFAULT_CONFIG_PATH);
    expect(() => deleteFile('_base_/models/m.py')).toThrow(/cannot be deleted/);
    expect(() => openFile('nope.py')).toThrow(/No config/);
  });

  it('validates paths', () => {
    expect(validateConfigPath('user/a.py')).toBeNull();
    expect(validateConfigPath('a.txt')).toMatch(/ends with .py/);
    expect(validateConfigPath('/abs.py')).toMatch(/relative/);
    expect(validateConfigPath('a b.py')).toMatch(/letters/);
  });

  it('writes through to IndexedDB so a reload (re-hydration) gets the text back', async () => {
    const name = `editor-store-${Date.now()}-${n++}`;
    const db = await openConfigFilesDb(name);
    setEditorPersistence(db);
    await createFile('user/keep.py', 'a = 1\n');
    void editFile('user/keep.py', 'a = 2\n');
    void editFile(DEFAULT_CONFIG_PATH, 'edited = True\n');
    await db.flush();
    db.close();

    resetEditorStore();
    setBuiltinFiles(BUILTINS);
    const reopened = await openConfigFilesDb(name);
    hydrateUserFiles(await reopened.loadAll());
    const s = editorStore.getState();
    expect(s.hydrated).toBe(true);
    expect(fileText(s, 'user/keep.py')).toBe('a = 2\n');
    expect(fileText(s, DEFAULT_CONFIG_PATH)).toBe('edited = True\n');
    reopened.close();
  });

  it('drops stale analyses', () => {
    const base = { diagnostics: [], resolved: { ok: true as const, text: '' }, diff: null, baseCount: 0, ms: 1 };
    setAnalysis({ ...base, path: DEFAULT_CONFIG_PATH, text: 'old text' });
    expect(editorStore.getState().analysis).toBeNull();
    setAnalysis({ ...base, path: DEFAULT_CONFIG_PATH, text: BUILTINS[DEFAULT_CONFIG_PATH]! });
    expect(editorStore.getState().analysis?.path).toBe(DEFAULT_CONFIG_PATH);
  });
});

describe('dataset facts', () => {
  it('start unknown (null) and are replaced as a whole', () => {
    resetEditorStore();
    expect(editorStore.getState().datasets).toBeNull();
    const facts = [{ id: 'demo', name: 'Demo', folders: ['a/'], annotations: [] }];
    setDatasetFacts(facts);
    expect(editorStore.getState().datasets).toBe(facts);
    setDatasetFacts([]);
    expect(editorStore.getState().datasets).toEqual([]);
    resetEditorStore();
    expect(editorStore.getState().datasets).toBeNull();
  });
});
