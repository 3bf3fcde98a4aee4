import { useMemo, useState } from 'react';
import { allPaths, createFile, isBuiltin, isModifiedBuiltin, openFile, useEditor } from '../../../store/editor_store.ts';
import type { EditorState } from '../../../store/editor_store.ts';
import { NameDialog } from './NameDialog.tsx';
import { buildTree, relativePath } from './tree.ts';
import type { TreeNode } from './tree.ts';

const NEW_CONFIG_TEMPLATE_TARGET = 'cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py';

function newConfigText(path: string): string {
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  return [
    `_base_ = ['${relativePath(dir, NEW_CONFIG_TEMPLATE_TARGET)}']`,
    '',
    '# Override only what differs from the base, e.g.:',
    '# train_cfg = dict(max_epochs=12)',
    '',
  ].join('\n');
}

function TreeRows({ nodes, depth, state, collapsed, toggle }: {
  nodes: TreeNode[];
  depth: number;
  state: EditorState;
  collapsed: Set<string>;
  toggle(path: string): void;
}) {
  return (
    <>
      {nodes.map((n) => {
        const pad = { paddingLeft: 10 + depth * 14 };
        if (n.kind === 'folder') {
          const open = !collapsed.has(n.path);
          return (
            <div key={`d:${n.path}`} role="treeitem" aria-expanded={open} aria-selected={false}>
              <button type="button" className="tree-row folder" style={pad} onClick={() => toggle(n.path)}>
                <span className="chev">{open ? '▾' : '▸'}</span>
                <span className="name">{n.name}</span>
              </button>
              {open && (
                <div role="group">
                  <TreeRows nodes={n.children} depth={depth + 1} state={state} collapsed={collapsed} toggle={toggle} />
                </div>
              )}
            </div>
          );
        }
        const selected = state.openPath === n.path;
        const modified = isModifiedBuiltin(state, n.path);
        return (
          <button
            key={`f:${n.path}`}
            type="button"
            role="treeitem"
            aria-selected={selected}
            className={`tree-row file${selected ? ' selected' : ''}`}
            style={pad}
            data-path={n.path}
            onClick={() => openFile(n.path)}
            title={n.path}
          >
            <span className="chev" />
            <span className="file-icon">py</span>
            <span className="name">{n.name}</span>
            {modified && <span className="mark" title="Edited: differs from the built-in file">●</span>}
          </button>
        );
      })}
    </>
  );
}

/** The config tree: built-in MMDetection configs, then the user's own. */
export function FileTree() {
  const state = useEditor((s) => s);
  const [collapsed, setCollapsed] = useState<Set<string>>(() => new Set());
  const [creating, setCreating] = useState(false);
  const { builtinTree, userTree } = useMemo(() => {
    const paths = allPaths(state);
    return {
      builtinTree: buildTree(paths.filter((p) => isBuiltin(state, p))),
      userTree: buildTree(paths.filter((p) => !isBuiltin(state, p))),
    };
  }, [state.builtinFiles, state.userFiles]);
  const toggle = (path: string) =>
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });
  return (
    <>
      <div className="panel-head">
        <span className="panel-title">Configs</span>
        <button type="button" className="icon-btn" data-testid="new-config" onClick={() => setCreating(true)} title="Create a new config">
          + New
        </button>
      </div>
      <div className="panel-body tree" role="tree" aria-label="Config files" data-testid="file-tree">
        <div className="tree-section">MMDetection 3.3 (built-in)</div>
        {builtinTree.length ? (
          <TreeRows nodes={builtinTree} depth={0} state={state} collapsed={collapsed} toggle={toggle} />
        ) : (
          <div className="tree-empty">Loading…</div>
        )}
        <div className="tree-section">My configs</div>
        {userTree.length ? (
          <TreeRows nodes={userTree} depth={0} state={state} collapsed={collapsed} toggle={toggle} />
        ) : (
          <div className="tree-empty">{state.hydrated ? 'None yet: New, or Duplicate a built-in' : 'Loading…'}</div>
        )}
      </div>
      {creating && (
        <NameDialog
          title="New config"
          label="Path in the config tree"
          initial="user/my_config.py"
          submitLabel="Create"
          onCancel={() => setCreating(false)}
          onSubmit={async (path) => {
            await createFile(path, newConfigText(path));
            setCreating(false);
          }}
        />
      )}
    </>
  );
}
