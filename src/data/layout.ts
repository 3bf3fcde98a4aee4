/**
 * Recognises what a dropped folder or zip holds: the Cityscapes layout
 * (`[cityscapes/]leftImg8bit/<split>/<city>/*_leftImg8bit.png` + `gtFine/...`) or a COCO layout (an
 * annotation json with `images` + a folder holding the images it names).
 */
import type { CityscapesLayout } from './cityscapes_converter.ts';

/** What {@link detectLayout} found. */
export type DetectedLayout =
  | ({ kind: 'cityscapes' } & CityscapesLayout)
  | { kind: 'coco'; annotationFiles: string[] }
  | { kind: 'unknown'; reason: string };

const CS_IMG = /^(.*?)leftImg8bit\/([^/]+)\/[^/]+\/[^/]+\.png$/i;

/**
 * Detects the layout from the path list alone. Cityscapes wins when `leftImg8bit/<split>/<city>/*.png`
 * files exist next to a `gtFine/` folder (the prefix with most images is used, e.g. `''` or
 * `cityscapes/`); otherwise every `.json` that is not a Cityscapes polygon file is a COCO candidate
 * (confirmed by reading it, see `importDataset`).
 */
export function detectLayout(paths: readonly string[]): DetectedLayout {
  const byPrefix = new Map<string, Set<string>>();
  const counts = new Map<string, number>();
  for (const p of paths) {
    const m = CS_IMG.exec(p);
    if (!m || (m[1] !== '' && !m[1]!.endsWith('/'))) continue;
    const prefix = m[1]!;
    if (!byPrefix.has(prefix)) byPrefix.set(prefix, new Set());
    byPrefix.get(prefix)!.add(m[2]!);
    counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
  }
  let best: string | null = null;
  for (const [prefix, n] of counts) {
    const hasGt = paths.some((p) => p.startsWith(`${prefix}gtFine/`));
    if (!hasGt) continue;
    if (best === null || n > counts.get(best)! || (n === counts.get(best)! && prefix.length < best.length)) best = prefix;
  }
  if (best !== null) {
    const order = ['train', 'val', 'test'];
    const splits = [...byPrefix.get(best)!].sort((a, b) => {
      const ia = order.indexOf(a);
      const ib = order.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
    });
    return { kind: 'cityscapes', prefix: best, splits };
  }
  const jsons = paths.filter(
    (p) => p.toLowerCase().endsWith('.json') && !p.endsWith('_polygons.json') && !p.split('/').some((part) => part.startsWith('.')),
  );
  if (jsons.length > 0) return { kind: 'coco', annotationFiles: [...jsons].sort() };
  if (counts.size > 0) return { kind: 'unknown', reason: 'leftImg8bit/ found but no gtFine/ folder beside it' };
  return { kind: 'unknown', reason: 'neither the Cityscapes layout (leftImg8bit/ + gtFine/) nor a COCO annotation json was found' };
}
