import { setSideView, useEditor } from '../../../store/editor_store.ts';

/** The right-hand panel: the resolved config (MMEngine pretty text) or its diff against the bases. */
export function SidePanel() {
  const view = useEditor((s) => s.sideView);
  const analysis = useEditor((s) => s.analysis);
  const openPath = useEditor((s) => s.openPath);
  const current = analysis && analysis.path === openPath ? analysis : null;
  let body;
  if (!current) {
    body = <div className="side-status">Resolving…</div>;
  } else if (!current.resolved.ok) {
    body = (
      <div className="side-error" data-testid="resolve-error">
        {current.resolved.error}
      </div>
    );
  } else if (view === 'resolved') {
    body = (
      <pre className="code-view" data-testid="resolved-view" aria-label="Resolved config (read-only)">
        {current.resolved.text}
      </pre>
    );
  } else if (!current.diff || current.baseCount === 0) {
    body = <div className="side-status">This config has no bases: nothing to compare.</div>;
  } else if (current.diff.length === 0) {
    body = <div className="side-status">Identical to its bases: this file changes nothing.</div>;
  } else {
    body = (
      <div className="diff-list" data-testid="diff-view" aria-label="Difference from the bases">
        <div className="diff-summary">
          {current.diff.length} key{current.diff.length === 1 ? '' : 's'} differ from the merged bases
        </div>
        {current.diff.map((d) => (
          <div key={d.path} className={`diff-item ${d.kind}`}>
            <div className="diff-key">
              <span className={`diff-kind ${d.kind}`}>{d.kind}</span>
              <span className="diff-path">{d.path}</span>
              {d.origin && <span className="diff-origin">{d.origin}</span>}
            </div>
            {d.before !== undefined && (
              <div className="ln del">
                <span className="op">−</span>
                {d.before}
              </div>
            )}
            {d.after !== undefined && (
              <div className="ln add">
                <span className="op">+</span>
                {d.after}
              </div>
            )}
          </div>
        ))}
      </div>
    );
  }
  return (
    <>
      <div className="panel-head">
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={view === 'resolved'} className={`tab${view === 'resolved' ? ' active' : ''}`} data-testid="tab-resolved" onClick={() => setSideView('resolved')}>
            Resolved
          </button>
          <button type="button" role="tab" aria-selected={view === 'diff'} className={`tab${view === 'diff' ? ' active' : ''}`} data-testid="tab-diff" onClick={() => setSideView('diff')}>
            Diff vs bases
          </button>
        </div>
        <span className="panel-title">read-only</span>
      </div>
      <div className="panel-body">{body}</div>
    </>
  );
}
