import type { PaneInfo } from '../pane_info.ts';

/** Placeholder for a pane whose feature has not landed yet: says what will be there. */
export function ComingPane({ info }: { info: PaneInfo }) {
  return (
    <section className="pane coming-pane" data-testid={`pane-${info.id}`} aria-labelledby={`pane-title-${info.id}`}>
      <div className="coming-card">
        <div className="coming-kicker">Coming</div>
        <h2 id={`pane-title-${info.id}`}>{info.title}</h2>
        <p className="coming-summary">{info.summary}.</p>
        <p className="coming-lead">This pane is not built yet. It will offer:</p>
        <ul className="coming-list">
          {info.coming.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      </div>
    </section>
  );
}
