import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HubFixture } from '../../services/gateway/test/helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../../services/gateway/test/helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../../services/gateway/test/helpers/test-gateway.js';
import { exchange, head } from './helpers/raw-socket.js';

/**
 * A real listening gateway in front of one upstream that records what reaches it:
 *
 *   dinkes/faskes/v1 → upstream, portal subscribed; SPL_HEADERS_TIMEOUT_MS 600,
 *   SPL_REQUEST_TIMEOUT_MS 1500
 *
 * Each attack must end in a 4xx or a closed connection, reach the upstream never, and leave
 * the gateway answering /healthz.
 */
describe('the gateway on the wire under hostile clients', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  let gw: TestGateway;
  let port: number;
  let token: string;

  beforeAll(async () => {
    hub = await HubFixture.create();
    upstream = await new TestUpstream().start();
    hub.route({ api: 'faskes', version: 'v1', urls: [upstream.url] });
    hub.subscribe('app-portal', 'faskes', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildTestGateway({
      registryUrl: registry.url,
      env: { SPL_HEADERS_TIMEOUT_MS: '600', SPL_REQUEST_TIMEOUT_MS: '1500' },
    });
    port = Number(new URL(await gw.listen()).port);
    token = await hub.token();
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.stop();
    await registry?.stop();
  });
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  const alive = async () => {
    const res = await exchange(port, ['GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n']);
    expect(res.status).toBe(200);
  };
  const auth = () => `Authorization: Bearer ${token}`;

  it('forwards a well-formed request (the control for every attack below)', async () => {
    const res = await exchange(port, [
      head(['GET /dinkes/faskes/v1/ok HTTP/1.1', 'Host: gw', auth(), 'Connection: close']),
    ]);
    expect(res.status).toBe(200);
    expect(upstream.seen.map((s) => s.url)).toEqual(['/ok']);
  });

  describe('request smuggling', () => {
    it.each([
      [
        'Content-Length with Transfer-Encoding (CL.TE)',
        [
          'POST /dinkes/faskes/v1/a HTTP/1.1',
          'Host: gw',
          auth(),
          'Content-Length: 6',
          'Transfer-Encoding: chunked',
        ],
        '0\r\n\r\nGET /dinkes/faskes/v1/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n',
      ],
      [
        'two different Content-Lengths',
        ['POST /dinkes/faskes/v1/a HTTP/1.1', 'Host: gw', auth(), 'Content-Length: 4', 'Content-Length: 60'],
        'abcdGET /dinkes/faskes/v1/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n',
      ],
      [
        'an obfuscated Transfer-Encoding (xchunked)',
        ['POST /dinkes/faskes/v1/a HTTP/1.1', 'Host: gw', auth(), 'Transfer-Encoding: xchunked'],
        '0\r\n\r\nGET /dinkes/faskes/v1/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n',
      ],
      [
        'chunked not last in Transfer-Encoding',
        ['POST /dinkes/faskes/v1/a HTTP/1.1', 'Host: gw', auth(), 'Transfer-Encoding: chunked, identity'],
        '0\r\n\r\nGET /dinkes/faskes/v1/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n',
      ],
      [
        'a space before the colon of Transfer-Encoding',
        [
          'POST /dinkes/faskes/v1/a HTTP/1.1',
          'Host: gw',
          auth(),
          'Transfer-Encoding : chunked',
          'Content-Length: 4',
        ],
        '0\r\n\r\nGET /dinkes/faskes/v1/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n',
      ],
      [
        'an obs-folded Transfer-Encoding',
        ['POST /dinkes/faskes/v1/a HTTP/1.1', 'Host: gw', auth(), 'X-Fold: a', ' Transfer-Encoding: chunked'],
        '0\r\n\r\nGET /dinkes/faskes/v1/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n',
      ],
      [
        'a bad chunk size',
        ['POST /dinkes/faskes/v1/a HTTP/1.1', 'Host: gw', auth(), 'Transfer-Encoding: chunked'],
        'zz\r\nabc\r\n0\r\n\r\n',
      ],
      [
        'a bare LF line ending in the head',
        [
          'POST /dinkes/faskes/v1/a HTTP/1.1\nHost: gw',
          auth(),
          'Content-Length: 0\nTransfer-Encoding: chunked',
        ],
        '0\r\n\r\n',
      ],
    ])(
      'with %s is refused with 400 or a closed connection and nothing reaches the upstream',
      async (_, lines, body) => {
        const res = await exchange(port, [head(lines) + body]);
        expect(res.status === 0 ? res.closedByServer : res.status >= 400 && res.status < 500).toBe(true);
        expect(res.answer).not.toMatch(/HTTP\/1\.1 200/);
        expect(upstream.seen).toEqual([]);
        await alive();
      },
    );
  });

  describe('header floods', () => {
    it('with 5000 headers is refused with 431 before any route runs', async () => {
      const many = Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`);
      const res = await exchange(port, [
        head(['GET /dinkes/faskes/v1/a HTTP/1.1', 'Host: gw', auth(), ...many]),
      ]);
      expect(res.status).toBe(431);
      expect(upstream.seen).toEqual([]);
      await alive();
    });

    it('with one 1 MiB header is refused with 431 and the connection closed', async () => {
      const res = await exchange(port, [
        head(['GET /dinkes/faskes/v1/a HTTP/1.1', 'Host: gw', auth(), `X-Big: ${'a'.repeat(1 << 20)}`]),
      ]);
      expect(res.status).toBe(431);
      expect(res.closedByServer).toBe(true);
      expect(upstream.seen).toEqual([]);
      await alive();
    });

    it('with a 100 KiB request line is refused and nothing reaches the upstream', async () => {
      const res = await exchange(port, [
        head([`GET /dinkes/faskes/v1/${'a'.repeat(100 * 1024)} HTTP/1.1`, 'Host: gw', auth()]),
      ]);
      expect(res.status === 0 ? res.closedByServer : res.status >= 400 && res.status < 500).toBe(true);
      expect(upstream.seen).toEqual([]);
      await alive();
    });
  });

  describe('slow clients', () => {
    it('sending its head a byte at a time (slowloris) is dropped within SPL_HEADERS_TIMEOUT_MS', async () => {
      const bytes = [
        ...head(['GET /dinkes/faskes/v1/slow HTTP/1.1', 'Host: gw', auth(), `X-Pad: ${'p'.repeat(200)}`]),
      ];
      // 100 ms apart the whole head would take about 40 s; the gateway must not wait for it.
      const res = await exchange(port, bytes, { gapMs: 100, waitMs: 8_000 });
      expect(res.closedByServer).toBe(true);
      expect(res.elapsedMs).toBeLessThan(5_000);
      if (res.status) expect(res.status).toBe(408);
      expect(upstream.seen).toEqual([]);
      await alive();
    });

    it('sending its body a byte at a time is cut off within SPL_REQUEST_TIMEOUT_MS, nothing forwarded', async () => {
      const res = await exchange(
        port,
        [
          head(['POST /dinkes/faskes/v1/slow HTTP/1.1', 'Host: gw', auth(), 'Content-Length: 200']),
          ...'b'.repeat(200),
        ],
        { gapMs: 100, waitMs: 8_000 },
      );
      expect(res.closedByServer).toBe(true);
      expect(res.elapsedMs).toBeLessThan(5_000);
      if (res.status) expect(res.status).toBe(408);
      expect(upstream.seen).toEqual([]);
      await alive();
    });

    it('opening many idle connections does not stop the gateway answering others', async () => {
      const idle = Array.from({ length: 200 }, () =>
        exchange(port, ['GET /dinkes/faskes/v1/a HTTP/1.1\r\n'], { waitMs: 3_000 }),
      );
      await alive();
      const ended = await Promise.all(idle);
      expect(ended.every((e) => e.closedByServer || e.status >= 400 || e.status === 0)).toBe(true);
      expect(upstream.seen).toEqual([]);
    });
  });

  describe('path tricks on the wire', () => {
    it.each([
      [
        'an absolute-form target naming another host',
        'GET http://169.254.169.254/dinkes/faskes/v1/a HTTP/1.1',
      ],
      ['an asterisk target', 'GET * HTTP/1.1'],
      ['a matrix parameter hiding a dot segment', 'GET /dinkes/faskes/v1/a;/../../admin HTTP/1.1'],
      ['a raw non-ASCII byte', 'GET /dinkes/faskes/v1/\xff\xfe HTTP/1.1'],
      ['a NUL byte in the target', 'GET /dinkes/faskes/v1/a\x00b HTTP/1.1'],
      ['a fragment in the target', 'GET /dinkes/faskes/v1/../#/x HTTP/1.1'],
      ['a CONNECT to an internal address', 'CONNECT 127.0.0.1:6379 HTTP/1.1'],
      ['an unknown HTTP version', 'GET /dinkes/faskes/v1/a HTTP/9.9'],
      ['a tab inside the target', 'GET /dinkes/faskes/v1/a\t/../x HTTP/1.1'],
    ])('with %s is refused and never forwarded', async (_, requestLine) => {
      const res = await exchange(port, [
        Buffer.from(head([requestLine, 'Host: gw', auth(), 'Connection: close']), 'latin1'),
      ]);
      expect(res.status === 0 ? res.closedByServer : res.status >= 400 && res.status < 500).toBe(true);
      expect(upstream.seen).toEqual([]);
      await alive();
    });

    it('without an HTTP version (HTTP/0.9 form) is read by Node as an ordinary request: a token is still needed', async () => {
      // Node's parser takes `GET /path` followed by headers as HTTP/0.9; the gateway then
      // treats it as any request and forwards over HTTP/1.1, so nothing is smuggled, but the
      // checks of the contract (401 first) must still hold.
      const res = await exchange(port, [head(['GET /dinkes/faskes/v1/a', 'Host: gw', 'Connection: close'])]);
      expect(res.status).toBe(401);
      expect(upstream.seen).toEqual([]);
    });
  });
});
