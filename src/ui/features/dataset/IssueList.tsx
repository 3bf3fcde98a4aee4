import type { ImportIssue } from '../../../data/import_report.ts';

/** The import report: every bad or notable input with its path and reason, errors first. */
export function IssueList({ issues, limit = 500 }: { issues: readonly ImportIssue[]; limit?: number }) {
  if (issues.length === 0) return <div className="ds-empty">No problems: every input imported.</div>;
  const rank = { error: 0, warning: 1, info: 2 } as const;
  const sorted = [...issues].sort((a, b) => rank[a.severity] - rank[b.severity] || (a.path < b.path ? -1 : 1));
  return (
    <ul className="ds-issues" data-testid="import-report">
      {sorted.slice(0, limit).map((i, k) => (
        <li key={k} className={`ds-issue ${i.severity}`}>
          <span className={`ds-sev ${i.severity}`}>{i.severity}</span>
          <div className="ds-issue-body">
            <code className="ds-issue-path">{i.path || '(dataset)'}</code>
            <span className="ds-issue-reason">{i.reason}</span>
          </div>
          <span className="ds-issue-code">{i.code}</span>
        </li>
      ))}
      {sorted.length > limit && <li className="ds-more">… and {sorted.length - limit} more</li>}
    </ul>
  );
}
