import { deleteDataset, formatBytes, openDataset, useDatasets } from '../../../store/dataset_store.ts';
import { DEMO_DATASET_ID } from '../../../worker/dataset_protocol.ts';
import { forgetThumbs } from './thumb_cache.ts';

const SOURCE_LABEL = { url: 'bundled', handle: 'folder handle', opfs: 'OPFS copy' } as const;

/** The datasets: the bundled demo first, then the imported ones; storage use at the bottom. */
export function DatasetList() {
  const datasets = useDatasets((s) => s.datasets);
  const openId = useDatasets((s) => s.openId);
  const listError = useDatasets((s) => s.listError);
  const storage = useDatasets((s) => s.storage);
  return (
    <div className="ds-list-wrap">
      <div className="tree-section">Datasets</div>
      {listError && <div className="storage-error">{listError}</div>}
      <ul className="ds-list" data-testid="dataset-list">
        {datasets.map((d) => (
          <li key={d.id}>
            <button
              type="button"
              className={`ds-item${openId === d.id ? ' selected' : ''}`}
              data-testid={`dataset-item-${d.id}`}
              onClick={() => void openDataset(d.id)}
            >
              <span className="ds-item-name">{d.name}</span>
              <span className="ds-item-meta">
                {d.format} · {d.images} images · {d.annotations} instances
              </span>
              <span className="ds-item-meta">
                {SOURCE_LABEL[d.sourceKind]}
                {d.issues > 0 && <span className="ds-item-issues"> · {d.issues} report entries</span>}
              </span>
            </button>
            {d.id !== DEMO_DATASET_ID && (
              <button
                type="button"
                className="icon-btn ds-item-del"
                title={`Delete ${d.name}`}
                aria-label={`Delete ${d.name}`}
                data-testid={`dataset-delete-${d.id}`}
                onClick={() => {
                  if (window.confirm(`Delete the dataset '${d.name}'? Its index and any OPFS copy are removed.`)) {
                    forgetThumbs(d.id);
                    void deleteDataset(d.id);
                  }
                }}
              >
                ✕
              </button>
            )}
          </li>
        ))}
        {datasets.length === 0 && !listError && <li className="tree-empty">Loading…</li>}
      </ul>
      {storage && (
        <div className="ds-storage" data-testid="storage-estimate" title="navigator.storage.estimate()">
          <div className="ds-storage-text">
            Storage {formatBytes(storage.usage)} of {formatBytes(storage.quota)}
          </div>
          <div className="ds-bar thin">
            <div className="ds-bar-fill" style={{ width: `${storage.quota > 0 ? Math.max(0.5, (100 * storage.usage) / storage.quota) : 0}%` }} />
          </div>
        </div>
      )}
    </div>
  );
}
