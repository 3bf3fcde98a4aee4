/**
 * `detstudio export <checkpoint|work-dir> --format pth|safetensors|bundle [--out FILE] [--config CFG]`:
 * takes a checkpoint (or a work dir's latest one) out of DetStudio in the formats MMDetection users
 * have: a clean `.pth` (`{meta, state_dict}`, no optimizer), safetensors, or an "MMDetection bundle"
 * zip (resolved config with bundle-relative paths, weights, annotation jsons, logs, README with the
 * exact tools/ commands).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mmdetCheckpointObject, readCheckpoint, writePth, writeSafetensors } from '../../checkpoint/index.ts';
import { MemoryFS, OverlayFS, PyDict, formatConfigError, resolveConfig } from '../../config/index.ts';
import { NodeFS } from '../../config/node_fs.ts';
import { BUILTIN_ROOT, BuiltinNodeFS } from '../../configs/node.ts';
import { type BundleFile, buildBundle, collectDataRoots } from '../../export/bundle.ts';

/** One-line summary for `detstudio --help`. */
export const summary = 'Export a checkpoint as .pth, .safetensors or an MMDetection bundle (.zip)';

const HELP = `Usage: detstudio export <checkpoint.pth|.safetensors|work-dir> [--format pth|safetensors|bundle]
                        [--out FILE] [--config CONFIG.py] [--gpus N]

  --format   pth (default): MMDetection {meta, state_dict} weights, optimizer state dropped
             safetensors:   the same weights as safetensors (meta as JSON metadata)
             bundle:        a .zip to continue in MMDetection: config.py (paths relative to the bundle),
                            weights, converted annotation jsons, logs and a README with the commands
  --out      output file (default: next to the input, named after it)
  --config   config for the bundle (default: the work dir's config dump, else the checkpoint's meta.cfg)
  --gpus     GPU count written into the README's dist_train.sh command (default 8)`;

function latestCheckpoint(dir: string): string {
  const last = join(dir, 'last_checkpoint');
  if (existsSync(last)) {
    const p = readFileSync(last, 'utf8').trim();
    const cand = [p, join(dir, basename(p))].find((x) => x && existsSync(x));
    if (cand) return cand;
  }
  const ckpts = readdirSync(dir)
    .filter((f) => /\.(pth|safetensors)$/.test(f))
    .map((f) => ({ f: join(dir, f), t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  if (!ckpts.length) throw new Error(`no checkpoint (*.pth, *.safetensors, last_checkpoint) in work dir ${dir}`);
  return ckpts[0]!.f;
}

function findConfigDump(dir: string): string | undefined {
  const py = readdirSync(dir).filter((f) => f.endsWith('.py'));
  return py.length === 1 ? join(dir, py[0]!) : undefined;
}

function findLogs(dir: string): BundleFile[] {
  const out: BundleFile[] = [];
  for (const entry of readdirSync(dir)) {
    const sub = join(dir, entry);
    if (!/^\d{8}_\d{6}$/.test(entry) || !statSync(sub).isDirectory()) continue;
    const add = (p: string) => existsSync(p) && out.push({ path: relative(dir, p), bytes: new Uint8Array(readFileSync(p)) });
    add(join(sub, `${entry}.log`));
    add(join(sub, 'vis_data', 'scalars.json'));
  }
  return out;
}

function step(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'pth' },
        out: { type: 'string' },
        config: { type: 'string' },
        gpus: { type: 'string', default: '8' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    console.error(`detstudio export: ${(e as Error).message}\n\n${HELP}`);
    return 1;
  }
  if (args.values.help) {
    console.log(HELP);
    return 0;
  }
  const input = args.positionals[0];
  const format = args.values.format!;
  if (!input || !['pth', 'safetensors', 'bundle'].includes(format)) {
    console.error(`detstudio export: ${input ? `unknown --format '${format}'` : 'missing <checkpoint|work-dir>'}\n\n${HELP}`);
    return 1;
  }
  try {
    const workDir = existsSync(input) && statSync(input).isDirectory() ? resolve(input) : undefined;
    const ckptPath = workDir ? latestCheckpoint(workDir) : resolve(input);
    if (!existsSync(ckptPath)) throw new Error(`no such file: ${input}`);
    const t0 = performance.now();
    const bytes = new Uint8Array(readFileSync(ckptPath));
    step(`read ${ckptPath} (${(bytes.byteLength / 2 ** 20).toFixed(1)} MB)`);
    const ckpt = readCheckpoint(bytes);
    for (const w of ckpt.warnings) step(`warning: ${w}`);
    const stem = basename(ckptPath, extname(ckptPath));
    const dir = workDir ?? resolve(ckptPath, '..');
    let outBytes: Uint8Array;
    let out: string;
    if (format === 'pth') {
      out = args.values.out ?? join(dir, `${stem}_weights.pth`);
      outBytes = writePth(mmdetCheckpointObject(ckpt.meta, ckpt.stateDict));
    } else if (format === 'safetensors') {
      out = args.values.out ?? join(dir, `${stem}.safetensors`);
      outBytes = writeSafetensors(ckpt.stateDict, ckpt.meta ?? undefined);
    } else {
      out = args.values.out ?? join(dir, `${stem}_mmdet_bundle.zip`);
      const cfg = loadBundleConfig(args.values.config, workDir, ckpt.meta);
      const annotations = new Map<string, Uint8Array>();
      for (const m of collectDataRoots(cfg)) {
        for (const a of m.annFiles) {
          const p = resolve(m.from, a);
          if (existsSync(p)) annotations.set(m.from + a, new Uint8Array(readFileSync(p)));
          else step(`warning: annotation file ${m.from}${a} not found; the bundle's README still names it`);
        }
      }
      const configName = args.values.config ? basename(args.values.config, '.py') : stem;
      const weights = writePth(mmdetCheckpointObject(ckpt.meta, ckpt.stateDict));
      const bundle = buildBundle({
        cfg, configName, weights, weightsName: `${stem}.pth`, annotations,
        logs: workDir ? findLogs(workDir) : [], gpus: Number(args.values.gpus),
      });
      outBytes = bundle.zip;
      step(`bundle: ${bundle.files.join(', ')}`);
    }
    writeFileSync(out, outBytes);
    step(`wrote ${out} (${(outBytes.byteLength / 2 ** 20).toFixed(1)} MB) in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    console.log(out);
    return 0;
  } catch (e) {
    console.error(`detstudio export: ${(e as Error).message}`);
    return 1;
  }
}

/** The config for a bundle: --config, the work dir's dump, or the checkpoint's meta.cfg text. */
function loadBundleConfig(configPath: string | undefined, workDir: string | undefined, meta: unknown): PyDict {
  const builtin = new BuiltinNodeFS(BUILTIN_ROOT);
  let file = configPath ? resolve(configPath) : workDir ? findConfigDump(workDir) : undefined;
  let fs: OverlayFS;
  if (file) {
    fs = new OverlayFS([builtin, new NodeFS()]);
  } else {
    const text = (meta as { cfg?: unknown } | null)?.cfg;
    if (typeof text !== 'string') {
      throw new Error('no config for the bundle: pass --config, or export from a work dir with its config dump, or a checkpoint whose meta holds cfg');
    }
    file = '/checkpoint/config.py';
    fs = new OverlayFS([builtin, new MemoryFS({ [file]: text })]);
  }
  const res = resolveConfig(file.split('\\').join('/'), fs, { builtinRoot: BUILTIN_ROOT });
  if (!res.ok) throw new Error(formatConfigError(res.error));
  return res.cfg;
}
