import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEgressAgent, createEgressPolicy, embeddedIpv4, isUrlAllowed } from '../src/index.js';

/**
 * SPL_EGRESS_ALLOW (issue 6 §3, BKS 60(3)(h)): the data planes never reach loopback,
 * private, link-local or metadata addresses unless listed — also when the address is
 * written as IPv6 that a network turns into IPv4.
 */
describe('the egress policy', () => {
  const open = createEgressPolicy('*');

  it('refuses IPv6 addresses that carry a loopback, private or metadata IPv4 address', () => {
    for (const [address, inner] of [
      ['::ffff:127.0.0.1', '127.0.0.1'], // IPv4-mapped
      ['::ffff:7f00:1', '127.0.0.1'], // the same, as URL parsing writes it
      ['::ffff:0:a00:5', '10.0.0.5'], // IPv4-translated (SIIT)
      ['::a9fe:a9fe', '169.254.169.254'], // IPv4-compatible
      ['64:ff9b::a9fe:a9fe', '169.254.169.254'], // NAT64 to the metadata service
      ['64:ff9b::c0a8:101', '192.168.1.1'],
      ['2002:7f00:1::1', '127.0.0.1'], // 6to4
      ['2002:a00:5::', '10.0.0.5'],
    ] as const) {
      expect(embeddedIpv4(address), address).toBe(inner);
      expect(open.check('upstream.example', address), address).toMatch(
        new RegExp(`resolves to .*\\(${inner.replaceAll('.', '\\.')}\\), a loopback, private or link-local`),
      );
    }
  });

  it('lets the same forms through when they carry a public address, and judges a listed inner address as listed', () => {
    expect(open.check('api.example', '64:ff9b::808:808')).toBeNull(); // NAT64 to 8.8.8.8
    expect(open.check('api.example', '2002:808:808::1')).toBeNull();
    expect(open.check('api.example', '::ffff:8.8.8.8')).toBeNull();
    const listed = createEgressPolicy('10.0.0.0/8');
    expect(listed.check('pd.internal', '64:ff9b::a00:5')).toBeNull();
    expect(listed.check('pd.internal', '64:ff9b::a9fe:a9fe')).toMatch(/169\.254\.169\.254/);
  });

  it("keeps IPv6's own loopback and unspecified addresses as IPv6: refused unless listed", () => {
    expect(embeddedIpv4('::1')).toBeNull();
    expect(embeddedIpv4('::')).toBeNull();
    expect(open.check('localhost', '::1')).toMatch(/resolves to ::1, a loopback/);
    expect(open.check('x.example', '::')).toMatch(/resolves to ::, a loopback/);
    expect(createEgressPolicy('::1').check('localhost', '::1')).toBeNull();
  });

  it('refuses Teredo, local-use NAT64, discard-only, documentation and site-local IPv6', () => {
    for (const address of [
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      '64:ff9b:1::a00:5',
      '100::1',
      '2001:db8::1',
      'fec0::1',
    ])
      expect(open.check('x.example', address), address).toMatch(/not listed in SPL_EGRESS_ALLOW/);
    expect(open.check('x.example', '2606:4700::1111')).toBeNull();
  });

  it('judges a URL before a request on the address its name resolves to', async () => {
    expect(await isUrlAllowed(open, new URL('http://localhost:1/'))).toBe(false);
    expect(await isUrlAllowed(open, new URL('http://[::ffff:7f00:1]:1/'))).toBe(false);
    expect(await isUrlAllowed(createEgressPolicy('127.0.0.1,::1'), new URL('http://localhost:1/'))).toBe(
      true,
    );
  });
});

describe('an agent under the egress policy', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses to dial an internal address by name and by IP literal, with no request made', async () => {
    const agent = createEgressAgent(createEgressPolicy('*'));
    for (const url of [
      `http://localhost:${port}/`,
      `http://127.0.0.1:${port}/`,
      `http://[::ffff:7f00:1]:${port}/`,
    ])
      await expect(request(url, { dispatcher: agent }), url).rejects.toMatchObject({
        code: 'SPL_EGRESS_REFUSED',
      });
    expect(hits).toBe(0);
    await agent.close();
  });

  it('dials it when SPL_EGRESS_ALLOW lists it', async () => {
    const agent = createEgressAgent(createEgressPolicy('127.0.0.1'));
    const res = await request(`http://localhost:${port}/`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('ok');
    expect(hits).toBe(1);
    await agent.close();
  });
});
