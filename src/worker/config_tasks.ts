/**
 * What the config worker does, as plain functions of (built-in tree, user layer, request) so they
 * run and are tested in Node: resolve the open file, turn errors and lint into editor diagnostics,
 * pretty-print the resolved config, diff it against its bases, complete and hover.
 *
 * Paths: the UI speaks tree paths (`cityscapes/x.py`); the config language reads absolute paths
 * under {@link CONFIG_ROOT}, where the user's layer is overlaid on the built-in tree (so relative
 * `_base_` entries and `mmdet::` work the same for both).
 */
import {
  MemoryFS,
  diffAgainstBases,
  errorDiagnostic,
  formatConfigError,
  hoverAt,
  completionsAt,
  prettyText,
  resolveText,
} from '../config/index.ts';
import type { ConfigFS, Diagnostic, Origin } from '../config/index.ts';
import { lintConfig } from '../config/lint.ts';
import type { DatasetFacts } from '../data/binding.ts';
import { bindingDiagnostics } from './config_binding.ts';
import type { ConfigAnalysis, ConfigCompletion, ConfigHover, DiffItem, EditorDiagnostic, WorkspaceSnapshot } from './config_protocol.ts';

/** Absolute folder of the config tree, as the config language sees it (also the `mmdet::` root). */
export const CONFIG_ROOT = '/builtin/configs';

/** `type='Partial` (or `"type": "Partial`) right before the cursor. */
const TYPE_VALUE_BEFORE_CURSOR = /(?:\btype\s*=|['"]type['"]\s*:)\s*['"][A-Za-z0-9_.]*$/;

/** Tree path → absolute path. */
export function toAbsolute(treePath: string): string {
  return `${CONFIG_ROOT}/${treePath}`;
}

/** Absolute path → tree path (unchanged when outside the tree). */
export function toTreePath(abs: string): string {
  return abs.startsWith(`${CONFIG_ROOT}/`) ? abs.slice(CONFIG_ROOT.length + 1) : abs;
}

/** The config workspace of one worker: the built-in tree plus the latest user layer. */
export class ConfigWorkspace {
  private readonly builtins: Record<string, string>;

  /**
   * Args:
   *   builtins: the built-in tree, tree path → text.
   *   typeNames: registered `type` names offered in `type='...'` completion (may load lazily).
   *   datasetFacts: summaries of the available datasets for a demo folder URL (binding checks).
   */
  constructor(
    builtins: Record<string, string>,
    private readonly typeNames: () => Promise<readonly string[]> = async () => [],
    private readonly datasetFacts: (demoBaseUrl: string) => Promise<DatasetFacts[]> = async () => [],
  ) {
    this.builtins = { ...builtins };
  }

  private fs(snapshot: WorkspaceSnapshot): ConfigFS {
    const files: Record<string, string> = {};
    for (const [p, t] of Object.entries(this.builtins)) files[toAbsolute(p)] = t;
    for (const [p, t] of Object.entries(snapshot.userFiles)) files[toAbsolute(p)] = t;
    return new MemoryFS(files);
  }

  private text(snapshot: WorkspaceSnapshot, path: string): string {
    const t = snapshot.userFiles[path] ?? this.builtins[path];
    if (t === undefined) throw new Error(`No config '${path}'.`);
    return t;
  }

  /**
   * Resolves `path` and returns everything the editor shows about it; with `datasets`, also where its
   * dataset sections do not bind to them.
   */
  analyze(snapshot: WorkspaceSnapshot & { path: string; datasets?: readonly DatasetFacts[] }): ConfigAnalysis {
    const t0 = performance.now();
    const { path } = snapshot;
    const text = this.text(snapshot, path);
    const fs = this.fs(snapshot);
    const abs = toAbsolute(path);
    const res = resolveText(text, abs, fs);
    if (!res.ok) {
      const diag = toEditorDiagnostic(errorDiagnostic(res.error, text, abs));
      return {
        path,
        text,
        diagnostics: [diag],
        resolved: { ok: false, error: shortenPaths(formatConfigError(res.error)) },
        diff: null,
        baseCount: 0,
        ms: performance.now() - t0,
      };
    }
    // Files under `_base_/` are never trained directly: their dataset paths are placeholders.
    const datasets = path.startsWith('_base_/') ? undefined : snapshot.datasets;
    const lint = [...lintConfig(text, abs, res), ...bindingDiagnostics(text, abs, res, fs, datasets)].map(toEditorDiagnostic);
    const diffOrError = diffAgainstBases(text, abs, fs);
    const diff: DiffItem[] | null = Array.isArray(diffOrError)
      ? diffOrError.map((d) => ({
          path: d.path,
          kind: d.kind,
          ...(d.before !== undefined ? { before: d.before } : {}),
          ...(d.after !== undefined ? { after: d.after } : {}),
          ...(d.origin ? { origin: originText(d.origin) } : {}),
        }))
      : null;
    return {
      path,
      text,
      diagnostics: lint,
      resolved: { ok: true, text: prettyText(res.cfg) },
      diff,
      baseCount: res.bases.length,
      ms: performance.now() - t0,
    };
  }

  /** Summaries of the available datasets, sent back with later `analyze` requests. */
  datasets(payload: { demoBaseUrl: string }): Promise<DatasetFacts[]> {
    return this.datasetFacts(payload.demoBaseUrl);
  }

  /** Completion items at `offset` in `path`. */
  async complete(snapshot: WorkspaceSnapshot & { path: string; offset: number }): Promise<ConfigCompletion[]> {
    const text = this.text(snapshot, snapshot.path);
    const types = await this.typeNames();
    const items = completionsAt(text, snapshot.offset, toAbsolute(snapshot.path), this.fs(snapshot), types);
    // While `type='` is being typed the text around it often does not parse yet (e.g. the closing quote
    // is directly followed by the next argument); the line itself still says what is wanted.
    if (items.length === 0 && TYPE_VALUE_BEFORE_CURSOR.test(text.slice(text.lastIndexOf('\n', snapshot.offset - 1) + 1, snapshot.offset))) {
      return [...types].sort().map((t) => ({ label: t, insertText: t, kind: 'type' as const }));
    }
    return items.map((c) => ({
      label: c.label,
      insertText: c.insertText,
      kind: c.kind,
      ...(c.detail !== undefined ? { detail: c.detail } : {}),
    }));
  }

  /** Hover at `offset` in `path`, or null when the cursor is not on a key. */
  hover(snapshot: WorkspaceSnapshot & { path: string; offset: number }): ConfigHover | null {
    const text = this.text(snapshot, snapshot.path);
    const h = hoverAt(text, snapshot.offset, toAbsolute(snapshot.path), this.fs(snapshot));
    if (!h) return null;
    return { contents: [markdownPaths(h.markdown)], from: h.from, to: h.to };
  }
}

function originText(o: Origin): string {
  return `${toTreePath(o.file)}:${o.line}`;
}

/** Shows tree paths instead of absolute ones in messages. */
function shortenPaths(message: string): string {
  return message.split(`${CONFIG_ROOT}/`).join('');
}

/** In hover markdown, shows tree paths as code (so `_base_` is not read as emphasis). */
function markdownPaths(markdown: string): string {
  const root = CONFIG_ROOT.replace(/[/]/g, '\\/');
  return markdown.replace(new RegExp(`(\`?)${root}\\/([^\\s\`]+)`, 'g'), (_m, tick: string, p: string) => (tick ? tick + p : `\`${p}\``));
}

function toEditorDiagnostic(d: Diagnostic): EditorDiagnostic {
  const out: EditorDiagnostic = { severity: d.severity, message: shortenPaths(d.message), from: d.from, to: d.to };
  if (d.quickFix) out.quickFix = { title: d.quickFix.title, edits: [{ from: d.quickFix.from, to: d.quickFix.to, insert: d.quickFix.insert }] };
  return out;
}
