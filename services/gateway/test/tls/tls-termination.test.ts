import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { FakeRegistry, rawRequest, TestUpstream } from '../helpers/servers.js';
import { TestPki } from '../helpers/test-pki.js';
import { startTlsGateway, type TlsTestGateway } from './tls-gateway.js';

/**
 *   gateway (SPL_TLS_CERT_FILE = server cert of the test CA) ─ dinkes/faskes/v1 → plain HTTP upstream
 *   portal ── approved
 */
describe('TLS termination at the gateway (issue 3 §3)', () => {
  let pki: TestPki;
  let hub: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  let tls: TlsTestGateway;
  let trusting: Agent;

  beforeAll(async () => {
    pki = await TestPki.create();
    hub = await HubFixture.create();
    upstream = await new TestUpstream().start();
    hub.route({ api: 'faskes', version: 'v1', urls: [upstream.url] });
    hub.subscribe('app-portal', 'faskes', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    tls = await startTlsGateway(registry.url, {
      SPL_TLS_CERT_FILE: pki.server.certFile,
      SPL_TLS_KEY_FILE: pki.server.keyFile,
    });
    trusting = new Agent({ connect: { ca: pki.ca.cert } });
  });
  afterAll(async () => {
    await trusting?.close();
    await tls?.close();
    await upstream?.stop();
    await registry?.stop();
    await pki?.remove();
  });

  it('serves the API over HTTPS with the configured certificate, and tells the upstream the caller used https', async () => {
    expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    upstream.seen.length = 0;
    const res = await request(`${tls.url}/dinkes/faskes/v1/rumah-sakit?kota=bandung`, {
      dispatcher: trusting,
      headers: { authorization: `Bearer ${await hub.token()}` },
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ path: '/rumah-sakit?kota=bandung' });
    expect(upstream.seen[0]!.headers['x-forwarded-proto']).toBe('https');
  });

  it('presents the certificate from SPL_TLS_CERT_FILE', async () => {
    let presented: string | undefined;
    const inspecting = new Agent({
      connect: {
        ca: pki.ca.cert,
        checkServerIdentity: (_host, cert) => {
          presented = cert.fingerprint256;
          return undefined;
        },
      },
    });
    try {
      const res = await request(`${tls.url}/healthz`, { dispatcher: inspecting });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      await inspecting.close();
    }
    const { X509Certificate } = await import('node:crypto');
    expect(presented).toBe(new X509Certificate(pki.server.cert).fingerprint256);
  });

  it('answers its own problem+json errors over HTTPS too', async () => {
    const res = await request(`${tls.url}/dinkes/faskes/v1/x`, { dispatcher: trusting });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(((await res.body.json()) as { code: string }).code).toBe('SPL_INVALID_TOKEN');
  });

  it('is refused by a client that does not trust the issuing CA', async () => {
    const untrusting = new Agent();
    try {
      await expect(request(`${tls.url}/healthz`, { dispatcher: untrusting })).rejects.toMatchObject({
        code: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/),
      });
    } finally {
      await untrusting.close();
    }
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    const plain = tls.url.replace('https://', 'http://');
    const outcome = await rawRequest(plain, '/healthz').then(
      (res) => res.status,
      (err: Error) => err,
    );
    // The TLS handshake fails on the plaintext bytes and the connection is closed: no HTTP answer.
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as NodeJS.ErrnoException).code).toMatch(/ECONNRESET|EPIPE/);
  });
});
