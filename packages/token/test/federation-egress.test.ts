import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEgressPolicy } from '@spl/egress';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { federationEgress } from '../src/index.js';

/**
 * A trusted issuer's JWKS URL is an SSRF vector (issue 6 §3): the hub fetches what the
 * registry's operators typed. `federationEgress` checks the URL first and fetches through an
 * agent that judges the address it dials, so a name that passes the first check and resolves
 * to an internal address when dialled (DNS rebinding) is still refused.
 */
describe('federated JWKS fetches under SPL_EGRESS_ALLOW', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses an internal JWKS address before the fetch and at the fetch itself', async () => {
    const egress = federationEgress(createEgressPolicy('*'));
    const url = `http://localhost:${port}/jwks`;
    expect(await egress.isEgressAllowed(new URL(url))).toBe(false);
    // As after a rebinding: the check passed, the name now leads to loopback. The fetch refuses.
    await expect(egress.fetchJwks!(url)).rejects.toMatchObject({ code: 'SPL_EGRESS_REFUSED' });
    await expect(egress.fetchJwks!(`http://127.0.0.1:${port}/jwks`)).rejects.toMatchObject({
      code: 'SPL_EGRESS_REFUSED',
    });
    expect(hits).toBe(0);
  });

  it('fetches it when SPL_EGRESS_ALLOW lists the address', async () => {
    const egress = federationEgress(createEgressPolicy('127.0.0.1,::1'));
    const url = `http://localhost:${port}/jwks`;
    expect(await egress.isEgressAllowed(new URL(url))).toBe(true);
    expect(await egress.fetchJwks!(url)).toEqual({ keys: [] });
    expect(hits).toBe(1);
  });
});
