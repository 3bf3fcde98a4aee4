#!/usr/bin/env node
// `detstudio` CLI entry: runs the TypeScript sources directly through tsx, so the
// command works right after `npm install` with no build step.
import './register-hooks.mjs';
import { register } from 'tsx/esm/api';

register();
await import('../src/ops/tfjs_register.ts');
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
