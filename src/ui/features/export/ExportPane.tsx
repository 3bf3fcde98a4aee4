import { useEffect, useMemo, useState } from 'react';
import { setTrainingFields, useTraining } from '../../../store/training_store.ts';
import type { ByteProgress, ExportFormat } from '../../../worker/train_protocol.ts';
import { formatBytes } from '../checkpoints/CheckpointsPane.tsx';
import { deleteWeights, exportAndDownload, importWeightsFile, refreshCheckpoints, refreshRuns, refreshWeights } from '../training/training_bridge.ts';
import '../training/training.css';

interface Item {
  format: ExportFormat;
  label: string;
  text: string;
  needsCheckpoint: boolean;
  withOptimizer?: boolean;
}

const ITEMS: Item[] = [
  { format: 'pth', label: 'Weights (.pth)', text: "PyTorch zip with MMDetection's {meta, state_dict}: load_from / init_detector load it.", needsCheckpoint: true },
  { format: 'pth', label: 'Full checkpoint (.pth)', text: 'Also optimizer (momentum), param_schedulers and message_hub, to resume with MMEngine.', needsCheckpoint: true, withOptimizer: true },
  { format: 'safetensors', label: 'Weights (.safetensors)', text: 'The same state_dict as safetensors; meta in the header.', needsCheckpoint: true },
  { format: 'bundle', label: 'MMDetection bundle (.zip)', text: 'Config with bundle-relative paths, weights, annotation jsons, logs and a README with the tools/dist_train.sh and tools/test.py commands.', needsCheckpoint: true },
  { format: 'config', label: 'Config (.py)', text: 'The resolved config the run trained, as MMDetection reads it.', needsCheckpoint: false },
  { format: 'log', label: 'Text log (.log)', text: 'MMEngine-style log lines of the run (stored with it, so also after a reload).', needsCheckpoint: false },
  { format: 'scalars', label: 'scalars.json', text: "One JSON per logged step, MMEngine's vis_data keys.", needsCheckpoint: false },
];

function ImportCard() {
  const weights = useTraining((t) => t.weights);
  const loadFrom = useTraining((t) => t.loadFrom);
  const [over, setOver] = useState(false);
  const [progress, setProgress] = useState<ByteProgress | null>(null);
  const take = async (files: FileList | null) => {
    for (const f of [...(files ?? [])]) await importWeightsFile(f, setProgress);
    setProgress(null);
  };
  return (
    <div className="card">
      <h3>
        Import weights <span className="muted">a .pth or .safetensors to start from (load_from)</span>
      </h3>
      <div
        className={`drop-zone${over ? ' over' : ''}`}
        data-testid="weights-drop"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void take(e.dataTransfer.files);
        }}
      >
        Drop a checkpoint here (or anywhere on the studio), or{' '}
        <label className="link-btn">
          choose a file
          <input type="file" accept=".pth,.pt,.safetensors" hidden onChange={(e) => void take(e.target.files)} />
        </label>
        {progress && <div className="muted small">{progress.phase}…</div>}
      </div>
      {weights.length > 0 && (
        <table className="ckpt-table" style={{ marginTop: 10 }}>
          <thead>
            <tr>
              <th>file</th>
              <th>tensors</th>
              <th>size</th>
              <th>load_from</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {weights.map((w) => (
              <tr key={w.uri} className={loadFrom === w.uri ? 'selected' : ''}>
                <td>{w.name}</td>
                <td className="num">{w.tensors}</td>
                <td className="num">{formatBytes(w.sizeBytes)}</td>
                <td>
                  <code>{w.uri}</code>
                </td>
                <td>
                  <span className="ckpt-actions">
                    <button type="button" className="btn" onClick={() => setTrainingFields({ loadFrom: loadFrom === w.uri ? null : w.uri })}>
                      {loadFrom === w.uri ? 'Used for the next run' : 'Use as load_from'}
                    </button>
                    <button type="button" className="btn btn-danger" onClick={() => void deleteWeights(w.uri)}>
                      Delete
                    </button>
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The Export pane: a run's checkpoint as .pth / .safetensors, its config and logs; weights import. */
export function ExportPane() {
  const runs = useTraining((t) => t.runs);
  const checkpoints = useTraining((t) => t.checkpoints);
  const error = useTraining((t) => t.actionError);
  const [runId, setRunId] = useState('');
  const [ckptId, setCkptId] = useState('');
  const [progress, setProgress] = useState<(ByteProgress & { label: string }) | null>(null);
  const [done, setDone] = useState<string | null>(null);
  useEffect(() => {
    void refreshRuns();
    void refreshCheckpoints();
    void refreshWeights();
  }, []);
  const run = runId || runs[0]?.id || '';
  const ckpts = useMemo(() => checkpoints.filter((c) => c.runId === run).reverse(), [checkpoints, run]);
  const ckpt = ckpts.find((c) => c.id === ckptId)?.id ?? ckpts[0]?.id ?? '';
  const go = async (item: Item) => {
    setDone(null);
    const t0 = performance.now();
    setProgress({ label: item.label, phase: 'starting', done: 0, total: 1 });
    const res = await exportAndDownload({ runId: run, checkpointId: item.needsCheckpoint ? ckpt : undefined, format: item.format, withOptimizer: item.withOptimizer }, (p) =>
      setProgress({ ...p, label: item.label }),
    );
    setProgress(null);
    if (res) setDone(`${res.fileName}: ${formatBytes(res.bytes)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  return (
    <section className="pane export-pane" data-testid="pane-export" aria-label="Export">
      <div className="panel-head">
        <span className="panel-title">Export</span>
      </div>
      <div className="pane-scroll">
        {error && (
          <div className="train-message err" role="alert">
            {error}
          </div>
        )}
        <div className="card">
          <h3>
            From a run
            <label className="train-field narrow">
              <select value={run} onChange={(e) => setRunId(e.target.value)} data-testid="export-run">
                {runs.length === 0 && <option value="">no runs yet</option>}
                {runs.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="train-field narrow">
              <select value={ckpt} onChange={(e) => setCkptId(e.target.value)} data-testid="export-checkpoint">
                {ckpts.length === 0 && <option value="">no checkpoints</option>}
                {ckpts.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name} (epoch {c.epoch}, iter {c.iter})
                  </option>
                ))}
              </select>
            </label>
          </h3>
          <div className="export-grid">
            {ITEMS.map((it) => (
              <div className="export-item" key={it.label}>
                <strong>{it.label}</strong>
                <p>{it.text}</p>
                <button type="button" className="btn" disabled={!run || (it.needsCheckpoint && !ckpt) || progress !== null} onClick={() => void go(it)}>
                  Download
                </button>
              </div>
            ))}
          </div>
          {progress && (
            <div className="progress-line" style={{ marginTop: 10 }} data-testid="export-progress">
              <span>{progress.label}: {progress.phase}</span>
              <div className="storage-bar">
                <div className="fill" style={{ width: `${progress.total ? Math.min(100, (100 * progress.done) / progress.total) : 0}%` }} />
              </div>
              {progress.total > 1 && <span className="muted">{formatBytes(progress.done)} / {formatBytes(progress.total)}</span>}
            </div>
          )}
          {done && <p className="muted small" data-testid="export-done">Saved {done}.</p>}
          <p className="muted small">The MMDetection bundle (.zip with COCO annotations and tools/dist_train.sh commands) is not in the studio yet; `detstudio export --format bundle` is the CLI's.</p>
        </div>
        <ImportCard />
      </div>
    </section>
  );
}
