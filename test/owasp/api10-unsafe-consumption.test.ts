import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFederatedVerifier,
  createJwksFetcher,
  FederationError,
} from '../../packages/token/src/index.js';
import { buildOwaspGateway, type OwaspGateway } from './gateway.js';

/**
 * OWASP API10:2023 Unsafe Consumption of APIs: the hub trusts what third parties answer —
 * a federated issuer's JWKS, a PD's upstream — and a malformed, huge or slow answer takes it
 * down, hangs it, or slips past a check.
 *
 * Refused by: BKS 60(3)(d) (authenticate external services: a JWKS is only keys, fetched
 * with limits), 60(3)(g) (validate input, including input from upstreams), 60(3)(j) (error
 * handling: the contract's 502/503/504, never a crash or a hang), 60(3)(m) (the SLA is kept
 * by bounding every outbound wait). The JWKS fetcher (packages/token/src/federation/
 * jwks-fetcher.ts) caps time (3 s default) and size (64 KiB), follows no redirect and takes
 * only a `keys` array; the gateway bounds each upstream call by the route's timeoutMs.
 * Webhook subscribers that answer slowly are covered by
 * services/broker/test/delivery/slow-subscriber-isolation.test.ts.
 */
describe('API10 a federated JWKS that is malformed, huge, slow or redirected', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      switch (req.url) {
        case '/not-json':
          res.end('<html>login</html>');
          break;
        case '/no-keys':
          res.end(JSON.stringify({ keys: 'all of them' }));
          break;
        case '/huge':
          // Chunked, no Content-Length: the cap must hold while streaming.
          res.write('{"keys":[],"pad":"');
          for (let i = 0; i < 64; i++) res.write('x'.repeat(4096));
          res.end('"}');
          break;
        case '/huge-declared':
          res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
          res.write('{"keys":[');
          break;
        case '/slow':
          break; // never answers
        case '/redirect':
          res.writeHead(302, { location: 'http://169.254.169.254/jwks' }).end();
          break;
        default:
          res.writeHead(404).end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  });

  const fetchJwks = createJwksFetcher({ timeoutMs: 500 });

  it.each([
    ['not JSON', '/not-json', /JSON|Unexpected token/],
    ['without a keys array', '/no-keys', /no "keys" array/],
    ['over 64 KiB while streaming', '/huge', /over the limit/],
    ['declaring 50 MiB', '/huge-declared', /the limit is/],
    ['a redirect (to the metadata address)', '/redirect', /answered 302/],
  ])('refuses a JWKS %s', async (_what, path, message) => {
    await expect(fetchJwks(`${base}${path}`)).rejects.toThrow(message);
  });

  it('gives up on a JWKS that never answers within its timeout', async () => {
    const started = Date.now();
    await expect(fetchJwks(`${base}/slow`)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('turns a bad JWKS into a refused token (jwks-unavailable), not a crash', async () => {
    const verifier = createFederatedVerifier({ isEgressAllowed: () => true, fetchJwks });
    verifier.update(
      [
        {
          slug: 'splp',
          issuer: 'https://splp.example.go.id',
          jwksUrl: `${base}/huge`,
          audience: 'spl',
          algorithms: ['ES256'],
          clientClaim: 'azp',
        },
      ],
      [],
    );
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'k1' })).toString('base64url');
    const claims = Buffer.from(
      JSON.stringify({
        iss: 'https://splp.example.go.id',
        aud: 'spl',
        azp: 'x',
        exp: Math.floor(Date.now() / 1000) + 60,
      }),
    ).toString('base64url');
    const failure = await verifier.verify(`${header}.${claims}.c2ln`, 'https://splp.example.go.id').then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(FederationError);
    expect((failure as FederationError).reason).toBe('jwks-unavailable');
  });
});

describe('API10 an upstream that answers garbage, slowly or not at all', () => {
  let garbage: TcpServer;
  const garbageSockets = new Set<import('node:net').Socket>();
  let garbageUrl: string;
  let g: OwaspGateway;
  beforeAll(async () => {
    garbage = createTcpServer((socket) => {
      garbageSockets.add(socket);
      socket.on('error', () => {});
      socket.end('SSH-2.0-OpenSSH_9.6\r\n\0\0\xff\xfe not http at all\r\n');
    });
    await new Promise<void>((ok) => garbage.listen(0, '127.0.0.1', ok));
    garbageUrl = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`;
    g = await buildOwaspGateway({
      configure: (hub, url) => {
        hub.route({ api: 'sampah', version: 'v1', urls: [garbageUrl] });
        hub.route({ api: 'lambat', version: 'v1', urls: [url], upstream: { urls: [url], timeoutMs: 300 } });
        hub.subscribe('app-portal', 'sampah', 'v1');
        hub.subscribe('app-portal', 'lambat', 'v1');
      },
    });
    g.upstream.handler = (req, res) => {
      if (req.url.startsWith('/hang')) return; // headers never come
      if (req.url.startsWith('/trickle')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"a":'); // the body never finishes
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    };
  });
  afterAll(async () => {
    g?.upstream.server.closeAllConnections();
    for (const socket of garbageSockets) socket.destroy();
    await new Promise<void>((ok) => garbage.close(() => ok()));
    await g?.close();
  });

  const call = async (url: string) =>
    g.gw.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await g.hub.token()}` } });

  it('answers 502 problem+json when the upstream does not speak HTTP', async () => {
    const res = await call('/dinkes/sampah/v1/x');
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).not.toContain('OpenSSH');
  });

  it('answers 504 within the route timeout when the upstream never answers', async () => {
    const started = Date.now();
    const res = await call('/dinkes/lambat/v1/hang');
    expect(res.statusCode).toBe(504);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('cuts a streamed answer whose body stalls, instead of holding the caller open', async () => {
    // The status line was relayed already; the gateway ends the stream once the upstream's
    // body stalls past the route timeout (the caller sees a cut response, not a hang).
    const started = Date.now();
    const outcome = await Promise.race([
      call('/dinkes/lambat/v1/trickle').then(
        () => 'answered',
        () => 'cut',
      ),
      new Promise<string>((ok) => setTimeout(() => ok('hung'), 5_000)),
    ]);
    expect(outcome).not.toBe('hung');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keeps serving other calls meanwhile', async () => {
    expect((await call('/dinkes/faskes/v1/ok')).statusCode).toBe(200);
  });
});
