/**
 * The Monaco editor of the Config pane. One Monaco model per config path (so undo history survives
 * switching files); edits go to the editor store (which saves them); analyses come back as markers.
 * Completion, hover and quick fixes ask the config worker.
 */
import { useEffect, useRef } from 'react';
import { editorStore, editFile, fileText, useEditor } from '../../../store/editor_store.ts';
import type { ConfigAnalysis, EditorDiagnostic } from '../../../store/editor_store.ts';
import { configService, workspaceSnapshot } from './analysis_loop.ts';
import { setEditorHandle } from './editor_bridge.ts';
import type { MarkerInfo } from './editor_bridge.ts';
import { monaco } from './monaco_env.ts';

const SCHEME = 'detstudio';
const models = new Map<string, monaco.editor.ITextModel>();

function uriOf(path: string): monaco.Uri {
  return monaco.Uri.from({ scheme: SCHEME, path: `/${path}` });
}

function pathOf(model: monaco.editor.ITextModel): string | null {
  return model.uri.scheme === SCHEME ? model.uri.path.slice(1) : null;
}

function modelFor(path: string, text: string): monaco.editor.ITextModel {
  let model = models.get(path);
  if (!model || model.isDisposed()) {
    model = monaco.editor.createModel(text, 'python', uriOf(path));
    models.set(path, model);
    model.onDidChangeContent(() => {
      const value = model!.getValue();
      if (fileText(editorStore.getState(), path) === value) return; // a programmatic sync
      void editFile(path, value);
    });
  }
  return model;
}

/** Keeps models in line with the store: deleted or renamed files go, reverted text comes back. */
function syncModels(): void {
  const state = editorStore.getState();
  for (const [path, model] of models) {
    const text = fileText(state, path);
    if (text === undefined) {
      model.dispose();
      models.delete(path);
    } else if (model.getValue() !== text) {
      model.pushEditOperations([], [{ range: model.getFullModelRange(), text }], () => null);
    }
  }
}

const SEVERITY: Record<EditorDiagnostic['severity'], monaco.MarkerSeverity> = {
  error: monaco.MarkerSeverity.Error,
  warning: monaco.MarkerSeverity.Warning,
  info: monaco.MarkerSeverity.Info,
};

function setMarkers(analysis: ConfigAnalysis | null): void {
  for (const [path, model] of models) {
    const current = analysis && analysis.path === path && analysis.text === model.getValue() ? analysis : null;
    if (!current) {
      if (analysis?.path === path) continue; // stale result for this model: keep the old markers until the next one
      monaco.editor.setModelMarkers(model, 'detstudio', []);
      continue;
    }
    monaco.editor.setModelMarkers(
      model,
      'detstudio',
      current.diagnostics.map((d) => {
        const start = model.getPositionAt(d.from);
        const end = model.getPositionAt(Math.max(d.to, d.from));
        const empty = start.equals(end);
        return {
          severity: SEVERITY[d.severity],
          message: d.message,
          startLineNumber: start.lineNumber,
          startColumn: start.column,
          endLineNumber: end.lineNumber,
          endColumn: empty ? end.column + 1 : end.column,
          source: 'config',
        };
      }),
    );
  }
}

let providersRegistered = false;
function registerProviders(): void {
  if (providersRegistered) return;
  providersRegistered = true;
  const kinds = { type: monaco.languages.CompletionItemKind.Class, key: monaco.languages.CompletionItemKind.Property, value: monaco.languages.CompletionItemKind.Value };
  monaco.languages.registerCompletionItemProvider('python', {
    triggerCharacters: ["'", '"', '(', ',', '='],
    async provideCompletionItems(model, position) {
      const path = pathOf(model);
      if (!path) return { suggestions: [] };
      const offset = model.getOffsetAt(position);
      const items = await configService.request('complete', { ...workspaceSnapshot(), path, offset }).catch(() => []);
      const word = model.getWordUntilPosition(position);
      const fallback = new monaco.Range(position.lineNumber, word.startColumn, position.lineNumber, word.endColumn);
      return {
        suggestions: items.map((c) => {
          const range =
            c.from !== undefined && c.to !== undefined
              ? monaco.Range.fromPositions(model.getPositionAt(c.from), model.getPositionAt(c.to))
              : fallback;
          return {
            label: c.label,
            kind: kinds[c.kind],
            insertText: c.insertText ?? c.label,
            detail: c.detail,
            documentation: c.documentation ? { value: c.documentation } : undefined,
            range,
          };
        }),
      };
    },
  });
  monaco.languages.registerHoverProvider('python', {
    async provideHover(model, position) {
      const path = pathOf(model);
      if (!path) return null;
      const h = await configService.request('hover', { ...workspaceSnapshot(), path, offset: model.getOffsetAt(position) }).catch(() => null);
      if (!h) return null;
      return {
        range: monaco.Range.fromPositions(model.getPositionAt(h.from), model.getPositionAt(h.to)),
        contents: h.contents.map((value) => ({ value })),
      };
    },
  });
  monaco.languages.registerCodeActionProvider('python', {
    provideCodeActions(model, range) {
      const path = pathOf(model);
      const analysis = editorStore.getState().analysis;
      if (!path || !analysis || analysis.path !== path || analysis.text !== model.getValue()) return { actions: [], dispose() {} };
      const actions: monaco.languages.CodeAction[] = [];
      for (const d of analysis.diagnostics) {
        if (!d.quickFix) continue;
        const r = monaco.Range.fromPositions(model.getPositionAt(d.from), model.getPositionAt(d.to));
        if (!monaco.Range.areIntersectingOrTouching(r, range)) continue;
        actions.push({
          title: d.quickFix.title,
          kind: 'quickfix',
          isPreferred: true,
          edit: {
            edits: d.quickFix.edits.map((e) => ({
              resource: model.uri,
              versionId: model.getVersionId(),
              textEdit: { range: monaco.Range.fromPositions(model.getPositionAt(e.from), model.getPositionAt(e.to)), text: e.insert },
            })),
          },
        });
      }
      return { actions, dispose() {} };
    },
  });
}

const SEVERITY_NAME: Record<number, MarkerInfo['severity']> = {
  [monaco.MarkerSeverity.Error]: 'error',
  [monaco.MarkerSeverity.Warning]: 'warning',
  [monaco.MarkerSeverity.Info]: 'info',
  [monaco.MarkerSeverity.Hint]: 'hint',
};

/** The Monaco editor bound to the open config. */
export default function ConfigEditor() {
  const host = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const openPath = useEditor((s) => s.openPath);
  const text = useEditor((s) => fileText(s, s.openPath));
  const builtinsLoaded = text !== undefined;

  useEffect(() => {
    if (!host.current) return;
    registerProviders();
    const editor = monaco.editor.create(host.current, {
      theme: 'detstudio-dark',
      automaticLayout: true,
      fontSize: 13,
      fontFamily: "'JetBrains Mono', 'Fira Code', 'DejaVu Sans Mono', Menlo, Consolas, monospace",
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      renderWhitespace: 'selection',
      tabSize: 4,
      insertSpaces: true,
      fixedOverflowWidgets: true,
      model: null,
    });
    editorRef.current = editor;
    setEditorHandle({
      reveal(from, to) {
        const model = editor.getModel();
        if (!model) return;
        const range = monaco.Range.fromPositions(model.getPositionAt(from), model.getPositionAt(to));
        editor.setSelection(range);
        editor.revealRangeInCenterIfOutsideViewport(range);
        editor.focus();
      },
      applyEdits(edits) {
        const model = editor.getModel();
        if (!model) return;
        editor.pushUndoStop();
        editor.executeEdits(
          'quick-fix',
          edits.map((e) => ({ range: monaco.Range.fromPositions(model.getPositionAt(e.from), model.getPositionAt(e.to)), text: e.insert })),
        );
        editor.pushUndoStop();
      },
      getText: () => editor.getModel()?.getValue() ?? '',
      getMarkers() {
        const model = editor.getModel();
        if (!model) return [];
        return monaco.editor.getModelMarkers({ resource: model.uri }).map((m) => ({
          severity: SEVERITY_NAME[m.severity] ?? 'info',
          message: m.message,
          startLineNumber: m.startLineNumber,
          startColumn: m.startColumn,
          endLineNumber: m.endLineNumber,
          endColumn: m.endColumn,
        }));
      },
      placeCursor(offset) {
        const model = editor.getModel();
        if (!model) return;
        editor.setPosition(model.getPositionAt(offset));
        editor.focus();
      },
    });
    const unsubscribe = editorStore.subscribe((s, prev) => {
      if (s.userFiles !== prev.userFiles || s.builtinFiles !== prev.builtinFiles) syncModels();
      if (s.analysis !== prev.analysis) setMarkers(s.analysis);
    });
    return () => {
      unsubscribe();
      setEditorHandle(null);
      editor.dispose();
      editorRef.current = null;
    };
  }, []);

  useEffect(() => {
    const editor = editorRef.current;
    if (!editor || !builtinsLoaded) return;
    const model = modelFor(openPath, fileText(editorStore.getState(), openPath) ?? '');
    if (editor.getModel() !== model) {
      editor.setModel(model);
      setMarkers(editorStore.getState().analysis);
    }
  }, [openPath, builtinsLoaded]);

  return <div className="monaco-mount" ref={host} data-testid="monaco-host" />;
}
