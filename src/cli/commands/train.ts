/**
 * `detstudio train <config> [--work-dir d] [--cfg-options k=v ...] [--resume [ckpt]] [--backend b]`:
 * MMDetection's `tools/train.py` on DetStudio's runner. Writes `epoch_N.pth` / `iter_N.pth`
 * (MMDetection layout, with optimizer and scheduler state), `last_checkpoint`, the config dump,
 * `<timestamp>/<timestamp>.log` and `<timestamp>/vis_data/scalars.json` into the work dir.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OverlayFS, formatConfigError, prettyText, resolveConfig, toPlainJSON } from '../../config/index.ts';
import { NodeFS } from '../../config/node_fs.ts';
import { BUILTIN_ROOT, BuiltinNodeFS } from '../../configs/node.ts';
import type { BuildContext } from '../../runner/build.ts';
import type { RunnerEvent } from '../../runner/types.ts';
import { fetchWeights, formatWeightsProgress } from '../../storage/weights_cache.ts';
import { NodeWeightsCache } from '../../storage/weights_cache_node.ts';
import { nodeImageDecoder } from '../../data/node_image_decoder.ts';

/** One-line summary for `detstudio --help`. */
export const summary = 'Train a detector from an MMDetection config (like tools/train.py)';

const HELP = `Usage: detstudio train <config.py> [--work-dir DIR] [--cfg-options KEY=VALUE ...] [--resume [CHECKPOINT]]
                       [--backend webgpu|wasm]

Trains as MMDetection's tools/train.py does, on WebGPU (Dawn) where a GPU is present, else wasm.

Options:
  --work-dir DIR               where checkpoints and logs go (default: ./work_dirs/<config name>)
  --cfg-options KEY=VALUE ...  override settings (MMEngine DictAction syntax)
  --resume [CHECKPOINT]        resume from CHECKPOINT, or from the work dir's last_checkpoint
  --backend NAME               force 'webgpu' or 'wasm'
  -h, --help                   show this help`;

/** Splits argv into `--cfg-options` values and the rest (argparse `nargs='+'`). */
export function splitCfgOptions(argv: string[]): { rest: string[]; cfgOptions: string[] } {
  const rest: string[] = [];
  const cfgOptions: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--cfg-options' || argv[i] === '--cfg_options') {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) cfgOptions.push(argv[++i]!);
    } else rest.push(argv[i]!);
  }
  return { rest, cfgOptions };
}

/** Resolves a config file from disk (bases relative to it, `mmdet::` into the built-in tree). */
export function loadConfig(path: string, cfgOptions: string[]): { cfg: Record<string, unknown>; text: string } | { error: string } {
  const file = resolve(path).split('\\').join('/');
  const fs = new OverlayFS([new BuiltinNodeFS(BUILTIN_ROOT), new NodeFS()]);
  const res = resolveConfig(file, fs, { cfgOptions: cfgOptions.length ? cfgOptions : undefined, builtinRoot: BUILTIN_ROOT });
  if (!res.ok) return { error: formatConfigError(res.error) };
  return { cfg: toPlainJSON(res.cfg) as Record<string, unknown>, text: prettyText(res.cfg) };
}

/** File access for datasets and checkpoints: paths relative to the current directory; URLs downloaded once into ~/.cache/detstudio. */
export function nodeBuildContext(): BuildContext {
  const readFile = async (p: string): Promise<Uint8Array> => new Uint8Array(readFileSync(p));
  return {
    readFile,
    // PNG and JPEG (COCO datasets are JPEG) with Node's native zlib
    decodeImage: nodeImageDecoder,
    readCheckpoint: async (p: string) => {
      if (!/^https?:\/\//.test(p)) return readFile(p);
      // Downloaded once into ~/.cache/detstudio/checkpoints, checked against the hash in its name.
      const tty = process.stderr.isTTY;
      return fetchWeights(p, {
        cache: new NodeWeightsCache(),
        progressIntervalMs: tty ? 200 : 5000,
        onProgress: (e) => {
          if (tty) process.stderr.write(`\r\x1b[K${formatWeightsProgress(e)}${e.phase === 'done' ? '\n' : ''}`);
          else if (e.phase !== 'download') process.stderr.write(`${formatWeightsProgress(e)}\n`);
        },
        onWarning: (m) => console.error(`warning: ${m}`),
      });
    },
  };
}

/** Runner events to the terminal: log lines on stdout/stderr, a progress line on a TTY. */
export function consoleListener(): (e: RunnerEvent) => void {
  const tty = process.stderr.isTTY;
  return (e) => {
    if (e.type === 'log') {
      if (tty) process.stderr.write('\r\x1b[K');
      (e.level === 'info' ? console.log : console.error)(e.text);
    } else if (e.type === 'progress' && tty) {
      process.stderr.write(progressLine(e));
    }
  };
}

/** `YYYYMMDD_HHMMSS` as MMEngine names a run's log folder. */
export function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Renders a one-line progress bar on stderr (only on a TTY). */
export function progressLine(e: Extract<RunnerEvent, { type: 'progress' }>): string {
  const width = 30;
  const [done, total] = e.mode === 'train' ? [e.iter, e.maxIters] : [e.batchIdx + 1, e.batches];
  const f = total > 0 ? done / total : 0;
  const bar = '#'.repeat(Math.round(f * width)).padEnd(width, '.');
  return `\r${e.mode} [${bar}] ${done}/${total}`;
}

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { rest, cfgOptions } = splitCfgOptions(argv);
  // `--resume` with no value means "auto"; argparse-style optional value
  let resumeArg: string | null = null;
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--resume') {
      resumeArg = i + 1 < rest.length && !rest[i + 1]!.startsWith('--') && rest[i + 1]!.endsWith('.pth') ? rest[++i]! : 'auto';
    } else args.push(rest[i]!);
  }
  let values: { 'work-dir'?: string; backend?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { 'work-dir': { type: 'string' }, backend: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    console.error(`detstudio train: ${(e as Error).message}\n\n${HELP}`);
    return 1;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`detstudio train: expected exactly one config file\n\n${HELP}`);
    return 1;
  }
  if (values.backend !== undefined && values.backend !== 'webgpu' && values.backend !== 'wasm') {
    console.error(`detstudio train: --backend must be 'webgpu' or 'wasm' (the pure-JS cpu backend is too slow to train)`);
    return 1;
  }
  const loaded = loadConfig(positionals[0]!, cfgOptions);
  if ('error' in loaded) {
    console.error(loaded.error);
    return 1;
  }
  const { cfg, text } = loaded;
  const cfgName = basename(positionals[0]!, extname(positionals[0]!));
  const workDir = resolve(values['work-dir'] ?? (typeof cfg.work_dir === 'string' ? cfg.work_dir : join('work_dirs', cfgName)));
  cfg.work_dir = workDir;
  // `resume=True` in the config resumes as --resume does: from `load_from` when set, else the last checkpoint
  if (resumeArg === null && cfg.resume === true) resumeArg = typeof cfg.load_from === 'string' ? cfg.load_from : 'auto';
  if (resumeArg !== null) cfg.resume = true;
  const ts = timestamp();
  const logDir = join(workDir, ts);
  mkdirSync(join(logDir, 'vis_data'), { recursive: true });
  writeFileSync(join(workDir, `${cfgName}.py`), text);
  const logFile = join(logDir, `${ts}.log`);
  const scalarsFile = join(logDir, 'vis_data', 'scalars.json');
  writeFileSync(scalarsFile, '');

  const { initBackend } = await import('../../ops/backend.ts');
  const { buildRunner } = await import('../../runner/build.ts');
  const { FileCheckpointStore } = await import('../../runner/node/file_checkpoint_store.ts');
  let backend;
  try {
    backend = await initBackend({ forTraining: true, prefer: values.backend as 'webgpu' | 'wasm' | undefined });
  } catch (e) {
    console.error(`detstudio train: no training backend: ${(e as Error).message}`);
    return 1;
  }
  console.error(backend.notice);

  const store = new FileCheckpointStore(workDir);
  const tty = process.stderr.isTTY;
  let written = 0;
  const built = await buildRunner(cfg, nodeBuildContext(), {
    mode: 'train',
    store,
    cfgText: text,
    experimentName: ts,
    listener: consoleListener(),
  }).catch((e: Error) => e);
  if (built instanceof Error) {
    console.error(`detstudio train: cannot build the runner: ${built.message}`);
    return 1;
  }
  const { runner, detector } = built;
  const flush = (): void => {
    if (runner.textLog.length > written) {
      appendFileSync(logFile, `${runner.textLog.slice(written).join('\n')}\n`);
      written = runner.textLog.length;
    }
  };
  let scalarsWritten = 0;
  const flushScalars = (): void => {
    if (runner.scalarLines.length > scalarsWritten) {
      appendFileSync(scalarsFile, `${runner.scalarLines.slice(scalarsWritten).join('\n')}\n`);
      scalarsWritten = runner.scalarLines.length;
    }
  };
  const timer = setInterval(() => {
    flush();
    flushScalars();
  }, 2000);
  try {
    let resumeFrom;
    if (resumeArg !== null) {
      let path = resumeArg;
      if (path === 'auto') {
        const last = join(workDir, 'last_checkpoint');
        path = existsSync(last) ? readFileSync(last, 'utf8').trim() : '';
        if (!path) runner.warn(`resume: no last_checkpoint in ${workDir}; training from scratch`);
      }
      if (path) {
        const { recordFromPth } = await import('../../runner/node/file_checkpoint_store.ts');
        resumeFrom = recordFromPth(new Uint8Array(readFileSync(path)), basename(path));
        runner.info(`Resuming from ${path}`);
      }
    }
    const res = await runner.train(resumeFrom);
    if (tty) process.stderr.write('\n');
    return res.reason === 'non-finite-loss' ? 1 : 0;
  } catch (e) {
    runner.warn(`training failed: ${(e as Error).message}`);
    console.error(`detstudio train: training failed: ${(e as Error).stack ?? e}`);
    return 1;
  } finally {
    clearInterval(timer);
    flush();
    flushScalars();
    detector.dispose();
  }
}
