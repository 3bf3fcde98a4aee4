import { describe, expect, it } from 'vitest';
import { DetStudioError, WorkerCrashedError, deserializeError, serializeError } from './errors.ts';

describe('serializeError / deserializeError', () => {
  it('keeps name, message and plain details across a structured clone', () => {
    const err = new DetStudioError('KeyError', "'roi_head' is missing", { file: 'a.py', line: 3, col: 5 });
    const record = structuredClone(serializeError(err));
    expect(record.name).toBe('KeyError');
    expect(record.details).toEqual({ file: 'a.py', line: 3, col: 5 });
    const back = deserializeError(record);
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('KeyError');
    expect(back.message).toBe("'roi_head' is missing");
    expect(back.details).toEqual({ file: 'a.py', line: 3, col: 5 });
  });

  it('handles built-in errors, subclasses and non-Error throws', () => {
    expect(serializeError(new TypeError('bad')).name).toBe('TypeError');
    expect(serializeError(new WorkerCrashedError('gone')).name).toBe('WorkerCrashedError');
    expect(serializeError('plain string')).toEqual({ name: 'Error', message: 'plain string' });
    expect(serializeError({ name: 'QuotaExceededError', message: 'full' })).toEqual({ name: 'QuotaExceededError', message: 'full' });
  });

  it('drops details that are not plain data', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const err = new DetStudioError('Error', 'x', cyclic);
    expect(serializeError(err).details).toBeUndefined();
  });
});
