import { setActivePane, useStudio } from '../../store/studio_store.ts';
import { PANE_INFO } from '../pane_info.ts';

/** The pane navigation on the left. */
export function NavRail() {
  const active = useStudio((s) => s.activePane);
  return (
    <nav className="nav-rail" aria-label="Studio panes">
      <ul role="tablist" aria-orientation="vertical">
        {PANE_INFO.map((p, i) => (
          <li key={p.id}>
            <button
              type="button"
              role="tab"
              id={`tab-${p.id}`}
              aria-selected={active === p.id}
              aria-controls={`pane-${p.id}`}
              data-testid={`nav-${p.id}`}
              className={`nav-item${active === p.id ? ' active' : ''}`}
              onClick={() => setActivePane(p.id)}
              title={p.summary}
            >
              <span className="nav-step">{i + 1}</span>
              <span className="nav-text">
                <span className="nav-title">{p.title}</span>
                <span className="nav-summary">{p.ready ? p.summary : 'Coming'}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      <div className="nav-foot">
        <span>MMDetection 3.3 · MMEngine</span>
      </div>
    </nav>
  );
}
