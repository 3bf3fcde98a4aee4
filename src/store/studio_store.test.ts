import { beforeEach, describe, expect, it } from 'vitest';
import { detectCapabilities } from '../core/capabilities.ts';
import { PANES, resetStudioStore, setActivePane, setCapabilities, setWorkerFailed, setWorkerReady, studioStore } from './studio_store.ts';

beforeEach(() => resetStudioStore());

describe('studio store', () => {
  it('has the six panes and opens Config first', () => {
    expect(PANES).toEqual(['config', 'dataset', 'training', 'checkpoints', 'export', 'predictions']);
    expect(studioStore.getState().activePane).toBe('config');
    setActivePane('training');
    expect(studioStore.getState().activePane).toBe('training');
  });

  it('keeps capabilities and worker status as plain, cloneable data', async () => {
    const caps = await detectCapabilities({ navigator: {}, WebAssembly });
    setCapabilities(caps);
    setWorkerReady(caps);
    const clone = structuredClone(studioStore.getState());
    expect(clone.workerStatus).toBe('ready');
    expect(clone.capabilities?.backend).toBe('wasm');
    setWorkerFailed('boom');
    expect(studioStore.getState()).toMatchObject({ workerStatus: 'failed', workerError: 'boom' });
    resetStudioStore();
    expect(studioStore.getState().capabilities).toBeNull();
  });
});
