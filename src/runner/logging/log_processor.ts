/**
 * MMEngine's `LogProcessor`: turns the message hub into the log line
 * (`Epoch(train)  [1][  50/2975]  lr: 1.9820e-03  eta: 3:21:04  time: 0.6012  data_time: 0.0101  memory: 3580  loss: 1.2345  …`)
 * and the scalar dict written as one json line of `scalars.json`.
 *
 * @see mmengine/runner/log_processor.py (MMEngine 0.10)
 */
import type { MessageHub } from './message_hub';

/** Loop facts the log processor needs. */
export interface LogContext {
  messageHub: MessageHub;
  /** 0-based epoch counter of the train loop (`runner.epoch`). */
  epoch: number;
  /** 0-based iteration counter of the train loop (`runner.iter`). */
  iter: number;
  maxEpochs?: number;
  maxIters: number;
  /** Batches per epoch of the loop of `mode`. */
  dataloaderLength: number;
  /** Whether a train loop exists (false for `test`/standalone `val`). */
  hasTrainLoop: boolean;
  /** Peak memory in MB, when the backend reports it. */
  memoryMB?: number;
}

/** One custom statistic (`custom_cfg` entry). */
export interface LogCustomCfg {
  data_src: string;
  log_name?: string;
  method_name?: 'mean' | 'current' | 'max' | 'min';
  window_size?: number | 'epoch' | 'global';
}

/** Python's `f'{x:.{n}f}'`. */
export function pyFixed(x: number, n: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  return x.toFixed(n);
}

/** Python's `f'{x:.{n}e}'` (exponent with at least two digits). */
export function pyExp(x: number, n: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const s = x.toExponential(n);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** `str(datetime.timedelta(seconds=int(s)))`: `H:MM:SS` or `N day(s), H:MM:SS`. */
export function pyTimedelta(seconds: number): string {
  let s = Math.trunc(seconds);
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const hms = `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  return days === 0 ? hms : `${days} day${Math.abs(days) === 1 ? '' : 's'}, ${hms}`;
}

/** Scalar value in a log tag: numbers (floats print with `num_digits`) or ints. */
export type LogTag = Record<string, number>;

/** Formats train/val/test log lines and scalar tags like MMEngine. */
export class LogProcessor {
  readonly meanPattern: RegExp;

  constructor(
    readonly windowSize = 10,
    readonly byEpoch = true,
    readonly customCfg: LogCustomCfg[] = [],
    readonly numDigits = 4,
    meanPattern = '.*(loss|time|data_time|grad_norm).*',
  ) {
    this.meanPattern = new RegExp(meanPattern);
  }

  private collectScalars(ctx: LogContext, mode: string, custom: LogCustomCfg[], batchIdx: number): Map<string, number> {
    const tag = new Map<string, number>();
    const hist = new Map<string, ReturnType<MessageHub['getScalar']>>();
    for (const [k, b] of ctx.messageHub.logScalars) {
      if (k.startsWith(mode)) hist.set(k.startsWith(`${mode}/`) ? k.slice(mode.length + 1) : k, b);
    }
    for (const [k, b] of hist) tag.set(k, this.meanPattern.test(k) ? b!.mean(this.windowSize) : b!.current());
    for (const c of custom) {
      const b = hist.get(c.data_src);
      if (!b) continue;
      let w: number | undefined;
      if (c.window_size === 'epoch') w = batchIdx + 1;
      else if (c.window_size === 'global') w = ctx.iter + 1;
      else w = c.window_size;
      const vals = b.stateDict().values.slice(w === undefined ? 0 : -w);
      let v: number;
      switch (c.method_name ?? 'mean') {
        case 'current':
          v = b.current();
          break;
        case 'max':
          v = Math.max(...vals);
          break;
        case 'min':
          v = Math.min(...vals);
          break;
        default:
          v = b.mean(w);
      }
      tag.set(c.log_name ?? c.data_src, v);
    }
    return tag;
  }

  /** Log items are Python floats in MMEngine (losses, accuracies, metrics): always `.{num_digits}f`. */
  private fmt(_name: string, v: number): string {
    return pyFixed(v, this.numDigits);
  }

  /** Tag and text after a train/val/test iteration (`get_log_after_iter`). */
  getLogAfterIter(ctx: LogContext, batchIdx: number, mode: 'train' | 'val' | 'test'): { tag: LogTag; text: string } {
    const logTag = this.collectScalars(ctx, mode, this.customCfg, batchIdx);
    const tag = new Map(logTag);
    const lrParts: string[] = [];
    for (const [k, v] of tag) {
      if (k.endsWith('lr')) {
        logTag.delete(k);
        lrParts.push(`${k}: ${pyExp(v, this.numDigits)}`);
      }
    }
    let text: string;
    const L = ctx.dataloaderLength;
    if (this.byEpoch) {
      const cur = mode === 'train' ? batchIdx + 1 : batchIdx + 1;
      const curStr = String(cur).padStart(String(L).length);
      if (mode === 'train' || mode === 'val') {
        const epoch = mode === 'train' ? ctx.epoch + 1 : ctx.hasTrainLoop ? ctx.epoch : 0;
        const epochStr = ctx.hasTrainLoop ? `[${epoch}]`.padStart(String(ctx.maxEpochs ?? 0).length + 3) : `[${epoch}]`;
        tag.set('epoch', epoch);
        text = `Epoch(${mode})${epochStr}[${curStr}/${L}]  `;
      } else {
        text = `Epoch(${mode}) [${curStr}/${L}]  `;
      }
    } else if (mode === 'train') {
      const curStr = String(ctx.iter + 1).padStart(String(ctx.maxIters).length);
      text = `Iter(${mode}) [${curStr}/${ctx.maxIters}]  `;
    } else {
      const curStr = String(batchIdx + 1).padStart(String(L).length);
      text = `Iter(${mode}) [${curStr}/${L}]  `;
    }
    tag.set('iter', ctx.hasTrainLoop ? ctx.iter + 1 : 0);
    text += `${lrParts.join(' ')}  `;
    const eta = ctx.messageHub.getInfo<number>('eta');
    if (logTag.has('time') && logTag.has('data_time') && eta !== undefined) {
      text += `eta: ${pyTimedelta(eta)}  `;
      text += `time: ${pyFixed(logTag.get('time')!, this.numDigits)}  data_time: ${pyFixed(logTag.get('data_time')!, this.numDigits)}  `;
      logTag.delete('time');
      logTag.delete('data_time');
    }
    if (ctx.memoryMB !== undefined) {
      text += `memory: ${Math.trunc(ctx.memoryMB)}  `;
      tag.set('memory', Math.trunc(ctx.memoryMB));
    }
    if (mode === 'train' || mode === 'val') {
      const items: string[] = [];
      for (const [k, v] of logTag) {
        if (mode === 'val' && !k.startsWith('val/loss')) continue;
        items.push(`${k}: ${this.fmt(k, v)}`);
      }
      text += items.join('  ');
    }
    return { tag: Object.fromEntries(tag), text };
  }

  /** Tag and text after a val/test epoch (`get_log_after_epoch`), metrics included. */
  getLogAfterEpoch(
    ctx: LogContext,
    batchIdx: number,
    mode: 'val' | 'test',
  ): { tag: Record<string, unknown>; text: string } {
    const L = ctx.dataloaderLength;
    let text: string;
    if (this.byEpoch) {
      text = mode === 'val' ? `Epoch(${mode}) [${ctx.hasTrainLoop ? ctx.epoch : 0}][${L}/${L}]  ` : `Epoch(${mode}) [${L}/${L}]  `;
    } else {
      text = `Iter(${mode}) [${L}/${L}]  `;
    }
    const custom = [...this.customCfg];
    const keys = custom.map((c) => c.data_src);
    if (!keys.includes('time')) custom.push({ data_src: 'time', window_size: 'epoch', method_name: 'mean' });
    if (!keys.includes('data_time')) custom.push({ data_src: 'data_time', window_size: 'epoch', method_name: 'mean' });
    const ori = this.collectScalars(ctx, mode, custom, batchIdx);
    const tag: Record<string, unknown> = {};
    const timeTag: Record<string, number> = {};
    for (const [k, v] of ori) {
      if (k === 'time' || k === 'data_time') timeTag[k] = v;
      else tag[k] = v;
    }
    const nonScalar: Record<string, unknown> = {};
    for (const [k, v] of ctx.messageHub.runtimeInfo) if (k.startsWith(`${mode}/`)) nonScalar[k.slice(mode.length + 1)] = v;
    const items: string[] = [];
    for (const [k, v] of [...Object.entries(tag), ...Object.entries(nonScalar), ...Object.entries(timeTag)]) {
      items.push(`${k}: ${typeof v === 'number' ? this.fmt(k, v) : String(v)}`);
    }
    text += `  ${items.join('  ')}`;
    return { tag: { ...tag, ...timeTag }, text };
  }
}
