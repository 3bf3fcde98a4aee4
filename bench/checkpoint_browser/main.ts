/**
 * The page of `bench/checkpoint_browser.bench.ts`, served by a Vite dev server: it runs the studio's
 * real checkpoint storage (`CheckpointDb` on IndexedDB) and `.pth` export path
 * (`mmdetCheckpointFromRecord` + `writePthParts`, as `TrainingService.exportFile` does) on a
 * synthetic runner record with MMDetection's Mask R-CNN R50-FPN keys and shapes, and exposes each
 * step as a timed call on `window.__ckptBench`.
 */
import { CheckpointDb } from '../../src/storage/checkpoint_db.ts';
import { readPth, toModelShape, writePthParts } from '../../src/checkpoint/index.ts';
import { mmdetCheckpointFromRecord } from '../../src/runner/build.ts';
import type { CheckpointRecord, TensorData } from '../../src/runner/checkpoint_store.ts';
import type { OptimizerStateDict } from '../../src/runner/optim/sgd.ts';

/** One key of the R50-FPN state dict (PyTorch layout), as in the fixture's key list. */
export interface KeySpec {
  key: string;
  shape: number[];
  dtype: string;
  numel: number;
}

/** What `window.__ckptBench` offers; every step returns its wall time in ms, measured in the page. */
export interface CheckpointBenchApi {
  /** Builds the record in memory (weights and momentum of the trainable parameters). */
  make(keys: KeySpec[]): { tensors: number; weightBytes: number; momentumBuffers: number; momentumBytes: number; ms: number };
  /** Opens (creating) the database. */
  open(): Promise<{ ms: number }>;
  /** Saves the record as a new checkpoint. */
  save(): Promise<{ id: string; bytes: number; ms: number }>;
  /** Loads checkpoint `id` and checks a few values against the in-memory record. */
  load(id: string): Promise<{ ms: number; ok: boolean }>;
  /** Exports checkpoint `id` to `.pth` bytes: read, convert to PyTorch layout, serialise, concatenate. */
  exportPth(id: string, withOptimizer: boolean): Promise<{ bytes: number; readMs: number; convertMs: number; serialiseMs: number; concatMs: number; ms: number; tensors: number; parseMs: number }>;
  /** Deletes checkpoint `id`. */
  remove(id: string): Promise<{ ms: number }>;
  /** `navigator.storage.estimate()` usage in bytes. */
  usage(): Promise<number>;
}

declare global {
  interface Window {
    __ckptBench?: CheckpointBenchApi;
  }
}

const RUN = 'bench-run';
/** Parameters MMDetection's R50 keeps frozen (`frozen_stages=1`: stem and layer1): no momentum. */
const FROZEN = /^backbone\.(conv1|bn1|layer1)\./;
const BUFFER = /\.(running_mean|running_var|num_batches_tracked)$/;

let db: CheckpointDb | null = null;
let record: CheckpointRecord | null = null;

function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    a[i] = (x / 2 ** 32 - 0.5) * 0.1;
  }
  return a;
}

function requireDb(): CheckpointDb {
  if (!db) throw new Error('open() first');
  return db;
}

window.__ckptBench = {
  make(keys) {
    const t0 = performance.now();
    const state_dict: Record<string, TensorData> = {};
    const names: string[] = [];
    const state: OptimizerStateDict['state'] = {};
    let weightBytes = 0;
    let momentumBytes = 0;
    keys.forEach((k, i) => {
      const shape = toModelShape(k.shape);
      if (k.dtype === 'int64') {
        state_dict[k.key] = { dtype: 'int32', shape, data: new Int32Array(Math.max(1, k.numel)) };
        weightBytes += 4;
        return;
      }
      state_dict[k.key] = { dtype: 'float32', shape, data: fill(k.numel, i + 1) };
      weightBytes += k.numel * 4;
      if (BUFFER.test(k.key)) return;
      if (!FROZEN.test(k.key)) {
        state[names.length] = { momentum_buffer: { shape, data: fill(k.numel, 1000 + i) } };
        momentumBytes += k.numel * 4;
      }
      names.push(k.key);
    });
    record = {
      name: 'iter_1000.pth',
      meta: { epoch: 1, iter: 1000, seed: 0, time: new Date().toISOString(), mmdet_version: '3.3.0', dataset_meta: { classes: Array.from({ length: 80 }, (_, i) => `class${i}`) } },
      state_dict,
      optimizer: {
        state,
        param_groups: [{ lr: 0.02, momentum: 0.9, dampening: 0, weight_decay: 0.0001, nesterov: false, params: names.map((_, i) => i), param_names: names }],
      },
      param_schedulers: [{ start_factor: 0.001, by_epoch: false, begin: 0, end: 500, last_step: 1000, _last_lr: [0.02] }],
      message_hub: { log_scalars: {}, runtime_info: { iter: 1000, epoch: 1 }, resumed_keys: {} },
    };
    return { tensors: keys.length, weightBytes, momentumBuffers: Object.keys(state).length, momentumBytes, ms: performance.now() - t0 };
  },
  async open() {
    const t0 = performance.now();
    db = await CheckpointDb.open();
    return { ms: performance.now() - t0 };
  },
  async save() {
    if (!record) throw new Error('make() first');
    const d = requireDb();
    const t0 = performance.now();
    const id = await d.saveCheckpoint(RUN, record);
    const ms = performance.now() - t0;
    const info = (await d.listCheckpoints(RUN)).find((c) => c.id === id);
    return { id, bytes: info?.sizeBytes ?? -1, ms };
  },
  async load(id) {
    const t0 = performance.now();
    const back = await requireDb().loadCheckpoint<CheckpointRecord>(id);
    const ms = performance.now() - t0;
    let ok = back.meta.iter === record!.meta.iter && Object.keys(back.state_dict).length === Object.keys(record!.state_dict).length;
    for (const [k, t] of Object.entries(record!.state_dict)) {
      const b = back.state_dict[k]!.data;
      const n = t.data.length;
      if (b.length !== n || b[0] !== t.data[0] || b[n - 1] !== t.data[n - 1] || b[n >> 1] !== t.data[n >> 1]) ok = false;
    }
    for (const [i, s] of Object.entries(record!.optimizer!.state)) {
      const b = back.optimizer!.state[Number(i)]!.momentum_buffer.data;
      const n = s.momentum_buffer.data.length;
      if (b.length !== n || b[n - 1] !== s.momentum_buffer.data[n - 1]) ok = false;
    }
    return { ms, ok };
  },
  async exportPth(id, withOptimizer) {
    const t0 = performance.now();
    const rec = await requireDb().loadCheckpoint<CheckpointRecord>(id);
    const t1 = performance.now();
    const obj = mmdetCheckpointFromRecord(rec);
    if (!withOptimizer) {
      delete obj.optimizer;
      delete obj.param_schedulers;
      delete obj.message_hub;
    }
    const t2 = performance.now();
    const parts = writePthParts(obj);
    const t3 = performance.now();
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.byteLength;
    }
    const t4 = performance.now();
    const parsed = readPth(out, { checkFinite: false });
    const t5 = performance.now();
    return {
      bytes: out.byteLength, readMs: t1 - t0, convertMs: t2 - t1, serialiseMs: t3 - t2, concatMs: t4 - t3, ms: t4 - t0,
      tensors: parsed.stateDict.size, parseMs: t5 - t4,
    };
  },
  async remove(id) {
    const t0 = performance.now();
    await requireDb().deleteCheckpoint(id);
    return { ms: performance.now() - t0 };
  },
  async usage() {
    return (await navigator.storage.estimate()).usage ?? 0;
  },
};
document.getElementById('status')!.textContent = 'ready';
