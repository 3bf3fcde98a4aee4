/**
 * `detstudio print-config <file.py> [--cfg-options k=v ...] [--json]`: resolves a config from disk like
 * MMDetection's `tools/misc/print_config.py` (bases relative to each file, `mmdet::` into the built-in
 * tree) and prints MMEngine's pretty text, or the resolved dict as JSON with `--json`.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OverlayFS, formatConfigError, prettyText, resolveConfig, toPlainJSON } from '../../config/index.ts';
import { NodeFS } from '../../config/node_fs.ts';
import { BUILTIN_ROOT, BuiltinNodeFS } from '../../configs/node.ts';

/** One-line summary for `detstudio --help`. */
export const summary = 'Resolve an MMDetection config (_base_ inheritance, --cfg-options) and print it';

const HELP = `Usage: detstudio print-config <file.py> [--cfg-options KEY=VALUE ...] [--json]

Resolves the config like MMEngine's Config.fromfile: _base_ files relative to each file on disk,
'mmdet::' paths into DetStudio's built-in MMDetection 3.3 config tree (${BUILTIN_ROOT}).

Options:
  --cfg-options KEY=VALUE ...  override settings (MMEngine DictAction syntax: a.b=1, x=[1,2], t=(1,2))
  --json                       print the resolved dict as JSON (tuples as arrays, key order kept)
  -h, --help                   show this help`;

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  // --cfg-options takes every following KEY=VALUE token (argparse nargs='+')
  const rest: string[] = [];
  const cfgOptions: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const eq = /^--cfg[-_]options=(.*)$/s.exec(argv[i]);
    if (eq) {
      cfgOptions.push(eq[1]);
      while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) cfgOptions.push(argv[++i]);
    } else if (argv[i] === '--cfg-options' || argv[i] === '--cfg_options') {
      while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) cfgOptions.push(argv[++i]);
    } else rest.push(argv[i]);
  }
  let values: { json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    console.error(`detstudio print-config: ${(e as Error).message}\n\n${HELP}`);
    return 1;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`detstudio print-config: expected exactly one config file\n\n${HELP}`);
    return 1;
  }
  const file = resolve(positionals[0]).split('\\').join('/');
  const fs = new OverlayFS([new BuiltinNodeFS(BUILTIN_ROOT), new NodeFS()]);
  const res = resolveConfig(file, fs, { cfgOptions: cfgOptions.length ? cfgOptions : undefined, builtinRoot: BUILTIN_ROOT, env: process.env });
  if (!res.ok) {
    console.error(formatConfigError(res.error));
    return 1;
  }
  if (values.json) console.log(JSON.stringify(toPlainJSON(res.cfg), null, 2));
  else process.stdout.write(prettyText(res.cfg));
  return 0;
}
