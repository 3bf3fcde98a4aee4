import { Suspense, lazy } from 'react';
import { useEditor } from '../../../store/editor_store.ts';
import { EditorToolbar } from './EditorToolbar.tsx';
import { FileTree } from './FileTree.tsx';
import { ProblemsList } from './ProblemsList.tsx';
import { SidePanel } from './SidePanel.tsx';

const ConfigEditor = lazy(() => import('./ConfigEditor.tsx'));

/** The Config pane: file tree, Monaco editor with problems, and the resolved view / diff. */
export function ConfigPane() {
  const storageError = useEditor((s) => s.storageError);
  return (
    <section className="pane config-pane" data-testid="pane-config" aria-label="Config">
      <aside className="panel" aria-label="Config files">
        <FileTree />
      </aside>
      <div className="panel">
        <EditorToolbar />
        {storageError && (
          <div className="storage-error" role="alert">
            {storageError}
          </div>
        )}
        <div className="editor-host">
          <Suspense fallback={<div className="side-status">Loading the editor…</div>}>
            <ConfigEditor />
          </Suspense>
        </div>
        <ProblemsList />
      </div>
      <aside className="panel" aria-label="Resolved config">
        <SidePanel />
      </aside>
    </section>
  );
}
