import { useEffect, useMemo } from 'react';
import { checkBinding, useDatasets } from '../../../store/dataset_store.ts';
import { allPaths, editorStore, openFile, useEditor } from '../../../store/editor_store.ts';
import { setActivePane } from '../../../store/studio_store.ts';

/** Which config dataset sections refer to this dataset, and what does not bind (classes, paths). */
export function BindingView() {
  const binding = useDatasets((s) => s.binding);
  const bindingError = useDatasets((s) => s.bindingError);
  const openId = useDatasets((s) => s.openId);
  const configPath = useEditor((s) => s.openPath);
  const userFiles = useEditor((s) => s.userFiles);
  const builtinFiles = useEditor((s) => s.builtinFiles);
  const configs = useMemo(
    () => allPaths({ ...editorStore.getState(), userFiles, builtinFiles }).filter((p) => !p.startsWith('_base_/') && p.endsWith('.py')),
    [userFiles, builtinFiles],
  );
  useEffect(() => {
    const files = Object.fromEntries(Object.values(userFiles).map((f) => [f.path, f.text]));
    void checkBinding(configPath, files);
  }, [configPath, userFiles, openId]);

  return (
    <div className="ds-binding" data-testid="dataset-binding">
      <div className="ds-binding-head">
        <label>
          Config{' '}
          <select value={configPath} onChange={(e) => openFile(e.currentTarget.value)} data-testid="binding-config">
            {configs.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn" onClick={() => setActivePane('config')}>
          Open in editor
        </button>
      </div>
      <p className="dim ds-binding-note">
        Paths are checked relative to the dataset root (what the config's <code>data_root</code> should point at).
      </p>
      {bindingError && <div className="side-error">{bindingError}</div>}
      {binding?.error && <div className="side-error">{binding.error}</div>}
      {binding && !binding.error && binding.sections.length === 0 && <div className="ds-empty">This config has no dataloader dataset sections.</div>}
      {binding?.sections.map((s) => (
        <section key={s.key} className={`ds-card ds-bind ${s.diagnostics.some((d) => d.severity === 'error') ? 'bad' : s.diagnostics.length ? 'warn' : 'ok'}`}>
          <h3>
            <code>{s.key}</code> <span className="ds-tag">{s.type}</span>
            <span className={`ds-bind-state ${s.matches ? 'ok' : 'bad'}`}>{s.matches ? 'refers to this dataset' : 'does not refer to this dataset'}</span>
          </h3>
          <dl className="ds-kv">
            <dt>data_root</dt>
            <dd><code>{s.dataRoot || '—'}</code></dd>
            <dt>ann_file</dt>
            <dd><code>{s.annFile || '—'}</code></dd>
            <dt>data_prefix.img</dt>
            <dd><code>{s.imgPrefix || '—'}</code></dd>
          </dl>
          {s.diagnostics.length === 0 ? (
            <div className="ds-ok">✓ classes and paths match the dataset</div>
          ) : (
            <ul className="ds-issues">
              {s.diagnostics.map((d, i) => (
                <li key={i} className={`ds-issue ${d.severity}`}>
                  <span className={`ds-sev ${d.severity}`}>{d.severity}</span>
                  <div className="ds-issue-body">
                    <code className="ds-issue-path">{d.key}</code>
                    <span className="ds-issue-reason">{d.message}</span>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </div>
  );
}
