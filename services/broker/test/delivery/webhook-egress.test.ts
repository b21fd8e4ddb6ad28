import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEgressPolicy } from '@spl/egress';
import { describe, expect, it } from 'vitest';
import { createWebhookSender } from '../../src/delivery/webhook-sender.js';
import type { CompiledSubscription } from '../../src/snapshot/topic-table.js';

// Regression (found by test/hostile/ssrf.test.ts): the sender checked SPL_EGRESS_ALLOW only in
// its DNS lookup, which net.connect skips for an IP literal, so http://127.0.0.2/ was dialled.
describe('the webhook sender and SPL_EGRESS_ALLOW', () => {
  it('refuses an IP-literal URL the policy does not list, and reaches one it lists', async () => {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url!);
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.2', ok));
    const port = (server.address() as AddressInfo).port;
    const sub = (url: string) => ({ url, problem: null, keys: [] }) as unknown as CompiledSubscription;
    try {
      const refusing = createWebhookSender({
        egress: createEgressPolicy('webhook.example.go.id'),
        timeoutMs: 1000,
        connections: 1,
      });
      const refused = await refusing.send(sub(`http://127.0.0.2:${port}/hook`), 'msg_1', '{}');
      await refusing.close();
      expect(refused).toMatchObject({ isDelivered: false, status: 0 });
      expect(refused.error).toMatch(/SPL_EGRESS_REFUSED|SPL_EGRESS_ALLOW/);
      expect(hits).toEqual([]);

      const allowing = createWebhookSender({
        egress: createEgressPolicy('127.0.0.2'),
        timeoutMs: 1000,
        connections: 1,
      });
      const delivered = await allowing.send(sub(`http://127.0.0.2:${port}/hook`), 'msg_2', '{}');
      await allowing.close();
      expect(delivered).toMatchObject({ isDelivered: true, status: 204 });
      expect(hits).toEqual(['/hook']);
    } finally {
      server.close();
    }
  });
});
