/**
 * Signs the data pipeline's transforms and datasets into the project registries (TRANSFORMS, DATASETS),
 * in one explicit list. Builders take the pipeline context (file reader, image decoder, rng) from a
 * `ctx` key that callers pass through `default_args`: `TRANSFORMS.build(cfg, { ctx })`.
 */
import { DATASETS, TRANSFORMS } from '../registry/registries.ts';
import { buildDataset, DATASET_TYPES } from './datasets.ts';
import { TRANSFORM_BUILDERS, type PipelineContext } from './transforms/compose.ts';

const NO_FILES: PipelineContext = {
  readFile: async (p) => {
    throw new Error(`no file reader was given to the pipeline (reading ${p}); pass default_args {ctx: {readFile}}`);
  },
};

/** Registers every data type once (idempotent). */
export function registerDataTypes(): void {
  for (const [type, build] of Object.entries(TRANSFORM_BUILDERS)) {
    if (TRANSFORMS.has(type)) continue;
    TRANSFORMS.register(type, (args) => {
      const { ctx, ...rest } = args as { ctx?: PipelineContext };
      return build(rest, ctx ?? NO_FILES);
    });
  }
  for (const type of DATASET_TYPES) {
    if (DATASETS.has(type)) continue;
    DATASETS.register(type, (args) => {
      const { ctx, ...rest } = args as { ctx?: PipelineContext };
      return buildDataset({ ...rest, type }, ctx ?? NO_FILES);
    });
  }
}
