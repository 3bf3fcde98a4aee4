/**
 * The off-thread native resize, with an in-process stand-in for the decode worker (messages go
 * through `structuredClone` with their transfer lists, answered asynchronously as a worker would):
 * same packed samples as the local decoder, fallbacks when the worker is missing or fails.
 */
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { answerDecodeRequest, withOffThreadResize, type DecodeWorkerPort, type DecodeWorkerRequest } from './off_thread_decoder.ts';
import type { NativeResizeCapable, ResizedDecodeRequest } from './transforms/browser_fast_path.ts';
import { Compose } from './transforms/compose.ts';
import { resizeBilinear } from './transforms/image_ops.ts';
import { defaultImageDecoder, toBgr, type ImageDecoder } from './transforms/loading.ts';
import { seededRng, type Results } from './transforms/types.ts';

/** Decodes with the pure-JS decoder and resizes exactly; channel planes when asked; logs requests. */
function exactDecoder(log: string[], tag: string): ImageDecoder & NativeResizeCapable {
  const decode: ImageDecoder = (bytes, path) => defaultImageDecoder(bytes, path);
  return Object.assign(decode, {
    decodeResized: async (bytes: Uint8Array, path: string, req: ResizedDecodeRequest) => {
      log.push(tag);
      if (bytes[0] !== 0x89) throw new Error(`${path}: not a PNG`);
      const out = resizeBilinear(toBgr(defaultImageDecoder(bytes, path)), req.width, req.height, { flipHorizontal: req.flipHorizontal });
      if (!req.planar) return out;
      const { width: w, height: h } = out;
      const planes = new Uint8Array(out.data.length);
      for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) planes[k * w * h + i] = out.data[i * 3 + k]!;
      return { ...out, data: planes, planar: true };
    },
  });
}

type Listener = (ev: { data?: unknown; message?: string }) => void;

/** A decode worker in this process: structured-clone transport, asynchronous answers. */
function fakeWorker(log: string[], opts: { failAfter?: number } = {}): DecodeWorkerPort & { terminated: boolean } {
  const listeners: Record<string, Listener[]> = { message: [], error: [] };
  const inner = exactDecoder(log, 'worker');
  let seen = 0;
  const port = {
    terminated: false,
    postMessage(message: DecodeWorkerRequest, transfer: unknown[]) {
      const req = structuredClone(message, { transfer: transfer as ArrayBuffer[] });
      seen++;
      setTimeout(() => {
        if (port.terminated) return;
        if (opts.failAfter !== undefined && seen > opts.failAfter) {
          for (const l of listeners.error!) l({ message: 'worker crashed' });
          return;
        }
        void answerDecodeRequest(inner, req, (reply, t) => {
          const data = structuredClone(reply, { transfer: t as ArrayBuffer[] });
          for (const l of listeners.message!) l({ data });
        });
      }, 1);
    },
    addEventListener(type: 'message' | 'error', listener: Listener) {
      listeners[type]!.push(listener);
    },
    terminate() {
      port.terminated = true;
    },
  };
  return port as unknown as DecodeWorkerPort & { terminated: boolean };
}

const png = (() => {
  const w = 40;
  const h = 24;
  const data = new Uint8Array(w * h * 3).map((_, i) => (i * 37) % 251);
  return encode({ width: w, height: h, data, channels: 3, depth: 8 });
})();

const pipeline = [
  { type: 'LoadImageFromFile' },
  { type: 'RandomResize', scale: [[30, 10], [60, 40]], keep_ratio: true },
  { type: 'RandomFlip', prob: 0.5 },
  { type: 'PackDetInputs' },
];

async function packAll(decodeImage: ImageDecoder, n: number) {
  const c = new Compose(pipeline, { readFile: async () => png, decodeImage, rng: seededRng(7) });
  const out = [];
  for (let i = 0; i < n; i++) out.push((await c.pack({ img_path: `${i}.png`, gt_bboxes: new Float32Array(0) } as unknown as Results))!);
  return out;
}

describe('withOffThreadResize', () => {
  it('gives the local decoder’s packed samples, decoded on the worker', async () => {
    const log: string[] = [];
    const worker = fakeWorker(log);
    const dec = withOffThreadResize(exactDecoder(log, 'local'), () => worker);
    const remote = await packAll(dec, 6);
    const local = await packAll(exactDecoder([], 'local'), 6);
    expect(log).toEqual(Array(6).fill('worker'));
    expect(dec.offThreadCount()).toBe(6);
    for (let i = 0; i < 6; i++) {
      expect(remote[i]!.inputs.shape).toEqual(local[i]!.inputs.shape);
      expect(Buffer.from(remote[i]!.inputs.data).equals(Buffer.from(local[i]!.inputs.data))).toBe(true);
      expect(remote[i]!.data_samples.metainfo).toEqual(local[i]!.data_samples.metainfo);
    }
    expect(new Set(remote.map((r) => r.data_samples.metainfo.flip)).size).toBe(2); // both flips seen
    dec.close();
    expect(worker.terminated).toBe(true);
  });

  it('falls back to the local decoder when the worker fails, and says so once', async () => {
    const log: string[] = [];
    const reasons: string[] = [];
    const dec = withOffThreadResize(exactDecoder(log, 'local'), () => fakeWorker(log, { failAfter: 2 }), { onFallback: (r) => reasons.push(r) });
    const out = await packAll(dec, 5);
    expect(out.length).toBe(5);
    expect(log).toEqual(['worker', 'worker', 'local', 'local', 'local']);
    expect(reasons).toEqual(['the decode worker failed: worker crashed']);
    const local = await packAll(exactDecoder([], 'local'), 5);
    for (let i = 0; i < 5; i++) expect(Buffer.from(out[i]!.inputs.data).equals(Buffer.from(local[i]!.inputs.data))).toBe(true);
  });

  it('runs locally where no worker can be started', async () => {
    const log: string[] = [];
    const reasons: string[] = [];
    const throwing = withOffThreadResize(exactDecoder(log, 'local'), () => {
      throw new Error('no nested workers');
    }, { onFallback: (r) => reasons.push(r) });
    await packAll(throwing, 2);
    const none = withOffThreadResize(exactDecoder(log, 'local'), () => null, { onFallback: (r) => reasons.push(r) });
    await packAll(none, 2);
    expect(log).toEqual(['local', 'local', 'local', 'local']);
    expect(reasons).toEqual(['the decode worker could not be started: no nested workers']);
  });

  it('a file the worker cannot decode is that request’s error; the pipeline reports it through its exact path', async () => {
    const log: string[] = [];
    const dec = withOffThreadResize(exactDecoder(log, 'local'), () => fakeWorker(log));
    await expect(dec.decodeResized!(new Uint8Array([1, 2, 3]), 'bad.png', { width: 2, height: 2, flipHorizontal: false })).rejects.toThrow('bad.png: not a PNG');
    // the worker still answers the next request
    const img = await dec.decodeResized!(png, 'ok.png', { width: 20, height: 12, flipHorizontal: false });
    expect(img!.width).toBe(20);
    expect(dec.offThreadCount()).toBe(2);
    // a truncated PNG through the pipeline: the native span's failure is not the last word, the exact
    // decoder's message is
    const c = new Compose(pipeline, { readFile: async () => png.subarray(0, 60), decodeImage: dec, rng: seededRng(1) });
    await expect(c.pack({ img_path: 'cut.png', gt_bboxes: new Float32Array(0) } as unknown as Results)).rejects.toThrow(/truncated PNG/);
  });
});
