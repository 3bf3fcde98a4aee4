/**
 * `detstudio features <config> <checkpoint> --input <float32 NCHW .bin> --shape 1,3,H,W [--json]`:
 * runs the backbone and neck on a raw, already normalised input and prints shape, sum, abs_sum and
 * mean of C2–C5 and P2–P6 (NCHW shapes, float64 sums), to check a checkpoint against a reference.
 * Also exports the model-command set-up shared with `infer` (config, backend, checkpoint).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { basename, resolve } from 'node:path';
import { OverlayFS, formatConfigError, resolveConfig, toPlainJSON } from '../../config/index.ts';
import { NodeFS } from '../../config/node_fs.ts';
import { BUILTIN_ROOT, BuiltinNodeFS } from '../../configs/node.ts';
import { readCheckpoint } from '../../checkpoint/checkpoint.ts';
import { initBackend, type BackendName } from '../../ops/backend.ts';
import { buildDetector } from '../../models/index.ts';
import type { TwoStageDetector } from '../../models/detectors/two_stage.ts';
import { loadCheckpoint } from '../../models/utils/load_checkpoint.ts';

/** Thrown for user errors (printed without a stack, exit code 1). */
export class CliError extends Error {}

/** Resolves a config file to a plain dict. */
export function loadConfig(path: string): Record<string, unknown> {
  const file = resolve(path).split('\\').join('/');
  const fs = new OverlayFS([new BuiltinNodeFS(BUILTIN_ROOT), new NodeFS()]);
  const res = resolveConfig(file, fs, { builtinRoot: BUILTIN_ROOT, env: process.env });
  if (!res.ok) throw new CliError(formatConfigError(res.error));
  return toPlainJSON(res.cfg) as Record<string, unknown>;
}

/** Picks the backend (`auto` = WebGPU if a GPU adapter exists, else wasm). */
export async function setupBackend(name: string | undefined): Promise<string> {
  if (name !== undefined && !['auto', 'cpu', 'wasm', 'webgpu'].includes(name)) {
    throw new CliError(`--backend must be one of auto, webgpu, wasm, cpu; got '${name}'`);
  }
  const prefer = name === undefined || name === 'auto' ? undefined : (name as BackendName);
  const info = await initBackend({ prefer });
  return JSON.stringify(info);
}

/**
 * Builds `cfg.model` and loads `checkpointPath` (strict=False; the MMEngine-style warning and any
 * caffe-style notice go to stderr).
 */
export function buildAndLoad(cfg: Record<string, unknown>, checkpointPath: string): TwoStageDetector {
  const modelCfg = cfg.model as Record<string, unknown> | undefined;
  if (modelCfg === undefined) throw new CliError('the config has no `model` dict');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(checkpointPath));
  } catch (e) {
    throw new CliError(`cannot read checkpoint '${checkpointPath}': ${(e as Error).message}`);
  }
  const ckpt = readCheckpoint(bytes);
  const model = buildDetector(modelCfg);
  const style = ((modelCfg.backbone as Record<string, unknown> | undefined)?.style as string | undefined) ?? 'pytorch';
  const res = loadCheckpoint(model, ckpt, { backboneStyle: style, fileName: basename(checkpointPath) });
  if (res.numLoaded === 0) {
    model.dispose();
    throw new CliError(`checkpoint '${checkpointPath}' has no tensor that matches the model (is it a checkpoint of this architecture?)`);
  }
  if (res.warning) console.error(res.warning);
  if (res.styleWarning) console.error(res.styleWarning);
  for (const w of ckpt.warnings) console.error(`checkpoint: ${w}`);
  model.train(false);
  return model;
}

/** One-line summary for `detstudio --help`. */
export const summary = 'Print shape/sum/abs_sum/mean of backbone (C2-C5) and FPN (P2-P6) features for a raw input';

const HELP = `Usage: detstudio features <config.py> <checkpoint> --input <file.bin> --shape 1,3,H,W [--json] [--backend B]

Reads a float32 little-endian NCHW tensor (already normalised; the data preprocessor is bypassed),
runs the backbone and neck in eval mode and prints per-map statistics.

Options:
  --input FILE     float32 LE NCHW input
  --shape N,C,H,W  its shape
  --json           print {"backbone": {"C2": …}, "neck": {"P2": …}} as JSON
  --backend B      auto (default), webgpu, wasm or cpu
  -h, --help       show this help`;

/** Statistics of one map. */
export interface MapStats {
  shape: number[];
  sum: number;
  abs_sum: number;
  mean: number;
}

/** Stats of an NHWC map, reported with its NCHW shape and float64 sums. */
export async function mapStats(t: tf.Tensor4D): Promise<MapStats> {
  const [n, h, w, c] = t.shape;
  const v = await t.data();
  let s = 0;
  let a = 0;
  for (let i = 0; i < v.length; i++) {
    s += v[i]!;
    a += Math.abs(v[i]!);
  }
  return { shape: [n, c, h, w], sum: s, abs_sum: a, mean: s / v.length };
}

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        input: { type: 'string' },
        shape: { type: 'string' },
        json: { type: 'boolean' },
        backend: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length !== 2) throw new CliError(`expected <config> and <checkpoint>\n\n${HELP}`);
    if (!values.input || !values.shape) throw new CliError(`--input and --shape are required\n\n${HELP}`);
    const shape = values.shape.split(',').map((s) => Number(s.trim()));
    if (shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d <= 0) || shape[1] !== 3) {
      throw new CliError(`--shape must be N,3,H,W with positive integers, got '${values.shape}'`);
    }
    const [n, c, h, w] = shape as [number, number, number, number];
    let bytes: Buffer;
    try {
      bytes = readFileSync(values.input);
    } catch (e) {
      throw new CliError(`cannot read --input '${values.input}': ${(e as Error).message}`);
    }
    if (bytes.byteLength !== n * c * h * w * 4) {
      throw new CliError(`--input has ${bytes.byteLength} bytes but --shape ${values.shape} needs ${n * c * h * w * 4} (float32)`);
    }
    const cfg = loadConfig(positionals[0]!);
    await setupBackend(values.backend);
    const model = buildAndLoad(cfg, positionals[1]!);
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(data, [n, c, h, w]), [0, 2, 3, 1])) as tf.Tensor4D;
    const cs = model.backbone.forward(x);
    const ps = model.neck ? model.neck.forward(cs) : [];
    const out: { backbone: Record<string, MapStats>; neck: Record<string, MapStats> } = { backbone: {}, neck: {} };
    for (let i = 0; i < cs.length; i++) out.backbone[`C${model.backbone.outIndices[i]! + 2}`] = await mapStats(cs[i]!);
    for (let i = 0; i < ps.length; i++) out.neck[`P${i + 2}`] = await mapStats(ps[i]!);
    tf.dispose([x, ...cs, ...ps]);
    model.dispose();
    if (values.json) {
      console.log(JSON.stringify(out, null, 2));
    } else {
      for (const [group, maps] of Object.entries(out)) {
        for (const [name, s] of Object.entries(maps)) {
          console.log(`${group}.${name}  shape=[${s.shape.join(', ')}]  sum=${s.sum}  abs_sum=${s.abs_sum}  mean=${s.mean}`);
        }
      }
    }
    return 0;
  } catch (e) {
    console.error(`detstudio features: ${(e as Error).message}`);
    return 1;
  }
}
