/**
 * Errors of the config language. Evaluation raises {@link PyException} (a Python exception class name
 * plus MMEngine's message text and the source range); the loader turns it into a {@link ConfigError}
 * carrying the file, 1-based line/column and, for errors inside a base, the `_base_` entry that pulled
 * the base in.
 */

/** A location in one config file. */
export interface SourceLocation {
  /** Absolute POSIX-like path of the file. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
  /** Start offset (UTF-16 code units) in the file's text. */
  from: number;
  /** End offset. */
  to: number;
}

/** A config error as MMEngine would raise it (`name` = exception class), located in a file. */
export interface ConfigError extends SourceLocation {
  /** Python exception class: `SyntaxError`, `KeyError`, `TypeError`, `FileNotFoundError`… */
  name: string;
  /** The exception's `str()`, as MMEngine prints it after `<name>: `. */
  message: string;
  /**
   * For an error inside a base file: the `_base_` entry (or `read_base` import) in the entry file
   * that pulled that base in. Absent when the error is in the entry file itself.
   */
  via?: SourceLocation;
}

/** A Python exception raised while evaluating or merging, with the source range that caused it. */
export class PyException extends Error {
  /** Python exception class name. */
  readonly pyName: string;
  /** Start offset in the evaluated text (undefined: not known yet). */
  from?: number;
  /** End offset. */
  to?: number;
  /** File the range refers to, once known. */
  file?: string;
  /** The `_base_` entry of the entry file that pulled in the file of this error. */
  via?: SourceLocation;
  constructor(pyName: string, message: string, from?: number, to?: number) {
    super(message);
    this.pyName = pyName;
    this.from = from;
    this.to = to;
  }
}

/** Line/column (1-based) of an offset. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, col: offset - last };
}

/** Builds a location from a file, its text and a range. */
export function locate(file: string, text: string, from: number, to: number): SourceLocation {
  const { line, col } = lineCol(text, from);
  return { file, line, col, from, to };
}

/** `<file>:<line>:<col>: <ErrorClass>: <message>` (the CLI's error line). */
export function formatConfigError(e: ConfigError): string {
  const head = `${e.file}:${e.line}:${e.col}: ${e.name}: ${e.message}`;
  return e.via ? `${head}\n  (pulled in by ${e.via.file}:${e.via.line}:${e.via.col})` : head;
}
