/**
 * Filled-polygon rasterisation as Pillow's `ImageDraw.polygon(xy, fill=v)` does it (no anti-aliasing,
 * boundary pixels included, scan-line fill in float32 with Pillow's rounding of span ends), and
 * cityscapesScripts' `json2instanceImg` / `json2labelImg` on top of it.
 *
 * Reimplemented from reading Pillow 9.4's `libImaging/Draw.c` (Debian 12's python3-pil, which made the
 * reference images): edge table, merged horizontal runs, scan-line spans, the corner-join step with its
 * quirks, reversed spans drawn. Checked pixel-for-pixel against every fixture `instanceIds.png` and
 * `labelIds.png` (newer Pillow differs on a few corner pixels).
 *
 * @see https://github.com/mcordts/cityscapesScripts/blob/master/cityscapesscripts/preparation/json2instanceImg.py
 */
import { resolvePolygonLabel } from './cityscapes_labels.ts';

const f32 = Math.fround;

interface Edge {
  x0: number;
  y0: number;
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
  /** Inverse slope (float32). */
  dx: number;
}

function makeEdge(x0: number, y0: number, x1: number, y1: number): Edge {
  return {
    x0,
    y0,
    xmin: Math.min(x0, x1),
    xmax: Math.max(x0, x1),
    ymin: Math.min(y0, y1),
    ymax: Math.max(y0, y1),
    dx: y0 === y1 ? 0 : f32(f32(x1 - x0) / (y1 - y0)),
  };
}

/** x of an edge at row y, in float32 as C evaluates `(y - y0) * dx + x0`. */
function edgeX(e: Edge, y: number): number {
  return f32(f32(f32(y - e.y0) * e.dx) + e.x0);
}

/** C `roundf`: half away from zero. */
function roundf(v: number): number {
  return v >= 0 ? Math.floor(v + 0.5) : -Math.floor(-v + 0.5);
}
/** Span start: round half up (away from zero), computed with a float32 `+ 0.5F`. */
function roundUp(v: number): number {
  return v >= 0 ? Math.floor(f32(v + 0.5)) : -Math.floor(f32(Math.abs(v) + 0.5));
}
/** Span end: round half down (towards zero). */
function roundDown(v: number): number {
  return v >= 0 ? Math.ceil(f32(v - 0.5)) : -Math.ceil(f32(Math.abs(v) - 0.5));
}

/** A writable single-channel raster (row-major). */
export interface Raster {
  width: number;
  height: number;
  data: Int32Array | Uint16Array | Uint8Array;
}

function hline(r: Raster, x0: number, y: number, x1: number, value: number): void {
  if (y < 0 || y >= r.height) return;
  if (x0 > x1) [x0, x1] = [x1, x0]; // Pillow 9.x swaps reversed spans (and so draws them)
  if (x0 < 0) x0 = 0;
  else if (x0 >= r.width) return;
  if (x1 < 0) return;
  if (x1 >= r.width) x1 = r.width - 1;
  if (x0 <= x1) r.data.fill(value, y * r.width + x0, y * r.width + x1 + 1);
}

/**
 * Fills a polygon with `value` (Pillow `ImageDraw.polygon(points, fill=value)`); points are integer
 * pixel coordinates and may lie outside the raster (clipped).
 *
 * @param points Vertices `[[x, y], ...]` (truncated to integers as Pillow 9.x does).
 */
export function fillPolygon(r: Raster, points: ReadonlyArray<readonly [number, number]>, value: number): void {
  const count = points.length;
  if (count === 0) return;
  const xy = points.map(([x, y]) => [Math.trunc(x), Math.trunc(y)] as const); // Pillow 9.x: (int) cast
  // Build the edge list; consecutive horizontal segments running the same way are merged.
  const edges: Edge[] = [];
  let i = 0;
  for (; i < count - 1; i++) {
    const [x0, y0] = xy[i]!;
    const [x1, y1] = xy[i + 1]!;
    if (y0 === y1 && i !== 0 && y0 === xy[i - 1]![1] && edges.length > 0) {
      const last = edges[edges.length - 1]!;
      const px = xy[i - 1]![0];
      if (x1 > x0 && x0 > px) {
        last.xmax = x1;
        continue;
      } else if (x1 < x0 && x0 < px) {
        last.xmin = x1;
        continue;
      }
    }
    edges.push(makeEdge(x0, y0, x1, y1));
  }
  const [lx, ly] = xy[i]!;
  if (lx !== xy[0]![0] || ly !== xy[0]![1]) edges.push(makeEdge(lx, ly, xy[0]![0], xy[0]![1]));
  scanFill(r, edges, value);
}

function scanFill(r: Raster, e: Edge[], value: number): void {
  if (e.length === 0) return;
  let ymin = r.height - 1;
  let ymax = 0;
  const table: Edge[] = [];
  for (const edge of e) {
    if (ymin > edge.ymin) ymin = edge.ymin;
    if (ymax < edge.ymax) ymax = edge.ymax;
    if (edge.ymin === edge.ymax) {
      hline(r, edge.xmin, edge.ymin, edge.xmax, value);
      continue;
    }
    table.push(edge);
  }
  if (ymin < 0) ymin = 0;
  if (ymax > r.height) ymax = r.height;
  // One float32 buffer for all rows, as in Pillow: the corner join writes into it by edge index,
  // so values can carry over between rows; reproducing that keeps the output identical.
  const xx = new Float32Array(table.length * 2);
  for (let y = ymin; y <= ymax; y++) {
    let j = 0;
    for (let i = 0; i < table.length; i++) {
      const cur = table[i]!;
      if (y < cur.ymin || y > cur.ymax) continue;
      xx[j++] = edgeX(cur, y);
      if (y === cur.ymax && y < ymax) {
        // Pillow duplicates the end point of an edge ending on this row.
        xx[j] = xx[j - 1]!;
        j++;
      } else if (cur.dx !== 0 && roundf(xx[j - 1]!) === xx[j - 1]) {
        joinCorner(table, i, cur, y, ymax, xx, j);
      }
    }
    const spans = Array.from(xx.subarray(0, j)).sort((a, b) => a - b);
    xx.set(spans);
    for (let k = 1; k < j; k += 2) hline(r, roundUp(spans[k - 1]!), y, roundDown(spans[k]!), value);
  }
}

/**
 * Pillow 9.x's "connect discontiguous corners" step, including its indexing of the span buffer by
 * edge index (what Pillow 9.4, the Debian 12 build that made the reference images, does).
 */
function joinCorner(table: Edge[], i: number, cur: Edge, y: number, ymax: number, xx: Float32Array, j: number): void {
  for (let k = 0; k < i; k++) {
    const other = table[k]!;
    if ((cur.dx > 0 && other.dx <= 0) || (cur.dx < 0 && other.dx >= 0)) continue;
    const joins = (y === cur.ymin && y === other.ymin) || (y === cur.ymax && y === other.ymax);
    if (!joins || xx[j - 1] !== edgeX(other, y)) continue;
    const offset = y === ymax ? -1 : 1;
    const adj = edgeX(cur, y + offset);
    const adjOther = edgeX(other, y + offset);
    if (y === cur.ymax) {
      xx[k] = cur.dx > 0 ? Math.max(adj, adjOther) + 1 : Math.min(adj, adjOther) - 1;
    } else {
      xx[k] = cur.dx > 0 ? Math.min(adj, adjOther) : Math.max(adj, adjOther) + 1;
    }
    break;
  }
}

/** One object of a `_gtFine_polygons.json`. */
export interface CityscapesPolygonObject {
  label: string;
  polygon: Array<[number, number]>;
  deleted?: number | boolean;
}

/** Contents of a `_gtFine_polygons.json`. */
export interface CityscapesPolygonFile {
  imgWidth: number;
  imgHeight: number;
  objects: CityscapesPolygonObject[];
}

/** Thrown for a polygon label that cityscapesScripts does not know (it aborts too). */
export class UnknownLabelError extends Error {
  constructor(readonly label: string) {
    super(`unknown Cityscapes label '${label}'`);
    this.name = 'UnknownLabelError';
  }
}

/**
 * cityscapesScripts `json2instanceImg(..., 'ids')`: int canvas, background 0, objects in list order,
 * deleted ones skipped, groups get the bare label id (crowd), instances `id * 1000 + n[label]`,
 * negative ids (license plate) not drawn.
 *
 * @returns Instance ids, row-major `(imgHeight, imgWidth)`.
 */
export function polygonsToInstanceIds(ann: CityscapesPolygonFile): Int32Array {
  const r: Raster = { width: ann.imgWidth, height: ann.imgHeight, data: new Int32Array(ann.imgWidth * ann.imgHeight) };
  const counters = new Map<string, number>();
  for (const obj of ann.objects) {
    if (obj.deleted) continue;
    const res = resolvePolygonLabel(obj.label);
    if (!res) throw new UnknownLabelError(obj.label);
    const { label, isGroup } = res;
    let id = label.id;
    if (label.hasInstances && !isGroup) {
      const n = counters.get(label.name) ?? 0;
      id = label.id * 1000 + n;
      counters.set(label.name, n + 1);
    }
    if (id < 0) continue;
    fillPolygon(r, obj.polygon, id);
  }
  return r.data as Int32Array;
}

/**
 * cityscapesScripts `json2labelImg(..., 'ids')`: 8-bit canvas, background 0, value = label id
 * (groups → base label), deleted and negative ids skipped.
 */
export function polygonsToLabelIds(ann: CityscapesPolygonFile): Uint8Array {
  const r: Raster = { width: ann.imgWidth, height: ann.imgHeight, data: new Uint8Array(ann.imgWidth * ann.imgHeight) };
  for (const obj of ann.objects) {
    if (obj.deleted) continue;
    const res = resolvePolygonLabel(obj.label);
    if (!res) throw new UnknownLabelError(obj.label);
    if (res.label.id < 0) continue;
    fillPolygon(r, obj.polygon, res.label.id);
  }
  return r.data as Uint8Array;
}
