import { useEffect, useMemo, useRef, useState } from 'react';
import { editorStore, allPaths, useEditor } from '../../../store/editor_store.ts';
import {
  addImages,
  COCO_MASK_RCNN_URL,
  chooseCheckpointFile,
  chooseCheckpointUrl,
  chooseStoredCheckpoint,
  clearImages,
  imageErrors,
  loadModel,
  orderedImages,
  refreshStored,
  runValidation,
  selectImage,
  setConfigPath,
  setPredictService,
  setSort,
  usePredictions,
  visibleIndices,
} from '../../../store/predictions_store.ts';
import { PredictClient } from '../../../worker/predict_client.ts';
import { PredictionViewer } from './PredictionViewer.tsx';
import { ResultsPanel } from './ResultsPanel.tsx';
import './predictions.css';

let client: PredictClient | null = null;
/** The pane's worker client, started on first use. */
function ensureClient(): void {
  if (client) return;
  client = new PredictClient();
  setPredictService(client);
}

/** The bundled demo dataset's validation split. */
export function demoValSplit() {
  return {
    baseUrl: new URL('demo/cityscapes/', document.baseURI).href,
    annFile: 'annotations/instancesonly_filtered_gtFine_val.json',
    imgPrefix: 'leftImg8bit/val/',
  };
}

const CHECKPOINT_RE = /\.(pth|pt|safetensors|bin)$/i;

async function takeFiles(files: FileList | File[]): Promise<void> {
  const list = [...files];
  const ckpt = list.find((f) => CHECKPOINT_RE.test(f.name));
  if (ckpt) chooseCheckpointFile(ckpt.name, new Uint8Array(await ckpt.arrayBuffer()));
  const images = list.filter((f) => f !== ckpt);
  addImages(await Promise.all(images.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()), url: URL.createObjectURL(f) }))));
}

function fmtBytes(n: number): string {
  return n > 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MB` : `${(n / 1024).toFixed(0)} KB`;
}

/** Config, checkpoint and model status. */
function ModelSetup() {
  const s = usePredictions((st) => st);
  const builtinFiles = useEditor((e) => e.builtinFiles);
  const userFiles = useEditor((e) => e.userFiles);
  const paths = useMemo(
    () => allPaths({ ...editorStore.getState(), builtinFiles, userFiles }).filter((p) => p.endsWith('.py') && !p.startsWith('_base_/')),
    [builtinFiles, userFiles],
  );
  const fileInput = useRef<HTMLInputElement>(null);
  const [useRun, setUseRun] = useState(false);
  const storedValue = s.checkpoint?.kind === 'stored' ? s.checkpoint.id : '';
  const runOf = (id: string) => s.stored.find((r) => r.checkpoints.some((c) => c.id === id));
  const load = () => {
    const e = editorStore.getState();
    const userFiles: Record<string, string> = {};
    for (const [p, f] of Object.entries(e.userFiles)) userFiles[p] = f.text;
    void loadModel(userFiles, useRun);
  };
  return (
    <section className="pred-section" aria-label="Model">
      <h3 className="pred-h">Model</h3>
      <label className="pred-field">
        <span>Config</span>
        <select value={s.configPath} onChange={(e) => setConfigPath(e.target.value)} data-testid="pred-config" disabled={useRun}>
          {!paths.includes(s.configPath) && <option value={s.configPath}>{s.configPath}</option>}
          {paths.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <label className="pred-field">
        <span>Checkpoint</span>
        <select
          value={storedValue}
          onChange={(e) => {
            const id = e.target.value;
            const run = runOf(id);
            const c = run?.checkpoints.find((k) => k.id === id);
            if (run && c) chooseStoredCheckpoint(id, c.name, run.runName);
          }}
          data-testid="pred-stored"
        >
          <option value="">{s.stored.length ? 'Stored checkpoints…' : 'No stored checkpoints yet'}</option>
          {s.stored.map((r) => (
            <optgroup key={r.runId} label={r.runName}>
              {r.checkpoints.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} · epoch {c.epoch}
                  {c.metrics?.['coco/bbox_mAP'] !== undefined ? ` · bbox mAP ${c.metrics['coco/bbox_mAP'].toFixed(3)}` : ''}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </label>
      <div className="pred-row">
        <button className="btn" onClick={() => fileInput.current?.click()}>
          Choose .pth / .safetensors…
        </button>
        <button
          className="btn"
          data-testid="pred-coco-weights"
          title={`Downloads ${COCO_MASK_RCNN_URL} once (checked against the hash in its name, then cached in this browser). Use it with an 80-class COCO config.`}
          onClick={() => chooseCheckpointUrl(COCO_MASK_RCNN_URL)}
        >
          COCO weights
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".pth,.pt,.safetensors,.bin"
          hidden
          data-testid="pred-checkpoint-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void f.arrayBuffer().then((b) => chooseCheckpointFile(f.name, new Uint8Array(b)));
            e.target.value = '';
          }}
        />
      </div>
      {s.checkpoint && (
        <div className="pred-chosen" data-testid="pred-chosen">
          {s.checkpoint.kind === 'file'
            ? `${s.checkpoint.name} (${fmtBytes(s.checkpoint.sizeBytes)})`
            : s.checkpoint.kind === 'url'
              ? `${s.checkpoint.url} (downloaded once, then cached)`
              : `${s.checkpoint.runName} / ${s.checkpoint.name}`}
        </div>
      )}
      {s.checkpoint?.kind === 'stored' && runOf(s.checkpoint.id)?.configText && (
        <label className="pred-check">
          <input type="checkbox" checked={useRun} onChange={(e) => setUseRun(e.target.checked)} /> Use the run's own config
        </label>
      )}
      <button className="btn btn-primary pred-load" onClick={load} disabled={!s.checkpoint || s.modelStatus === 'loading'} data-testid="pred-load">
        {s.modelStatus === 'loading' ? 'Loading…' : s.model ? 'Reload model' : 'Load model'}
      </button>
      {s.modelError && (
        <div className="pred-error" role="alert" data-testid="pred-model-error">
          {s.modelError}
        </div>
      )}
      {s.model && (
        <div className="pred-model" data-testid="pred-model">
          <div>
            <strong>{s.model.classes.length} classes</strong> · {s.model.loaded}/{s.model.total} tensors ·{' '}
            <span className={`badge ${s.model.backend === 'cpu' ? 'badge-warn' : 'badge-info'}`} title={s.model.backendNotice}>
              {s.model.backend}
            </span>
          </div>
          {s.model.backendNotice && s.model.backend !== 'webgpu' && <div className="pred-dim">{s.model.backendNotice}</div>}
          <div className="pred-dim">
            model keeps scores ≥ {s.model.scoreThr} (test_cfg.rcnn.score_thr){s.model.testScale ? ` · test scale ${s.model.testScale.join('×')}` : ''}
          </div>
          {s.model.warnings.map((w, i) => (
            <div key={i} className="pred-warn">
              {w}
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

/** Drop zone and the image list. */
function ImageList() {
  const s = usePredictions((st) => st);
  const list = useMemo(() => orderedImages(s), [s]);
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const val = s.valRun;
  return (
    <section className="pred-section pred-images" aria-label="Images">
      <div
        className={`pred-drop ${over ? 'over' : ''}`}
        data-testid="pred-drop"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          e.stopPropagation();
          setOver(false);
          void takeFiles(e.dataTransfer.files);
        }}
        onClick={() => input.current?.click()}
        role="button"
        tabIndex={0}
      >
        <strong>Drop images here</strong>
        <span>or click to choose · a .pth dropped here becomes the checkpoint</span>
        <input
          ref={input}
          type="file"
          multiple
          hidden
          data-testid="pred-image-input"
          onChange={(e) => {
            if (e.target.files) void takeFiles(e.target.files);
            e.target.value = '';
          }}
        />
      </div>
      <div className="pred-row">
        <button className="btn" disabled={s.modelStatus !== 'ready' || val.status === 'running'} onClick={() => void runValidation(demoValSplit())} data-testid="pred-run-val">
          {val.status === 'running' ? `Validation ${val.done}/${val.total || '…'}` : 'Run demo validation set'}
        </button>
        <button className="btn" disabled={!s.images.length} onClick={() => clearImages((u) => u.startsWith('blob:') && URL.revokeObjectURL(u))}>
          Clear
        </button>
      </div>
      {val.error && <div className="pred-error">{val.error}</div>}
      {s.messages.map((m, i) => (
        <div key={i} className="pred-warn">
          {m}
        </div>
      ))}
      <div className="pred-list-head">
        <span>{s.images.length} images</span>
        <select value={s.sort} onChange={(e) => setSort(e.target.value as 'name' | 'worst')} aria-label="Sort images">
          <option value="name">in order added</option>
          <option value="worst">worst first</option>
        </select>
      </div>
      {s.classFilter !== null && s.model && (
        <div className="pred-filter">
          Worst images for <strong>{s.model.classes[s.classFilter]}</strong>{' '}
          <button className="icon-btn" onClick={() => setSort('worst')}>
            show all
          </button>
        </div>
      )}
      <ul className="pred-list" data-testid="pred-list">
        {list.map((im) => {
          const e = imageErrors(im, s.threshold);
          const n = im.prediction ? visibleIndices(im.prediction, s.threshold).length : 0;
          return (
            <li key={im.id}>
              <button className={`pred-item ${im.id === s.selectedId ? 'active' : ''}`} onClick={() => selectImage(im.id)} data-status={im.status}>
                <span className="pred-item-name" title={im.name}>
                  {im.name.slice(im.name.lastIndexOf('/') + 1)}
                </span>
                <span className="pred-item-meta">
                  {im.status === 'done' && <span className="pred-tag">{n} det</span>}
                  {e && e.fp > 0 && <span className="pred-tag fp">{e.fp} FP</span>}
                  {e && e.missed.length > 0 && <span className="pred-tag missed">{e.missed.length} missed</span>}
                  {im.status === 'error' && <span className="pred-tag fp">error</span>}
                  {(im.status === 'running' || im.status === 'pending') && <span className="pred-tag">{im.status === 'running' ? '…' : 'waiting'}</span>}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** The Predictions pane: model + images, the viewer, and per-image / per-class results. */
export function PredictionsPane() {
  useEffect(() => {
    ensureClient();
    void refreshStored();
  }, []);
  return (
    <section
      className="pane pred-pane"
      data-testid="pane-predictions"
      aria-label="Predictions"
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        // Files dropped anywhere in the pane are taken too.
        e.preventDefault();
        if (e.dataTransfer.files.length) void takeFiles(e.dataTransfer.files);
      }}
    >
      <aside className="panel pred-left">
        <div className="panel-head">
          <span className="panel-title">Model &amp; images</span>
        </div>
        <div className="panel-body">
          <ModelSetup />
          <ImageList />
        </div>
      </aside>
      <PredictionViewer />
      <aside className="panel pred-right">
        <ResultsPanel />
      </aside>
    </section>
  );
}

