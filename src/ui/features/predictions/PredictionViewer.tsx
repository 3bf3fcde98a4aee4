import { useEffect, useMemo, useRef, useState } from 'react';
import {
  imageErrors,
  orderedImages,
  selectedImage,
  setThreshold,
  setViewOptions,
  stepSelection,
  usePredictions,
  visibleIndices,
  type PredImage,
} from '../../../store/predictions_store.ts';
import type { ModelInfo } from '../../../worker/predict_protocol.ts';
import { download, drawScene, type DrawOptions } from './draw.ts';

/** Loads an image URL for drawing; null while loading or when it cannot be displayed. */
function useImage(url: string | undefined): { img: HTMLImageElement | null; failed: boolean } {
  const [state, setState] = useState<{ url?: string; img: HTMLImageElement | null; failed: boolean }>({ img: null, failed: false });
  useEffect(() => {
    if (!url) return;
    let live = true;
    const img = new Image();
    img.onload = () => live && setState({ url, img, failed: false });
    img.onerror = () => live && setState({ url, img: null, failed: true });
    img.src = url;
    return () => {
      live = false;
    };
  }, [url]);
  return state.url === url ? state : { img: null, failed: false };
}

/** One canvas that fits its box and redraws on resize. */
function SceneCanvas({ image, item, model, mode, title }: { image: HTMLImageElement | null; item: PredImage; model: ModelInfo; mode: 'pred' | 'gt'; title?: string }) {
  const host = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [box, setBox] = useState({ w: 0, h: 0 });
  const threshold = usePredictions((s) => s.threshold);
  const showMasks = usePredictions((s) => s.showMasks);
  const showBoxes = usePredictions((s) => s.showBoxes);
  const showErrors = usePredictions((s) => s.showErrors);
  const [drawn, setDrawn] = useState(0);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setBox({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const pred = item.prediction!;
  useEffect(() => {
    const c = canvas.current;
    if (!c || !box.w || !box.h) return;
    const dpr = window.devicePixelRatio || 1;
    const fit = Math.min(box.w / pred.width, box.h / pred.height);
    c.style.width = `${Math.floor(pred.width * fit)}px`;
    c.style.height = `${Math.floor(pred.height * fit)}px`;
    c.width = Math.max(1, Math.floor(pred.width * fit * dpr));
    c.height = Math.max(1, Math.floor(pred.height * fit * dpr));
    const errors = showErrors ? imageErrors(item, threshold) : null;
    const opts: DrawOptions = { mode, threshold, showMasks, showBoxes, errors, classes: model.classes, palette: model.palette, scale: fit * dpr, fontPx: 11.5 * dpr };
    setDrawn(drawScene(c.getContext('2d')!, image, pred, item.gt, opts));
  }, [box, image, item, pred, model, mode, threshold, showMasks, showBoxes, showErrors]);
  return (
    <figure className="pred-figure">
      {title && <figcaption>{title}</figcaption>}
      <div className="pred-canvas-host" ref={host}>
        <canvas ref={canvas} data-testid={mode === 'pred' ? 'pred-canvas' : 'gt-canvas'} data-drawn={drawn} aria-label={`${title ?? 'Prediction'}: ${drawn} drawn`} />
      </div>
    </figure>
  );
}

function exportPng(item: PredImage, image: HTMLImageElement | null, model: ModelInfo, opts: Omit<DrawOptions, 'scale' | 'fontPx' | 'mode' | 'errors'>, withErrors: boolean, threshold: number): void {
  const p = item.prediction!;
  const scale = Math.max(1, Math.min(4, 1600 / Math.max(p.width, p.height)));
  const c = document.createElement('canvas');
  c.width = Math.round(p.width * scale);
  c.height = Math.round(p.height * scale);
  drawScene(c.getContext('2d')!, image, p, item.gt, { ...opts, mode: 'pred', scale, fontPx: 12 * Math.max(1, scale / 2), errors: withErrors ? imageErrors(item, threshold) : null, classes: model.classes, palette: model.palette });
  c.toBlob((blob) => blob && download(blob, `${item.name.replace(/\.[^.]+$/, '')}_pred.png`), 'image/png');
}

/** The centre of the pane: toolbar (threshold, view, export) and the canvas(es). */
export function PredictionViewer() {
  const state = usePredictions((s) => s);
  const item = selectedImage(state);
  const model = state.model;
  const { img, failed } = useImage(item?.url);
  const list = useMemo(() => orderedImages(state), [state]);
  const pos = item ? list.findIndex((i) => i.id === item.id) : -1;
  const pred = item?.prediction;
  const shown = pred ? visibleIndices(pred, state.threshold).length : 0;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
      if (e.key === 'ArrowRight' || e.key === 'j') stepSelection(1);
      else if (e.key === 'ArrowLeft' || e.key === 'k') stepSelection(-1);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="panel pred-center">
      <div className="pred-toolbar">
        <label className="pred-threshold">
          <span>Score ≥</span>
          <input
            type="range"
            min={0}
            max={1}
            step={0.005}
            value={state.threshold}
            aria-label="Score threshold"
            data-testid="pred-threshold"
            onChange={(e) => setThreshold(Number(e.target.value))}
          />
          <output>{state.threshold.toFixed(3)}</output>
        </label>
        <span className="pred-count" data-testid="pred-count" data-shown={shown} data-total={pred?.scores.length ?? 0}>
          {pred ? `${shown} of ${pred.scores.length} shown` : '—'}
        </span>
        <div className="btn-group pred-seg" role="group" aria-label="View">
          <button className={`btn ${state.view === 'overlay' ? 'active' : ''}`} onClick={() => setViewOptions({ view: 'overlay' })} aria-pressed={state.view === 'overlay'}>
            Overlay
          </button>
          <button className={`btn ${state.view === 'side' ? 'active' : ''}`} onClick={() => setViewOptions({ view: 'side' })} aria-pressed={state.view === 'side'}>
            Side by side
          </button>
        </div>
        <label className="pred-check">
          <input type="checkbox" checked={state.showMasks} onChange={(e) => setViewOptions({ showMasks: e.target.checked })} /> Masks
        </label>
        <label className="pred-check">
          <input type="checkbox" checked={state.showBoxes} onChange={(e) => setViewOptions({ showBoxes: e.target.checked })} /> Boxes
        </label>
        <label className="pred-check" title="False positives (dashed red) and missed objects (dashed amber) at IoU 0.5">
          <input type="checkbox" checked={state.showErrors} onChange={(e) => setViewOptions({ showErrors: e.target.checked })} /> Errors
        </label>
        <span className="pred-spacer" />
        {pred && <span className="pred-ms" title="Pipeline + model time of this image">{pred.ms.toFixed(0)} ms/image</span>}
        <button
          className="btn"
          disabled={!pred || !model}
          onClick={() => item && model && exportPng(item, img, model, { threshold: state.threshold, showMasks: state.showMasks, showBoxes: state.showBoxes, classes: model.classes, palette: model.palette }, state.showErrors, state.threshold)}
        >
          Export PNG
        </button>
      </div>
      <div className="pred-stage">
        {!item && <div className="pred-empty">{model ? 'Drop images on the left, or run the validation set.' : 'Load a checkpoint, then drop images or run the validation set.'}</div>}
        {item && item.status === 'error' && (
          <div className="pred-error" role="alert">
            {item.error}
          </div>
        )}
        {item && (item.status === 'pending' || item.status === 'running') && <div className="pred-empty">{item.status === 'running' ? `Predicting ${item.name}…` : `${item.name} waits for a model.`}</div>}
        {item && pred && model && (
          <>
            {pred.notice && <div className="pred-notice">{pred.notice}</div>}
            {failed && <div className="pred-notice">This browser cannot display {item.name}; predictions are drawn on a blank frame.</div>}
            <div className={`pred-figures ${state.view === 'side' ? 'side' : ''}`}>
              <SceneCanvas image={img} item={item} model={model} mode="pred" title={state.view === 'side' ? 'Prediction' : undefined} />
              {state.view === 'side' &&
                (item.gt ? (
                  <SceneCanvas image={img} item={item} model={model} mode="gt" title="Ground truth" />
                ) : (
                  <figure className="pred-figure">
                    <figcaption>Ground truth</figcaption>
                    <div className="pred-empty">No ground truth for dropped images.</div>
                  </figure>
                ))}
            </div>
          </>
        )}
      </div>
      <div className="pred-footer">
        <button className="btn" disabled={pos <= 0} onClick={() => stepSelection(-1)} aria-label="Previous image">
          ←
        </button>
        <span>{pos >= 0 ? `${pos + 1} / ${list.length}` : `${list.length} images`}</span>
        <button className="btn" disabled={pos < 0 || pos >= list.length - 1} onClick={() => stepSelection(1)} aria-label="Next image">
          →
        </button>
        <span className="pred-hint">← → or k j</span>
        {item && (
          <span className="pred-name" title={item.name}>
            {item.name}
          </span>
        )}
      </div>
    </div>
  );
}
