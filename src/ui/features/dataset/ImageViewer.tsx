import { useEffect, useRef, useState } from 'react';
import { datasetRequester, selectImage } from '../../../store/dataset_store.ts';
import type { DatasetIndex, ImageView } from '../../../worker/dataset_protocol.ts';

/** Draws the image, its instance overlay, boxes and labels onto `canvas` at `scale`. */
function draw(canvas: HTMLCanvasElement, view: ImageView, palette: Array<[number, number, number]>, scale: number, show: { masks: boolean; boxes: boolean; labels: boolean }): void {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(view.width * scale);
  const h = Math.round(view.height * scale);
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr * scale, 0, 0, dpr * scale, 0, 0);
  ctx.imageSmoothingEnabled = scale < 1;
  ctx.drawImage(view.image, 0, 0);
  if (show.masks) {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(view.overlay, 0, 0);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.font = '600 11px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  for (const inst of view.instances) {
    const [r, g, b] = palette[inst.label] ?? [200, 200, 200];
    const [x, y, bw, bh] = inst.bbox.map((v) => v * scale) as [number, number, number, number];
    if (show.boxes) {
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = `rgb(${Math.min(255, r + 60)},${Math.min(255, g + 60)},${Math.min(255, b + 60)})`;
      ctx.setLineDash(inst.crowd ? [4, 3] : []);
      ctx.strokeRect(x + 0.5, y + 0.5, bw, bh);
      ctx.setLineDash([]);
    }
    if (show.labels) {
      const text = inst.crowd ? `${inst.name} (crowd)` : inst.name;
      const tw = ctx.measureText(text).width + 8;
      const ty = y >= 16 ? y - 16 : y;
      ctx.fillStyle = `rgba(${r},${g},${b},0.9)`;
      ctx.fillRect(x, ty, tw, 16);
      ctx.fillStyle = r * 0.3 + g * 0.59 + b * 0.11 > 150 ? '#111' : '#fff';
      ctx.fillText(text, x + 4, ty + 2);
    }
  }
}

/** The image view: the image with instance masks (palette colours, crowd hatched), boxes and labels. */
export function ImageViewer({ index, imageKey }: { index: DatasetIndex; imageKey: string }) {
  const [view, setView] = useState<ImageView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [show, setShow] = useState({ masks: true, boxes: true, labels: true });
  const canvas = useRef<HTMLCanvasElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const [hostSize, setHostSize] = useState({ width: 800, height: 500 });

  useEffect(() => {
    let live = true;
    setError(null);
    datasetRequester()
      .request('image', { id: index.id, key: imageKey }, { timeoutMs: 60_000 })
      .then((v) => {
        if (live) setView(v);
        else {
          v.image.close();
          v.overlay.close();
        }
      })
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [index.id, imageKey]);
  useEffect(
    () => () => {
      view?.image.close();
      view?.overlay.close();
    },
    [view],
  );
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHostSize({ width: el.clientWidth, height: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    if (!view || !canvas.current) return;
    const scale = Math.min((hostSize.width - 24) / view.width, (hostSize.height - 24) / view.height, 4);
    draw(canvas.current, view, index.palette, Math.max(0.05, scale), show);
  }, [view, hostSize, show, index.palette]);

  const pos = index.images.findIndex((i) => i.key === imageKey);
  const step = (d: number) => {
    const next = index.images[pos + d];
    if (next) selectImage(next.key);
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') selectImage(null);
      else if (e.key === 'ArrowRight') step(1);
      else if (e.key === 'ArrowLeft') step(-1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const entry = index.images[pos];
  return (
    <div className="ds-viewer" data-testid="image-view">
      <div className="panel-head">
        <div className="btn-group">
          <button type="button" className="btn" onClick={() => selectImage(null)} data-testid="viewer-back">
            ← Grid
          </button>
          <button type="button" className="icon-btn" onClick={() => step(-1)} disabled={pos <= 0} aria-label="Previous image">
            ‹
          </button>
          <button type="button" className="icon-btn" onClick={() => step(1)} disabled={pos >= index.images.length - 1} aria-label="Next image">
            ›
          </button>
          <span className="ds-viewer-name">
            {entry?.split} / {entry?.fileName}
          </span>
        </div>
        <div className="btn-group ds-toggles">
          {(['masks', 'boxes', 'labels'] as const).map((k) => (
            <label key={k}>
              <input type="checkbox" checked={show[k]} onChange={() => setShow((s) => ({ ...s, [k]: !s[k] }))} /> {k}
            </label>
          ))}
        </div>
      </div>
      <div className="ds-viewer-body">
        <div className="ds-viewer-canvas" ref={host}>
          {error ? <div className="side-error">{error}</div> : <canvas ref={canvas} data-testid="image-canvas" data-instances={view?.instances.length ?? -1} />}
        </div>
        <aside className="ds-viewer-side">
          <div className="tree-section">
            {entry?.width}×{entry?.height} · {view?.instances.length ?? '…'} annotations
          </div>
          <ul className="ds-inst-list" data-testid="instance-list">
            {view?.instances.map((inst, i) => (
              <li key={i}>
                <span className={`ds-dot${inst.crowd ? ' crowd' : ''}`} style={inst.crowd ? undefined : { background: `rgb(${index.palette[inst.label]?.join(',')})` }} />
                <span className="ds-inst-name">{inst.name}</span>
                {inst.crowd && <span className="ds-tag">crowd</span>}
                <span className="ds-inst-area">{Math.round(inst.area)} px²</span>
              </li>
            ))}
          </ul>
        </aside>
      </div>
    </div>
  );
}
