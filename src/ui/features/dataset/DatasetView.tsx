import { useMemo } from 'react';
import {
  filterImages,
  openDataset,
  setDatasetTab,
  setFilters,
  toggleClassFilter,
  useDatasets,
  type DatasetTab,
} from '../../../store/dataset_store.ts';
import type { DatasetIndex } from '../../../worker/dataset_protocol.ts';
import { BindingView } from './BindingView.tsx';
import { ImageGrid } from './ImageGrid.tsx';
import { ImageViewer } from './ImageViewer.tsx';
import { IssueList } from './IssueList.tsx';
import { StatsView } from './StatsView.tsx';
import { forgetThumbs } from './thumb_cache.ts';

const TABS: Array<[DatasetTab, string]> = [
  ['browse', 'Browse'],
  ['stats', 'Statistics'],
  ['report', 'Import report'],
  ['binding', 'Config binding'],
];

async function grantAccess(index: DatasetIndex): Promise<void> {
  // Called straight from the click (user activation), on the handle the worker sent with the index.
  const handle = index.permissionHandle as { requestPermission?: (d: { mode: 'read' }) => Promise<string> } | null;
  if (handle?.requestPermission) await handle.requestPermission({ mode: 'read' });
  forgetThumbs(index.id);
  await openDataset(index.id);
}

/** An open dataset: header, tabs (browse / statistics / report / binding). */
export function DatasetView({ index }: { index: DatasetIndex }) {
  const tab = useDatasets((s) => s.tab);
  const filters = useDatasets((s) => s.filters);
  const selectedKey = useDatasets((s) => s.selectedKey);
  const shown = useMemo(() => filterImages(index.images, filters), [index.images, filters]);
  const errors = index.issues.filter((i) => i.severity === 'error').length;
  return (
    <div className="ds-view" data-testid="dataset-view">
      <div className="ds-view-head">
        <div className="ds-title">
          <h2>{index.name}</h2>
          <span className="ds-sub">
            {index.format === 'cityscapes' ? 'Cityscapes → COCO instances' : 'COCO'} · {index.stats.images} images ·{' '}
            {index.splits.map((s) => `${s.name} ${s.images}`).join(' · ')}
          </span>
        </div>
        <div className="tabs" role="tablist">
          {TABS.map(([id, label]) => (
            <button key={id} type="button" role="tab" aria-selected={tab === id} className={`tab${tab === id ? ' active' : ''}`} data-testid={`ds-tab-${id}`} onClick={() => setDatasetTab(id)}>
              {label}
              {id === 'report' && index.issues.length > 0 && <span className={`ds-count${errors ? ' err' : ''}`}>{index.issues.length}</span>}
            </button>
          ))}
        </div>
      </div>
      {index.needsPermission && (
        <div className="notice notice-warn ds-permission" role="alert">
          The browser needs your permission again to read the folder <strong>{index.needsPermission}</strong>.{' '}
          <button type="button" className="btn btn-primary" data-testid="grant-access" onClick={() => void grantAccess(index)}>
            Grant access
          </button>
        </div>
      )}
      {tab === 'browse' &&
        (selectedKey ? (
          <ImageViewer index={index} imageKey={selectedKey} />
        ) : (
          <>
            <div className="ds-filters" data-testid="dataset-filters">
              <div className="ds-seg" role="group" aria-label="Split">
                {[null, ...index.splits.map((s) => s.name)].map((s) => (
                  <button key={s ?? 'all'} type="button" className={`ds-seg-btn${filters.split === s ? ' active' : ''}`} onClick={() => setFilters({ split: s })}>
                    {s ?? 'all splits'}
                  </button>
                ))}
              </div>
              <div className="ds-chips" role="group" aria-label="Classes">
                {index.classes.map((c, i) => (
                  <button
                    key={c}
                    type="button"
                    className={`ds-chip${filters.classes.includes(i) ? ' active' : ''}`}
                    onClick={() => toggleClassFilter(i)}
                    data-testid={`class-chip-${c}`}
                  >
                    <span className="ds-dot" style={{ background: `rgb(${index.palette[i]?.join(',')})` }} />
                    {c}
                    <span className="dim">{index.stats.perClass[i]?.images ?? 0}</span>
                  </button>
                ))}
              </div>
              <span className="ds-shown" data-testid="shown-count">
                {shown.length} of {index.images.length}
              </span>
            </div>
            <ImageGrid datasetId={index.id} images={shown} palette={index.palette} classes={index.classes} />
          </>
        ))}
      {tab === 'stats' && (
        <div className="ds-scroll">
          <StatsView index={index} />
        </div>
      )}
      {tab === 'report' && (
        <div className="ds-scroll ds-pad">
          <IssueList issues={index.issues} />
        </div>
      )}
      {tab === 'binding' && (
        <div className="ds-scroll ds-pad">
          <BindingView />
        </div>
      )}
    </div>
  );
}
