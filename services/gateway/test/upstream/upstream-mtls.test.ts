import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { SnapshotRoute } from '@spl/snapshot';
import { upstreamSecretContext } from '@spl/snapshot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { FakeRegistry } from '../helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { type IssuedCertificate, TestPki } from '../helpers/test-pki.js';

/**
 * An upstream that requires a client certificate from the test CA (BKS 60(3)(i)), and
 * answers with the subject it saw.
 *
 *   test CA ──┬─ upstream's server cert (127.0.0.1)
 *             ├─ gateway-a (CN=gateway-a.spl)  ── dinkes/faskes/v1, later gateway-b
 *             └─ gateway-b (CN=gateway-b.spl)
 *   other CA ─ stranger (CN=stranger)           ── dinkes/asing/v1
 *   dinkes/tanpa/v1: mtls, key of gateway-b sealed with gateway-a's certificate
 */
describe('mutual TLS to the upstream (issue 3 §5)', () => {
  let pki: TestPki;
  let certA: IssuedCertificate;
  let certB: IssuedCertificate;
  let stranger: IssuedCertificate;
  let upstream: Server;
  let upstreamUrl: string;
  const seenSubjects: string[] = [];
  let hub: HubFixture;
  let registry: FakeRegistry;
  let gw: TestGateway;
  let token: string;

  const mtlsRoute = (api: string, cert: IssuedCertificate, key = cert.key, caPem?: string) => {
    // The same version keeps its id across snapshots, as the registry's does.
    const id = hub.routes.find((r) => r.api === api)?.id;
    const route = hub.route({ api, version: 'v1', urls: [`${upstreamUrl}/layanan`], ...(id ? { id } : {}) });
    const upstreamAuth: SnapshotRoute['upstreamAuth'] = {
      kind: 'mtls',
      certificatePem: cert.cert,
      ...(caPem ? { caPem } : {}),
      sealedSecret: hub.secretBox.seal(
        JSON.stringify({ privateKeyPem: key }),
        upstreamSecretContext(route.id),
      ),
    };
    hub.route({ ...route, upstreamAuth, urls: route.upstream.urls });
    if (!hub.subscriptions.some((s) => s.api === api)) hub.subscribe('app-portal', api, 'v1');
  };

  beforeAll(async () => {
    pki = await TestPki.create();
    certA = await pki.issue('gateway-a', '/CN=gateway-a.spl');
    certB = await pki.issue('gateway-b', '/CN=gateway-b.spl');
    stranger = await pki.issue('stranger', '/CN=stranger', { by: 'otherCa' });
    upstream = createServer(
      {
        cert: pki.server.cert,
        key: pki.server.key,
        ca: pki.ca.cert,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const subject = (req.socket as TLSSocket).getPeerX509Certificate()?.subject ?? '';
        seenSubjects.push(subject);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ subject, path: req.url }));
      },
    );
    await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
    upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

    hub = await HubFixture.create();
    mtlsRoute('faskes', certA, certA.key, pki.ca.cert);
    mtlsRoute('asing', stranger, stranger.key, pki.ca.cert);
    mtlsRoute('tanpa', certA, certB.key, pki.ca.cert);
    mtlsRoute('percaya', certA, certA.key); // no caPem: the upstream's CA is not trusted
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildTestGateway({ registryUrl: registry.url });
    token = await hub.token();
  });
  afterAll(async () => {
    await gw?.close();
    upstream?.closeAllConnections();
    await new Promise((ok) => upstream?.close(ok));
    await registry?.stop();
    await pki?.remove();
  });

  const get = (path: string) =>
    gw.app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } });

  it("presents the route's certificate and sealed key to an upstream that requires one", async () => {
    seenSubjects.length = 0;
    const res = await get('/dinkes/faskes/v1/rumah-sakit');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ subject: 'CN=gateway-a.spl', path: '/layanan/rumah-sakit' });
    expect((await get('/dinkes/faskes/v1/kamar')).statusCode).toBe(200);
    expect(seenSubjects).toEqual(['CN=gateway-a.spl', 'CN=gateway-a.spl']);
  });

  it('answers 503 problem+json when the upstream refuses the certificate, and the upstream serves nothing', async () => {
    seenSubjects.length = 0;
    const res = await get('/dinkes/asing/v1/x');
    // The upstream's refusal reaches the gateway as a closed connection (TLS 1.3 judges the
    // client's certificate after the client's side of the handshake is done; TLS 1.2 resets),
    // which cannot be told apart from an upstream going away.
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'SPL_UPSTREAM_UNAVAILABLE' });
    expect(seenSubjects).toHaveLength(0);
  });

  it('answers 502 SPL_UPSTREAM_AUTH_FAILED when the sealed key does not belong to the certificate', async () => {
    const res = await get('/dinkes/tanpa/v1/x');
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'SPL_UPSTREAM_AUTH_FAILED' });
    expect(res.body).not.toContain('PRIVATE KEY');
  });

  it("answers 502 when the upstream's certificate does not chain to the route's CA", async () => {
    seenSubjects.length = 0;
    const res = await get('/dinkes/percaya/v1/x');
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json()).toMatchObject({
      code: 'SPL_BAD_GATEWAY',
      detail: expect.stringMatching(
        /^the TLS handshake with the upstream of dinkes\/percaya\/v1 failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)$/,
      ),
    });
    expect(seenSubjects).toHaveLength(0);
  });

  it('presents a new certificate, and trusts a new CA, from the next snapshot', async () => {
    mtlsRoute('faskes', certB, certB.key, pki.ca.cert);
    // Same certificate as before, now with the upstream's CA: connections must be dialled anew.
    mtlsRoute('percaya', certA, certA.key, pki.ca.cert);
    hub.version++;
    registry.snapshot = hub.snapshot();
    await gw.runtime.refresh();
    expect(gw.runtime.status().version).toBe(hub.version);
    seenSubjects.length = 0;
    expect((await get('/dinkes/faskes/v1/x')).statusCode).toBe(200);
    expect((await get('/dinkes/percaya/v1/x')).statusCode).toBe(200);
    expect(seenSubjects).toEqual(['CN=gateway-b.spl', 'CN=gateway-a.spl']);
  });
});
