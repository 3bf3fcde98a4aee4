/**
 * The config language of DetStudio: MMDetection Python configs parsed with @lezer/python and
 * evaluated (never executed), merged exactly like MMEngine's `Config.fromfile`, plus editor services.
 *
 * @example
 * const res = resolveConfig('/builtin/configs/cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py', fs);
 * if (res.ok) console.log(prettyText(res.cfg)); else console.error(formatConfigError(res.error));
 */
export { type ConfigFS, MemoryFS, OverlayFS, normalizePath, dirname, basename, joinPath } from './fs.ts';
export { type ConfigError, type SourceLocation, PyException, formatConfigError, lineCol } from './errors.ts';
export {
  resolveConfig,
  RESERVED_KEYS,
  type ResolveOptions,
  type ResolveResult,
  type ResolvedConfig,
  type ResolveFailure,
  type Origin,
  type BaseRef,
} from './loader.ts';
export { prettyText, formatValue, normalizePrettyText } from './pretty.ts';
export {
  PyDict,
  PyTuple,
  PyFloat,
  PyLazyObject,
  type PyValue,
  type JsonValue,
  type DictKey,
  toPlainJSON,
  toFixtureJSON,
  fromJSON,
  getPath,
  pyEquals,
  deepCopy,
  repr,
} from './values.ts';
export { parseCfgOptions, parseCfgOptionValue, mergeAIntoB, mergeFromDict, DELETE_KEY } from './merge.ts';
export { ALLOWED_BUILTINS, SUBSET_ERROR, newBudget, type Budget } from './evaluator.ts';
export {
  diagnostics,
  completionsAt,
  hoverAt,
  diffAgainstBases,
  diffResolved,
  basesOnlyText,
  resolveText,
  keyContextAt,
  errorDiagnostic,
  type Diagnostic,
  type QuickFix,
  type CompletionItem,
  type HoverInfo,
  type DiffEntry,
  type EditorOptions,
} from './editor.ts';
export { lintConfig, PYTORCH_STYLE_CHECKPOINTS } from './lint.ts';
export { locateKey, type KeyLocation } from './locate.ts';
