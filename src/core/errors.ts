/**
 * Errors that cross boundaries (worker ↔ main thread, CLI ↔ user) as plain records. Every error is
 * turned into `{name, message, details?, stack?}` with `serializeError` and back into an `Error`
 * subclass with `deserializeError`, so a worker's `ConfigError` or `QuotaExceededError` keeps its
 * name and its message on the other side.
 */

/** An error as plain, structured-cloneable data. */
export interface SerializedError {
  /** The error class, e.g. `TypeError`, `KeyError`, `WorkerCrashedError`. */
  name: string;
  message: string;
  /** Extra structured context (file, line, column, limits…), plain data only. */
  details?: Record<string, unknown>;
  stack?: string;
}

/** Base class of DetStudio's own errors: a name, a message and optional structured details. */
export class DetStudioError extends Error {
  /** Structured context for the UI (plain data). */
  readonly details?: Record<string, unknown>;

  constructor(name: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = name;
    if (details !== undefined) this.details = details;
  }
}

/** A request to a worker was cancelled by the caller. */
export class AbortedError extends DetStudioError {
  constructor(message = 'The operation was cancelled.') {
    super('AbortError', message);
  }
}

/** A worker died (script error, out of memory) or was terminated while requests were pending. */
export class WorkerCrashedError extends DetStudioError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('WorkerCrashedError', message, details);
  }
}

/** A request took longer than the caller allowed. */
export class TimeoutError extends DetStudioError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('TimeoutError', message, details);
  }
}

function plainDetails(value: unknown): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Turns anything thrown into a plain record. Non-Error values become `{name: 'Error', message}`.
 */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name || 'Error', message: err.message };
    const details = plainDetails((err as { details?: unknown }).details);
    if (details) out.details = details;
    if (err.stack) out.stack = err.stack;
    return out;
  }
  if (err !== null && typeof err === 'object' && 'message' in err) {
    const e = err as { name?: unknown; message: unknown };
    return { name: typeof e.name === 'string' ? e.name : 'Error', message: String(e.message) };
  }
  return { name: 'Error', message: String(err) };
}

/** Rebuilds an `Error` (a `DetStudioError` carrying the original name) from its record. */
export function deserializeError(record: SerializedError): DetStudioError {
  const err = new DetStudioError(record.name, record.message, record.details);
  if (record.stack) err.stack = record.stack;
  return err;
}
