import { useEditor } from '../../../store/editor_store.ts';
import type { EditorDiagnostic } from '../../../store/editor_store.ts';
import { applyQuickFix, revealOffset } from './editor_bridge.ts';

function lineColOf(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `${line}:${offset - lineStart + 1}`;
}

/** The list of diagnostics under the editor; a click jumps to the range, "Fix" applies a quick fix. */
export function ProblemsList() {
  const analysis = useEditor((s) => s.analysis);
  const openPath = useEditor((s) => s.openPath);
  const current = analysis && analysis.path === openPath ? analysis : null;
  const diags: EditorDiagnostic[] = current?.diagnostics ?? [];
  const errors = diags.filter((d) => d.severity === 'error').length;
  const warnings = diags.filter((d) => d.severity === 'warning').length;
  return (
    <div className="problems" data-testid="problems">
      <div className="problems-head">
        <strong>Problems</strong>
        <span className="count-err" data-testid="error-count">{errors} error{errors === 1 ? '' : 's'}</span>
        <span className="count-warn" data-testid="warning-count">{warnings} warning{warnings === 1 ? '' : 's'}</span>
        <span className="timing">{current ? `resolved in ${current.ms.toFixed(1)} ms` : 'analysing…'}</span>
      </div>
      {current &&
        diags.map((d, i) => (
          <div
            key={i}
            className="problem"
            data-testid="problem"
            data-severity={d.severity}
            role="button"
            tabIndex={0}
            onClick={() => revealOffset(d.from, d.to)}
            onKeyDown={(e) => e.key === 'Enter' && revealOffset(d.from, d.to)}
          >
            <span className={`sev ${d.severity}`} aria-label={d.severity} />
            <span className="where">{lineColOf(current.text, d.from)}</span>
            <span className="msg">
              {d.message}
              {d.quickFix && (
                <button
                  type="button"
                  className="btn fix"
                  data-testid="quick-fix"
                  onClick={(e) => {
                    e.stopPropagation();
                    applyQuickFix(d);
                  }}
                >
                  Quick fix: {d.quickFix.title}
                </button>
              )}
            </span>
          </div>
        ))}
    </div>
  );
}
