/**
 * Every MMEngine reference case under ../shared/fixtures/config-cases/: the resolved dict must equal
 * `expected.json` by value and tuple-ness (key order too), the pretty text must match
 * `expected.pretty.py` structurally, or the error must have the same class and message.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.ts';
import { NodeFS } from './node_fs.ts';
import { normalizePrettyText, prettyText } from './pretty.ts';
import { resolveConfig } from './loader.ts';
import { toFixtureJSON } from './values.ts';
import { evaluateModule, newBudget } from './evaluator.ts';
import { parsePython } from './parser.ts';
import { PyDict } from './values.ts';

const root = fixturePath('config-cases');
const cases = readdirSync(root).filter((d) => !d.endsWith('.json')).sort();

/** Key order of every dict, recursively (JSON.parse keeps insertion order). */
function keyOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keyOrder);
  if (v && typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, keyOrder(x)]);
  return null;
}

describe('config-cases fixtures', () => {
  it('has the cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });
  for (const c of cases) {
    it(c, () => {
      const dir = join(root, c);
      const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { entry: string; cfg_options?: string[] };
      const entry = join(dir, spec.entry);
      const res = resolveConfig(entry, new NodeFS(), { cfgOptions: spec.cfg_options });
      if (existsSync(join(dir, 'expected-error.txt'))) {
        const want = readFileSync(join(dir, 'expected-error.txt'), 'utf8').trim();
        expect(res.ok).toBe(false);
        if (res.ok) return;
        const caseDir = join(dir, spec.entry, '..');
        const got = `${res.error.name}: ${res.error.message}`.split(caseDir).join('<CASE>');
        expect(got).toBe(want);
        expect(res.error.line).toBeGreaterThan(0);
        return;
      }
      expect(res.ok, res.ok ? '' : `${res.error.name}: ${res.error.message} at ${res.error.file}:${res.error.line}`).toBe(true);
      if (!res.ok) return;
      const want = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
      const got = toFixtureJSON(res.cfg);
      expect(got).toEqual(want);
      expect(keyOrder(got)).toEqual(keyOrder(want));
      const pretty = readFileSync(join(dir, 'expected.pretty.py'), 'utf8');
      expect(normalizePrettyText(prettyText(res.cfg))).toBe(normalizePrettyText(pretty));
      // the pretty text is valid Python that evaluates back to the same config
      const back = evaluateModule(parsePython(prettyText(res.cfg)), { mode: 'classic', budget: newBudget() });
      const d = new PyDict([...back.globals]);
      expect(toFixtureJSON(d)).toEqual(toFixtureJSON(new PyDict([...res.cfg.entries()].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)))));
    });
  }
});
