/**
 * The client and the handler talking over a real MessageChannel (structured clone included).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerClient } from './client.ts';
import type { PortLike } from './client.ts';
import { createHandler, studioHandlers } from './handler.ts';
import type { RequestSpec } from './protocol.ts';

type TestRequests = {
  add: RequestSpec<{ a: number; b: number }, number>;
  count: RequestSpec<{ to: number }, string, { done: number }>;
  wait: RequestSpec<void, string>;
  fail: RequestSpec<void, never>;
  bytes: RequestSpec<{ buf: ArrayBuffer }, number>;
};
type TestEvents = { note: { text: string } };

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const ch of channels.splice(0)) {
    ch.port1.close();
    ch.port2.close();
  }
});

function connect() {
  const ch = new MessageChannel();
  channels.push(ch);
  let cancelled = 0;
  const handler = createHandler<TestRequests, TestEvents>(
    {
      add: async ({ a, b }) => a + b,
      count: async ({ to }, ctx) => {
        for (let i = 1; i <= to; i++) ctx.progress({ done: i });
        ctx.emit('note', { text: 'counted' });
        return `counted to ${to}`;
      },
      wait: (_p, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            cancelled++;
            reject(new Error('stopped'));
          });
        }),
      fail: async () => {
        const err = new Error("'Foo' is not in the model registry");
        err.name = 'KeyError';
        throw err;
      },
      bytes: async ({ buf }) => buf.byteLength,
    },
    (msg, transfer) => ch.port2.postMessage(msg, transfer ?? []),
  );
  ch.port2.addEventListener('message', (ev) => void handler.handle((ev as MessageEvent).data));
  ch.port2.start();
  const port = ch.port1 as unknown as PortLike;
  const client = new WorkerClient<TestRequests, TestEvents>(port);
  ch.port1.start();
  return { client, handler, cancelled: () => cancelled, port: ch.port1 };
}

describe('WorkerClient ↔ createHandler', () => {
  it('returns typed results and correlates concurrent requests by uuid', async () => {
    const { client } = connect();
    const results = await Promise.all([client.request('add', { a: 1, b: 2 }), client.request('add', { a: 10, b: 20 })]);
    expect(results).toEqual([3, 30]);
    expect(client.pendingCount).toBe(0);
  });

  it('delivers progress reports before the result, and events to listeners', async () => {
    const { client } = connect();
    const seen: number[] = [];
    const notes: string[] = [];
    client.on('note', (p) => notes.push(p.text));
    const out = await client.request('count', { to: 3 }, { onProgress: (p) => seen.push(p.done) });
    expect(out).toBe('counted to 3');
    expect(seen).toEqual([1, 2, 3]);
    expect(notes).toEqual(['counted']);
  });

  it('rethrows worker errors with their name and message', async () => {
    const { client } = connect();
    await expect(client.request('fail', undefined)).rejects.toMatchObject({ name: 'KeyError', message: "'Foo' is not in the model registry" });
  });

  it('answers an unknown kind with a KeyError listing the known kinds', async () => {
    const { client } = connect();
    const untyped = client as unknown as WorkerClient<{ nope: RequestSpec<void, void> }, TestEvents>;
    await expect(untyped.request('nope', undefined)).rejects.toThrow(/'nope' is not a request this worker handles \(it handles: add, bytes, count, fail, wait\)/);
  });

  it('cancels through an AbortSignal: the handler sees the abort and the caller gets AbortError', async () => {
    const { client, handler, cancelled } = connect();
    const ac = new AbortController();
    const p = client.request('wait', undefined, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 20));
    expect(handler.pending()).toBe(1);
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    await new Promise((r) => setTimeout(r, 20));
    expect(cancelled()).toBe(1);
    expect(handler.pending()).toBe(0);
  });

  it('times out with TimeoutError', async () => {
    const { client } = connect();
    await expect(client.request('wait', undefined, { timeoutMs: 30 })).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('moves transferred buffers instead of copying them', async () => {
    const { client } = connect();
    const buf = new ArrayBuffer(1024);
    expect(await client.request('bytes', { buf }, { transfer: [buf] })).toBe(1024);
    expect(buf.byteLength).toBe(0);
  });

  it('rejects pending requests when closed', async () => {
    const { client } = connect();
    const p = client.request('wait', undefined);
    client.close();
    await expect(p).rejects.toMatchObject({ name: 'WorkerCrashedError' });
    await expect(client.request('add', { a: 1, b: 1 })).rejects.toMatchObject({ name: 'WorkerCrashedError' });
  });
});

describe('studioHandlers', () => {
  it('answers ping and capabilities from the current environment', async () => {
    const ctx = { progress: () => {}, emit: () => {}, signal: new AbortController().signal };
    expect((await studioHandlers.ping({ value: 'hi' }, ctx)).value).toBe('hi');
    const caps = await studioHandlers.capabilities(undefined, ctx);
    expect(caps.context).toBe('node');
    expect(caps.wasm.available).toBe(true);
    expect(['webgpu', 'wasm', 'cpu']).toContain(caps.backend);
  });
});
