import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { CheckpointDb, IndexedDbCheckpointStore, LOG_CHUNK_LINES, SCALAR_CHUNK_ROWS, StorageQuotaError } from './checkpoint_db';
import { joinPayloads, splitPayloads } from './payload';
import { type CheckpointDbSchema, MIGRATIONS, SCHEMA_VERSION } from './schema';

let dbCounter = 0;
const freshName = () => `test-ckpt-${process.pid}-${dbCounter++}`;

function record(iter: number, scale = 1) {
  const w = new Float32Array(1000).map((_, i) => Math.sin(i * scale + iter));
  return {
    name: `iter_${iter}.pth`,
    meta: { epoch: 1, iter, seed: 0, time: new Date(2026, 0, 1, 0, 0, iter).toISOString() },
    state_dict: {
      'backbone.conv1.weight': { dtype: 'float32', shape: [10, 100], data: w },
      'backbone.bn1.num_batches_tracked': { dtype: 'int64', shape: [], data: new BigInt64Array([BigInt(iter)]) },
    },
    optimizer: {
      state: { 0: { momentum_buffer: { shape: [10, 100], data: new Float32Array(1000).fill(iter / 10) } } },
      param_groups: [{ lr: 0.01, momentum: 0.9, params: [0], param_names: ['backbone.conv1.weight'] }],
    },
    param_schedulers: [{ last_step: iter, base_values: [0.01] }],
    metrics: { 'coco/bbox_mAP': iter / 100 },
  };
}

describe('payload packing', () => {
  it('round-trips typed arrays bit-exactly across chunk boundaries', () => {
    const r = { a: new Float32Array([1.5, NaN, -0]), b: [new Int32Array([7, -8]), { c: new BigInt64Array([2n ** 62n]) }], s: 'x', n: 3 };
    const { skeleton, chunks, bytes } = splitPayloads(r, 8); // tiny chunks: every array its own chunk
    expect(chunks.length).toBe(3);
    expect(bytes).toBe(12 + 8 + 8);
    const back = joinPayloads(skeleton, chunks) as typeof r;
    expect(new Uint8Array(back.a.buffer, back.a.byteOffset, 12)).toEqual(new Uint8Array(r.a.buffer));
    expect(Object.is(back.a[2], -0)).toBe(true);
    expect(Array.from(back.b[0] as Int32Array)).toEqual([7, -8]);
    expect((back.b[1] as { c: BigInt64Array }).c[0]).toBe(2n ** 62n);
    expect(back.s).toBe('x');
  });
  it('reports a truncated chunk', () => {
    const { skeleton } = splitPayloads({ a: new Float32Array(4) });
    expect(() => joinPayloads(skeleton, [new ArrayBuffer(4)])).toThrow(/truncated/);
  });
});

describe('CheckpointDb', () => {
  it('saves, lists and loads a checkpoint with optimizer state bit-exactly', async () => {
    const db = await CheckpointDb.open(freshName());
    const store = new IndexedDbCheckpointStore<ReturnType<typeof record>>(db, 'run1');
    const r = record(50);
    const id = await store.save(r);
    const list = await store.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id, name: 'iter_50.pth', epoch: 1, iter: 50, sizeBytes: 4000 + 8 + 4000, metrics: { 'coco/bbox_mAP': 0.5 } });
    const back = await store.load(id);
    expect(back.state_dict['backbone.conv1.weight'].data).toEqual(r.state_dict['backbone.conv1.weight'].data);
    expect(back.state_dict['backbone.bn1.num_batches_tracked'].data[0]).toBe(50n);
    expect(back.optimizer.state[0]!.momentum_buffer.data).toEqual(r.optimizer.state[0]!.momentum_buffer.data);
    expect(back.param_schedulers).toEqual(r.param_schedulers);
    db.close();
  });

  it('a save killed mid-write leaves the previous checkpoint intact and nothing half-written visible', async () => {
    const name = freshName();
    const db = await CheckpointDb.open(name);
    const good = await db.saveCheckpoint('run', record(10));
    // Many small chunks, killed after two were written.
    const big = { ...record(20), extra: Array.from({ length: 6 }, () => new Float32Array(16 * 2 ** 18)) };
    await expect(
      db.saveCheckpoint('run', big, { faults: { beforeChunk: (i) => { if (i === 2) throw new Error('tab closed'); } } }),
    ).rejects.toThrow('tab closed');
    const list = await db.listCheckpoints('run');
    expect(list.map((c) => c.id)).toEqual([good]);
    expect((await db.loadCheckpoint<ReturnType<typeof record>>(good)).meta.iter).toBe(10);
    db.close();
    // A kill that leaves chunks behind (no cleanup ran): simulate by writing orphan chunks directly.
    const db2 = await CheckpointDb.open(name);
    await db2.db.put('chunks', { checkpointId: 'run:ghost', index: 0, bytes: new ArrayBuffer(8) }, 'run:ghost#0');
    db2.close();
    const db3 = await CheckpointDb.open(name); // open sweeps unreferenced chunks
    expect(await db3.db.count('chunks')).toBe(1); // only the good checkpoint's chunk
    expect(await db3.listCheckpoints('run')).toHaveLength(1);
    db3.close();
  });

  it('turns a QuotaExceededError into a clear StorageQuotaError and keeps older checkpoints', async () => {
    const db = await CheckpointDb.open(freshName());
    const keep = await db.saveCheckpoint('run', record(1));
    const quota = new DOMException('quota', 'QuotaExceededError');
    const err = await db.saveCheckpoint('run', record(2), { faults: { beforeChunk: () => { throw quota; } } }).catch((e) => e);
    expect(err).toBeInstanceOf(StorageQuotaError);
    expect(String(err.message)).toMatch(/storage is full.*iter_2\.pth.*Earlier checkpoints are intact/s);
    expect((await db.listCheckpoints('run')).map((c) => c.id)).toEqual([keep]);
    db.close();
  });

  it('prunes older checkpoints in the same transaction that publishes the new one (max_keep_ckpts)', async () => {
    const db = await CheckpointDb.open(freshName());
    const a = await db.saveCheckpoint('run', record(1));
    const b = await db.saveCheckpoint('run', record(2));
    const c = await db.saveCheckpoint('run', record(3), { prune: [a] });
    expect((await db.listCheckpoints('run')).map((x) => x.id)).toEqual([b, c]);
    expect(await db.db.countFromIndex('chunks', 'checkpointId', a)).toBe(0);
    db.close();
  });

  it('says which chunk is missing when a checkpoint is damaged', async () => {
    const db = await CheckpointDb.open(freshName());
    const id = await db.saveCheckpoint('run', record(4));
    await db.db.delete('chunks', `${id}#0`);
    await expect(db.loadCheckpoint(id)).rejects.toThrow(/damaged: its data chunk 0 of 1 is missing/);
    db.close();
  });

  it('keeps runs with their logged scalars for the charts, and deletes a run with its checkpoints', async () => {
    const db = await CheckpointDb.open(freshName());
    const now = new Date().toISOString();
    await db.putRun({ id: 'r', name: 'demo', created: now, updated: now, status: 'running', scalars: [] });
    await db.appendScalars('r', [{ step: 5, loss: 1.5, lr: 0.001 }]);
    await db.appendScalars('r', [{ step: 10, loss: 1.2, lr: 0.002 }]);
    expect((await db.getRun('r'))!.scalars.map((s) => s.step)).toEqual([5, 10]);
    await db.saveCheckpoint('r', record(10));
    await db.deleteRun('r');
    expect(await db.getRun('r')).toBeUndefined();
    expect(await db.db.count('checkpoints')).toBe(0);
    expect(await db.db.count('chunks')).toBe(0);
    db.close();
  });

  it('records the schema version on rows', async () => {
    const db = await CheckpointDb.open(freshName());
    const id = await db.saveCheckpoint('run', record(1));
    expect((await db.db.get('checkpoints', id))!.schema).toBe(SCHEMA_VERSION);
    expect(db.db.version).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('stores a run\'s text log as append-only chunks that survive a reopen, reads its tail, deletes it with the run', async () => {
    const name = freshName();
    const db = await CheckpointDb.open(name);
    const now = new Date().toISOString();
    await db.putRun({ id: 'r', name: 'demo', created: now, updated: now, status: 'running', scalars: [] });
    const lines = Array.from({ length: LOG_CHUNK_LINES + 5 }, (_, i) => `2026/11/28 00:00:00 - mmengine - INFO - Iter(train) [${i + 1}/3000]`);
    await db.appendLog('r', lines.slice(0, 3));
    await db.appendLog('r', []);
    await db.appendLog('r', lines.slice(3));
    await db.appendLog('other', ['x']);
    // 3 lines, then 1002 lines: chunk 0 topped up to LOG_CHUNK_LINES, the last 5 in chunk 1
    expect((await db.db.getAll('logs')).filter((c) => c.runId === 'r').map((c) => [c.index, c.lines.length])).toEqual([[0, LOG_CHUNK_LINES], [1, 5]]);
    db.close();
    const db2 = await CheckpointDb.open(name); // a reload
    expect(await db2.readLog('r')).toEqual(lines);
    expect(await db2.readLog('r', { tail: 4 })).toEqual(lines.slice(-4));
    expect(await db2.readLog('r', { tail: 10 ** 6 })).toEqual(lines);
    expect(await db2.readLog('missing')).toEqual([]);
    await db2.appendLog('r', ['last']);
    expect((await db2.readLog('r')).slice(-2)).toEqual([lines[lines.length - 1], 'last']);
    await db2.deleteRun('r');
    expect(await db2.readLog('r')).toEqual([]);
    expect(await db2.readLog('other')).toEqual(['x']);
    db2.close();
  });

  it('appends scalars as chunks (a flush writes its rows, not the history), and putRun replaces them', async () => {
    const name = freshName();
    const db = await CheckpointDb.open(name);
    const now = new Date().toISOString();
    await db.putRun({ id: 'r', name: 'demo', created: now, updated: now, status: 'running', scalars: [] });
    const rows = Array.from({ length: 2 * SCALAR_CHUNK_ROWS + 500 }, (_, i) => ({ step: i + 1, loss: 1 / (i + 1), lr: 0.01 }));
    // many small flushes, then a big one
    for (let i = 0; i < 30; i++) await db.appendScalars('r', rows.slice(i * 2, i * 2 + 2));
    await db.appendScalars('r', rows.slice(60));
    const chunks = (await db.db.getAll('scalarChunks')).filter((c) => c.runId === 'r');
    expect(chunks.map((c) => c.rows.length)).toEqual([SCALAR_CHUNK_ROWS, SCALAR_CHUNK_ROWS, 500]);
    expect((await db.db.get('runs', 'r'))!.scalars).toEqual([]); // the run row stays small
    db.close();
    const db2 = await CheckpointDb.open(name);
    expect((await db2.getRun('r'))!.scalars).toEqual(rows);
    expect((await db2.listRuns()).find((x) => x.id === 'r')!.scalars).toHaveLength(rows.length);
    // resume from iteration 100: the run is rewritten with its first 100 rows, and goes on
    const run = (await db2.getRun('r'))!;
    await db2.putRun({ ...run, scalars: run.scalars.slice(0, 100) });
    await db2.appendScalars('r', [{ step: 101, loss: 0.5, lr: 0.01 }]);
    expect((await db2.getRun('r'))!.scalars.map((x) => x.step)).toEqual([...Array.from({ length: 100 }, (_, i) => i + 1), 101]);
    await db2.appendScalars('r', rows.slice(101, 1500));
    const info = (await db2.listRunInfos()).find((x) => x.id === 'r')!;
    expect(info.points).toBe((await db2.getRun('r'))!.scalars.length);
    expect(info.points).toBe(1500);
    expect('scalars' in info).toBe(false);
    await expect(db2.appendScalars('missing', [{ step: 1 }])).rejects.toThrow(/not found/);
    db2.close();
  });

  it('migrates a version-1 database (runs and their inline scalars kept; text-log and scalar chunk stores added)', async () => {
    const name = freshName();
    const v1 = await openDB<CheckpointDbSchema>(name, 1, { upgrade: (d, _o, _n, tx) => MIGRATIONS[0]!(d, tx as never) });
    const now = new Date().toISOString();
    await v1.put('runs', { id: 'old', name: 'old run', created: now, updated: now, status: 'finished', scalars: [{ step: 1, loss: 2, lr: 0.01 }] });
    v1.close();
    const db = await CheckpointDb.open(name);
    expect(db.db.version).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(3);
    expect((await db.getRun('old'))!.scalars).toHaveLength(1);
    expect(await db.readLog('old')).toEqual([]);
    await db.appendLog('old', ['a']);
    expect(await db.readLog('old')).toEqual(['a']);
    // rows stored inline by version 1 come first, appended ones (chunks) after
    await db.appendScalars('old', [{ step: 2, loss: 1, lr: 0.01 }]);
    expect((await db.getRun('old'))!.scalars.map((r) => r.step)).toEqual([1, 2]);
    expect((await db.listRuns())[0]!.scalars.map((r) => r.step)).toEqual([1, 2]);
    expect((await db.listRunInfos())[0]!.points).toBe(2); // one inline (older version) + one chunked
    db.close();
  });
});
