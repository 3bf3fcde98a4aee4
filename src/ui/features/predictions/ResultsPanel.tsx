import { useMemo } from 'react';
import { totalsByClass } from '../../../eval/error_analysis.ts';
import { imageErrors, selectedImage, setSort, usePredictions, visibleIndices } from '../../../store/predictions_store.ts';
import { download } from './draw.ts';

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(3);
}

/** Right column: the selected image's detections, and the validation run's per-class results. */
export function ResultsPanel() {
  const s = usePredictions((st) => st);
  const item = selectedImage(s);
  const model = s.model;
  const pred = item?.prediction;
  const errors = item ? imageErrors(item, s.threshold) : null;
  const visible = pred ? visibleIndices(pred, s.threshold) : [];
  const result = s.valRun.result;
  const totals = useMemo(
    () => totalsByClass(s.images.filter((i) => i.gt && i.prediction).map((i) => ({ key: i.id, errors: imageErrors(i, s.threshold)! }))),
    [s.images, s.threshold],
  );
  const bboxRows = result?.classwise.bbox ?? [];
  const segmRows = result?.classwise.segm ?? [];
  return (
    <>
      <div className="panel-head">
        <span className="panel-title">Results</span>
      </div>
      <div className="panel-body pred-results">
        {result && (
          <section className="pred-section" aria-label="Validation results" data-testid="pred-val-results">
            <h3 className="pred-h">Validation · {result.images} images</h3>
            <div className="pred-metrics">
              <div>
                <span>bbox mAP</span>
                <strong>{fmt(result.metrics['coco/bbox_mAP'])}</strong>
              </div>
              <div>
                <span>segm mAP</span>
                <strong>{fmt(result.metrics['coco/segm_mAP'])}</strong>
              </div>
              <div>
                <span>ms / image</span>
                <strong>{result.msPerImage.toFixed(0)}</strong>
              </div>
            </div>
            <table className="pred-table">
              <thead>
                <tr>
                  <th>class</th>
                  <th title="bbox AP (IoU .50:.95)">box AP</th>
                  <th title="mask AP (IoU .50:.95)">mask AP</th>
                  <th title="False positives at IoU 0.5, current threshold">FP</th>
                  <th title="Missed objects at IoU 0.5, current threshold">missed</th>
                </tr>
              </thead>
              <tbody>
                {bboxRows.map((r, k) => {
                  const label = model?.classes.indexOf(r.category) ?? k;
                  const t = totals[label];
                  return (
                    <tr key={r.category} className={s.classFilter === label ? 'active' : ''}>
                      <td>
                        <button className="pred-link" onClick={() => setSort('worst', label)} title={`Images with the most ${r.category} errors first`}>
                          <i className="pred-swatch" style={{ background: `rgb(${(model?.palette[label] ?? [128, 128, 128]).join(',')})` }} />
                          {r.category}
                        </button>
                      </td>
                      <td>{fmt(r.mAP)}</td>
                      <td>{fmt(segmRows[k]?.mAP)}</td>
                      <td>{t?.fp ?? 0}</td>
                      <td>{t?.missed ?? 0}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <div className="pred-row">
              <button className="btn" onClick={() => download(new Blob([result.resultsJson.bbox], { type: 'application/json' }), 'results.bbox.json')}>
                results.bbox.json
              </button>
              {result.resultsJson.segm && (
                <button className="btn" onClick={() => download(new Blob([result.resultsJson.segm!], { type: 'application/json' }), 'results.segm.json')}>
                  results.segm.json
                </button>
              )}
            </div>
            <p className="pred-dim">
              COCO results json of every validation prediction, as MMDetection's format_only writes it; check it with{' '}
              <code>detstudio eval --ann instancesonly_filtered_gtFine_val.json --results results.bbox.json --metric bbox --cocometric</code>.
            </p>
          </section>
        )}
        <section className="pred-section" aria-label="Detections">
          <h3 className="pred-h">{item ? 'Detections' : 'No image selected'}</h3>
          {pred && model && (
            <>
              <div className="pred-dim">
                {pred.width}×{pred.height}
                {pred.width !== pred.originalWidth ? ` (from ${pred.originalWidth}×${pred.originalHeight})` : ''} · input {pred.inputShape[1]}×{pred.inputShape[0]} · {pred.ms.toFixed(0)} ms
                {errors ? ` · ${errors.tp} TP · ${errors.fp} FP · ${errors.missed.length} missed (IoU 0.5)` : ''}
              </div>
              <table className="pred-table pred-dets" data-testid="pred-dets">
                <tbody>
                  {visible.map((i) => {
                    const v = errors?.detections[i];
                    return (
                      <tr key={i}>
                        <td>
                          <i className="pred-swatch" style={{ background: `rgb(${(model.palette[pred.labels[i]!] ?? [128, 128, 128]).join(',')})` }} />
                          {model.classes[pred.labels[i]!] ?? `class ${pred.labels[i]}`}
                        </td>
                        <td>{pred.scores[i]!.toFixed(3)}</td>
                        <td>{v === 'fp' ? <span className="pred-tag fp">FP</span> : v === 'tp' ? <span className="pred-tag tp">TP</span> : null}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              {!visible.length && <div className="pred-dim">No detection at or above {s.threshold.toFixed(3)}; lower the threshold.</div>}
            </>
          )}
        </section>
      </div>
    </>
  );
}
