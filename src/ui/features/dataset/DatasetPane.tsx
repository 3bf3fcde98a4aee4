import { useEffect } from 'react';
import { datasetStore, openDataset, refreshDatasets, useDatasets } from '../../../store/dataset_store.ts';
import { DatasetList } from './DatasetList.tsx';
import { DatasetView } from './DatasetView.tsx';
import { ImportPanel } from './ImportPanel.tsx';
import { IssueList } from './IssueList.tsx';
import { forgetThumbs } from './thumb_cache.ts';
import './dataset.css';

/** The Dataset pane: import + dataset list on the left, the open dataset (or the last import's report) on the right. */
export function DatasetPane() {
  const index = useDatasets((s) => s.index);
  const opening = useDatasets((s) => s.opening);
  const openError = useDatasets((s) => s.openError);
  const lastImport = useDatasets((s) => s.lastImport);
  const importError = useDatasets((s) => s.importError);
  const openId = useDatasets((s) => s.openId);
  useEffect(() => {
    void refreshDatasets();
  }, []);
  useEffect(() => {
    if (lastImport?.replaced && lastImport.summary) forgetThumbs(lastImport.summary.id);
  }, [lastImport]);

  let main;
  if (lastImport) {
    main = (
      <div className="ds-scroll ds-pad" data-testid="import-result">
        <div className="ds-result-head">
          <h2>
            {lastImport.summary ? 'Imported' : 'Nothing imported from'} {lastImport.name}
          </h2>
          <span className="ds-sub">
            {lastImport.summary
              ? `${lastImport.summary.images} images · ${lastImport.summary.annotations} instances · ${(lastImport.ms / 1000).toFixed(1)} s${lastImport.replaced ? ' · replaced the earlier import of the same folder' : ''}`
              : 'no Cityscapes or COCO dataset was found'}
          </span>
          <div className="btn-group">
            {lastImport.summary && (
              <button type="button" className="btn btn-primary" data-testid="open-imported" onClick={() => openImported(lastImport.summary!.id)}>
                Open dataset
              </button>
            )}
            <button type="button" className="btn" data-testid="dismiss-import" onClick={() => datasetStore.setState({ lastImport: null })}>
              Dismiss
            </button>
          </div>
        </div>
        <h3 className="ds-h3">Import report · {lastImport.issues.length} entries</h3>
        <IssueList issues={lastImport.issues} />
      </div>
    );
  } else if (index && openId === index.id) {
    main = <DatasetView index={index} />;
  } else if (opening) {
    main = <div className="side-status">Opening…</div>;
  } else if (openError) {
    main = <div className="side-error">{openError}</div>;
  } else {
    main = (
      <div className="ds-welcome">
        <h2>Datasets</h2>
        <p>
          Open the bundled <b>Demo (synthetic Cityscapes)</b> to look around at once, or drop your own Cityscapes folder
          (<code>leftImg8bit/</code> + <code>gtFine/</code>) or COCO folder. It is converted to COCO instances exactly as
          MMDetection's <code>cityscapes.py</code> does, in a worker, and kept in this browser.
        </p>
      </div>
    );
  }
  return (
    <section className="pane dataset-pane" data-testid="pane-dataset" aria-label="Dataset">
      <aside className="panel ds-side" aria-label="Datasets">
        <div className="panel-head">
          <span className="panel-title">Import</span>
        </div>
        <div className="panel-body">
          <ImportPanel />
          {importError && <div className="storage-error" role="alert" data-testid="import-error">{importError}</div>}
          <DatasetList />
        </div>
      </aside>
      <div className="panel ds-main">{main}</div>
    </section>
  );
}

function openImported(id: string): void {
  void openDataset(id);
}
