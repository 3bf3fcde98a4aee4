/**
 * `detstudio` command dispatcher. Each sub-command lives in `commands/<name>.ts` and exports
 * `run(argv: string[]): Promise<number>` (the exit code) plus a one-line `summary`.
 */

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  'print-config': () => import('./commands/print_config.ts'),
  'convert-cityscapes': () => import('./commands/convert_cityscapes.ts'),
  eval: () => import('./commands/eval.ts'),
  'inspect-checkpoint': () => import('./commands/inspect_checkpoint.ts'),
  convert: () => import('./commands/convert.ts'),
  features: () => import('./commands/features.ts'),
  infer: () => import('./commands/infer.ts'),
  train: () => import('./commands/train.ts'),
  test: () => import('./commands/test.ts'),
  export: () => import('./commands/export.ts'),
};

export interface CommandModule {
  run(argv: string[]): Promise<number>;
  summary: string;
}

async function usage(): Promise<string> {
  const lines = ['Usage: detstudio <command> [options]', '', 'Commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    let summary = '(not available in this build)';
    try {
      summary = (await load()).summary;
    } catch {
      /* command not implemented yet */
    }
    lines.push(`  ${name.padEnd(20)} ${summary}`);
  }
  lines.push('', "Run 'detstudio <command> --help' for a command's options.");
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name ? 0 : 1;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`detstudio: unknown command '${name}'\n\n${await usage()}`);
    return 2;
  }
  let mod: CommandModule;
  try {
    mod = await load();
  } catch (err) {
    console.error(`detstudio: command '${name}' is not available: ${(err as Error).message}`);
    return 2;
  }
  return mod.run(rest);
}
