import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { selectImage } from '../../../store/dataset_store.ts';
import type { ImageEntry } from '../../../worker/dataset_protocol.ts';
import { CAPTION_HEIGHT as CAPTION, GRID_GAP as GAP, gridLayout, visibleRows } from './grid_layout.ts';
import { getThumb, onThumbs, requestThumbs } from './thumb_cache.ts';

function Thumb({ datasetId, image }: { datasetId: string; image: ImageEntry; version: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const drawn = useRef<ImageBitmap | null>(null);
  const bmp = getThumb(datasetId, image.key);
  useEffect(() => {
    const c = ref.current;
    if (!c || !bmp || drawn.current === bmp) return;
    drawn.current = bmp;
    c.width = bmp.width;
    c.height = bmp.height;
    c.getContext('2d')?.drawImage(bmp, 0, 0);
  }, [bmp]);
  if (bmp === null) return <div className="ds-thumb-missing">cannot read</div>;
  return <canvas ref={ref} className={`ds-thumb${bmp ? ' loaded' : ''}`} data-loaded={bmp ? '1' : '0'} />;
}

/**
 * The image grid, virtualised: only the rows in view (plus two above and below) are in the DOM, so
 * 3,000 images scroll as smoothly as 30. Thumbnails of the visible cells are requested in one batch.
 */
export function ImageGrid({ datasetId, images, palette, classes }: { datasetId: string; images: ImageEntry[]; palette: Array<[number, number, number]>; classes: string[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 800, height: 600 });
  const [range, setRange] = useState<[number, number]>([0, 0]);
  const scrollTop = useRef(0);
  const [version, setVersion] = useState(0);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setSize({ width: el.clientWidth, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useEffect(() => onThumbs(() => setVersion((v) => v + 1)), []);
  useEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
    scrollTop.current = 0;
  }, [images]);

  const aspect = images.length > 0 ? images[0]!.height / images[0]!.width : 0.5;
  const { columns, cellWidth: cellW, rowHeight: rowH, rows, totalHeight } = gridLayout(size.width, images.length, aspect);
  const [first, last] = visibleRows(scrollTop.current, size.height, rowH, rows);
  const onScroll = (top: number): void => {
    scrollTop.current = top;
    const next = visibleRows(top, size.height, rowH, rows);
    if (next[0] !== range[0] || next[1] !== range[1]) setRange(next);
  };
  const visible = useMemo(() => images.slice(first * columns, last * columns), [images, first, last, columns]);

  useEffect(() => {
    const t = setTimeout(() => void requestThumbs(datasetId, visible.map((i) => i.key)), 30);
    return () => clearTimeout(t);
  }, [datasetId, visible, version]);

  return (
    <div className="ds-grid-scroll" ref={scroller} onScroll={(e) => onScroll(e.currentTarget.scrollTop)} data-testid="image-grid" data-rendered={visible.length}>
      <div className="ds-grid-inner" style={{ height: totalHeight }}>
        {visible.map((im, k) => {
          const i = first * columns + k;
          const r = Math.floor(i / columns);
          const c = i % columns;
          return (
            <button
              type="button"
              key={im.key}
              className="ds-cell"
              data-testid="grid-cell"
              style={{ top: GAP + r * rowH, left: GAP + c * (cellW + GAP), width: cellW, height: rowH - GAP }}
              onClick={() => selectImage(im.key)}
              title={im.fileName}
            >
              <div className="ds-cell-img" style={{ height: rowH - GAP - CAPTION }}>
                <Thumb datasetId={datasetId} image={im} version={version} />
              </div>
              <div className="ds-cell-cap">
                <span className="ds-cell-name">{im.fileName.split('/').pop()}</span>
                <span className="ds-cell-dots">
                  {im.labels.slice(0, 6).map((l) => (
                    <span key={l} className="ds-dot" title={classes[l]} style={{ background: `rgb(${palette[l]?.join(',')})` }} />
                  ))}
                  {im.crowd > 0 && <span className="ds-dot crowd" title="crowd region" />}
                </span>
              </div>
            </button>
          );
        })}
      </div>
      {images.length === 0 && <div className="ds-empty">No image matches the filters.</div>}
    </div>
  );
}
