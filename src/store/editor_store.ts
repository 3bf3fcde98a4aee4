/**
 * The config editor's state: the config tree (built-in MMDetection files plus the user's layer),
 * the open file, and the latest analysis of it (diagnostics, resolved text, diff against the bases).
 *
 * The user's layer holds both their own configs and their edits of built-in files (an edited
 * built-in shadows the original until reverted). Every change is written through to the injected
 * persistence (IndexedDB in the browser), so a reload never loses text.
 */
import { useStore } from 'zustand';
import { createStore } from 'zustand/vanilla';
import type { DatasetFacts } from '../data/binding.ts';
import type { ConfigAnalysis } from '../worker/config_protocol.ts';
import type { ConfigFilesDb, UserConfigFile } from './config_files_db.ts';

export type { ConfigAnalysis, DiffItem, EditorDiagnostic } from '../worker/config_protocol.ts';

/** Which view the right-hand panel shows. */
export type SideView = 'resolved' | 'diff';

/** The editor store's state. */
export interface EditorState {
  /** Built-in config tree: path → text (read-only originals). */
  builtinFiles: Record<string, string>;
  /** The user's layer: their own configs and edited built-ins. */
  userFiles: Record<string, UserConfigFile>;
  /** True once the user's layer was loaded from storage. */
  hydrated: boolean;
  /** Path of the open file. */
  openPath: string;
  sideView: SideView;
  analysis: ConfigAnalysis | null;
  /** Storage problem to show (quota, private mode…), or null. */
  storageError: string | null;
  /**
   * Summaries of the available datasets the open config's dataset sections are checked against
   * (binding diagnostics); null until loaded.
   */
  datasets: DatasetFacts[] | null;
}

/** The config the studio opens first (the MMDetection tutorial's Cityscapes fine-tune). */
export const DEFAULT_CONFIG_PATH = 'cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py';

/** The state a fresh editor starts with. */
export function initialEditorState(): EditorState {
  return {
    builtinFiles: {},
    userFiles: {},
    hydrated: false,
    openPath: DEFAULT_CONFIG_PATH,
    sideView: 'resolved',
    analysis: null,
    storageError: null,
    datasets: null,
  };
}

/** The vanilla store. */
export const editorStore = createStore<EditorState>()(() => initialEditorState());

let persistence: Pick<ConfigFilesDb, 'put' | 'remove' | 'rename'> | null = null;

/** Puts the store back to its initial state and drops the persistence (tests). */
export function resetEditorStore(): void {
  persistence = null;
  editorStore.setState(initialEditorState(), true);
}

/** Connects the write-through persistence (null: keep changes in memory only). */
export function setEditorPersistence(db: Pick<ConfigFilesDb, 'put' | 'remove' | 'rename'> | null): void {
  persistence = db;
}

function reportStorage(p: Promise<void> | undefined): Promise<void> {
  if (!p) return Promise.resolve();
  return p.then(
    () => {
      if (editorStore.getState().storageError) editorStore.setState({ storageError: null });
    },
    (err: unknown) => {
      editorStore.setState({ storageError: `Could not save to browser storage: ${(err as Error)?.message ?? String(err)}` });
    },
  );
}

/** Sets the built-in tree (once, at start-up). */
export function setBuiltinFiles(files: Record<string, string>): void {
  editorStore.setState({ builtinFiles: { ...files } });
}

/** Installs the user's layer loaded from storage. */
export function hydrateUserFiles(files: UserConfigFile[]): void {
  const userFiles: Record<string, UserConfigFile> = {};
  for (const f of files) userFiles[f.path] = f;
  const { openPath, builtinFiles } = editorStore.getState();
  const exists = openPath in builtinFiles || openPath in userFiles;
  editorStore.setState({ userFiles, hydrated: true, ...(exists ? {} : { openPath: DEFAULT_CONFIG_PATH }) });
}

/** The text the editor shows for `path`: the user's version if any, else the built-in one. */
export function fileText(state: EditorState, path: string): string | undefined {
  return state.userFiles[path]?.text ?? state.builtinFiles[path];
}

/** True for a path of the built-in tree (edited or not). */
export function isBuiltin(state: EditorState, path: string): boolean {
  return Object.prototype.hasOwnProperty.call(state.builtinFiles, path);
}

/** True for a built-in file the user has edited. */
export function isModifiedBuiltin(state: EditorState, path: string): boolean {
  return isBuiltin(state, path) && path in state.userFiles && state.userFiles[path]!.text !== state.builtinFiles[path];
}

/** Every path in the tree (built-in and user), sorted. */
export function allPaths(state: EditorState): string[] {
  return [...new Set([...Object.keys(state.builtinFiles), ...Object.keys(state.userFiles)])].sort();
}

/** The whole tree as path → effective text (what config resolution reads). */
export function effectiveFiles(state: EditorState): Record<string, string> {
  const out: Record<string, string> = { ...state.builtinFiles };
  for (const [p, f] of Object.entries(state.userFiles)) out[p] = f.text;
  return out;
}

/** Checks a user-chosen path: relative, `.py` or `.json`, no `..`, no empty segments. */
export function validateConfigPath(path: string): string | null {
  if (!path) return 'The name is empty.';
  if (path.startsWith('/')) return 'Use a path relative to the config tree (no leading /).';
  if (!/\.(py|json)$/.test(path)) return 'A config file name ends with .py (or .json).';
  const parts = path.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return 'The path has an empty, "." or ".." segment.';
  if (parts.some((p) => !/^[A-Za-z0-9_.\-]+$/.test(p))) return 'Use letters, digits, "_", "-" and "." only.';
  return null;
}

/** Opens a file. */
export function openFile(path: string): void {
  const s = editorStore.getState();
  if (fileText(s, path) === undefined) throw new Error(`No config '${path}'.`);
  editorStore.setState({ openPath: path });
}

/** Records an edit of `path` (built-in or user) and writes it through. */
export function editFile(path: string, text: string): Promise<void> {
  const s = editorStore.getState();
  if (fileText(s, path) === undefined) throw new Error(`No config '${path}'.`);
  const file: UserConfigFile = { path, text, updatedAt: Date.now() };
  editorStore.setState({ userFiles: { ...s.userFiles, [path]: file } });
  return reportStorage(persistence?.put(file));
}

/** Creates a new user config and opens it; throws on an invalid or taken path. */
export function createFile(path: string, text: string): Promise<void> {
  const s = editorStore.getState();
  const problem = validateConfigPath(path);
  if (problem) throw new Error(problem);
  if (fileText(s, path) !== undefined) throw new Error(`A config named '${path}' already exists.`);
  const file: UserConfigFile = { path, text, updatedAt: Date.now() };
  editorStore.setState({ userFiles: { ...s.userFiles, [path]: file }, openPath: path });
  return reportStorage(persistence?.put(file));
}

/** A free path next to `path` for a copy: `<stem>_copy.py`, `<stem>_copy2.py`, … */
export function copyPathFor(state: EditorState, path: string): string {
  const m = /^(.*?)(\.py|\.json)$/.exec(path);
  const stem = m ? m[1]! : path;
  const ext = m ? m[2]! : '.py';
  for (let i = 1; ; i++) {
    const candidate = `${stem}_copy${i === 1 ? '' : i}${ext}`;
    if (fileText(state, candidate) === undefined) return candidate;
  }
}

/** Copies a file (typically a built-in) to a new user config in the same folder, and opens it. */
export function duplicateFile(path: string, newPath?: string): Promise<void> {
  const s = editorStore.getState();
  const text = fileText(s, path);
  if (text === undefined) throw new Error(`No config '${path}'.`);
  return createFile(newPath ?? copyPathFor(s, path), text);
}

/** Renames a user config (built-in files cannot be renamed). */
export function renameFile(from: string, to: string): Promise<void> {
  const s = editorStore.getState();
  if (isBuiltin(s, from)) throw new Error('Built-in configs cannot be renamed; duplicate it first.');
  const file = s.userFiles[from];
  if (!file) throw new Error(`No config '${from}'.`);
  if (from === to) return Promise.resolve();
  const problem = validateConfigPath(to);
  if (problem) throw new Error(problem);
  if (fileText(s, to) !== undefined) throw new Error(`A config named '${to}' already exists.`);
  const userFiles = { ...s.userFiles };
  delete userFiles[from];
  userFiles[to] = { ...file, path: to, updatedAt: Date.now() };
  editorStore.setState({ userFiles, openPath: s.openPath === from ? to : s.openPath });
  return reportStorage(persistence?.rename(from, to));
}

/**
 * Deletes a user config, or reverts an edited built-in to its original text. The open file falls
 * back to the default config when it was deleted.
 */
export function deleteFile(path: string): Promise<void> {
  const s = editorStore.getState();
  if (!(path in s.userFiles)) {
    if (isBuiltin(s, path)) throw new Error('Built-in configs cannot be deleted.');
    throw new Error(`No config '${path}'.`);
  }
  const userFiles = { ...s.userFiles };
  delete userFiles[path];
  const stillThere = isBuiltin(s, path);
  editorStore.setState({ userFiles, openPath: s.openPath === path && !stillThere ? DEFAULT_CONFIG_PATH : s.openPath });
  return reportStorage(persistence?.remove(path));
}

/** Chooses the right-hand view. */
export function setSideView(sideView: SideView): void {
  editorStore.setState({ sideView });
}

/** Stores an analysis result unless the file changed since it was started. */
export function setAnalysis(analysis: ConfigAnalysis): void {
  const s = editorStore.getState();
  if (analysis.path !== s.openPath || fileText(s, analysis.path) !== analysis.text) return;
  editorStore.setState({ analysis });
}

/** Sets the dataset summaries the binding diagnostics use ([]: no dataset, no binding diagnostics). */
export function setDatasetFacts(datasets: DatasetFacts[]): void {
  editorStore.setState({ datasets });
}

/** React hook: a slice of the editor state. */
export function useEditor<T>(selector: (state: EditorState) => T): T {
  return useStore(editorStore, selector);
}
