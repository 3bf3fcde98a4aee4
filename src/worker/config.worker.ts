/**
 * Entry of the config worker: resolves configs, lint, completion and hover off the main thread.
 * Keep imports minimal: nothing from React, the stores or the UI may reach this chunk.
 */
import { BUILTIN_FILES } from '../configs/browser.ts';
import { DatasetDb } from '../storage/dataset_db.ts';
import { DatasetFactsSource } from './config_datasets.ts';
import { ConfigWorkspace } from './config_tasks.ts';
import type { ConfigEvents, ConfigRequests } from './config_protocol.ts';
import { createHandler } from './handler.ts';
import type { FromWorkerMessage } from './protocol.ts';
import { loadRegisteredTypeNames } from './type_names.ts';

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

const scope = self as unknown as WorkerScope;
const facts = new DatasetFactsSource({ openDb: () => DatasetDb.open(), fetch: (url) => fetch(url) });
const workspace = new ConfigWorkspace(BUILTIN_FILES, loadRegisteredTypeNames, (demoBaseUrl) => facts.load(demoBaseUrl));
const handler = createHandler<ConfigRequests, ConfigEvents>(
  {
    analyze: async (payload) => workspace.analyze(payload),
    datasets: (payload) => workspace.datasets(payload),
    complete: (payload) => workspace.complete(payload),
    hover: async (payload) => workspace.hover(payload),
  },
  (message: FromWorkerMessage<ConfigRequests, ConfigEvents>) => scope.postMessage(message),
);
scope.addEventListener('message', (ev) => {
  void handler.handle(ev.data);
});
