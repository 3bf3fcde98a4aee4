/**
 * The studio-wide view state: which pane is open, what the environment can do (seen from the main
 * thread and from the training worker) and whether that worker is up. Plain, serialisable data
 * only: no Worker objects, no tensors.
 */
import { useStore } from 'zustand';
import { createStore } from 'zustand/vanilla';
import type { Capabilities } from '../core/capabilities.ts';

/** The studio's panes, in navigation order. */
export const PANES = ['config', 'dataset', 'training', 'checkpoints', 'export', 'predictions'] as const;
/** One pane id. */
export type PaneId = (typeof PANES)[number];

/** State of the training worker as the UI sees it. */
export type WorkerStatus = 'starting' | 'ready' | 'failed';

/** The studio store's state. */
export interface StudioState {
  activePane: PaneId;
  /** Main-thread capabilities; null until detection finished. */
  capabilities: Capabilities | null;
  /** Capabilities reported by the training worker; null until it answered. */
  workerCapabilities: Capabilities | null;
  workerStatus: WorkerStatus;
  /** Why the worker failed, when it did. */
  workerError: string | null;
}

/** The state a fresh studio starts with. */
export function initialStudioState(): StudioState {
  return { activePane: 'config', capabilities: null, workerCapabilities: null, workerStatus: 'starting', workerError: null };
}

/** The vanilla store (usable without React, e.g. in tests and non-component code). */
export const studioStore = createStore<StudioState>()(() => initialStudioState());

/** Puts the store back to its initial state (tests). */
export function resetStudioStore(): void {
  studioStore.setState(initialStudioState(), true);
}

/** Opens a pane. */
export function setActivePane(pane: PaneId): void {
  studioStore.setState({ activePane: pane });
}

/** Records the main thread's capabilities. */
export function setCapabilities(capabilities: Capabilities): void {
  studioStore.setState({ capabilities });
}

/** Records the worker's answer to `capabilities`. */
export function setWorkerReady(workerCapabilities: Capabilities): void {
  studioStore.setState({ workerCapabilities, workerStatus: 'ready', workerError: null });
}

/** Records that the worker could not start or crashed. */
export function setWorkerFailed(message: string): void {
  studioStore.setState({ workerStatus: 'failed', workerError: message });
}

/** React hook: a slice of the studio state. */
export function useStudio<T>(selector: (state: StudioState) => T): T {
  return useStore(studioStore, selector);
}
