/**
 * Node-only checkpoint store for the CLI: each record becomes `<work_dir>/<name>` — a real
 * MMDetection/MMEngine `.pth` (`meta`, `state_dict` in PyTorch layout, `optimizer`,
 * `param_schedulers`, `message_hub`) written atomically (temp file + rename) — plus MMEngine's
 * `last_checkpoint` file. Records are read back from the `.pth` itself, so `--resume` works from
 * what MMDetection's tools would see. Never import this from browser/worker code.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCheckpoint, toModelLayout, type TensorRecord, writePth } from '../../checkpoint';
import { mmdetCheckpointFromRecord } from '../build';
import type { CheckpointInfo, CheckpointMeta, CheckpointRecord, CheckpointStore, TensorData } from '../checkpoint_store';
import type { OptimizerStateDict } from '../optim/sgd';
import type { SamplerState } from '../data/sampler';
import type { RngState } from '../../data/transforms/types';

function toModel(key: string, t: TensorRecord): TensorData {
  const m = toModelLayout(key, t);
  if (m.dtype === 'int64') return { dtype: 'int32', shape: m.shape, data: Int32Array.from(m.data as BigInt64Array, (x) => Number(x)) };
  return { dtype: 'float32', shape: m.shape, data: m.data as Float32Array };
}

/** Reads a `.pth` written by {@link FileCheckpointStore} (or MMEngine) back into a record. */
export function recordFromPth(bytes: Uint8Array, name: string): CheckpointRecord {
  const ck = readCheckpoint(bytes);
  const meta = (ck.meta ?? {}) as CheckpointMeta;
  const stateDict: Record<string, TensorData> = {};
  for (const [k, t] of ck.stateDict) stateDict[k] = toModel(k, t);
  const rec: CheckpointRecord = { name, meta: { ...meta, epoch: Number(meta.epoch ?? 0), iter: Number(meta.iter ?? 0), seed: Number(meta.seed ?? 0), time: String(meta.time ?? '') }, state_dict: stateDict };
  const opt = ck.extra.optimizer as { state?: unknown; param_groups?: OptimizerStateDict['param_groups'] } | undefined;
  if (opt?.param_groups) {
    const names = opt.param_groups.flatMap((g) => g.param_names ?? []);
    const state: OptimizerStateDict['state'] = {};
    const entries = opt.state instanceof Map ? [...opt.state.entries()] : Object.entries((opt.state ?? {}) as Record<string, unknown>);
    for (const [id, s] of entries as Array<[string | number, { momentum_buffer: TensorRecord }]>) {
      const name = names[Number(id)] ?? String(id);
      const t = toModel(name, s.momentum_buffer);
      state[Number(id)] = { momentum_buffer: { shape: t.shape, data: t.data as Float32Array } };
    }
    rec.optimizer = { state, param_groups: opt.param_groups };
  }
  if (Array.isArray(ck.extra.param_schedulers)) rec.param_schedulers = ck.extra.param_schedulers as Array<Record<string, unknown>>;
  if (ck.extra.message_hub) rec.message_hub = ck.extra.message_hub as Record<string, unknown>;
  if (meta.sampler) rec.sampler = meta.sampler as SamplerState;
  if (meta.pipeline_rng) rec.pipeline_rng = meta.pipeline_rng as RngState;
  if (meta.model_rng) rec.model_rng = meta.model_rng as Record<string, number>;
  return rec;
}

/** Checkpoints as `.pth` files in a work directory. Ids are the file names. */
export class FileCheckpointStore implements CheckpointStore {
  constructor(readonly workDir: string) {
    mkdirSync(workDir, { recursive: true });
  }

  async save(record: CheckpointRecord): Promise<string> {
    if (!/^[\w.-]+\.pth$/.test(record.name)) throw new Error(`invalid checkpoint name '${record.name}'`);
    const bytes = writePth(mmdetCheckpointFromRecord(record));
    const path = join(this.workDir, record.name);
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
    writeFileSync(join(this.workDir, 'last_checkpoint'), path);
    return record.name;
  }

  async list(): Promise<CheckpointInfo[]> {
    const out: CheckpointInfo[] = [];
    for (const f of readdirSync(this.workDir)) {
      if (!f.endsWith('.pth')) continue;
      const m = /(epoch|iter)_(\d+)\.pth$/.exec(f);
      const st = statSync(join(this.workDir, f));
      const n = m ? Number(m[2]) : 0;
      out.push({ id: f, name: f, epoch: m?.[1] === 'epoch' ? n : 0, iter: m?.[1] === 'iter' ? n : 0, sizeBytes: st.size, date: st.mtime.toISOString() });
    }
    return out.sort((a, b) => a.date.localeCompare(b.date));
  }

  async load(id: string): Promise<CheckpointRecord> {
    return recordFromPth(new Uint8Array(readFileSync(join(this.workDir, id))), id);
  }

  async delete(id: string): Promise<void> {
    rmSync(join(this.workDir, id), { force: true });
  }
}
