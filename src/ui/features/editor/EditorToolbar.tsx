import { useState } from 'react';
import {
  copyPathFor,
  deleteFile,
  duplicateFile,
  editorStore,
  isBuiltin,
  isModifiedBuiltin,
  renameFile,
  useEditor,
} from '../../../store/editor_store.ts';
import { NameDialog } from './NameDialog.tsx';

type Dialog = null | 'duplicate' | 'rename';

/** The bar above the editor: the open path, what kind of file it is, and file actions. */
export function EditorToolbar() {
  const openPath = useEditor((s) => s.openPath);
  const builtin = useEditor((s) => isBuiltin(s, openPath));
  const modified = useEditor((s) => isModifiedBuiltin(s, openPath));
  const [dialog, setDialog] = useState<Dialog>(null);
  const [error, setError] = useState('');
  const run = (p: Promise<void>) => p.catch((err: unknown) => setError((err as Error).message));
  return (
    <div className="panel-head editor-toolbar">
      <span className="editor-path" data-testid="open-path" title={openPath}>
        <span className="path-text">{openPath}</span>
        {builtin ? (
          <span className={`tag${modified ? ' modified' : ''}`}>{modified ? 'built-in · edited' : 'built-in'}</span>
        ) : (
          <span className="tag">my config</span>
        )}
        {error && <span className="tag modified" role="alert">{error}</span>}
      </span>
      <span className="btn-group">
        <button type="button" className="btn" data-testid="duplicate-config" onClick={() => setDialog('duplicate')} title="Copy this config to a new file of your own">
          Duplicate
        </button>
        {!builtin && (
          <button type="button" className="btn" data-testid="rename-config" onClick={() => setDialog('rename')}>
            Rename
          </button>
        )}
        {!builtin && (
          <button
            type="button"
            className="btn btn-danger"
            data-testid="delete-config"
            onClick={() => {
              if (window.confirm(`Delete ${openPath}? This cannot be undone.`)) void run(deleteFile(openPath));
            }}
          >
            Delete
          </button>
        )}
        {modified && (
          <button
            type="button"
            className="btn"
            data-testid="revert-config"
            title="Discard your edits and restore the built-in text"
            onClick={() => {
              if (window.confirm(`Discard your edits of ${openPath}?`)) void run(deleteFile(openPath));
            }}
          >
            Revert
          </button>
        )}
      </span>
      {dialog === 'duplicate' && (
        <NameDialog
          title="Duplicate config"
          label="New path (keep it in the same folder so relative _base_ paths still work)"
          initial={copyPathFor(editorStore.getState(), openPath)}
          submitLabel="Duplicate"
          onCancel={() => setDialog(null)}
          onSubmit={async (to) => {
            await duplicateFile(openPath, to);
            setDialog(null);
          }}
        />
      )}
      {dialog === 'rename' && (
        <NameDialog
          title="Rename config"
          label="New path"
          initial={openPath}
          submitLabel="Rename"
          onCancel={() => setDialog(null)}
          onSubmit={async (to) => {
            await renameFile(openPath, to);
            setDialog(null);
          }}
        />
      )}
    </div>
  );
}
