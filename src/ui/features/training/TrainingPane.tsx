import { useEffect, useMemo, useRef } from 'react';
import { openFile, useEditor } from '../../../store/editor_store.ts';
import { refreshDatasets, useDatasets } from '../../../store/dataset_store.ts';
import { setTrainingFields, useTraining, useTrainingFields, type ScalarColumns } from '../../../store/training_store.ts';
import { DEMO_DATASET_ID } from '../../../worker/dataset_protocol.ts';
import { PerClassTable } from './PerClassTable.tsx';
import { ScalarChart } from './ScalarChart.tsx';
import { RUN_TAGS } from './chart_data.ts';
import { compareWith, control, download, exportAndDownload, openRun, refreshWeights, restoreLastRun, startTraining } from './training_bridge.ts';
import './training.css';

/** The demo config: a small Mask R-CNN on the bundled demo Cityscapes subset. */
export const DEMO_CONFIG = 'demo/mask-rcnn_r18_fpn_8xb2-demo_cityscapes.py';

const MAP_SUFFIXES = ['mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'];

/** `h:mm:ss` of a number of seconds. */
export function formatEta(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return '–';
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

const STATUS_KIND: Record<string, string> = {
  idle: 'muted', starting: 'info', running: 'ok', pausing: 'warn', paused: 'warn', stopping: 'warn', finished: 'ok', stopped: 'muted', failed: 'err',
};

function StatusStrip() {
  const s = useTrainingFields((t) => ({ status: t.status, progress: t.progress, eta: t.eta, backend: t.backend, message: t.message, failure: t.failure, pauseReason: t.pauseReason, error: t.actionError, runName: t.runName }));
  const p = s.progress;
  const frac = p && p.maxIters > 0 ? (p.mode === 'train' ? p.iter / p.maxIters : (p.batchIdx + 1) / Math.max(1, p.batches)) : 0;
  return (
    <div className="train-status">
      <span className={`badge badge-${STATUS_KIND[s.status] ?? 'muted'}`} data-testid="train-status" data-status={s.status}>
        <span className="dot" />
        {s.status}
        {s.pauseReason && s.status === 'paused' ? ` · ${s.pauseReason}` : ''}
      </span>
      {s.runName && <span className="train-run" title="Run">{s.runName}</span>}
      <div className="train-progress" aria-label="Progress">
        <div className="bar">
          <div className={`fill${p?.mode !== 'train' && p ? ' val' : ''}`} style={{ width: `${Math.min(100, frac * 100).toFixed(1)}%` }} />
        </div>
        <span className="train-progress-text" data-testid="train-progress">
          {s.status === 'finished' || s.status === 'stopped' || s.status === 'failed'
            ? p
              ? `${s.status} at iter ${p.iter}/${p.maxIters}`
              : s.status
            : p
            ? p.mode === 'train'
              ? `Epoch ${p.epoch + 1} · iter ${p.iter}/${p.maxIters} · batch ${p.batchIdx + 1}/${p.batches}`
              : `Validating ${p.batchIdx + 1}/${p.batches}`
            : 'Not started'}
        </span>
        <span className="train-eta">ETA {formatEta(s.eta)}</span>
      </div>
      {s.backend && (
        <span className="train-backend" data-testid="train-backend" data-backend={s.backend.name} title={s.backend.notice}>
          {s.backend.notice}
        </span>
      )}
      {(s.message || s.error) && (
        <div className={`train-message${s.failure || s.error ? ' err' : ''}`} role={s.failure || s.error ? 'alert' : 'status'} data-testid="train-message">
          {s.error ?? s.message}
        </div>
      )}
    </div>
  );
}

function Toolbar() {
  const openPath = useEditor((e) => e.openPath);
  const t = useTrainingFields((x) => ({ status: x.status, cfgOptionsText: x.cfgOptionsText, loadFrom: x.loadFrom, weights: x.weights, datasetId: x.datasetId }));
  const datasets = useDatasets((d) => d.datasets).filter((d) => d.id !== DEMO_DATASET_ID);
  useEffect(() => {
    // The imported datasets a run may train on (listed by the dataset worker).
    refreshDatasets().catch(() => undefined);
  }, []);
  const active = t.status === 'starting' || t.status === 'running' || t.status === 'paused' || t.status === 'pausing' || t.status === 'stopping';
  return (
    <div className="panel-head train-toolbar">
      <span className="train-config" title={openPath}>
        <span className="muted">Config</span> <code data-testid="train-config-path">{openPath}</code>
        {openPath !== DEMO_CONFIG && (
          <button type="button" className="link-btn" onClick={() => openFile(DEMO_CONFIG)} title="Open the demo config in the editor">
            use demo
          </button>
        )}
      </span>
      <label className="train-field">
        <span className="muted">cfg-options</span>
        <input
          data-testid="train-cfg-options"
          value={t.cfgOptionsText}
          placeholder="train_cfg.max_epochs=1 default_hooks.logger.interval=1"
          spellCheck={false}
          onChange={(e) => setTrainingFields({ cfgOptionsText: e.target.value })}
        />
      </label>
      <label className="train-field narrow">
        <span className="muted">dataset</span>
        <select data-testid="train-dataset" value={t.datasetId ?? ''} disabled={active} onChange={(e) => setTrainingFields({ datasetId: e.target.value || null })}>
          <option value="">demo (synthetic Cityscapes)</option>
          {datasets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
      </label>
      <label className="train-field narrow">
        <span className="muted">load_from</span>
        <select data-testid="train-load-from" value={t.loadFrom ?? ''} onChange={(e) => setTrainingFields({ loadFrom: e.target.value || null })}>
          <option value="">as in the config</option>
          {t.weights.map((w) => (
            <option key={w.uri} value={w.uri}>
              {w.name}
            </option>
          ))}
        </select>
      </label>
      <span className="btn-group">
        <button type="button" className="btn btn-primary" data-testid="train-start" disabled={active} onClick={() => void startTraining()}>
          ▶ Train
        </button>
        {t.status === 'paused' ? (
          <button type="button" className="btn" data-testid="train-resume" onClick={() => void control('resume')}>
            Resume
          </button>
        ) : (
          <button type="button" className="btn" data-testid="train-pause" disabled={t.status !== 'running'} onClick={() => void control('pause')}>
            Pause
          </button>
        )}
        <button type="button" className="btn btn-danger" data-testid="train-stop" disabled={!active || t.status === 'stopping'} onClick={() => void control('stop')}>
          Stop
        </button>
      </span>
    </div>
  );
}

function LogPanel() {
  const log = useTraining((t) => t.log);
  const runId = useTraining((t) => t.runId);
  const ref = useRef<HTMLPreElement>(null);
  const shown = log.length > 200 ? log.slice(log.length - 200) : log;
  useEffect(() => {
    const el = ref.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [log]);
  return (
    <div className="train-log">
      <div className="panel-head">
        <span className="panel-title">Log</span>
        <span className="btn-group">
          <button type="button" className="btn" disabled={!runId} data-testid="download-log" onClick={() => (runId ? void exportAndDownload({ runId, format: 'log' }) : download('train.log', log.join('\n') + '\n', 'text/plain'))}>
            .log
          </button>
          <button type="button" className="btn" disabled={!runId} data-testid="download-scalars" onClick={() => runId && void exportAndDownload({ runId, format: 'scalars' })}>
            scalars.json
          </button>
        </span>
      </div>
      <pre className="train-log-text" ref={ref} data-testid="train-log">
        {shown.length ? shown.join('\n') : 'The MMEngine-style text log appears here while training.'}
      </pre>
    </div>
  );
}

function RunPicker() {
  const runs = useTraining((t) => t.runs);
  const runId = useTraining((t) => t.runId);
  const status = useTraining((t) => t.status);
  const busy = status === 'starting' || status === 'running' || status === 'paused' || status === 'stopping';
  return (
    <label className="train-field narrow">
      <span className="muted">Run</span>
      <select data-testid="train-run-picker" value={runId ?? ''} disabled={busy} onChange={(e) => e.target.value && void openRun(e.target.value)}>
        <option value="">{runs.length ? 'choose a run…' : 'no runs yet'}</option>
        {runs.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name} — {r.status}, {r.points} pts
          </option>
        ))}
      </select>
    </label>
  );
}

/** "compare with…": a second stored run whose curves are drawn dashed over the shown run's. */
function ComparePicker() {
  const runs = useTraining((t) => t.runs);
  const runId = useTraining((t) => t.runId);
  const compareId = useTraining((t) => t.compare?.runId ?? null);
  const others = runs.filter((r) => r.id !== runId);
  return (
    <label className="train-field narrow">
      <span className="muted">compare with</span>
      <select data-testid="train-compare-picker" value={compareId ?? ''} disabled={others.length === 0 && !compareId} onChange={(e) => void compareWith(e.target.value || null)}>
        <option value="">{others.length ? 'none' : 'no other runs'}</option>
        {others.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name} — {r.status}, {r.points} pts
          </option>
        ))}
      </select>
    </label>
  );
}

/** Names the two runs of the charts: A (solid lines) and B (dashed). */
function CompareLegend({ runName, compareName }: { runName: string | null; compareName: string }) {
  return (
    <div className="compare-legend" data-testid="compare-legend">
      <span>
        <svg width="28" height="8" aria-hidden="true"><line x1="0" y1="4" x2="28" y2="4" stroke="currentColor" strokeWidth="2" /></svg>
        <b>{RUN_TAGS[0]}</b> {runName ?? 'this run'}
      </span>
      <span>
        <svg width="28" height="8" aria-hidden="true"><line x1="0" y1="4" x2="28" y2="4" stroke="currentColor" strokeWidth="2" strokeDasharray="6 4" /></svg>
        <b>{RUN_TAGS[1]}</b> {compareName}
      </span>
      <button type="button" className="link-btn" onClick={() => void compareWith(null)}>
        stop comparing
      </button>
    </div>
  );
}

function lossKeys(train: ScalarColumns): string[] {
  const keys = Object.keys(train.series);
  return [...(keys.includes('loss') ? ['loss'] : []), ...keys.filter((k) => k.startsWith('loss_')).sort()];
}

function mapKeys(val: ScalarColumns, kind: 'bbox' | 'segm'): string[] {
  const prefix = Object.keys(val.series).find((k) => k.endsWith(`/${kind}_mAP`))?.slice(0, -`/${kind}_mAP`.length);
  if (prefix === undefined) return [];
  return MAP_SUFFIXES.map((s) => `${prefix}/${kind}_${s}`).filter((k) => k in val.series);
}

/** The charts and validation table; re-rendered only when scalars arrive. */
function Charts() {
  const t = useTrainingFields((x) => ({ train: x.train, val: x.val, dataVersion: x.dataVersion, lastMetrics: x.lastMetrics, compare: x.compare, runName: x.runName }));
  const cmp = t.compare;
  // The keys of the shown run; when it has none yet, those of the compared run.
  const pick = (a: string[], b: () => string[]) => (a.length || !cmp ? a : b());
  const losses = useMemo(() => pick(lossKeys(t.train), () => lossKeys(cmp!.train)), [t.dataVersion, t.train, cmp]); // eslint-disable-line react-hooks/exhaustive-deps
  const bbox = useMemo(() => pick(mapKeys(t.val, 'bbox'), () => mapKeys(cmp!.val, 'bbox')), [t.dataVersion, t.val, cmp]); // eslint-disable-line react-hooks/exhaustive-deps
  const segm = useMemo(() => pick(mapKeys(t.val, 'segm'), () => mapKeys(cmp!.val, 'segm')), [t.dataVersion, t.val, cmp]); // eslint-disable-line react-hooks/exhaustive-deps
  const has = (k: string) => k in t.train.series || (cmp !== null && k in cmp.train.series);
  const ct = cmp?.train ?? null;
  const cv = cmp?.val ?? null;
  const valX = 'step';
  return (
    <div className="train-charts">
      <div className="charts-head">
        <span className="panel-title">Training</span>
        <span className="muted small">values as LoggerHook logs them (LogProcessor window mean)</span>
        <RunPicker />
        <ComparePicker />
      </div>
      {cmp && <CompareLegend runName={t.runName} compareName={cmp.runName} />}
      <div className="charts-grid">
        <div className="chart-wide">
          <ScalarChart title="Loss" testId="chart-loss" cols={t.train} compare={ct} keys={losses.length ? losses : ['loss']} version={t.dataVersion} height={210} />
        </div>
        <ScalarChart title="Accuracy (acc)" testId="chart-acc" cols={t.train} compare={ct} keys={['acc']} version={t.dataVersion} digits={2} />
        <ScalarChart title="Learning rate" testId="chart-lr" cols={t.train} compare={ct} keys={['lr']} version={t.dataVersion} digits={6} />
        <ScalarChart title="Time per iteration (s)" testId="chart-time" cols={t.train} compare={ct} keys={has('data_time') ? ['time', 'data_time'] : ['time']} version={t.dataVersion} digits={3} />
        <ScalarChart title="Memory (MB)" testId="chart-memory" cols={t.train} compare={ct} keys={['memory']} version={t.dataVersion} digits={0} />
      </div>
      <div className="charts-head">
        <span className="panel-title">Validation</span>
        <span className="muted small">COCO mAP after each validation (x: the logged step)</span>
      </div>
      <div className="charts-grid">
        <ScalarChart title="bbox mAP" testId="chart-bbox-map" cols={t.val} compare={cv} keys={bbox.length ? bbox : ['coco/bbox_mAP']} version={t.dataVersion} xLabel={valX} digits={3} />
        <ScalarChart title="segm mAP" testId="chart-segm-map" cols={t.val} compare={cv} keys={segm.length ? segm : ['coco/segm_mAP']} version={t.dataVersion} xLabel={valX} digits={3} />
      </div>
      <PerClassTable metrics={t.lastMetrics} compare={cmp ? cmp.lastMetrics : undefined} />
    </div>
  );
}

/** The Training pane: controls, progress, live charts, validation metrics and the text log. */
export function TrainingPane() {
  useEffect(() => {
    // After a reload the last run's charts, validation table and text log come back from IndexedDB.
    void restoreLastRun();
    void refreshWeights();
  }, []);
  return (
    <section className="pane training-pane" data-testid="pane-training" aria-label="Training">
      <Toolbar />
      <StatusStrip />
      <div className="train-body">
        <Charts />
        <LogPanel />
      </div>
    </section>
  );
}
