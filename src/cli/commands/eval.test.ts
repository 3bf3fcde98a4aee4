import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fixturePath, readFixtureJson } from '../../testing/fixtures';
import { run } from './eval';

interface Variant {
  stats: number[];
  per_category: Record<string, { ap: number | null; ap50: number | null; ap75: number | null; ar: number | null }>;
}

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await run(argv);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

afterEach(() => vi.restoreAllMocks());

const gt = fixturePath('coco-eval', 'case_02', 'gt.json');
const dt = fixturePath('coco-eval', 'case_02', 'dt.json');
const expected = readFixtureJson<Record<string, Variant>>('coco-eval', 'case_02', 'expected.json');

describe('detstudio eval', () => {
  for (const [args, key] of [
    [['--metric', 'bbox', '--max-dets', '1,10,100'], 'bbox'],
    [['--metric', 'bbox'], 'bbox_mmdet'],
    [['--metric', 'segm'], 'segm_mmdet'],
    [['--metric', 'segm', '--cocometric'], 'segm_cocometric'],
  ] as const) {
    it(`--json ${args.join(' ')} equals pycocotools' ${key}`, async () => {
      const r = await capture(['--ann', gt, '--results', dt, ...args, '--json']);
      expect(r.code).toBe(0);
      const got = JSON.parse(r.out) as { stats: number[]; per_category: Variant['per_category'] };
      got.stats.forEach((v, i) => expect(Math.abs(v - expected[key].stats[i])).toBeLessThanOrEqual(1e-9));
      expect(Object.keys(got.per_category).sort()).toEqual(Object.keys(expected[key].per_category).sort());
      for (const [id, want] of Object.entries(expected[key].per_category)) {
        for (const f of ['ap', 'ap50', 'ap75', 'ar'] as const) {
          const g = got.per_category[id][f];
          if (want[f] === null) expect(g).toBeNull();
          else expect(Math.abs((g as number) - (want[f] as number))).toBeLessThanOrEqual(1e-9);
        }
      }
    });
  }

  it('prints the 12 stats in pycocotools format and a per-category table', async () => {
    const r = await capture(['--ann', gt, '--results', dt, '--metric', 'bbox', '--max-dets', '1,10,100']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[1]).toBe(` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = ${expected.bbox.stats[0].toFixed(3)}`);
    expect(lines[12]).toBe(` Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = ${expected.bbox.stats[11].toFixed(3)}`);
    expect(lines.some((l) => /^90\s+cat90\s+-\s+-\s+-\s+-$/.test(l))).toBe(true);
  });

  describe('bad input exits 1 with a message naming the record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'detstudio-eval-'));
    const write = (name: string, text: string): string => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    const gtJson = readFixtureJson<{ images: { id: number }[]; categories: { id: number }[] }>('coco-eval', 'case_02', 'gt.json');
    const img = gtJson.images[0].id;
    const cat = gtJson.categories[0].id;
    const cases: [string, string, RegExp][] = [
      ['malformed JSON', '[{"image_id": 1,', /not valid JSON/],
      ['NaN score', `[{"image_id": ${img}, "category_id": ${cat}, "bbox": [1,2,3,4], "score": NaN}]`, /results\[0\]\.score/],
      ['unknown image', `[{"image_id": -5, "category_id": ${cat}, "bbox": [1,2,3,4], "score": 1}]`, /results\[0\]\.image_id/],
      ['unknown category', `[{"image_id": ${img}, "category_id": 12345, "bbox": [1,2,3,4], "score": 1}]`, /results\[0\]\.category_id/],
      ['missing bbox', `[{"image_id": ${img}, "category_id": ${cat}, "bbox": [1,2,3,4], "score": 1}, {"image_id": ${img}, "category_id": ${cat}, "score": 1}]`, /results\[1\]\.bbox/],
    ];
    for (const [what, text, re] of cases) {
      it(what, async () => {
        const r = await capture(['--ann', gt, '--results', write(`${what.replace(/ /g, '_')}.json`, text), '--metric', 'bbox']);
        expect(r.code).toBe(1);
        expect(r.err).toMatch(re);
      });
    }
    it('usage errors', async () => {
      expect((await capture(['--ann', gt])).code).toBe(1);
      expect((await capture(['--ann', gt, '--results', dt, '--metric', 'keypoints'])).code).toBe(1);
      expect((await capture(['--ann', gt, '--results', dt, '--metric', 'bbox', '--max-dets', '1,10'])).code).toBe(1);
    });
  });
});
