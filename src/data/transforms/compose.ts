/**
 * Builds transforms from config dicts by their mmdet `type` names (a local map; `registerDataTypes`
 * in `../register.ts` signs them into the project's TRANSFORMS registry too) and runs them in order
 * (mmcv `Compose`: a step returning `null` drops the sample).
 */
import { PackDetInputs, type PackedInputs } from './formatting.ts';
import { nativeResizeSpan, runNativeResizeSpan } from './browser_fast_path.ts';
import { RandomFlip } from './flip.ts';
import { LoadAnnotations, LoadImageFromFile, type LoadingContext } from './loading.ts';
import { RandomResize, Resize } from './resize.ts';
import type { Results, Rng, Transform } from './types.ts';

/** What the builders get besides the config: file access, image decoder, random source. */
export interface PipelineContext extends LoadingContext {
  /** Random source of RandomFlip / RandomResize (default `Math.random`). */
  rng?: Rng;
}

type TransformCfg = Record<string, unknown> & { type: string };
type TransformBuilder = (cfg: Record<string, unknown>, ctx: PipelineContext) => Transform;

/** The supported transform types, by mmdet `type` name. */
export const TRANSFORM_BUILDERS: Readonly<Record<string, TransformBuilder>> = {
  LoadImageFromFile: (cfg, ctx) => new LoadImageFromFile(cfg, ctx),
  LoadAnnotations: (cfg) => new LoadAnnotations(cfg),
  Resize: (cfg) => new Resize(cfg),
  RandomResize: (cfg, ctx) => new RandomResize(cfg as never, ctx.rng),
  RandomFlip: (cfg, ctx) => new RandomFlip(cfg, ctx.rng),
  PackDetInputs: (cfg) => new PackDetInputs(cfg),
};

/** An unknown transform `type`; the message names the registry and the known types. */
export class UnknownTransformError extends Error {
  constructor(type: string) {
    super(
      `${type} is not in the transform registry (scope mmdet). Supported: ${Object.keys(TRANSFORM_BUILDERS).join(', ')}. ` +
        'Check the spelling of `type` in the pipeline.',
    );
    this.name = 'KeyError';
  }
}

/** Builds one transform from `{type, ...kwargs}`. */
export function buildTransform(cfg: TransformCfg, ctx: PipelineContext): Transform {
  const { type, ...rest } = cfg;
  const build = TRANSFORM_BUILDERS[type];
  if (!build) throw new UnknownTransformError(type);
  return build(rest, ctx);
}

/** `resize` then `flip` with the horizontal mirror done inside the resize (see {@link Compose.run}). */
function resizeAndFlip(resize: Resize | RandomResize, flip: RandomFlip, results: Results): Results {
  const mirror = (dir: string | null): boolean => dir === 'horizontal' || dir === 'diagonal';
  if (resize instanceof RandomResize) {
    const scale = resize.randomScale();
    const dir = flip.chooseDirection();
    return flip.applyDirection(resize.resizeTo(results, scale, mirror(dir)), dir, mirror(dir));
  }
  const dir = flip.chooseDirection();
  return flip.applyDirection(resize.transform(results, mirror(dir)), dir, mirror(dir));
}

/** mmcv `Compose`. */
export class Compose {
  readonly transforms: Transform[];

  constructor(pipeline: ReadonlyArray<TransformCfg | Transform>, ctx: PipelineContext) {
    this.transforms = pipeline.map((t) => ('transform' in t && typeof t.transform === 'function' ? (t as Transform) : buildTransform(t as TransformCfg, ctx)));
  }

  /**
   * Runs every transform; `null` when one drops the sample. A `Resize` / `RandomResize` directly
   * followed by a `RandomFlip` runs fused: the random draws happen in the same order (scale, then
   * direction) and a horizontal mirror is done by the resize's output indexing instead of a second
   * pass over the image, so the results equal running the two steps one after the other.
   * A `LoadImageFromFile` whose decoder resizes natively (the browser's, see
   * `browser_fast_path.ts`) runs together with the following (`LoadAnnotations`,) `Resize` /
   * `RandomResize` (and `RandomFlip`): same draws and keys, pixels within a few units of OpenCV's.
   */
  async run(results: Results): Promise<Results | null> {
    let r: Results | null = results;
    const ts = this.transforms;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      const next = ts[i + 1];
      const span = t instanceof LoadImageFromFile ? nativeResizeSpan(ts, i) : null;
      if (span) {
        const out = await runNativeResizeSpan(span, r, i);
        r = out.results;
        i = out.next - 1;
      } else if ((t instanceof Resize || t instanceof RandomResize) && next instanceof RandomFlip) {
        r = resizeAndFlip(t, next, r);
        i++;
      } else r = await t.transform(r);
      if (r === null) return null;
    }
    return r;
  }

  /** Runs a pipeline ending in `PackDetInputs` and returns the packed sample. */
  async pack(results: Results): Promise<PackedInputs | null> {
    const r = await this.run(results);
    if (r === null) return null;
    if (!('inputs' in r) || !('data_samples' in r)) throw new Error('Compose.pack: the pipeline does not end with PackDetInputs');
    return r as unknown as PackedInputs;
  }
}
