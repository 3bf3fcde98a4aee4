/**
 * A narrow handle on the live Monaco editor for components that must not import Monaco themselves
 * (the problems list, the end-to-end API). The editor component registers it when it mounts.
 */
import type { EditorDiagnostic } from '../../../store/editor_store.ts';

/** A marker as Monaco holds it (1-based lines and columns). */
export interface MarkerInfo {
  severity: 'error' | 'warning' | 'info' | 'hint';
  message: string;
  startLineNumber: number;
  startColumn: number;
  endLineNumber: number;
  endColumn: number;
}

/** What the mounted editor offers. */
export interface EditorHandle {
  /** Selects and scrolls to the range between two offsets. */
  reveal(from: number, to: number): void;
  /** Applies edits as one undoable step. */
  applyEdits(edits: { from: number; to: number; insert: string }[]): void;
  /** The text of the open model. */
  getText(): string;
  /** Markers on the open model. */
  getMarkers(): MarkerInfo[];
  /** Moves the cursor to an offset and focuses the editor. */
  placeCursor(offset: number): void;
}

let handle: EditorHandle | null = null;

/** Registers (or clears) the live editor. */
export function setEditorHandle(h: EditorHandle | null): void {
  handle = h;
}

/** The live editor, if mounted. */
export function getEditorHandle(): EditorHandle | null {
  return handle;
}

/** Jumps to a diagnostic's range. */
export function revealOffset(from: number, to: number): void {
  handle?.reveal(from, to);
}

/** Applies a diagnostic's quick fix in the editor (undoable). */
export function applyQuickFix(d: EditorDiagnostic): void {
  if (d.quickFix) handle?.applyEdits(d.quickFix.edits);
}
