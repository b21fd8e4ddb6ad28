import type { SnapshotRoute } from '@spl/snapshot';
import { upstreamSecretContext } from '@spl/snapshot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { FakeRegistry, type SeenRequest, TestUpstream } from '../helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const CLIENT_ID = 'spl-gateway@dinkes';
const CLIENT_SECRET = 'dinkes upstream secret: with spaces & symbols+/=';

/**
 * The upstream's own authorization server, issuing tokens `t-<path>-<n>` per token path,
 * each `expires_in` as set per path; it counts what it is asked.
 *
 *   dinkes/faskes/v1  ─ oauth2 (token path /long, 300 s) ─┐
 *   dinkes/kamar/v1   ─ oauth2 (token path /short, 1 s)  ─┤
 *   dinkes/ruang/v1   ─ oauth2 (/short-text, "1" s)      ─┼─► upstream: 200 for a token it issued, else 401
 *   dinkes/obat/v1    ─ oauth2 (token path /broken: 500) ─┘
 *   dinkes/lab/v1     ─ oauth2, sealed secret without clientSecret
 *   portal ── approved for all
 */
class TokenServer extends TestUpstream {
  issued = new Set<string>();
  hits = new Map<string, SeenRequest[]>();
  lifetimes = new Map<string, number | string>([
    ['/long', 300],
    ['/short', 1],
    ['/short-text', '1'], // some servers send expires_in as a string
  ]);

  constructor() {
    super();
    this.handler = (req, res) => {
      const seen = this.hits.get(req.url) ?? [];
      seen.push(req);
      this.hits.set(req.url, seen);
      const lifetime = this.lifetimes.get(req.url);
      if (lifetime === undefined)
        return res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
      const token = `t${req.url.replace('/', '-')}-${seen.length}`;
      this.issued.add(token);
      res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: lifetime }));
    };
  }

  count(path: string): number {
    return this.hits.get(path)?.length ?? 0;
  }
}

describe('OAuth2 client credentials to the upstream (issue 3 §5)', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  let tokens: TokenServer;
  let gw: TestGateway;
  let consumerToken: string;

  const oauth2Route = (api: string, tokenPath: string, secret: object = { clientSecret: CLIENT_SECRET }) => {
    const route = hub.route({ api, version: 'v1', urls: [upstream.url] });
    const upstreamAuth: SnapshotRoute['upstreamAuth'] = {
      kind: 'oauth2',
      tokenUrl: `${tokens.url}${tokenPath}`,
      clientId: CLIENT_ID,
      scope: 'faskes.read',
      sealedSecret: hub.secretBox.seal(JSON.stringify(secret), upstreamSecretContext(route.id)),
    };
    hub.route({ ...route, upstreamAuth, urls: route.upstream.urls });
    hub.subscribe('app-portal', api, 'v1');
  };

  beforeAll(async () => {
    hub = await HubFixture.create();
    tokens = await new TokenServer().start();
    upstream = await new TestUpstream().start();
    upstream.handler = (req, res) => {
      const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!tokens.issued.has(bearer))
        return res
          .writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' })
          .end('{"error":"invalid_token"}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: bearer }));
    };
    oauth2Route('faskes', '/long');
    oauth2Route('kamar', '/short');
    oauth2Route('ruang', '/short-text');
    oauth2Route('obat', '/broken');
    oauth2Route('lab', '/long', { value: 'not an oauth2 secret' });
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildTestGateway({ registryUrl: registry.url });
    consumerToken = await hub.token();
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.stop();
    await tokens?.stop();
    await registry?.stop();
  });

  const get = (path: string) =>
    gw.app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${consumerToken}` } });

  it('asks the token endpoint once for many calls, and sends its token as Bearer to the upstream', async () => {
    upstream.seen.length = 0;
    // The first ten at once: one token request between them (single flight).
    const first = await Promise.all(Array.from({ length: 10 }, () => get('/dinkes/faskes/v1/rumah-sakit')));
    for (let i = 0; i < 10; i++) expect((await get('/dinkes/faskes/v1/rumah-sakit')).statusCode).toBe(200);
    expect(first.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    expect(tokens.count('/long')).toBe(1);
    expect(upstream.seen).toHaveLength(20);
    for (const seen of upstream.seen) expect(seen.headers.authorization).toBe('Bearer t-long-1');
    // The consumer's own token never reaches the upstream.
    expect(JSON.stringify(upstream.seen)).not.toContain(consumerToken);
  });

  it('authenticates to the token endpoint as RFC 6749 §4.4 asks: Basic client credentials, form grant and scope', () => {
    const [request] = tokens.hits.get('/long')!;
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const basic = Buffer.from(String(request!.headers.authorization).replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    // §2.3.1: each part form-urlencoded before Basic.
    expect(basic.map((part) => decodeURIComponent(part.replaceAll('+', ' ')))).toEqual([
      CLIENT_ID,
      CLIENT_SECRET,
    ]);
    const form = new URLSearchParams(request!.body);
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('scope')).toBe('faskes.read');
    expect(form.get('client_secret')).toBeNull();
  });

  it('asks for a new token once the cached one is about to expire', async () => {
    for (const api of ['kamar', 'ruang']) {
      expect((await get(`/dinkes/${api}/v1/a`)).statusCode).toBe(200);
      expect((await get(`/dinkes/${api}/v1/b`)).statusCode).toBe(200);
    }
    expect(tokens.count('/short')).toBe(1);
    expect(tokens.count('/short-text')).toBe(1);
    // expires_in 1 s: renewed after half its life at the latest.
    await new Promise((ok) => setTimeout(ok, 1100));
    upstream.seen.length = 0;
    expect((await get('/dinkes/kamar/v1/c')).statusCode).toBe(200);
    expect((await get('/dinkes/ruang/v1/c')).statusCode).toBe(200);
    expect(tokens.count('/short')).toBe(2);
    expect(tokens.count('/short-text')).toBe(2);
    expect(upstream.seen.map((s) => s.headers.authorization)).toEqual([
      'Bearer t-short-2',
      'Bearer t-short-text-2',
    ]);
  });

  it('drops a token the upstream answers 401 to and re-sends the call once with a fresh one', async () => {
    const before = tokens.count('/long');
    tokens.issued.delete(`t-long-${before}`); // the upstream's authorization server revoked it
    upstream.seen.length = 0;
    // The consumer never sees the 401 meant for the hub: the call is re-sent with a new token.
    const res = await get('/dinkes/faskes/v1/x');
    expect(res.statusCode).toBe(200);
    expect(tokens.count('/long')).toBe(before + 1);
    expect(upstream.seen.map((s) => s.headers.authorization)).toEqual([
      `Bearer t-long-${before}`,
      `Bearer t-long-${before + 1}`,
    ]);
    // The new token stays cached.
    upstream.seen.length = 0;
    expect((await get('/dinkes/faskes/v1/x')).statusCode).toBe(200);
    expect(tokens.count('/long')).toBe(before + 1);
  });

  it('re-sends a POST body unchanged after a refused token, and relays a second 401 as it came', async () => {
    const before = tokens.count('/long');
    tokens.issued.delete(`t-long-${before}`);
    upstream.seen.length = 0;
    const body = JSON.stringify({ faskes: 'RSUD Kota', kamar: 3 });
    const res = await gw.app.inject({
      method: 'POST',
      url: '/dinkes/faskes/v1/x',
      headers: { authorization: `Bearer ${consumerToken}`, 'content-type': 'application/json' },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    expect(upstream.seen.map((s) => s.body)).toEqual([body, body]);
    // An upstream that refuses every token: one retry only, then its 401 is relayed.
    const handler = upstream.handler;
    upstream.handler = (_req, r) => r.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    upstream.seen.length = 0;
    const refused = await get('/dinkes/faskes/v1/x');
    upstream.handler = handler;
    expect(refused.statusCode).toBe(401);
    expect(upstream.seen).toHaveLength(2);
  });

  it('answers 502 SPL_UPSTREAM_AUTH_FAILED, without calling the upstream, when the token endpoint fails', async () => {
    upstream.seen.length = 0;
    const res = await get('/dinkes/obat/v1/x');
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'SPL_UPSTREAM_AUTH_FAILED' });
    expect(res.body).not.toContain(CLIENT_SECRET);
    expect(upstream.seen).toHaveLength(0);
    // Not the upstream's fault: its circuit stays closed however often the token endpoint fails.
    for (let i = 0; i < 6; i++) expect((await get('/dinkes/obat/v1/x')).statusCode).toBe(502);
    expect((await get('/dinkes/faskes/v1/x')).statusCode).toBe(200);
  });

  it('answers 502 SPL_UPSTREAM_AUTH_FAILED for a route whose sealed secret holds no clientSecret', async () => {
    upstream.seen.length = 0;
    const res = await get('/dinkes/lab/v1/x');
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'SPL_UPSTREAM_AUTH_FAILED' });
    expect(upstream.seen).toHaveLength(0);
  });

  it('keeps the cached token across a snapshot that leaves the route unchanged', async () => {
    const before = tokens.count('/long');
    hub.version++;
    hub.route({ api: 'unrelated', version: 'v1', urls: [upstream.url] });
    registry.snapshot = hub.snapshot();
    await gw.runtime.refresh();
    expect(gw.runtime.status().version).toBe(hub.version);
    expect((await get('/dinkes/faskes/v1/x')).statusCode).toBe(200);
    expect(tokens.count('/long')).toBe(before);
  });
});
