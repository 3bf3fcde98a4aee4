import { useEffect, useMemo, useState } from 'react';
import { useTraining } from '../../../store/training_store.ts';
import { setActivePane } from '../../../store/studio_store.ts';
import type { CheckpointSummary, RunSummary } from '../../../worker/train_protocol.ts';
import { deleteCheckpoint, deleteRun, refreshCheckpoints, refreshRuns, requestPersist, resumeFromCheckpoint, trainClient } from '../training/training_bridge.ts';
import '../training/training.css';

/** Bytes as B / KB / MB / GB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

function StorageCard() {
  const storage = useTraining((t) => t.storage);
  const [asked, setAsked] = useState<boolean | null>(null);
  const frac = storage && storage.quota > 0 ? storage.usage / storage.quota : 0;
  return (
    <div className="card" data-testid="storage-card">
      <h3>
        Browser storage
        <span className="muted">{storage ? `${formatBytes(storage.usage)} of ${formatBytes(storage.quota)} used (${(frac * 100).toFixed(1)}%)` : 'not reported by this browser'}</span>
      </h3>
      <div className="storage-bar">
        <div className="fill" style={{ width: `${Math.min(100, frac * 100).toFixed(2)}%` }} />
      </div>
      <div className="btn-group">
        <span className="muted small">{storage?.persisted ? 'Persistent: the browser will not evict these checkpoints under storage pressure.' : 'Best-effort: the browser may evict data when the disk is short.'}</span>
        {!storage?.persisted && (
          <button type="button" className="btn" data-testid="persist-storage" onClick={() => void requestPersist().then(setAsked)}>
            Request persistent storage
          </button>
        )}
        {asked === false && <span className="muted small">The browser declined (it decides from engagement; bookmarking the page helps).</span>}
      </div>
    </div>
  );
}

function metricOf(c: CheckpointSummary, valRows: Array<Record<string, number | string>> | undefined): number | null {
  const direct = c.metrics?.['coco/bbox_mAP'];
  if (typeof direct === 'number') return direct;
  if (!valRows) return null;
  // LoggerHook logs validation at the epoch (log_metric_by_epoch, the default) or at the iteration.
  const steps = c.name.startsWith('iter_') ? [c.iter, c.epoch] : [c.epoch, c.iter];
  const row = steps.map((st) => valRows.find((r) => r.step === st && typeof r['coco/bbox_mAP'] === 'number')).find((r) => r !== undefined);
  return row ? (row['coco/bbox_mAP'] as number) : null;
}

function RunCard({ run, checkpoints, busy }: { run: RunSummary; checkpoints: CheckpointSummary[]; busy: boolean }) {
  const [valRows, setValRows] = useState<Array<Record<string, number | string>>>();
  useEffect(() => {
    void trainClient()
      .request('runScalars', { runId: run.id })
      .then((rows) => setValRows(rows.filter((r) => !('lr' in r))))
      .catch(() => setValRows([]));
  }, [run.id, run.points]);
  const total = checkpoints.reduce((n, c) => n + c.sizeBytes, 0);
  return (
    <div className="card" data-testid="run-card">
      <h3>
        {run.name}
        <span className="muted">
          {run.status} · {checkpoints.length} checkpoint{checkpoints.length === 1 ? '' : 's'} · {formatBytes(total)}
        </span>
        <span className="btn-group" style={{ marginLeft: 'auto' }}>
          <button
            type="button"
            className="btn"
            disabled={busy || checkpoints.length === 0}
            data-testid="resume-latest"
            onClick={() => {
              setActivePane('training');
              void resumeFromCheckpoint(run.id);
            }}
          >
            Resume latest
          </button>
          <button
            type="button"
            className="btn btn-danger"
            disabled={busy}
            onClick={() => {
              if (window.confirm(`Delete run ${run.name} and its ${checkpoints.length} checkpoints?`)) void deleteRun(run.id);
            }}
          >
            Delete run
          </button>
        </span>
      </h3>
      {checkpoints.length === 0 ? (
        <p className="muted small">No checkpoints (CheckpointHook saves every default_hooks.checkpoint.interval).</p>
      ) : (
        <table className="ckpt-table" data-testid="ckpt-table">
          <thead>
            <tr>
              <th>checkpoint</th>
              <th>epoch</th>
              <th>iter</th>
              <th>size</th>
              <th>bbox mAP</th>
              <th>saved</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {[...checkpoints].reverse().map((c) => {
              const m = metricOf(c, valRows);
              return (
                <tr key={c.id} data-testid="ckpt-row">
                  <td>{c.name}</td>
                  <td className="num">{c.epoch}</td>
                  <td className="num">{c.iter}</td>
                  <td className="num">{c.sizeBytes ? formatBytes(c.sizeBytes) : '…'}</td>
                  <td className="num">{m === null ? '–' : m.toFixed(3)}</td>
                  <td>{new Date(c.date).toLocaleString()}</td>
                  <td>
                    <span className="ckpt-actions">
                      <button
                        type="button"
                        className="btn"
                        disabled={busy || c.name.startsWith('best_')}
                        title={c.name.startsWith('best_') ? 'Best-metric checkpoints hold no optimizer state' : 'Continue training from this checkpoint with its optimizer and scheduler state'}
                        onClick={() => {
                          setActivePane('training');
                          void resumeFromCheckpoint(run.id, c.id);
                        }}
                      >
                        Resume from here
                      </button>
                      <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void deleteCheckpoint(c.id)}>
                        Delete
                      </button>
                    </span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The Checkpoints pane: runs with their checkpoints, resume, delete, storage usage. */
export function CheckpointsPane() {
  const runs = useTraining((t) => t.runs);
  const checkpoints = useTraining((t) => t.checkpoints);
  const status = useTraining((t) => t.status);
  const error = useTraining((t) => t.actionError);
  const busy = status === 'starting' || status === 'running' || status === 'paused' || status === 'stopping';
  useEffect(() => {
    void refreshRuns();
    void refreshCheckpoints();
  }, []);
  const byRun = useMemo(() => {
    const m = new Map<string, CheckpointSummary[]>();
    for (const c of checkpoints) m.set(c.runId, [...(m.get(c.runId) ?? []), c]);
    return m;
  }, [checkpoints]);
  return (
    <section className="pane checkpoints-pane" data-testid="pane-checkpoints" aria-label="Checkpoints">
      <div className="panel-head">
        <span className="panel-title">Checkpoints</span>
        <button type="button" className="btn" onClick={() => void Promise.all([refreshRuns(), refreshCheckpoints()])}>
          Refresh
        </button>
      </div>
      <div className="pane-scroll">
        {error && (
          <div className="train-message err" role="alert">
            {error}
          </div>
        )}
        <StorageCard />
        {runs.length === 0 && <div className="card muted">No runs yet. Train a config in the Training pane; its checkpoints are kept here across reloads.</div>}
        {runs.map((r) => (
          <RunCard key={r.id} run={r} checkpoints={byRun.get(r.id) ?? []} busy={busy} />
        ))}
      </div>
    </section>
  );
}
