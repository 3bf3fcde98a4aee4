/**
 * Model parity probe for end-to-end tests: builds a detector from an mmdet model config dict and a
 * checkpoint's bytes on the browser's WebGPU backend (a software adapter such as SwiftShader is
 * accepted), runs the reference forward pieces and one `loss()` on given inputs, and returns plain
 * numbers (sums, sampled values, dense outputs, loss terms) for a spec to compare with PyTorch's
 * reference values. It uses the same modules, checkpoint reader and loader as training and
 * inference; nothing here knows the expected values.
 *
 * Loaded lazily by `e2e_api.ts` (its own chunk), so the studio's start-up does not pay for it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBrowserBackend, type BackendInfo } from '../ops/backend_browser.ts';
import { readCheckpoint } from '../checkpoint/checkpoint.ts';
import type { ConfigDict } from '../registry/registry.ts';
import { buildDetector, mapRoiLevels } from '../models/index.ts';
import type { DetDataSample } from '../models/index.ts';
import { loadCheckpoint } from '../models/utils/load_checkpoint.ts';

/** Ground truth of a `loss()` case: boxes `(x1, y1, x2, y2)`, labels, `np.packbits` masks of the image size. */
export interface ParityLossCase {
  /** Model config dict (mmdet `model`), e.g. the `l1` variant of `mmdet-losses/case_0/config.json`. */
  config: ConfigDict;
  /** Float32 LE NCHW `[1, 3, h, w]`, already normalised. */
  input: Uint8Array;
  /** Image height and width. */
  imageShape: [number, number];
  bboxes: number[];
  labels: number[];
  /** Packed masks (big bit order), `labels.length × h × w` bits. */
  packedMasks: Uint8Array;
  /**
   * With `true`, differentiate the total loss (`lossAndGrads`, the training step's backward) and
   * return the sum and abs_sum of every parameter gradient. Slow on a software adapter.
   */
  withGrads?: boolean;
}

/** What {@link runModelParity} is given. */
export interface ParityRequest {
  /** Model config dict (mmdet `model`). */
  config: ConfigDict;
  /** Checkpoint file bytes (`.pth` or safetensors). */
  checkpoint: Uint8Array;
  /** Float32 LE NCHW input `[1, 3, h, w]`, already normalised. */
  input: Uint8Array;
  /** Input shape NCHW. */
  inputShape: [number, number, number, number];
  /** RoIs `(x1, y1, x2, y2)` in input pixels (batch index 0). */
  rois: number[][];
  /**
   * NCHW flat indices to sample, per map name (`C2`…`C5`, `P2`…`P6`, `rpn_cls_P2`…, `rpn_reg_P2`…,
   * `bbox_roi_feats`, `mask_roi_feats`, `mask_logits`).
   */
  sampleIndices: Record<string, number[]>;
  /** Optional training-step case (loss terms and sampling counts). */
  lossCase?: ParityLossCase;
}

/** Statistics of one feature map, read back and converted to NCHW order. */
export interface ParityMapStat {
  /** NCHW shape. */
  shape: number[];
  /** Sum and absolute sum in float64. */
  sum: number;
  absSum: number;
  /** Values at the requested NCHW flat indices. */
  samples: number[];
}

/** What {@link runModelParity} returns: plain numbers only. */
export interface ParityResult {
  /** `tf.getBackend()` while the model ran. */
  backend: string;
  /** True when the WebGPU adapter is a software one. */
  isFallbackAdapter: boolean;
  /** Adapter description as the browser reports it. */
  adapter: string | null;
  /** Number of checkpoint tensors assigned by the strict load (which throws on missing / unexpected keys). */
  numLoaded: number;
  /** Maps by name (see {@link ParityRequest.sampleIndices}). */
  maps: Record<string, ParityMapStat>;
  /** RoI level of every RoI (finest_scale 56). */
  roiLevels: number[];
  /** Dense NCHW / row-major outputs. */
  clsScore: number[];
  bboxPred: number[];
  bboxRoiFeats: number[];
  maskLogits: number[];
  /** Loss terms and sampling counts of the loss case, if any. */
  loss?: {
    terms: Record<string, number>;
    rpn: { numAnchors: number; numPos: number; numNeg: number; posInds: number[] };
    proposals: { count: number; scoresSum: number };
    rcnn: { numPos: number; numNeg: number };
    /** Total loss (sum of the `loss*` terms) when gradients were asked for. */
    total?: number;
    /** Per parameter (state_dict name) with a gradient: its sum and abs_sum in float64. */
    grads?: Record<string, { sum: number; absSum: number }>;
  };
  /** Milliseconds: checkpoint read + load, forward pieces, loss. */
  ms: { load: number; forward: number; loss: number };
}

function f32(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function nhwcInput(bytes: Uint8Array, shape: [number, number, number, number]): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(f32(bytes), shape), [0, 2, 3, 1]));
}

/** Reads an NHWC map back and summarises it in NCHW order. */
async function mapStat(t: tf.Tensor, indices: number[] = []): Promise<ParityMapStat> {
  const [n, h, w, c] = t.shape as [number, number, number, number];
  const v = await t.data();
  let sum = 0;
  let absSum = 0;
  for (let i = 0; i < v.length; i++) {
    sum += v[i]!;
    absSum += Math.abs(v[i]!);
  }
  const samples = indices.map((flat) => {
    const x = flat % w;
    const y = Math.floor(flat / w) % h;
    const ch = Math.floor(flat / (w * h)) % c;
    const b = Math.floor(flat / (w * h * c));
    return v[((b * h + y) * w + x) * c + ch]!;
  });
  return { shape: [n, c, h, w], sum, absSum, samples };
}

async function nchwValues(t: tf.Tensor4D): Promise<number[]> {
  const p = tf.transpose(t, [0, 3, 1, 2]);
  try {
    return Array.from(await p.data());
  } finally {
    p.dispose();
  }
}

function unpackMasks(bytes: Uint8Array, count: number, height: number, width: number): Uint8Array {
  const n = count * height * width;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
  return out;
}

/**
 * Runs the parity probe on WebGPU. Rejects if WebGPU is unavailable (never falls back silently).
 * Leaves no tensors behind.
 */
export async function runModelParity(req: ParityRequest): Promise<ParityResult> {
  const info = await initBrowserBackend({ prefer: 'webgpu', forTraining: true });
  if (info.name !== 'webgpu') throw new Error(`WebGPU is not available here: ${info.notice}`);
  const result = await runForward(req, info);
  if (req.lossCase) {
    const t2 = performance.now();
    result.loss = await runLossCase(req.checkpoint, req.lossCase);
    result.ms.loss = performance.now() - t2;
  }
  return result;
}

/** The reference forward pieces in eval mode (the model is disposed before returning). */
async function runForward(req: ParityRequest, info: BackendInfo): Promise<ParityResult> {
  const t0 = performance.now();
  const model = buildDetector(req.config);
  const input = nhwcInput(req.input, req.inputShape);
  const disposeLater: tf.Tensor[] = [input];
  try {
    const loaded = loadCheckpoint(model, readCheckpoint(req.checkpoint), { strict: true });
    model.train(false);
    const t1 = performance.now();
    const ix = req.sampleIndices;
    const maps: Record<string, ParityMapStat> = {};
    const cs = model.backbone.forward(input);
    disposeLater.push(...cs);
    const ps = model.neck!.forward(cs);
    disposeLater.push(...ps);
    for (let i = 0; i < cs.length; i++) maps[`C${i + 2}`] = await mapStat(cs[i]!, ix[`C${i + 2}`]);
    for (let i = 0; i < ps.length; i++) maps[`P${i + 2}`] = await mapStat(ps[i]!, ix[`P${i + 2}`]);
    const rpn = model.rpnHead.forward(ps);
    disposeLater.push(...rpn.clsScores, ...rpn.bboxPreds);
    for (let l = 0; l < rpn.clsScores.length; l++) {
      maps[`rpn_cls_P${l + 2}`] = await mapStat(rpn.clsScores[l]!, ix[`rpn_cls_P${l + 2}`]);
      maps[`rpn_reg_P${l + 2}`] = await mapStat(rpn.bboxPreds[l]!, ix[`rpn_reg_P${l + 2}`]);
    }
    const rois = new Float32Array(req.rois.length * 5);
    req.rois.forEach((r, i) => rois.set([0, ...r], i * 5));
    const { clsScore, bboxPred, bboxFeats } = model.roiHead.bboxForward(ps, rois);
    disposeLater.push(clsScore, bboxPred, bboxFeats);
    const { maskPreds, maskFeats } = model.roiHead.maskForward(ps, rois);
    disposeLater.push(maskPreds, maskFeats);
    maps.bbox_roi_feats = await mapStat(bboxFeats, ix.bbox_roi_feats);
    maps.mask_roi_feats = await mapStat(maskFeats, ix.mask_roi_feats);
    maps.mask_logits = await mapStat(maskPreds, ix.mask_logits);
    const result: ParityResult = {
      backend: tf.getBackend(),
      isFallbackAdapter: info.isFallbackAdapter,
      adapter: info.adapterInfo ? [info.adapterInfo.vendor, info.adapterInfo.architecture, info.adapterInfo.description].filter(Boolean).join(' / ') : null,
      numLoaded: loaded.numLoaded,
      maps,
      roiLevels: Array.from(mapRoiLevels(rois, 4, 56)),
      clsScore: Array.from(await clsScore.data()),
      bboxPred: Array.from(await bboxPred.data()),
      bboxRoiFeats: await nchwValues(bboxFeats as tf.Tensor4D),
      maskLogits: await nchwValues(maskPreds as tf.Tensor4D),
      ms: { load: t1 - t0, forward: performance.now() - t1, loss: 0 },
    };
    return result;
  } finally {
    tf.dispose(disposeLater);
    model.dispose();
  }
}

/** One `loss()` of a freshly built, checkpoint-loaded detector in training mode. */
async function runLossCase(checkpoint: Uint8Array, lc: ParityLossCase): Promise<NonNullable<ParityResult['loss']>> {
  const model = buildDetector(lc.config);
  const [h, w] = lc.imageShape;
  const input = nhwcInput(lc.input, [1, 3, h, w]);
  try {
    loadCheckpoint(model, readCheckpoint(checkpoint), { strict: true });
    model.train();
    const sample: DetDataSample = {
      metainfo: { img_shape: [h, w], ori_shape: [h, w], scale_factor: [1, 1], pad_shape: [h, w], batch_input_shape: [h, w] },
      gt_instances: {
        bboxes: Float32Array.from(lc.bboxes),
        labels: Int32Array.from(lc.labels),
        masks: { data: unpackMasks(lc.packedMasks, lc.labels.length, h, w), count: lc.labels.length, height: h, width: w },
      },
    };
    let value: tf.Scalar | null = null;
    let gradMap: tf.NamedTensorMap = {};
    let extra: Record<string, tf.Scalar>;
    if (lc.withGrads) ({ value, grads: gradMap, extra } = await model.lossAndGrads(input, [sample]));
    else extra = await model.loss(input, [sample]);
    try {
      let grads: Record<string, { sum: number; absSum: number }> | undefined;
      if (value) {
        grads = {};
        for (const [k, g] of Object.entries(gradMap)) {
          const v = await g.data();
          let sum = 0;
          let absSum = 0;
          for (let i = 0; i < v.length; i++) {
            sum += v[i]!;
            absSum += Math.abs(v[i]!);
          }
          grads[k] = { sum, absSum };
        }
      }
      const terms: Record<string, number> = {};
      for (const [k, t] of Object.entries(extra)) terms[k] = (await t.data())[0]!;
      const rpnT = model.rpnHead.lastTargets!;
      const props = model.lastProposals![0]!;
      const rc = model.roiHead.lastTargets!;
      return {
        terms,
        rpn: { numAnchors: rpnT.numAnchors, numPos: rpnT.numPos, numNeg: rpnT.numNeg, posInds: Array.from(rpnT.sampling[0]!.posInds) },
        proposals: { count: props.scores.length, scoresSum: props.scores.reduce((a, b) => a + b, 0) },
        rcnn: { numPos: rc.numPos, numNeg: rc.numNeg },
        ...(value ? { total: (await value.data())[0]!, grads } : {}),
      };
    } finally {
      tf.dispose([...Object.values(extra), ...Object.values(gradMap), ...(value ? [value] : [])]);
    }
  } finally {
    input.dispose();
    model.dispose();
  }
}

/** {@link ParityRequest} with its byte fields given as URLs the page fetches. */
export interface ParityFetchRequest extends Omit<ParityRequest, 'checkpoint' | 'input' | 'lossCase'> {
  checkpointUrl: string;
  inputUrl: string;
  lossCase?: Omit<ParityLossCase, 'input' | 'packedMasks'> & { inputUrl: string; packedMasksUrl: string };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** Fetches the request's files, then {@link runModelParity}. */
export async function fetchAndRunModelParity(req: ParityFetchRequest): Promise<ParityResult> {
  const { checkpointUrl, inputUrl, lossCase, ...rest } = req;
  const [checkpoint, input] = await Promise.all([fetchBytes(checkpointUrl), fetchBytes(inputUrl)]);
  let lc: ParityLossCase | undefined;
  if (lossCase) {
    const { inputUrl: li, packedMasksUrl, ...lrest } = lossCase;
    const [lin, masks] = await Promise.all([fetchBytes(li), fetchBytes(packedMasksUrl)]);
    lc = { ...lrest, input: lin, packedMasks: masks };
  }
  return runModelParity({ ...rest, checkpoint, input, lossCase: lc });
}
