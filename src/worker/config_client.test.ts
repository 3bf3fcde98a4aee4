import { afterEach, describe, expect, it } from 'vitest';
import type { PortLike } from './client.ts';
import { ConfigService } from './config_client.ts';
import type { ConfigEvents, ConfigRequests } from './config_protocol.ts';
import { createHandler } from './handler.ts';

const open: MessageChannel[] = [];
afterEach(() => {
  for (const ch of open.splice(0)) {
    ch.port1.close();
    ch.port2.close();
  }
});

/** A config worker over a MessageChannel whose `analyze` hangs (first spawn) or answers (later ones). */
function spawner() {
  let spawned = 0;
  let terminated = 0;
  const spawn = () => {
    const hang = spawned++ === 0;
    const ch = new MessageChannel();
    open.push(ch);
    const handler = createHandler<ConfigRequests, ConfigEvents>(
      {
        analyze: ({ path }) =>
          hang
            ? new Promise(() => {})
            : Promise.resolve({ path, text: '', diagnostics: [], resolved: { ok: true as const, text: 'a = 1\n' }, diff: [], baseCount: 0, ms: 0 }),
        complete: async () => [],
        hover: async () => null,
        datasets: async () => [],
      },
      (m) => ch.port2.postMessage(m),
    );
    ch.port2.addEventListener('message', (ev) => void handler.handle((ev as MessageEvent).data));
    ch.port2.start();
    ch.port1.start();
    return {
      port: ch.port1 as unknown as PortLike,
      terminate: () => {
        terminated++;
        ch.port1.close();
      },
    };
  };
  return { spawn, stats: () => ({ spawned, terminated }) };
}

describe('ConfigService', () => {
  it('replaces a worker that runs past the time limit, and the next request succeeds', async () => {
    const { spawn, stats } = spawner();
    const service = new ConfigService(spawn);
    await expect(service.request('analyze', { userFiles: {}, path: 'a.py' }, 50)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(service.restarts).toBe(1);
    expect(stats()).toEqual({ spawned: 1, terminated: 1 });
    const ok = await service.request('analyze', { userFiles: {}, path: 'a.py' }, 2000);
    expect(ok.resolved).toEqual({ ok: true, text: 'a = 1\n' });
    expect(stats().spawned).toBe(2);
    service.close();
    expect(stats().terminated).toBe(2);
  });
});
