/**
 * `detstudio test <config> <checkpoint> [--work-dir d] [--cfg-options k=v ...] [--backend b]`:
 * MMDetection's `tools/test.py`: loads the checkpoint's weights (MMEngine `load_checkpoint`,
 * non-strict, mismatches reported), runs the test loop with the config's `test_evaluator`, prints
 * the metrics and writes `<work_dir>/<timestamp>/<timestamp>.log` and `<timestamp>.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { consoleListener, loadConfig, nodeBuildContext, splitCfgOptions, timestamp } from './train.ts';

/** One-line summary for `detstudio --help`. */
export const summary = 'Evaluate a checkpoint on the test split of a config (like tools/test.py)';

const HELP = `Usage: detstudio test <config.py> <checkpoint.pth> [--work-dir DIR] [--cfg-options KEY=VALUE ...]
                      [--backend webgpu|wasm|cpu]

Options:
  --work-dir DIR               where logs and metrics go (default: ./work_dirs/<config name>)
  --cfg-options KEY=VALUE ...  override settings (MMEngine DictAction syntax)
  --backend NAME               force 'webgpu', 'wasm' or 'cpu'
  -h, --help                   show this help`;

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { rest, cfgOptions } = splitCfgOptions(argv);
  let values: { 'work-dir'?: string; backend?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { 'work-dir': { type: 'string' }, backend: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    console.error(`detstudio test: ${(e as Error).message}\n\n${HELP}`);
    return 1;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 2) {
    console.error(`detstudio test: expected a config file and a checkpoint\n\n${HELP}`);
    return 1;
  }
  const backendName = values.backend;
  if (backendName !== undefined && !['webgpu', 'wasm', 'cpu'].includes(backendName)) {
    console.error(`detstudio test: --backend must be webgpu, wasm or cpu`);
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
  const ts = timestamp();
  const logDir = join(workDir, ts);
  mkdirSync(logDir, { recursive: true });

  const { initBackend } = await import('../../ops/backend.ts');
  const { buildRunner, loadFrom } = await import('../../runner/build.ts');
  try {
    const info = await initBackend({ prefer: backendName as 'webgpu' | 'wasm' | 'cpu' | undefined });
    console.error(info.notice);
  } catch (e) {
    console.error(`detstudio test: no backend: ${(e as Error).message}`);
    return 1;
  }
  const tty = process.stderr.isTTY;
  const ctx = nodeBuildContext();
  const built = await buildRunner(cfg, ctx, {
    mode: 'test',
    cfgText: text,
    experimentName: ts,
    listener: consoleListener(),
  }).catch((e: Error) => e);
  if (built instanceof Error) {
    console.error(`detstudio test: cannot build the runner: ${built.message}`);
    return 1;
  }
  const { runner, detector } = built;
  try {
    const report = await loadFrom(detector, positionals[1]!, ctx);
    runner.info(`Load checkpoint from ${positionals[1]}`);
    if (report.warning) runner.warn(report.warning);
    const metrics = await runner.test();
    if (tty) process.stderr.write('\n');
    writeFileSync(join(logDir, `${ts}.json`), `${JSON.stringify(metrics)}\n`);
    return 0;
  } catch (e) {
    console.error(`detstudio test: ${(e as Error).message}`);
    return 1;
  } finally {
    writeFileSync(join(logDir, `${ts}.log`), `${runner.textLog.join('\n')}\n`);
    detector.dispose();
  }
}
