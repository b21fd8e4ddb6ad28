import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../../services/broker/test/helpers/hub-fixture.js';
import { buildTestBroker, type TestBroker } from '../../services/broker/test/helpers/test-broker.js';
import { buildTestRegistry, type TestRegistry } from '../../services/registry/test/helpers/test-registry.js';
import { countEventKeys } from './helpers/broker-keys.js';
import { exchange, head, isRefused } from './helpers/raw-socket.js';

/**
 * The wire attacks of gateway-raw-socket.test.ts against the two other services that listen
 * for clients: the registry (token endpoint, REST API, portal) and the broker's publish API
 * (issue 6 §3: header floods, slowloris, smuggling, path tricks on every service). Both run
 * with SPL_HEADERS_TIMEOUT_MS 600. The oracle: a 4xx or a closed connection, never a second
 * answer, nothing stored by a smuggled request, the service still answering /healthz.
 */

/** Attacks each service must refuse, given the request line and headers of an innocent request. */
function wireAttacks(innocent: string, smuggled: string) {
  return [
    [
      'CL.TE',
      [innocent, 'Host: x', 'Content-Length: 6', 'Transfer-Encoding: chunked'],
      `0\r\n\r\n${smuggled}`,
    ],
    ['two Content-Lengths', [innocent, 'Host: x', 'Content-Length: 0', 'Content-Length: 60'], smuggled],
    [
      'an obfuscated Transfer-Encoding',
      [innocent, 'Host: x', 'Transfer-Encoding: xchunked'],
      `0\r\n\r\n${smuggled}`,
    ],
    [
      'chunked not last',
      [innocent, 'Host: x', 'Transfer-Encoding: chunked, identity'],
      `0\r\n\r\n${smuggled}`,
    ],
    [
      'a space before the colon',
      [innocent, 'Host: x', 'Transfer-Encoding : chunked', 'Content-Length: 4'],
      `0\r\n\r\n${smuggled}`,
    ],
    [
      'an obs-folded Transfer-Encoding',
      [innocent, 'Host: x', 'X-Fold: a', ' Transfer-Encoding: chunked'],
      `0\r\n\r\n${smuggled}`,
    ],
  ] as const;
}

// An absolute-form target (`GET http://169.254.169.254/healthz`) is not among them: these two
// services are origin servers, which RFC 9112 §3.2.2 has accept it, and they answer the path
// (the test below shows the host it names is never called). The gateway, a proxy, refuses it.
const PATH_TRICKS = [
  'GET * HTTP/1.1',
  'GET /v1/\xff\xfe HTTP/1.1',
  'GET /v1/a\x00b HTTP/1.1',
  'CONNECT 127.0.0.1:6379 HTTP/1.1',
  'GET /healthz HTTP/9.9',
  'GET /v1/a\t/../x HTTP/1.1',
];

/** How many HTTP answers a byte stream holds: a smuggled request answered shows as a second. */
const answers = (text: string) => text.match(/HTTP\/1\.[01] \d{3}/g)?.length ?? 0;

describe.each(['registry', 'broker'] as const)('the %s on the wire under hostile clients', (service) => {
  let port: number;
  let innocent: string;
  let smuggled: string;
  /** A number that grows when the smuggled request was carried out. */
  let stored: () => Promise<number>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const env = { SPL_HEADERS_TIMEOUT_MS: '600', SPL_REQUEST_TIMEOUT_MS: '1500' };
    if (service === 'registry') {
      const r: TestRegistry = await buildTestRegistry({ env });
      const token = await r.operatorToken();
      const body = JSON.stringify({
        slug: `smuggled-${randomUUID().slice(0, 8)}`,
        name: 'Smuggled',
        kind: 'perangkat-daerah',
      });
      innocent = 'GET /healthz HTTP/1.1';
      smuggled = `POST /v1/organisations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      stored = async () =>
        (await r.db.query<{ n: number }>('SELECT count(*)::int AS n FROM organisations'))[0]!.n;
      port = Number(new URL(await r.app.listen({ host: '127.0.0.1', port: 0 })).port);
      close = () => r.close();
    } else {
      const hub = await HubFixture.create();
      hub.pull(hub.topic());
      const broker: TestBroker = await buildTestBroker(hub, { worker: false, env });
      const token = await hub.token();
      const event = JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        source: '/disdukcapil/sipduk',
        type: 'go.id.kota.kelahiran.dicatat',
        datacontenttype: 'application/json',
        data: { nik: '3171000000000001', name: 'Bayi' },
      });
      innocent = 'GET /healthz HTTP/1.1';
      smuggled = `POST /v1/topics/disdukcapil/kelahiran/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/cloudevents+json\r\nContent-Length: ${Buffer.byteLength(event)}\r\n\r\n${event}`;
      stored = () => countEventKeys(broker);
      port = Number(new URL(broker.url).port);
      close = () => broker.close();
    }
  });
  afterAll(async () => close?.());

  const alive = async () => {
    const res = await exchange(port, [head(['GET /healthz HTTP/1.1', 'Host: x', 'Connection: close'])]);
    expect(res.status).toBe(200);
  };

  it('carries out the smuggled request when it is sent on its own (the control)', async () => {
    const before = await stored();
    const res = await exchange(port, [smuggled.replace('Host: x\r\n', 'Host: x\r\nConnection: close\r\n')]);
    expect([201, 202]).toContain(res.status);
    expect(await stored()).toBeGreaterThan(before);
  });

  it('refuses every smuggling form: one answer at most, a 4xx or a closed connection, nothing stored', async () => {
    for (const [name, lines, body] of wireAttacks(innocent, smuggled)) {
      const before = await stored();
      const res = await exchange(port, [head([...lines]) + body]);
      expect(isRefused(res), `${name}: ${res.answer.slice(0, 80)}`).toBe(true);
      expect(answers(res.answer), name).toBeLessThanOrEqual(1);
      expect(await stored(), name).toBe(before);
      await alive();
    }
  });

  it('answers a flood of 5000 headers and a 1 MiB header with 431', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`);
    expect((await exchange(port, [head(['GET /healthz HTTP/1.1', 'Host: x', ...many])])).status).toBe(431);
    const big = await exchange(port, [
      head(['GET /healthz HTTP/1.1', 'Host: x', `X-Big: ${'a'.repeat(1 << 20)}`]),
    ]);
    expect(big.status).toBe(431);
    expect(big.closedByServer).toBe(true);
    await alive();
  });

  it('drops a client sending its head a byte at a time within SPL_HEADERS_TIMEOUT_MS', async () => {
    const bytes = [...head(['GET /healthz HTTP/1.1', 'Host: x', `X-Pad: ${'p'.repeat(200)}`])];
    const res = await exchange(port, bytes, { gapMs: 100, waitMs: 8_000 });
    expect(res.closedByServer).toBe(true);
    expect(res.elapsedMs).toBeLessThan(5_000);
    if (res.status) expect(res.status).toBe(408);
    await alive();
  });

  it('answers an absolute-form target as the path it names, as an origin server does (RFC 9112 §3.2.2)', async () => {
    const res = await exchange(port, [
      head(['GET http://169.254.169.254/healthz HTTP/1.1', 'Host: x', 'Connection: close']),
    ]);
    expect(res.status).toBe(200);
    expect(res.elapsedMs).toBeLessThan(1_000);
    expect(answers(res.answer)).toBe(1);
  });

  it('cuts off a client sending its body a byte at a time within SPL_REQUEST_TIMEOUT_MS', async () => {
    const before = await stored();
    const headEnd = smuggled.indexOf('\r\n\r\n') + 4;
    const body = smuggled.slice(headEnd);
    // 100 ms apart the body would take tens of seconds; the service must not wait for it.
    const res = await exchange(port, [smuggled.slice(0, headEnd), ...body], { gapMs: 100, waitMs: 8_000 });
    expect(res.closedByServer).toBe(true);
    expect(res.elapsedMs).toBeLessThan(5_000);
    if (res.status) expect(res.status).toBe(408);
    expect(await stored()).toBe(before);
    await alive();
  });

  it('refuses path tricks on the wire with a 4xx or a closed connection', async () => {
    for (const line of PATH_TRICKS) {
      const res = await exchange(port, [Buffer.from(head([line, 'Host: x', 'Connection: close']), 'latin1')]);
      expect(isRefused(res), `${JSON.stringify(line)}: ${res.answer.slice(0, 80)}`).toBe(true);
    }
    await alive();
  });
});
