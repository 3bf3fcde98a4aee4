/**
 * `detstudio convert <in> <out>`: converts a checkpoint between PyTorch `.pth` (MMDetection's
 * `{meta, state_dict}` in torch.save's zip format) and `.safetensors` (meta as JSON in
 * `__metadata__`), the output format chosen by the extension. Tensors are copied bit-exactly and
 * keep their order; any readable input works (zip or legacy `.pth`, safetensors).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatFromFileName, readCheckpoint, stateDictBytes, writeCheckpointParts } from '../../checkpoint/index.ts';

/** One-line summary for `detstudio --help`. */
export const summary = 'convert a checkpoint between .pth and .safetensors (by output extension), bit-exact';

const USAGE = `Usage: detstudio convert <in> <out>

  <in>         a .pth (zip or legacy) or .safetensors checkpoint
  <out>        output file; .pth/.pt writes torch.save's zip format ({meta, state_dict}),
               .safetensors writes safetensors (meta as JSON in __metadata__.mmdet_meta)
  -h, --help   this help`;

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    console.error(`detstudio convert: ${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 2) {
    console.error(`detstudio convert: expected <in> and <out>\n\n${USAGE}`);
    return 1;
  }
  const [input, output] = parsed.positionals as [string, string];
  try {
    const format = formatFromFileName(output);
    const ckpt = readCheckpoint(new Uint8Array(readFileSync(input)));
    for (const w of ckpt.warnings) console.error(`warning: ${w}`);
    const extra = Object.keys(ckpt.extra);
    if (extra.length) console.error(`note: top-level entries ${extra.join(', ')} are not carried over (only meta and state_dict)`);
    const parts = writeCheckpointParts(format, ckpt.stateDict, ckpt.meta);
    const fd = openSync(output, 'w');
    let total = 0;
    try {
      for (const p of parts) {
        let off = 0;
        while (off < p.byteLength) off += writeSync(fd, p, off, p.byteLength - off);
        total += p.byteLength;
      }
    } finally {
      closeSync(fd);
    }
    console.log(
      `wrote ${output}: ${format}, ${ckpt.stateDict.size} tensors (${(stateDictBytes(ckpt.stateDict) / 2 ** 20).toFixed(1)} MiB of weights), ${total} bytes`,
    );
    return 0;
  } catch (err) {
    console.error(`detstudio convert: ${(err as Error).name === 'Error' ? '' : `${(err as Error).name}: `}${(err as Error).message}`);
    return 1;
  }
}
