/** Registry public API. */
export { Registry, RegistryError } from './registry';
export type { Builder, ConfigDict } from './registry';
export * from './registries';
