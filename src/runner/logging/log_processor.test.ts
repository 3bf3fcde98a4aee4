import { describe, expect, it } from 'vitest';
import { LogProcessor, pyExp, pyFixed, pyTimedelta } from './log_processor';
import { MessageHub } from './message_hub';

describe('Python number formatting', () => {
  it('formats like Python', () => {
    expect(pyExp(0.009999999999999976, 4)).toBe('1.0000e-02');
    expect(pyExp(2e-5, 4)).toBe('2.0000e-05');
    expect(pyExp(123456, 4)).toBe('1.2346e+05');
    expect(pyFixed(0.123456, 4)).toBe('0.1235');
    expect(pyFixed(NaN, 4)).toBe('nan');
    expect(pyTimedelta(3 * 3600 + 21 * 60 + 4.9)).toBe('3:21:04');
    expect(pyTimedelta(86400 + 5)).toBe('1 day, 0:00:05');
    expect(pyTimedelta(2 * 86400)).toBe('2 days, 0:00:00');
  });
});

describe('LogProcessor', () => {
  it('smooths losses/time over the window, shows lr as is, pads the counters', () => {
    const hub = new MessageHub();
    for (let i = 0; i < 60; i++) {
      hub.updateScalar('train/lr', 0.01);
      hub.updateScalar('train/data_time', 0.01);
      hub.updateScalar('train/loss', i);
      hub.updateScalar('train/time', 0.5);
    }
    hub.updateInfo('eta', 7265.9);
    const lp = new LogProcessor(50, true);
    const { tag, text } = lp.getLogAfterIter(
      { messageHub: hub, epoch: 0, iter: 49, maxEpochs: 12, maxIters: 12 * 2975, dataloaderLength: 2975, hasTrainLoop: true, memoryMB: 3580.6 },
      49,
      'train',
    );
    expect(text).toBe('Epoch(train)  [1][  50/2975]  lr: 1.0000e-02  eta: 2:01:05  time: 0.5000  data_time: 0.0100  memory: 3580  loss: 34.5000');
    expect(Object.keys(tag)).toEqual(['lr', 'data_time', 'loss', 'time', 'epoch', 'iter', 'memory']);
    expect(tag.data_time).toBeCloseTo(0.01, 15);
    expect({ ...tag, data_time: 0 }).toEqual({ lr: 0.01, data_time: 0, loss: 34.5, time: 0.5, epoch: 1, iter: 50, memory: 3580 });
  });
});
