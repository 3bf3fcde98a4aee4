/**
 * `npm run bench [name ...]`: runs every `bench/*.bench.ts` (or the named ones) and prints one JSON
 * object `{ machine, results: { <name>: <what the bench returned> } }` on stdout. Each bench file
 * exports `run(): Promise<Record<string, unknown>>`. Progress goes to stderr.
 */
import { readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.ts$/, '')))
  .sort();

const results: Record<string, unknown> = {};
for (const f of files) {
  const name = f.replace(/\.bench\.ts$/, '');
  process.stderr.write(`bench ${name} ...\n`);
  try {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { run(): Promise<Record<string, unknown>> };
    results[name] = await mod.run();
  } catch (err) {
    results[name] = { error: (err as Error).stack ?? String(err) };
  }
}
const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: +(totalmem() / 2 ** 30).toFixed(1) };
console.log(JSON.stringify({ machine, results }, null, 2));
