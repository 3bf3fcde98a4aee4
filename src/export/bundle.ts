/**
 * The "MMDetection bundle": what a user takes to a GPU cluster to continue in MMDetection itself.
 * Pure (no node:, no DOM): the studio builds it in a worker, the CLI on disk.
 *
 * Layout of the zip:
 *   config.py                      the resolved config, data paths relative to the bundle
 *   weights/<name>.pth             MMDetection {meta, state_dict} weights (load_from points here)
 *   data/<dataset>/annotations/…   the converted COCO annotation jsons the config names
 *   logs/…                         training logs when available
 *   README.md                      how to lay out the images and the exact train/test commands
 */
import { zipSync } from 'fflate';
import { PyDict, PyTuple, type PyValue, prettyText } from '../config/index.ts';

/** A file to put in the bundle. */
export interface BundleFile {
  path: string;
  bytes: Uint8Array;
}

/** One data root found in the config, and where the bundle puts it. */
export interface DataRootMapping {
  from: string;
  to: string;
  /** Annotation files (relative to the data root) the config reads from it. */
  annFiles: string[];
}

function walk(v: PyValue, visit: (d: PyDict) => void): void {
  if (v instanceof PyDict) {
    visit(v);
    for (const [, x] of v.entries()) walk(x, visit);
  } else if (Array.isArray(v)) v.forEach((x) => walk(x, visit));
  else if (v instanceof PyTuple) v.items.forEach((x) => walk(x, visit));
}

const norm = (p: string) => (p.endsWith('/') ? p : `${p}/`);

/**
 * Finds every `data_root` in the config (dataloaders, evaluators, the top-level variable) with the
 * `ann_file`s read under it, and assigns each root a folder `data/<name>/` in the bundle.
 */
export function collectDataRoots(cfg: PyDict): DataRootMapping[] {
  const roots = new Map<string, Set<string>>();
  walk(cfg, (d) => {
    const root = d.get('data_root');
    if (typeof root !== 'string' || root === '') return;
    const set = roots.get(norm(root)) ?? new Set<string>();
    const ann = d.get('ann_file');
    if (typeof ann === 'string' && ann !== '' && !ann.startsWith('/')) set.add(ann);
    roots.set(norm(root), set);
  });
  // Evaluators name ann_file as data_root + relative path (a full path): attribute it to its root.
  walk(cfg, (d) => {
    const ann = d.get('ann_file');
    if (typeof ann !== 'string' || d.has('data_root')) return;
    for (const [root, set] of roots) if (ann.startsWith(root)) set.add(ann.slice(root.length));
  });
  const used = new Set<string>();
  return [...roots].map(([from, anns]) => {
    const base = from.replace(/\/+$/, '').split('/').filter(Boolean).pop() ?? 'dataset';
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return { from, to: `data/${name}/`, annFiles: [...anns].sort() };
  });
}

/** Rewrites data roots (and paths under them) and `load_from` in a copy of the config. */
export function rewriteForBundle(cfg: PyDict, mappings: DataRootMapping[], weightsPath: string): PyDict {
  const copy = cfg.copy();
  const rewrite = (v: PyValue): PyValue => {
    if (typeof v === 'string') {
      for (const m of mappings) {
        if (norm(v) === m.from) return v.endsWith('/') ? m.to : m.to.replace(/\/$/, '');
        if (v.startsWith(m.from)) return m.to + v.slice(m.from.length);
      }
      return v;
    }
    if (v instanceof PyDict) {
      const d = v.copy();
      for (const [k, x] of d.entries()) d.set(k, rewrite(x));
      return d;
    }
    if (Array.isArray(v)) return v.map(rewrite);
    if (v instanceof PyTuple) return new PyTuple(v.items.map(rewrite));
    return v;
  };
  for (const [k, x] of copy.entries()) copy.set(k, rewrite(x));
  copy.set('load_from', weightsPath);
  copy.set('resume', false);
  if (copy.has('work_dir')) copy.delete('work_dir');
  return copy;
}

/** The bundle's README: layout, and the exact MMDetection commands to continue. */
export function bundleReadme(opts: { configName: string; weights: string; mappings: DataRootMapping[]; gpus?: number; note?: string }): string {
  const gpus = opts.gpus ?? 8;
  const lines = [
    `# ${opts.configName} — exported from DetStudio`,
    '',
    'This folder continues in MMDetection 3.x exactly where DetStudio stopped.',
    '',
    '## Contents',
    '',
    '- `config.py`: the fully resolved config (no `_base_` needed); data paths are relative to this folder,',
    `  \`load_from\` is \`${opts.weights}\`.`,
    `- \`${opts.weights}\`: the fine-tuned weights (MMDetection \`{meta, state_dict}\` layout).`,
    ...opts.mappings.flatMap((m) => m.annFiles.map((a) => `- \`${m.to}${a}\`: annotations (was \`${m.from}${a}\`).`)),
    '',
    '## Images',
    '',
    'Images are not bundled. Put (or symlink) them where the config expects them:',
    '',
    ...opts.mappings.map((m) => `- \`${m.to}\` ← the contents of your \`${m.from}\` (for Cityscapes: \`leftImg8bit/\`)`),
    '',
    '## Continue training (from this folder, with MMDetection installed)',
    '',
    '```bash',
    `bash $MMDET/tools/dist_train.sh config.py ${gpus} --work-dir work_dirs/${opts.configName}`,
    '# single GPU:',
    `python $MMDET/tools/train.py config.py --work-dir work_dirs/${opts.configName}`,
    '```',
    '',
    '## Test the exported weights',
    '',
    '```bash',
    `python $MMDET/tools/test.py config.py ${opts.weights}`,
    `bash $MMDET/tools/dist_test.sh config.py ${opts.weights} ${gpus}`,
    '```',
    '',
    '`$MMDET` is your MMDetection checkout. The config keeps the learning rate it was trained with; if you',
    'change the total batch size, scale it (MMDetection: `--auto-scale-lr` with `auto_scale_lr.base_batch_size`).',
  ];
  if (opts.note) lines.push('', opts.note);
  return `${lines.join('\n')}\n`;
}

/** Builds the bundle zip. `annotations` maps `<from><annFile>` paths to their bytes. */
export function buildBundle(opts: {
  cfg: PyDict;
  configName: string;
  weights: Uint8Array;
  weightsName: string;
  annotations: Map<string, Uint8Array>;
  logs?: BundleFile[];
  gpus?: number;
}): { zip: Uint8Array; files: string[]; mappings: DataRootMapping[] } {
  const mappings = collectDataRoots(opts.cfg);
  const weightsPath = `weights/${opts.weightsName}`;
  const cfg = rewriteForBundle(opts.cfg, mappings, weightsPath);
  const files: Record<string, Uint8Array> = {};
  const enc = new TextEncoder();
  files['config.py'] = enc.encode(prettyText(cfg));
  files[weightsPath] = opts.weights;
  for (const m of mappings) {
    for (const a of m.annFiles) {
      const bytes = opts.annotations.get(m.from + a);
      if (bytes) files[m.to + a] = bytes;
    }
  }
  for (const l of opts.logs ?? []) files[`logs/${l.path}`] = l.bytes;
  files['README.md'] = enc.encode(bundleReadme({ configName: opts.configName, weights: weightsPath, mappings, gpus: opts.gpus }));
  // Weights are already dense floats: store them; compress the text.
  const zip = zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, [v, { level: k.startsWith('weights/') ? 0 : 6 }]])));
  return { zip, files: Object.keys(files), mappings };
}
