/**
 * Entry of the decode worker, started by the training worker (`train.worker.ts`): decodes,
 * resizes, mirrors and converts training images natively (`createBitmapImageDecoder`'s
 * `decodeResized`) off the training worker's thread, which dispatches the GPU work. The protocol
 * and the training side are in `../data/off_thread_decoder.ts`.
 */
import { createBitmapImageDecoder } from '../data/browser_image_decoder.ts';
import { answerDecodeRequest, type DecodeWorkerRequest } from '../data/off_thread_decoder.ts';

interface DecodeScope {
  postMessage(message: unknown, transfer: unknown[]): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

const scope = self as unknown as DecodeScope;
const decoder = createBitmapImageDecoder(globalThis, { nativeResize: true });
// One request at a time, in arrival order (the pipeline sends them one after another anyway).
let queue: Promise<void> = Promise.resolve();
scope.addEventListener('message', (ev) => {
  const req = ev.data as DecodeWorkerRequest;
  queue = queue.then(() => answerDecodeRequest(decoder, req, (reply, transfer) => scope.postMessage(reply, transfer)));
});
