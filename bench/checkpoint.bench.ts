/**
 * Checkpoint speed on a synthetic checkpoint with the real MMDetection Mask R-CNN R50-FPN COCO
 * keys and shapes (360 tensors, 44.4 M values, ~178 MB): `.pth` write and parse (MB/s), with and
 * without the NaN/Inf scan and CRC check, safetensors write/parse, conversion of every tensor to the
 * model layout, and MMEngine `load_from` matching into an 8-class model.
 */
import { readFixtureJson } from '../src/testing/fixtures.ts';
import {
  concatBytes,
  loadStateDict,
  mmdetCheckpointObject,
  readPth,
  readSafetensors,
  toModelLayout,
  writePthParts,
  writeSafetensorsParts,
  type TensorRecord,
} from '../src/checkpoint/index.ts';

function time<T>(fn: () => T, reps = 3): { ms: number; value: T } {
  let best = Infinity;
  let value!: T;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    value = fn();
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: +best.toFixed(1), value };
}

/** Runs the benchmark; returns timings in milliseconds and throughput in MB/s. */
export async function run(): Promise<Record<string, unknown>> {
  const keys = readFixtureJson<{ keys: { key: string; shape: number[]; dtype: string; numel: number }[] }>(
    'checkpoints',
    'mask_rcnn_r50_fpn_coco_keys.json',
  ).keys;
  const sd = new Map<string, TensorRecord>();
  let seed = 1;
  for (const k of keys) {
    if (k.dtype === 'int64') {
      sd.set(k.key, { dtype: 'int64', shape: k.shape, data: new BigInt64Array([90000n]) });
      continue;
    }
    const data = new Float32Array(k.numel);
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      data[i] = (seed / 2 ** 32 - 0.5) * 0.1;
    }
    sd.set(k.key, { dtype: 'float32', shape: k.shape, data });
  }
  const meta = { mmdet_version: '3.3.0', CLASSES: Array.from({ length: 80 }, (_, i) => `class${i}`) };

  const writeParts = time(() => writePthParts(mmdetCheckpointObject(meta, sd)));
  const pth = concatBytes(writeParts.value);
  const mb = pth.byteLength / 1e6;
  const parse = time(() => readPth(pth), 5);
  const parseNoScan = time(() => readPth(pth, { checkFinite: false }), 5);
  const parseCrc = time(() => readPth(pth, { verifyCrc: true }), 2);
  const ckpt = parse.value;
  const zeroCopy = [...ckpt.stateDict.values()].every((t) => t.data.buffer === pth.buffer);

  const stWrite = time(() => concatBytes(writeSafetensorsParts(sd, meta)));
  const stParse = time(() => readSafetensors(stWrite.value), 5);

  const layout = time(() => {
    let n = 0;
    for (const [k, t] of ckpt.stateDict) n += toModelLayout(k, t).data.length;
    return n;
  }, 2);
  const eight: Record<string, number[]> = {
    'roi_head.bbox_head.fc_cls.weight': [9, 1024],
    'roi_head.bbox_head.fc_cls.bias': [9],
    'roi_head.bbox_head.fc_reg.weight': [32, 1024],
    'roi_head.bbox_head.fc_reg.bias': [32],
    'roi_head.mask_head.conv_logits.weight': [8, 256, 1, 1],
    'roi_head.mask_head.conv_logits.bias': [8],
  };
  const expected = new Map(keys.map((k) => [k.key, eight[k.key] ?? k.shape]));
  const loadFrom = time(() => loadStateDict(expected, ckpt), 2);

  return {
    pth_bytes: pth.byteLength,
    tensors: ckpt.stateDict.size,
    pth_write_ms: writeParts.ms,
    pth_parse_ms: parse.ms,
    pth_parse_MBps: Math.round(mb / (parse.ms / 1000)),
    pth_parse_no_nan_scan_ms: parseNoScan.ms,
    pth_parse_verify_crc_ms: parseCrc.ms,
    pth_parse_zero_copy: zeroCopy,
    safetensors_write_ms: stWrite.ms,
    safetensors_parse_ms: stParse.ms,
    to_model_layout_all_ms: layout.ms,
    load_from_8_classes_ms: loadFrom.ms,
    load_from_skipped: loadFrom.value.shapeMismatch.length,
  };
}
