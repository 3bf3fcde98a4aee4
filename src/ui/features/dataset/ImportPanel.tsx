import { useRef, useState } from 'react';
import type { DragEvent } from 'react';
import {
  cancelImport,
  formatEta,
  importDatasetSource,
  setStorageMode,
  useDatasets,
} from '../../../store/dataset_store.ts';
import type { ImportSource } from '../../../worker/dataset_protocol.ts';
import { collectDrop, hasFolderPicker, pickFolder, resolveDrop, sourceFromInput } from './drop.ts';

async function runImports(sources: ImportSource[]): Promise<void> {
  for (const s of sources) await importDatasetSource(s);
}

/** Drop zone, folder / zip buttons, storage choice and the progress of a running import. */
export function ImportPanel() {
  const importing = useDatasets((s) => s.importing);
  const mode = useDatasets((s) => s.mode);
  const [over, setOver] = useState(false);
  const folderInput = useRef<HTMLInputElement>(null);
  const zipInput = useRef<HTMLInputElement>(null);

  const onDrop = (e: DragEvent<HTMLDivElement>): void => {
    e.preventDefault();
    setOver(false);
    if (importing) return;
    const captured = collectDrop(e.dataTransfer); // synchronously, before any await
    void resolveDrop(captured).then(runImports);
  };

  const chooseFolder = async (): Promise<void> => {
    if (!hasFolderPicker()) {
      folderInput.current?.click();
      return;
    }
    const s = await pickFolder();
    if (s) await importDatasetSource(s);
  };

  const p = importing?.progress ?? null;
  const pct = p && p.total > 0 ? Math.min(100, (100 * p.done) / p.total) : null;
  return (
    <div className="ds-import">
      <div
        className={`ds-drop${over ? ' over' : ''}${importing ? ' busy' : ''}`}
        data-testid="dataset-dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        {importing ? (
          <div className="ds-progress" data-testid="import-progress" role="status">
            <div className="ds-progress-head">
              <span className="ds-progress-name">{importing.name}</span>
              <button type="button" className="btn btn-danger" data-testid="import-cancel" onClick={cancelImport}>
                Cancel
              </button>
            </div>
            <div className="ds-bar" aria-hidden="true">
              <div className={`ds-bar-fill${pct === null ? ' indeterminate' : ''}`} style={pct === null ? undefined : { width: `${pct}%` }} />
            </div>
            <div className="ds-progress-meta">
              <span>{p ? p.phase : 'starting…'}</span>
              {p && (
                <span>
                  {p.done}
                  {p.total > 0 ? ` / ${p.total}` : ''}
                  {p.rate > 0 ? ` · ${p.rate.toFixed(p.rate < 10 ? 1 : 0)}/s` : ''}
                  {p.total > 0 ? ` · ETA ${formatEta(p.etaSeconds)}` : ''}
                </span>
              )}
            </div>
          </div>
        ) : (
          <>
            <div className="ds-drop-icon" aria-hidden="true">⇪</div>
            <div className="ds-drop-title">Drop a dataset folder or .zip</div>
            <div className="ds-drop-sub">Cityscapes (leftImg8bit/ + gtFine/) or COCO (json + images)</div>
            <div className="btn-group ds-drop-actions">
              <button type="button" className="btn btn-primary" data-testid="choose-folder" onClick={() => void chooseFolder()}>
                Choose folder
              </button>
              <button type="button" className="btn" data-testid="choose-zip" onClick={() => zipInput.current?.click()}>
                Open .zip
              </button>
            </div>
          </>
        )}
      </div>
      <fieldset className="ds-mode" disabled={Boolean(importing)}>
        <legend>Image bytes of a folder</legend>
        <label>
          <input type="radio" name="ds-mode" checked={mode === 'handle'} onChange={() => setStorageMode('handle')} />
          Read in place <span className="dim">(keeps a folder handle)</span>
        </label>
        <label>
          <input type="radio" name="ds-mode" checked={mode === 'opfs'} onChange={() => setStorageMode('opfs')} data-testid="mode-opfs" />
          Copy into browser storage <span className="dim">(OPFS)</span>
        </label>
      </fieldset>
      <input
        ref={folderInput}
        type="file"
        hidden
        data-testid="folder-input"
        {...({ webkitdirectory: '', directory: '' } as Record<string, string>)}
        multiple
        onChange={(e) => {
          const s = sourceFromInput(e.currentTarget.files ?? []);
          e.currentTarget.value = '';
          if (s) void importDatasetSource(s);
        }}
      />
      <input
        ref={zipInput}
        type="file"
        hidden
        accept=".zip,application/zip"
        data-testid="zip-input"
        onChange={(e) => {
          const s = sourceFromInput(e.currentTarget.files ?? []);
          e.currentTarget.value = '';
          if (s) void importDatasetSource(s);
        }}
      />
    </div>
  );
}
