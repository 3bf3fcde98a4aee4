/**
 * `detstudio eval --ann gt.json --results dt.json --metric bbox|segm [--max-dets 100,300,1000]
 * [--json] [--cocometric]`: COCO evaluation identical to pycocotools 2.0.11. The results file is
 * taken as pycocotools' `loadRes` takes it; `--cocometric` evaluates exactly as MMDetection's
 * CocoMetric (maxDets 100,300,1000 and, for segm, every detection's bbox dropped first so areas
 * come from the masks). Prints the 12 stats in pycocotools' order and a per-category table, or
 * with `--json` `{"stats": [12], "per_category": {"<id>": {"ap", "ap50", "ap75", "ar"}}}`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { COCO, parsePythonJson } from '../../eval/coco.ts';
import { COCOeval, formatFixed, type IouType } from '../../eval/cocoeval.ts';

/** One-line summary for `detstudio --help`. */
export const summary = 'COCO bbox/segm evaluation identical to pycocotools (and MMDetection CocoMetric with --cocometric)';

const USAGE = `Usage: detstudio eval --ann gt.json --results dt.json --metric bbox|segm [options]

  --ann FILE          COCO ground truth (instances json)
  --results FILE      detections in COCO results format (list of {image_id, category_id, score, bbox|segmentation})
  --metric M          bbox or segm
  --max-dets LIST     comma-separated maxDets (default MMDetection's 100,300,1000; 1,10,100 = plain pycocotools)
  --cocometric        evaluate exactly as MMDetection's CocoMetric (maxDets 100,300,1000; segm: bboxes dropped first)
  --json              print {"stats": [...12], "per_category": {"<category id>": {"ap","ap50","ap75","ar"}}}
  -h, --help          this help`;

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} file ${path}: ${(err as Error).message}`);
  }
  try {
    return parsePythonJson(text);
  } catch (err) {
    throw new Error(`${what} file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

function parseMaxDets(s: string): number[] {
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length < 3 || v.some((x) => !Number.isInteger(x) || x <= 0)) {
    throw new Error(`--max-dets must list at least 3 positive integers (e.g. 100,300,1000), got '${s}'`);
  }
  return v;
}

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ann: { type: 'string' },
        results: { type: 'string' },
        metric: { type: 'string' },
        'max-dets': { type: 'string' },
        cocometric: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`eval: ${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  const o = parsed.values;
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  if (!o.ann || !o.results || !o.metric) {
    console.error(`eval: --ann, --results and --metric are required\n\n${USAGE}`);
    return 1;
  }
  if (o.metric !== 'bbox' && o.metric !== 'segm') {
    console.error(`eval: --metric must be bbox or segm, got '${o.metric}'`);
    return 1;
  }
  const iouType: IouType = o.metric;
  try {
    let maxDets = o['max-dets'] !== undefined ? parseMaxDets(o['max-dets']) : [100, 300, 1000];
    if (o.cocometric) {
      if (o['max-dets'] !== undefined && maxDets.join(',') !== '100,300,1000') {
        throw new Error('--cocometric fixes maxDets to 100,300,1000; drop --max-dets');
      }
      maxDets = [100, 300, 1000];
    }
    const gt = new COCO(readJson(o.ann, 'annotation'));
    let dets = readJson(o.results, 'results');
    if (o.cocometric && iouType === 'segm' && Array.isArray(dets)) {
      dets = dets.map((d: unknown) => {
        if (d === null || typeof d !== 'object' || Array.isArray(d)) return d;
        const { bbox: _dropped, ...rest } = d as Record<string, unknown>;
        return rest;
      });
    }
    const E = new COCOeval(gt, gt.loadRes(dets), iouType);
    E.params.maxDets = maxDets;
    E.evaluate();
    E.accumulate();
    const stats = E.summarize();
    const perCat = E.perCategory();
    if (o.json) {
      const per: Record<string, { ap: number | null; ap50: number | null; ap75: number | null; ar: number | null }> = {};
      for (const [id, c] of perCat) per[String(id)] = { ap: c.ap, ap50: c.ap50, ap75: c.ap75, ar: c.ar };
      console.log(JSON.stringify({ stats, per_category: per }));
      return 0;
    }
    console.log(`Evaluate annotation type *${iouType}*`);
    for (const line of E.summaryLines()) console.log(line);
    console.log('');
    const rows = [...perCat].map(([id, c]) => [
      String(id),
      gt.cats.get(id)?.name ?? '',
      ...[c.ap, c.ap50, c.ap75, c.ar].map((v) => (v === null ? '-' : formatFixed(v, 3))),
    ]);
    const head = ['id', 'category', 'AP', 'AP50', 'AP75', `AR@${E.params.maxDets[E.params.maxDets.length - 1]}`];
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const fmt = (r: string[]): string => r.map((s, c) => (c < 2 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
    console.log(fmt(head));
    for (const r of rows) console.log(fmt(r));
    return 0;
  } catch (err) {
    console.error(`eval: ${(err as Error).message}`);
    return 1;
  }
}
