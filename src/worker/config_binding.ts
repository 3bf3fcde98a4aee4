/**
 * Binding diagnostics of the config editor: the dataset sections of the resolved config
 * (`train/val/test_dataloader.dataset`, through dataset wrappers) checked against the imported
 * datasets with {@link checkBinding}, each problem placed where the user can fix it — the value in
 * the edited file (the very class string of a `classes` tuple), or the `_base_` entry that brings
 * the value in.
 */
import { getPath, locateKey, toPlainJSON, type ConfigFS, type Diagnostic, type QuickFix, type ResolvedConfig } from '../config/index.ts';
import { checkBinding, type BindingDiagnostic, type DatasetFacts } from '../data/binding.ts';

/** Dataloaders whose `dataset` is checked. */
export const BOUND_DATALOADERS = ['train_dataloader', 'val_dataloader', 'test_dataloader'] as const;

/** Every dataset section's binding problems (a `ConcatDataset` is checked dataset by dataset). */
export function bindingProblems(res: ResolvedConfig, datasets: readonly DatasetFacts[]): BindingDiagnostic[] {
  if (!datasets.length) return [];
  const out: BindingDiagnostic[] = [];
  const visit = (cfg: unknown, key: string, depth: number): void => {
    if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg) || depth > 8) return;
    const d = cfg as Record<string, unknown>;
    if (d.type === 'ConcatDataset' && Array.isArray(d.datasets)) {
      d.datasets.forEach((x, i) => visit(x, `${key}.datasets.${i}`, depth + 1));
      return;
    }
    out.push(...checkBinding(d, key, datasets));
  };
  for (const loader of BOUND_DATALOADERS) {
    const v = getPath(res.cfg, `${loader}.dataset`);
    if (v === undefined || v === null) continue;
    visit(toPlainJSON(v), `${loader}.dataset`, 0);
  }
  return out;
}

/**
 * The binding problems of a resolved config as editor diagnostics in its entry file.
 *
 * Args:
 *   text: the entry file's text.
 *   path: its absolute path.
 *   res: its resolved config.
 *   fs: the files it was resolved from.
 *   datasets: the imported datasets (none: no diagnostics).
 */
export function bindingDiagnostics(text: string, path: string, res: ResolvedConfig, fs: ConfigFS, datasets: readonly DatasetFacts[] | undefined): Diagnostic[] {
  if (!datasets?.length) return [];
  // One problem reached through several keys (test_dataloader = val_dataloader in a base) is shown once.
  const groups = new Map<string, { keys: string[]; severity: Diagnostic['severity']; text: string; from: number; to: number; quickFix?: QuickFix }>();
  for (const p of bindingProblems(res, datasets)) {
    const loc = locateKey(text, path, res, fs, p.key, p.subject);
    let message = p.message;
    if (loc.base && loc.origin) message += ` (set in ${loc.origin.file}:${loc.origin.line}, which this _base_ entry pulls in)`;
    const id = `${loc.from}:${loc.to}:${p.severity}:${message}`;
    const g = groups.get(id);
    if (g) g.keys.push(p.key);
    else groups.set(id, { keys: [p.key], severity: p.severity, text: message, from: loc.from, to: loc.to, quickFix: replaceString(text, loc, p.subject, p.suggestion) });
  }
  return [...groups.values()].map((g) => ({
    severity: g.severity,
    message: `${g.keys.join(', ')}: ${g.text}`,
    from: g.from,
    to: g.to,
    code: 'dataset-binding',
    ...(g.quickFix ? { quickFix: g.quickFix } : {}),
  }));
}

/** Replaces the string literal at `loc` when it is exactly `subject` written with plain quotes. */
function replaceString(text: string, loc: { from: number; to: number }, subject: string | undefined, suggestion: string | undefined): QuickFix | undefined {
  if (subject === undefined || suggestion === undefined) return undefined;
  const written = text.slice(loc.from, loc.to);
  const q = written[0];
  if ((q !== "'" && q !== '"') || written !== `${q}${subject}${q}` || suggestion.includes(q) || suggestion.includes('\\')) return undefined;
  return { title: `Use '${suggestion}'`, from: loc.from, to: loc.to, insert: `${q}${suggestion}${q}` };
}
