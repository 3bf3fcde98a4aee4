/**
 * Registered `type` names for editor completion, taken from the registries themselves (so only
 * types DetStudio can build are offered). Registration modules are imported on first use: they
 * pull in model code, which a config worker should not load before someone completes a `type`.
 */
import { registeredTypeNames } from '../registry/registries.ts';

let cached: Promise<readonly string[]> | null = null;

/** Every registered type name, sorted and de-duplicated. */
export function loadRegisteredTypeNames(): Promise<readonly string[]> {
  cached ??= (async () => {
    const { registerModels } = await import('../models/register.ts');
    registerModels();
    const names = new Set<string>();
    for (const list of Object.values(registeredTypeNames())) for (const n of list) names.add(n);
    return [...names].sort();
  })();
  return cached;
}
