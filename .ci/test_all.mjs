#!/usr/bin/env node
// `npm test`: runs every test tier in order and prints a final `N passed, N failed` line summing them.
//   0. typecheck — `tsc --noEmit` (TypeScript strict over src, e2e, bench, scripts)
//   1. unit      — `vitest run` (Node)
//   2. gpu       — `vitest run -c vitest.gpu.config.ts` (WebGPU kernels on Dawn; only if that config exists)
//   3. e2e       — `playwright test` (system Chromium against the production build)
// Each tier's own output is streamed unchanged; a failing tier does not stop the later ones, but the
// exit code is non-zero if any tier failed. Select tiers with e.g. `npm test -- unit e2e`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const TIERS = [
  { name: 'typecheck', cmd: ['npx', 'tsc', '--noEmit', '-p', 'tsconfig.json'] },
  { name: 'unit', cmd: ['npx', 'vitest', 'run'] },
  { name: 'gpu', cmd: ['npx', 'vitest', 'run', '-c', 'vitest.gpu.config.ts'], when: () => existsSync('vitest.gpu.config.ts') },
  { name: 'e2e', cmd: ['npx', 'playwright', 'test'] },
];

const wanted = process.argv.slice(2);
// Strip ANSI colours before parsing the summaries.
const plain = (s) => s.replace(/\u001b\[[0-9;]*m/g, '');

function run(cmd) {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['inherit', 'pipe', 'pipe'], env: process.env });
    let out = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      out += d;
    });
    child.stderr.on('data', (d) => {
      process.stderr.write(d);
      out += d;
    });
    child.on('close', (code) => resolve({ code: code ?? 1, out: plain(out) }));
  });
}

/** Counts from a Vitest (`Tests  3 failed | 40 passed (43)`) or Playwright (`12 passed`, `1 failed`, `1 flaky`) summary. */
function counts(name, out) {
  let passed = 0;
  let failed = 0;
  if (name === 'typecheck') {
    // tsc prints nothing on success; every `error TS` line is one failure.
    failed = (out.match(/error TS\d+/g) ?? []).length;
    passed = failed === 0 ? 1 : 0;
  } else if (name === 'e2e') {
    const grab = (word) => [...out.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\b`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
    passed = grab('passed') + grab('flaky');
    failed = grab('failed') + grab('timed out');
  } else {
    const line = out.split('\n').find((l) => /^\s*Tests\s+/.test(l));
    if (line) {
      passed = Number(/(\d+) passed/.exec(line)?.[1] ?? 0);
      failed = Number(/(\d+) failed/.exec(line)?.[1] ?? 0);
    }
  }
  return { passed, failed };
}

let totalPassed = 0;
let totalFailed = 0;
const lines = [];
for (const tier of TIERS) {
  if (wanted.length && !wanted.includes(tier.name)) continue;
  if (tier.when && !tier.when()) {
    lines.push(`${tier.name}: skipped (no ${tier.cmd.at(-1)})`);
    continue;
  }
  console.log(`\n=== ${tier.name}: ${tier.cmd.join(' ')}\n`);
  const t0 = Date.now();
  const { code, out } = await run(tier.cmd);
  let { passed, failed } = counts(tier.name, out);
  if (code !== 0 && failed === 0) failed = 1; // the tier broke before reporting (build error, crash)
  totalPassed += passed;
  totalFailed += failed;
  lines.push(`${tier.name}: ${passed} passed, ${failed} failed (exit ${code}, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
console.log(`\n${lines.join('\n')}`);
console.log(`${totalPassed} passed, ${totalFailed} failed`);
process.exitCode = totalFailed > 0 ? 1 : 0;
