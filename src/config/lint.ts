/**
 * Fine-tuning lint: warnings (never errors) for the traps MMDetection users fall into when they
 * fine-tune through config inheritance (mmdet-facts §7), each with a one-line explanation and, where
 * there is one, a quick fix.
 *
 * Rules: `trailing-comma-tuple`, `stale-helper-variable`, `num-classes-mismatch`,
 * `auto-scale-lr-base-batch`, `load-from-style-mismatch`, `unused-classes`, `num-classes-count`.
 */
import type { SyntaxNode, Tree } from '@lezer/common';
import type { Diagnostic, QuickFix } from './editor.ts';
import { normalizePath } from './fs.ts';
import type { Origin, ResolvedConfig } from './loader.ts';
import { children } from './parser.ts';
import { parseCached } from './loader.ts';
import { formatValue } from './pretty.ts';
import { PyDict, PyTuple, getPath, numeric, pyEquals, type PyValue } from './values.ts';

/** Pytorch-style COCO checkpoints of the built-in models (quick fix for a caffe-style `load_from`). */
export const PYTORCH_STYLE_CHECKPOINTS: Record<string, string> = {
  MaskRCNN: 'https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/mask_rcnn_r50_fpn_1x_coco/mask_rcnn_r50_fpn_1x_coco_20200205-d4b0c5d6.pth',
  FasterRCNN: 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r50_fpn_1x_coco/faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth',
};

/** Helper variables whose re-assignment does not reach what the bases already built from them. */
const HELPER_HINT = new Set(['data_root', 'dataset_type', 'train_pipeline', 'test_pipeline', 'classes', 'metainfo', 'backend_args', 'img_scale']);

interface LintCtx {
  text: string;
  entry: string;
  tree: Tree;
  res: ResolvedConfig;
  topAssign: Map<string, SyntaxNode>;
}

function txt(c: LintCtx, n: SyntaxNode): string {
  return c.text.slice(n.from, n.to);
}

function inEntry(c: LintCtx, o: Origin | undefined): boolean {
  return !!o && o.file === c.entry;
}

/** Runs every rule on a resolved config whose entry text is `text`. */
export function lintConfig(text: string, path: string, res: ResolvedConfig): Diagnostic[] {
  const tree = parseCached(text).tree;
  const topAssign = new Map<string, SyntaxNode>();
  for (const s of children(tree.topNode)) {
    if (s.name === 'AssignStatement' && s.firstChild?.name === 'VariableName') topAssign.set(text.slice(s.firstChild.from, s.firstChild.to), s);
  }
  const c: LintCtx = { text, entry: normalizePath(path), tree, res, topAssign };
  return [...trailingCommaTuple(c), ...staleHelpers(c), ...numClassesMismatch(c), ...autoScaleLr(c), ...loadFromStyle(c), ...unusedClasses(c), ...numClassesCount(c)];
}

// ------------------------------------------------------------------ trailing comma

function trailingCommaTuple(c: LintCtx): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [name, s] of c.topAssign) {
    const parts = children(s);
    const op = parts.findIndex((p) => p.name === 'AssignOp');
    const value = parts.slice(op + 1);
    if (value.length !== 2 || value[1].name !== ',') continue;
    const comma = value[1];
    const base = c.res.baseCfg.get(name);
    const lost = base instanceof PyDict ? ` and replaces the inherited ${name} dict wholesale (its keys ${base.keys().slice(0, 6).join(', ')}${base.size > 6 ? ', …' : ''} are lost)` : '';
    out.push({
      severity: 'warning',
      code: 'trailing-comma-tuple',
      message: `The trailing comma makes ${name} a 1-element tuple${lost}. Remove the comma to merge a dict.`,
      from: comma.from,
      to: comma.to,
      quickFix: { title: 'Remove the trailing comma', from: comma.from, to: comma.to, insert: '' },
    });
  }
  return out;
}

// ------------------------------------------------------------------ stale helper variables

function findUses(v: PyValue, needle: PyValue, p: string[], out: string[], prefixes: string[], depth = 0): void {
  if (depth > 64) return;
  if (pyEquals(v, needle) && ((v instanceof PyDict) === (needle instanceof PyDict)) && Array.isArray(v) === Array.isArray(needle)) {
    out.push(p.join('.'));
    return;
  }
  if (typeof needle === 'string' && typeof v === 'string' && v.startsWith(needle) && v !== needle) prefixes.push(p.join('.'));
  if (v instanceof PyDict) for (const [k, x] of v.map) findUses(x, needle, [...p, String(k)], out, prefixes, depth + 1);
  else if (Array.isArray(v)) v.forEach((x, i) => findUses(x, needle, [...p, String(i)], out, prefixes, depth + 1));
  else if (v instanceof PyTuple) v.items.forEach((x, i) => findUses(x, needle, [...p, String(i)], out, prefixes, depth + 1));
}

function nestedAssign(paths: string[], valueName: string): string {
  type T = Map<string, T | null>;
  const root: T = new Map();
  for (const p of paths) {
    let cur = root;
    const parts = p.split('.');
    parts.forEach((k, i) => {
      if (i === parts.length - 1) cur.set(k, null);
      else {
        if (!cur.has(k) || cur.get(k) === null) cur.set(k, new Map());
        cur = cur.get(k)!;
      }
    });
  }
  const render = (t: T): string => [...t].map(([k, v]) => `${k}=${v ? `dict(${render(v)})` : valueName}`).join(', ');
  return [...root].map(([k, v]) => `${k} = ${v ? `dict(${render(v)})` : valueName}`).join('\n');
}

function staleHelpers(c: LintCtx): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { res } = c;
  for (const [name, stmt] of c.topAssign) {
    if (!res.baseCfg.has(name) || !res.cfg.has(name)) continue;
    const old = res.baseCfg.get(name)!;
    const now = res.cfg.get(name)!;
    if (pyEquals(old, now)) continue;
    const meaningful = (typeof old === 'string' && old.length >= 3) || Array.isArray(old) || old instanceof PyTuple || (old instanceof PyDict && HELPER_HINT.has(name));
    if (!meaningful) continue;
    const uses: string[] = [];
    const prefixes: string[] = [];
    for (const [k, v] of res.cfg.map) if (k !== name) findUses(v, old, [String(k)], uses, prefixes);
    const stale = uses.filter((p) => !inEntry(c, res.provenance.get(p)));
    const stalePrefix = typeof old === 'string' ? prefixes.filter((p) => !inEntry(c, res.provenance.get(p))) : [];
    if (!stale.length && !stalePrefix.length) continue;
    const list = (xs: string[]): string => xs.slice(0, 4).join(', ') + (xs.length > 4 ? `, … (${xs.length} in all)` : '');
    let message = `${name} is re-assigned here, but the bases already built ${stale.length ? list(stale) : list(stalePrefix)} from its old value ${formatValue(old).slice(0, 60)}; those keep the old value. Set them explicitly.`;
    if (stale.length && stalePrefix.length) message += ` Strings derived from it (${list(stalePrefix)}) are stale too.`;
    let quickFix: QuickFix | undefined;
    const fixable = stale.filter((p) => !p.split('.').some((s) => /^\d+$/.test(s)));
    const tops = new Set(fixable.map((p) => p.split('.')[0]));
    if (fixable.length && ![...tops].some((t) => c.topAssign.has(t))) {
      const insert = `${c.text.endsWith('\n') ? '' : '\n'}${nestedAssign(fixable, name)}\n`;
      quickFix = { title: `Also set ${name} where the bases used it`, from: c.text.length, to: c.text.length, insert };
    }
    const target = stmt.firstChild!;
    out.push({ severity: 'warning', code: 'stale-helper-variable', message, from: target.from, to: target.to, quickFix });
  }
  return out;
}

// ------------------------------------------------------------------ num_classes

function collectNumClasses(v: PyValue, p: string[], out: [string, PyValue][], depth = 0): void {
  if (depth > 32) return;
  if (v instanceof PyDict) {
    for (const [k, x] of v.map) {
      if (k === 'rpn_head') continue;
      if (k === 'num_classes') out.push([[...p, 'num_classes'].join('.'), x]);
      else collectNumClasses(x, [...p, String(k)], out, depth + 1);
    }
  } else if (Array.isArray(v)) v.forEach((x, i) => collectNumClasses(x, [...p, String(i)], out, depth + 1));
}

/** Dict-call node at a key path in the entry text (`model.roi_head` → the `roi_head=dict(` call). */
function dictCallAt(c: LintCtx, path: string[]): SyntaxNode | undefined {
  let node: SyntaxNode | undefined = c.topAssign.get(path[0]);
  if (!node) return undefined;
  node = node.lastChild ?? undefined;
  for (const key of path.slice(1)) {
    if (!node || node.name !== 'CallExpression') return undefined;
    const args = children(node.lastChild!);
    const i = args.findIndex((a, j) => a.name === 'VariableName' && txt(c, a) === key && args[j + 1]?.name === 'AssignOp');
    if (i < 0) return undefined;
    node = args[i + 2];
  }
  return node && node.name === 'CallExpression' && txt(c, node.firstChild!) === 'dict' ? node : undefined;
}

function numClassesMismatch(c: LintCtx): Diagnostic[] {
  const model = c.res.cfg.get('model');
  if (!(model instanceof PyDict)) return [];
  const found: [string, PyValue][] = [];
  collectNumClasses(model, ['model'], found);
  const distinct = new Set(found.map(([, v]) => formatValue(v)));
  if (found.length < 2 || distinct.size < 2) return [];
  const mine = found.filter(([p]) => inEntry(c, c.res.provenance.get(p)));
  const others = found.filter(([p]) => !inEntry(c, c.res.provenance.get(p)));
  const at = mine.length ? c.res.provenance.get(mine[0][0])! : undefined;
  const stmt = c.topAssign.get('model');
  const from = at?.from ?? stmt?.from ?? 0;
  const to = at?.to ?? stmt?.firstChild?.to ?? 0;
  const summary = found.map(([p, v]) => `${p}=${formatValue(v)}`).join(', ');
  let quickFix: QuickFix | undefined;
  if (mine.length && others.length) {
    const want = mine[0][1];
    const target = others[0][0].split('.');
    for (let k = target.length - 1; k >= 1; k--) {
      const call = dictCallAt(c, target.slice(0, k));
      if (!call) continue;
      const rest = target.slice(k);
      let ins = `${rest[rest.length - 1]}=${formatValue(want)}`;
      for (let j = rest.length - 2; j >= 0; j--) ins = `${rest[j]}=dict(${ins})`;
      if (rest.some((s) => /^\d+$/.test(s))) break;
      const open = call.lastChild!.from + 1;
      const hasArgs = children(call.lastChild!).length > 2;
      quickFix = { title: `Set ${others[0][0]} = ${formatValue(want)}`, from: open, to: open, insert: hasArgs ? `${ins}, ` : ins };
      break;
    }
  }
  return [{ severity: 'warning', code: 'num-classes-mismatch', message: `num_classes differs between heads (${summary}); every head must predict the same classes.`, from, to, quickFix }];
}

// ------------------------------------------------------------------ auto_scale_lr

function autoScaleLr(c: LintCtx): Diagnostic[] {
  const { res } = c;
  const lr = numeric((getPath(res.cfg, 'optim_wrapper.optimizer.lr') ?? null) as PyValue);
  const baseLr = numeric((getPath(res.baseCfg, 'optim_wrapper.optimizer.lr') ?? null) as PyValue);
  const bbs = numeric((getPath(res.cfg, 'auto_scale_lr.base_batch_size') ?? null) as PyValue);
  const baseBbs = numeric((getPath(res.baseCfg, 'auto_scale_lr.base_batch_size') ?? null) as PyValue);
  if (lr === undefined || baseLr === undefined || bbs === undefined || baseBbs === undefined || baseLr === 0) return [];
  if (lr === baseLr || bbs !== baseBbs) return [];
  const implied = (baseBbs * lr) / baseLr;
  const rounded = Math.round(implied);
  if (Math.abs(implied - rounded) > 1e-6 || rounded < 1 || rounded === bbs) return [];
  const o = res.provenance.get('optim_wrapper.optimizer.lr');
  if (!inEntry(c, o)) return [];
  let quickFix: QuickFix | undefined;
  if (!c.topAssign.has('auto_scale_lr')) {
    quickFix = { title: `Set auto_scale_lr.base_batch_size = ${rounded}`, from: c.text.length, to: c.text.length, insert: `${c.text.endsWith('\n') ? '' : '\n'}auto_scale_lr = dict(base_batch_size=${rounded})\n` };
  }
  return [
    {
      severity: 'warning',
      code: 'auto-scale-lr-base-batch',
      message: `lr ${lr} is the bases' ${baseLr} scaled for a total batch of ${rounded}, but auto_scale_lr.base_batch_size is still ${bbs}: with --auto-scale-lr the lr would be scaled a second time.`,
      from: o!.from,
      to: o!.to,
      quickFix,
    },
  ];
}

// ------------------------------------------------------------------ load_from style

function loadFromStyle(c: LintCtx): Diagnostic[] {
  const { res } = c;
  const lf = res.cfg.get('load_from');
  if (typeof lf !== 'string') return [];
  const style = getPath(res.cfg, 'model.backbone.style') ?? 'pytorch';
  const caffeCkpt = /caffe/i.test(lf);
  const stmt = c.topAssign.get('load_from');
  const o = res.provenance.get('load_from');
  if (!stmt || !inEntry(c, o)) return [];
  if (caffeCkpt === (style === 'caffe')) return [];
  const valueNode = stmt.lastChild!;
  const modelType = getPath(res.cfg, 'model.type');
  let quickFix: QuickFix | undefined;
  if (caffeCkpt && typeof modelType === 'string' && PYTORCH_STYLE_CHECKPOINTS[modelType] && valueNode.name === 'String') {
    quickFix = { title: `Use the pytorch-style ${modelType} COCO checkpoint`, from: valueNode.from, to: valueNode.to, insert: `'${PYTORCH_STYLE_CHECKPOINTS[modelType]}'` };
  }
  const message = caffeCkpt
    ? `load_from is a caffe-style checkpoint, but model.backbone.style is '${String(style)}' (and the data_preprocessor normalises for pytorch-style weights): the backbone weights will not match their use.`
    : `model.backbone.style is 'caffe' but load_from looks like a pytorch-style checkpoint.`;
  return [{ severity: 'warning', code: 'load-from-style-mismatch', message, from: valueNode.from, to: valueNode.to, quickFix }];
}

// ------------------------------------------------------------------ classes / metainfo not passed to the datasets

/** Path of the innermost dataset of a dataloader (through wrappers such as RepeatDataset). */
function innerDatasetPath(cfg: PyDict, loader: string): string[] | undefined {
  let path = [loader, 'dataset'];
  let ds = getPath(cfg, path);
  if (!(ds instanceof PyDict)) return undefined;
  for (let guard = 0; guard < 8 && ds instanceof PyDict && ds.get('dataset') instanceof PyDict; guard++) {
    path = [...path, 'dataset'];
    ds = ds.get('dataset');
  }
  return path;
}

function unusedClasses(c: LintCtx): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { res } = c;
  const loaders = ['train_dataloader', 'val_dataloader', 'test_dataloader'].filter((l) => res.cfg.get(l) instanceof PyDict);
  for (const name of ['classes', 'metainfo']) {
    const stmt = c.topAssign.get(name);
    const v = res.cfg.get(name);
    if (!stmt || v === undefined || v === null || !loaders.length) continue;
    const needle = name === 'classes' ? v : v instanceof PyDict ? v.get('classes') : undefined;
    if (needle === undefined) continue;
    const used: string[] = [];
    for (const l of loaders) {
      const ds = getPath(res.cfg, [l, 'dataset']);
      if (ds !== undefined) findUses(ds, needle, [l, 'dataset'], used, []);
    }
    if (used.length) continue;
    const targets = loaders.map((l) => innerDatasetPath(res.cfg, l)).filter((p): p is string[] => !!p);
    let quickFix: QuickFix | undefined;
    if (targets.length && !loaders.some((l) => c.topAssign.has(l))) {
      const value = name === 'classes' ? 'dict(classes=classes)' : 'metainfo';
      const lines = targets.map((p) => {
        let inner = `metainfo=${value}`;
        for (let i = p.length - 1; i >= 1; i--) inner = `${p[i]}=dict(${inner})`;
        return `${p[0]} = dict(${inner})`;
      });
      quickFix = { title: `Pass ${name} to the datasets`, from: c.text.length, to: c.text.length, insert: `${c.text.endsWith('\n') ? '' : '\n'}${lines.join('\n')}\n` };
    }
    const target = stmt.firstChild!;
    out.push({
      severity: 'warning',
      code: 'unused-classes',
      message: `${name} is defined but no dataloader uses it: in MMDetection 3.x the classes must reach each dataset as metainfo=dict(classes=...) (${targets.map((p) => p.join('.')).join(', ')}), otherwise the dataset keeps its default classes.`,
      from: target.from,
      to: target.to,
      quickFix,
    });
  }
  return out;
}

// ------------------------------------------------------------------ num_classes vs the dataset's classes

/** Number of classes of the built-in dataset types (their METAINFO). */
export const DATASET_NUM_CLASSES: Record<string, number> = { CityscapesDataset: 8, CocoDataset: 80 };

function datasetClassCount(cfg: PyDict): { n: number; why: string } | undefined {
  for (const l of ['train_dataloader', 'val_dataloader', 'test_dataloader']) {
    const p = innerDatasetPath(cfg, l);
    if (!p) continue;
    const classes = getPath(cfg, [...p, 'metainfo', 'classes']);
    const items = Array.isArray(classes) ? classes : classes instanceof PyTuple ? classes.items : undefined;
    if (items) return { n: items.length, why: `${p.join('.')}.metainfo.classes has ${items.length}` };
  }
  const p = innerDatasetPath(cfg, 'train_dataloader');
  const type = p ? getPath(cfg, [...p, 'type']) : undefined;
  if (typeof type === 'string' && DATASET_NUM_CLASSES[type] !== undefined) return { n: DATASET_NUM_CLASSES[type], why: `${type} has ${DATASET_NUM_CLASSES[type]} classes` };
  return undefined;
}

function numClassesCount(c: LintCtx): Diagnostic[] {
  const model = c.res.cfg.get('model');
  if (!(model instanceof PyDict)) return [];
  const want = datasetClassCount(c.res.cfg);
  if (!want) return [];
  const found: [string, PyValue][] = [];
  collectNumClasses(model, ['model'], found);
  const out: Diagnostic[] = [];
  for (const [p, v] of found) {
    const o = c.res.provenance.get(p);
    if (!inEntry(c, o) || typeof v !== 'number' || v === want.n) continue;
    const background = v === want.n + 1;
    const message = background
      ? `${p} = ${v} counts the background class (the 2.x "${want.n} + 1" convention); since MMDetection 2.0 num_classes excludes background: ${want.why}.`
      : `${p} = ${v} but ${want.why}; the head would predict a different number of classes than the dataset has.`;
    let quickFix: QuickFix | undefined;
    const key = c.tree.resolveInner(o!.from, 1);
    const value = key.name === 'VariableName' && key.nextSibling?.name === 'AssignOp' ? key.nextSibling.nextSibling : null;
    if (value && value.name === 'Number') quickFix = { title: `Set num_classes = ${want.n}`, from: value.from, to: value.to, insert: String(want.n) };
    out.push({ severity: 'warning', code: 'num-classes-count', message, from: o!.from, to: o!.to, quickFix });
  }
  return out;
}
