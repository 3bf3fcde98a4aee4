/**
 * Every registry of DetStudio in one place, as `mmdet/registry.py` declares them. Model code fills
 * MODELS and TASK_UTILS when `src/models/register.ts` is imported.
 *
 * @see mmdet/registry.py (MMDetection 3.3)
 */
import { Registry } from './registry';

/** Manages backbones, necks, heads, losses, data preprocessors and detectors. */
export const MODELS = new Registry<unknown>('model');
/** Manages anchor generators, box coders, assigners, samplers and IoU calculators. */
export const TASK_UTILS = new Registry<unknown>('task util');
/** Manages data transforms (pipeline steps). */
export const TRANSFORMS = new Registry<unknown>('transform');
/** Manages datasets. */
export const DATASETS = new Registry<unknown>('dataset');
/** Manages evaluation metrics. */
export const METRICS = new Registry<unknown>('metric');
/** Manages runner hooks. */
export const HOOKS = new Registry<unknown>('hook');
/** Manages optimizers. */
export const OPTIMIZERS = new Registry<unknown>('optimizer');
/** Manages optimizer wrappers. */
export const OPTIM_WRAPPERS = new Registry<unknown>('optim_wrapper');
/** Manages parameter schedulers. */
export const PARAM_SCHEDULERS = new Registry<unknown>('parameter scheduler');

/** All registries by name. */
export const REGISTRIES = {
  MODELS,
  TASK_UTILS,
  TRANSFORMS,
  DATASETS,
  METRICS,
  HOOKS,
  OPTIMIZERS,
  OPTIM_WRAPPERS,
  PARAM_SCHEDULERS,
} as const;

/**
 * Registered type names per registry (for editor completion). Import `src/models/register` first so
 * the model types are present.
 */
export function registeredTypeNames(): Record<keyof typeof REGISTRIES, string[]> {
  const out = {} as Record<keyof typeof REGISTRIES, string[]>;
  for (const [k, r] of Object.entries(REGISTRIES)) out[k as keyof typeof REGISTRIES] = r.typeNames;
  return out;
}
