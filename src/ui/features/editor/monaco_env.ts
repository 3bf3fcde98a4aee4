/**
 * Monaco, bundled locally: the core editor API, its standard contributions (hover, suggest, code
 * actions, find, folding…), the Python tokenizer, and its editor worker through a Vite `?worker`
 * import. Nothing is fetched from a CDN. Import this module, not `monaco-editor` directly.
 */
import * as monaco from 'monaco-editor/editor/editor.api';
import 'monaco-editor/features/register.all';
import 'monaco-editor/languages/definitions/python/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';

self.MonacoEnvironment = {
  getWorker: () => new EditorWorker(),
};

monaco.editor.defineTheme('detstudio-dark', {
  base: 'vs-dark',
  inherit: true,
  rules: [],
  colors: {
    'editor.background': '#0f1318',
    'editor.lineHighlightBackground': '#161b22',
    'editorGutter.background': '#0f1318',
    'editorWidget.background': '#161b22',
  },
});

export { monaco };
