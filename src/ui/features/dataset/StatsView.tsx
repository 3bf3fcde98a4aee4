import type { DatasetStatistics } from '../../../data/coco_dataset.ts';
import type { DatasetIndex } from '../../../worker/dataset_protocol.ts';

function Bars({ rows }: { rows: Array<{ label: string; value: number; sub?: string; color?: string }> }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return (
    <div className="ds-bars">
      {rows.map((r) => (
        <div className="ds-bar-row" key={r.label}>
          <span className="ds-bar-label">{r.label}</span>
          <div className="ds-bar-track">
            <div className="ds-bar-val" style={{ width: `${(100 * r.value) / max}%`, background: r.color }} />
          </div>
          <span className="ds-bar-num">
            {r.value}
            {r.sub && <span className="dim"> {r.sub}</span>}
          </span>
        </div>
      ))}
    </div>
  );
}

function edgeLabel(a: number, b: number): string {
  return Number.isFinite(b) ? `${a}–${b}` : `≥ ${a}`;
}

function StatsBlock({ stats, palette }: { stats: DatasetStatistics; palette: Array<[number, number, number]> }) {
  const { edges, counts } = stats.sizeHistogram;
  const firstUsed = counts.findIndex((c) => c > 0);
  const lastUsed = counts.length - 1 - [...counts].reverse().findIndex((c) => c > 0);
  const hist = firstUsed < 0 ? [] : counts.slice(firstUsed, lastUsed + 1).map((c, i) => ({ label: `${edgeLabel(edges[firstUsed + i]!, edges[firstUsed + i + 1]!)} px`, value: c }));
  return (
    <div className="ds-stats-grid">
      <section className="ds-card">
        <h3>Instances per class</h3>
        <Bars rows={stats.perClass.map((c, i) => ({ label: c.name, value: c.instances, sub: `${c.crowd ? `+${c.crowd} crowd · ` : ''}${c.images} img`, color: `rgb(${palette[i]?.join(',')})` }))} />
      </section>
      <section className="ds-card">
        <h3>Object size (√area)</h3>
        <Bars rows={hist} />
        <div className="ds-sml" data-testid="size-bins">
          <div><b>{stats.sizes.small}</b> small <span className="dim">&lt; 32²</span></div>
          <div><b>{stats.sizes.medium}</b> medium <span className="dim">32²–96²</span></div>
          <div><b>{stats.sizes.large}</b> large <span className="dim">≥ 96²</span></div>
        </div>
      </section>
    </div>
  );
}

/** Statistics of the open dataset and the images the training filter drops (with the reason). */
export function StatsView({ index }: { index: DatasetIndex }) {
  const dropped = index.splits.flatMap((s) => s.dropped.map((d) => ({ ...d, split: s.name })));
  const byReason = new Map<string, number>();
  for (const d of dropped) byReason.set(d.reason.replace(/\(.*\)/, '').trim(), (byReason.get(d.reason.replace(/\(.*\)/, '').trim()) ?? 0) + 1);
  return (
    <div className="ds-stats" data-testid="dataset-stats">
      <div className="ds-kpis">
        <div className="ds-kpi"><b>{index.stats.images}</b><span>images</span></div>
        <div className="ds-kpi"><b>{index.stats.perClass.reduce((n, c) => n + c.instances, 0)}</b><span>instances</span></div>
        <div className="ds-kpi"><b>{index.stats.perClass.reduce((n, c) => n + c.crowd, 0)}</b><span>crowd regions</span></div>
        <div className="ds-kpi"><b>{index.stats.emptyImages}</b><span>images without annotations</span></div>
        <div className="ds-kpi"><b>{dropped.length}</b><span>dropped by the training filter</span></div>
      </div>
      <StatsBlock stats={index.stats} palette={index.palette} />
      <section className="ds-card">
        <h3>
          What the training filter drops <span className="dim">(filter_empty_gt=True, min_size=32 on the train split, as CityscapesDataset / CocoDataset.filter_data)</span>
        </h3>
        {dropped.length === 0 ? (
          <div className="ds-empty">No image is dropped: every training image has a non-crowd instance and is at least 32 px.</div>
        ) : (
          <>
            <div className="ds-reasons">
              {[...byReason].map(([r, n]) => (
                <span key={r} className="ds-tag">{n} × {r}</span>
              ))}
            </div>
            <ul className="ds-dropped" data-testid="dropped-list">
              {dropped.slice(0, 300).map((d) => (
                <li key={`${d.split}:${d.img_id}`}>
                  <code>{d.img_path}</code>
                  <span className="dim">{d.reason}</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
    </div>
  );
}
