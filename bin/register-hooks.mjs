// `node --import ./bin/register-hooks.mjs …`: installs the tfjs ESM resolve hook (see esm-tfjs-hooks.mjs).
// tfjs-core's ES build calls a bare `require('util')` on Node; give ES module scope one.
import { createRequire, register } from 'node:module';

globalThis.require ??= createRequire(import.meta.url);
register('./esm-tfjs-hooks.mjs', import.meta.url);
