import { perClassAP } from '../../../store/training_store.ts';

/**
 * The last validation's metrics: headline mAPs and, with `classwise=True`, the per-class AP table.
 * With `compare` (a compared run's last metrics; null when it has none) a second value column B.
 */
export function PerClassTable({ metrics, compare }: { metrics: Record<string, number | string> | null; compare?: Record<string, number | string> | null }) {
  if (!metrics) {
    return <div className="val-table empty">No validation yet. mAP appears after the first validation (train_cfg.val_interval).</div>;
  }
  const rows = perClassAP(metrics);
  const head = Object.entries(metrics).filter(([k, v]) => typeof v === 'number' && /_mAP(_\w+)?$/.test(k)) as Array<[string, number]>;
  const fmt = (v: number) => (Number.isNaN(v) ? 'nan' : v < 0 ? '-1' : v.toFixed(3));
  const comparing = compare !== undefined;
  const other = (k: string) => {
    const v = compare?.[k];
    return typeof v === 'number' ? fmt(v) : '–';
  };
  return (
    <div className="val-table" data-testid="val-metrics">
      <table>
        <thead>
          <tr>
            <th>metric</th>
            <th>{comparing ? 'A' : 'value'}</th>
            {comparing && <th>B</th>}
          </tr>
        </thead>
        <tbody>
          {head.map(([k, v]) => (
            <tr key={k}>
              <td>{k}</td>
              <td className="num">{fmt(v)}</td>
              {comparing && <td className="num">{other(k)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > 0 ? (
        <table data-testid="per-class-ap">
          <thead>
            <tr>
              <th>class</th>
              <th>{comparing ? 'AP A' : 'AP'}</th>
              {comparing && <th>AP B</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.name}>
                <td>{r.name}</td>
                <td className="num">{fmt(r.ap)}</td>
                {comparing && <td className="num">{other(r.key)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted small">Per-class AP: set <code>val_evaluator.classwise=True</code> to log it.</p>
      )}
    </div>
  );
}
