/**
 * Errors raised while reading or writing checkpoints. They extend the project's
 * {@link DetStudioError}, so they cross the worker boundary as plain records.
 */
import { DetStudioError } from '../core/errors.ts';

/** A file is not a checkpoint, is truncated or corrupt, or holds something this reader cannot represent. */
export class CheckpointError extends DetStudioError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CheckpointError', message, details);
  }
}

/**
 * The pickle inside a checkpoint is malformed or references a Python global outside the allow-list
 * (the equivalent of `torch.load(weights_only=True)` refusing it).
 */
export class UnpicklingError extends DetStudioError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('UnpicklingError', message, details);
  }
}
