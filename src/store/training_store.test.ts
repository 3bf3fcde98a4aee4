import { beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_LOG_LINES,
  appendRow,
  appendRows,
  applyEvents,
  clearCompareRun,
  columnsFromScalars,
  downsampleIndices,
  perClassAP,
  resetTrainingStore,
  runColumnsFromScalarsJson,
  scalarsJsonSlices,
  setCompareRun,
  setRunLog,
  showRun,
  startCfgOptions,
  trainingStore,
  type TrainEventRecord,
} from './training_store';

beforeEach(() => resetTrainingStore());

const trainLog = (step: number, extra: Record<string, number> = {}): TrainEventRecord => ({
  name: 'train-log',
  payload: { step, tag: { lr: 0.01, loss: 2 / step, loss_cls: 1 / step, time: 0.5, data_time: 0.1, memory: 100, eta: 60 - step, ...extra }, text: '' },
});

describe('training store', () => {
  it('applies a batch of events in one update and keeps columns aligned', () => {
    let updates = 0;
    const unsub = trainingStore.subscribe(() => updates++);
    applyEvents([
      { name: 'status', payload: { status: 'starting', runId: 'r1' } },
      { name: 'status', payload: { status: 'running', runId: 'r1' } },
      trainLog(1),
      trainLog(2, { acc: 90 }),
      { name: 'val-metrics', payload: { step: 1, epoch: 1, iter: 2, metrics: { 'coco/bbox_mAP': 0.1, 'coco/person_precision': 0.3 }, text: '' } },
      { name: 'log', payload: { level: 'info', text: 'x', line: 'L' } },
    ]);
    unsub();
    expect(updates).toBe(1);
    const s = trainingStore.getState();
    expect(s.status).toBe('running');
    expect(s.train.steps).toEqual([1, 2]);
    expect(s.train.series.loss).toEqual([2, 1]);
    expect(s.train.series.acc).toEqual([Number.NaN, 90]);
    expect(s.val.series['coco/bbox_mAP']).toEqual([0.1]);
    expect(s.eta).toBe(58);
    expect(s.log).toEqual(['L']);
    expect(perClassAP(s.lastMetrics)).toEqual([{ name: 'person', ap: 0.3, key: 'coco/person_precision' }]);
  });

  it('starts empty charts for a new run and caps the log', () => {
    applyEvents([{ name: 'status', payload: { status: 'starting', runId: 'a' } }, trainLog(1)]);
    applyEvents([{ name: 'status', payload: { status: 'starting', runId: 'b' } }]);
    expect(trainingStore.getState().train.steps).toEqual([]);
    applyEvents(Array.from({ length: MAX_LOG_LINES + 10 }, (_, i) => ({ name: 'log', payload: { level: 'info', text: '', line: String(i) } }) as TrainEventRecord));
    const log = trainingStore.getState().log;
    expect(log).toHaveLength(MAX_LOG_LINES);
    expect(log[log.length - 1]).toBe(String(MAX_LOG_LINES + 9));
  });

  it('rebuilds charts from stored scalars.json rows', () => {
    const rows: Array<Record<string, number>> = [
      { lr: 0.01, loss: 3, step: 5 },
      { lr: 0.01, loss: 2, step: 10 },
      { 'coco/bbox_mAP': 0.2, 'coco/segm_mAP': 0.1, step: 1 },
    ];
    const { train, val } = columnsFromScalars(rows);
    expect(train.steps).toEqual([5, 10]);
    expect(val.series['coco/segm_mAP']).toEqual([0.1]);
    showRun('r', 'run', rows);
    expect(trainingStore.getState().lastMetrics).toEqual(rows[2]);
  });

  it('downsamples 10^5 points to a bounded set that keeps the extremes', () => {
    const n = 100_000;
    const ys = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 100));
    ys[54_321] = 50;
    ys[12_345] = -50;
    const idx = downsampleIndices(ys, 500);
    expect(idx.length).toBeLessThanOrEqual(1002);
    expect(idx[0]).toBe(0);
    expect(idx[idx.length - 1]).toBe(n - 1);
    expect(idx).toContain(54_321);
    expect(idx).toContain(12_345);
    for (let i = 1; i < idx.length; i++) expect(idx[i]!).toBeGreaterThan(idx[i - 1]!);
    expect(downsampleIndices([1, 2, 3], 10)).toEqual([0, 1, 2]);
  });

  it('builds cfg-options for a start', () => {
    expect(startCfgOptions({ cfgOptionsText: ' train_cfg.max_iters=4  a=1 ', loadFrom: 'weights://m.pth' })).toEqual([
      'train_cfg.max_iters=4',
      'a=1',
      'load_from=weights://m.pth',
    ]);
  });

  it('shows a stored run\'s text log, and a new run starts with an empty log', () => {
    applyEvents([{ name: 'status', payload: { status: 'starting', runId: 'a' } }, { name: 'log', payload: { level: 'info', text: '', line: 'a1' } }]);
    setRunLog('other', ['x']); // not the shown run: ignored
    expect(trainingStore.getState().log).toEqual(['a1']);
    setRunLog('a', ['s1', 's2', 'a1']); // the stored log already holds the live line
    expect(trainingStore.getState().log).toEqual(['s1', 's2', 'a1']);
    applyEvents([{ name: 'log', payload: { level: 'info', text: '', line: 'a2' } }]);
    expect(trainingStore.getState().log).toEqual(['s1', 's2', 'a1', 'a2']);
    applyEvents([{ name: 'status', payload: { status: 'starting', runId: 'b' } }, { name: 'log', payload: { level: 'info', text: '', line: 'b1' } }]);
    expect(trainingStore.getState().log).toEqual(['b1']);
    setRunLog('b', Array.from({ length: MAX_LOG_LINES + 3 }, (_, i) => String(i)));
    expect(trainingStore.getState().log).toHaveLength(MAX_LOG_LINES);
    showRun('c', 'run c', []);
    expect(trainingStore.getState().log).toEqual([]);
  });

  it('keeps a compared run\'s columns and last metrics, and drops it when it becomes the shown run', () => {
    showRun('a', 'run a', [{ lr: 0.01, loss: 3, step: 1 }]);
    const v0 = trainingStore.getState().dataVersion;
    setCompareRun('b', 'run b', [
      { lr: 0.02, loss: 4, step: 1 },
      { lr: 0.02, loss: 2, step: 3 },
      { 'coco/bbox_mAP': 0.25, 'coco/person_precision': 0.5, step: 3 },
    ]);
    let s = trainingStore.getState();
    expect(s.dataVersion).toBe(v0 + 1);
    expect(s.compare).toMatchObject({ runId: 'b', runName: 'run b', lastMetrics: { 'coco/bbox_mAP': 0.25 } });
    expect(s.compare!.train.steps).toEqual([1, 3]);
    expect(s.compare!.val.series['coco/bbox_mAP']).toEqual([0.25]);
    expect(s.train.series.loss).toEqual([3]);
    showRun('c', 'run c', []); // another shown run keeps the comparison
    expect(trainingStore.getState().compare?.runId).toBe('b');
    showRun('b', 'run b', []); // comparing a run with itself makes no sense
    expect(trainingStore.getState().compare).toBeNull();
    setCompareRun('a', 'run a', []);
    clearCompareRun();
    s = trainingStore.getState();
    expect(s.compare).toBeNull();
  });
});

describe('stored scalars.json loading', () => {
  const rows: Array<Record<string, number>> = [
    { lr: 0.01, loss: 3, loss_cls: 1, step: 1 },
    { lr: 0.01, loss: 2, step: 2 },
    { 'coco/bbox_mAP': 0.2, step: 2 },
    { lr: 0.02, loss: 1, acc: 50, step: 3 },
    { 'coco/bbox_mAP': 0.3, 'coco/segm_mAP': 0.1, step: 3 },
  ];

  it('appendRows builds the same columns as appendRow row by row', () => {
    const { train, val, lastVal } = columnsFromScalars(rows);
    const ref = { steps: [] as number[], series: {} as Record<string, number[]> };
    for (const r of rows.filter((x) => 'lr' in x)) appendRow(ref, r.step!, r);
    expect(train).toEqual(ref);
    expect(val.steps).toEqual([2, 3]);
    expect(val.series['coco/segm_mAP']).toEqual([Number.NaN, 0.1]);
    expect(lastVal).toEqual(rows[4]);
    // appended to later, in several calls
    appendRows(train, [{ step: 4, loss: 0.5, loss_mask: 0.2 }]);
    expect(train.series.loss_mask).toEqual([Number.NaN, Number.NaN, Number.NaN, 0.2]);
    expect(train.series.acc).toEqual([Number.NaN, Number.NaN, 50, Number.NaN]);
  });

  it('parses scalars.json in slices (yielding between them) into the same columns', async () => {
    const text = rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const bytes = new TextEncoder().encode(text);
    let pauses = 0;
    const c = await runColumnsFromScalarsJson(bytes, async () => void pauses++, 40);
    expect(pauses).toBeGreaterThan(2);
    expect([...scalarsJsonSlices(bytes, 40)].flat()).toEqual(rows);
    expect(c).toEqual(columnsFromScalars(rows));
    expect(await runColumnsFromScalarsJson(new Uint8Array(0), async () => undefined)).toEqual(columnsFromScalars([]));
    expect(() => [...scalarsJsonSlices(new TextEncoder().encode('{"step": 1}\n{oops\n'))]).toThrow(/line 2 is not JSON/);
  });

  it('shows and compares runs given as columns', () => {
    showRun('a', 'run a', columnsFromScalars(rows));
    expect(trainingStore.getState().lastMetrics).toEqual(rows[4]);
    setCompareRun('b', 'run b', columnsFromScalars(rows.slice(0, 2)));
    expect(trainingStore.getState().compare).toMatchObject({ runId: 'b', lastMetrics: null });
  });
});
