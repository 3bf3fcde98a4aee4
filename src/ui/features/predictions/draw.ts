/**
 * Draws an image with its predictions (masks, boxes, labels and scores in class colours) or its
 * ground truth on a 2D canvas. Coordinates arrive in frame pixels (the predicted image) and are
 * scaled by `scale`, so labels stay sharp at any zoom and the PNG export uses the same code.
 */
import type { GtObject, ImageErrors } from '../../../eval/error_analysis.ts';
import type { MaskPatch } from '../../../eval/mask.ts';
import type { ImagePrediction } from '../../../worker/predict_protocol.ts';

/** What to draw. */
export interface DrawOptions {
  mode: 'pred' | 'gt';
  threshold: number;
  showMasks: boolean;
  showBoxes: boolean;
  /** Error analysis at the current threshold, to mark false positives and missed objects. */
  errors: ImageErrors | null;
  classes: readonly string[];
  palette: ReadonlyArray<readonly [number, number, number]>;
  /** Frame pixel → canvas pixel. */
  scale: number;
  /** Label font size in canvas pixels. */
  fontPx: number;
}

const FP_COLOUR = '#f85149';
const MISSED_COLOUR = '#ffb547';

function rgb(c: readonly [number, number, number] | undefined, a = 1): string {
  const [r, g, b] = c ?? [200, 200, 200];
  return a === 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${a})`;
}

function label(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, bg: string, fontPx: number): void {
  ctx.font = `600 ${fontPx}px system-ui, sans-serif`;
  const w = ctx.measureText(text).width + fontPx * 0.6;
  const h = fontPx * 1.35;
  const ty = y - h < 0 ? y : y - h;
  ctx.fillStyle = bg;
  ctx.fillRect(x, ty, w, h);
  ctx.fillStyle = '#fff';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, x + fontPx * 0.3, ty + h / 2);
}

function maskLayer(pred: ImagePrediction, visible: number[], palette: DrawOptions['palette']): ImageData | null {
  if (!pred.masks) return null;
  const { width: W, height: H } = pred;
  const img = new ImageData(W, H);
  const px = img.data;
  // Lowest score first so the most confident mask ends on top.
  for (let k = visible.length - 1; k >= 0; k--) {
    const i = visible[k]!;
    const m: MaskPatch | undefined = pred.masks[i];
    if (!m || !m.w) continue;
    const [r, g, b] = palette[pred.labels[i]!] ?? [200, 200, 200];
    for (let y = 0; y < m.h; y++) {
      const yy: number = m.y + y;
      if (yy < 0 || yy >= H) continue;
      for (let x = 0; x < m.w; x++) {
        if (!m.data[y * m.w + x]) continue;
        const xx: number = m.x + x;
        if (xx < 0 || xx >= W) continue;
        const o = (yy * W + xx) * 4;
        px[o] = r;
        px[o + 1] = g;
        px[o + 2] = b;
        px[o + 3] = 120;
      }
    }
  }
  return img;
}

/**
 * Draws the scene and returns how many detections (or ground-truth objects) were drawn.
 *
 * Args:
 *   ctx: the target (its canvas is `frame * scale` large).
 *   image: the decoded image, drawn to fill the frame.
 *   pred: the prediction (frame size and detections).
 *   gt: ground truth, for the `gt` mode and missed objects.
 *   o: options.
 */
export function drawScene(ctx: CanvasRenderingContext2D, image: CanvasImageSource | null, pred: ImagePrediction, gt: readonly GtObject[] | undefined, o: DrawOptions): number {
  const s = o.scale;
  const W = pred.width * s;
  const H = pred.height * s;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.fillStyle = '#0b0e12';
  ctx.fillRect(0, 0, W, H);
  if (image) {
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(image, 0, 0, W, H);
  }
  const lw = Math.max(1.5, o.fontPx / 6);
  if (o.mode === 'gt') {
    for (const g of gt ?? []) {
      const c = g.iscrowd ? 'rgba(200,200,200,0.9)' : rgb(o.palette[g.label]);
      ctx.setLineDash(g.iscrowd ? [6, 4] : []);
      ctx.strokeStyle = c;
      ctx.lineWidth = lw;
      ctx.strokeRect(g.bbox[0]! * s, g.bbox[1]! * s, g.bbox[2]! * s, g.bbox[3]! * s);
      ctx.setLineDash([]);
      label(ctx, `${o.classes[g.label] ?? g.label}${g.iscrowd ? ' (crowd)' : ''}`, g.bbox[0]! * s, g.bbox[1]! * s, c, o.fontPx);
    }
    return gt?.length ?? 0;
  }
  const visible: number[] = [];
  for (let i = 0; i < pred.scores.length; i++) if (pred.scores[i]! >= o.threshold) visible.push(i);
  if (o.showMasks) {
    const layer = maskLayer(pred, visible, o.palette);
    if (layer) {
      const off = new OffscreenCanvas(pred.width, pred.height);
      off.getContext('2d')!.putImageData(layer, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(off, 0, 0, W, H);
    }
  }
  if (o.showBoxes) {
    for (let k = visible.length - 1; k >= 0; k--) {
      const i = visible[k]!;
      const [x1, y1, x2, y2] = [pred.bboxes[i * 4]! * s, pred.bboxes[i * 4 + 1]! * s, pred.bboxes[i * 4 + 2]! * s, pred.bboxes[i * 4 + 3]! * s];
      const verdict = o.errors?.detections[i];
      const fp = verdict === 'fp';
      const c = fp ? FP_COLOUR : rgb(o.palette[pred.labels[i]!]);
      ctx.setLineDash(fp ? [6, 4] : []);
      ctx.strokeStyle = c;
      ctx.lineWidth = lw;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.setLineDash([]);
      const name = o.classes[pred.labels[i]!] ?? `class ${pred.labels[i]}`;
      label(ctx, `${fp ? 'FP · ' : ''}${name} ${pred.scores[i]!.toFixed(2)}`, x1, y1, c, o.fontPx);
    }
  }
  if (o.errors && gt) {
    for (const g of o.errors.missed) {
      const b = gt[g]!.bbox;
      ctx.setLineDash([3, 3]);
      ctx.strokeStyle = MISSED_COLOUR;
      ctx.lineWidth = lw;
      ctx.strokeRect(b[0]! * s, b[1]! * s, b[2]! * s, b[3]! * s);
      ctx.setLineDash([]);
      label(ctx, `missed · ${o.classes[gt[g]!.label] ?? gt[g]!.label}`, b[0]! * s, (b[1]! + b[3]!) * s + o.fontPx * 1.35, 'rgba(120,80,0,0.92)', o.fontPx);
    }
  }
  return visible.length;
}

/** Starts a download of `blob` as `name`. */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
