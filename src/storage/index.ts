/** Persistent storage of runs and checkpoints (IndexedDB), usage/quota helpers. */
export * from './checkpoint_db';
export * from './payload';
export * from './schema';
