import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../helpers/servers.js';
import { type IssuedCertificate, TestPki } from '../helpers/test-pki.js';
import { startTlsGateway, type TlsTestGateway } from './tls-gateway.js';

/**
 *   test CA ──┬─ server cert (the gateway's)
 *             └─ portal client cert (CN=portal.disdukcapil.go.id)
 *   other CA ── stranger client cert (CN=stranger.example)
 *
 *   dinkes/faskes/v1 → upstream;  portal ── approved
 */
describe('mutual TLS for clients (BKS 60(3)(i))', () => {
  let pki: TestPki;
  let portalCert: IssuedCertificate;
  let strangerCert: IssuedCertificate;
  let hub: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  const agents: Agent[] = [];

  beforeAll(async () => {
    pki = await TestPki.create();
    portalCert = await pki.issue('portal', '/O=Disdukcapil/CN=portal.disdukcapil.go.id');
    strangerCert = await pki.issue('stranger', '/CN=stranger.example', { by: 'otherCa' });
    hub = await HubFixture.create();
    upstream = await new TestUpstream().start();
    hub.route({ api: 'faskes', version: 'v1', urls: [upstream.url] });
    hub.subscribe('app-portal', 'faskes', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await upstream?.stop();
    await registry?.stop();
    await pki?.remove();
  });

  /** A client trusting the test CA, presenting `cert` when given. */
  const client = (cert?: IssuedCertificate) => {
    const agent = new Agent({
      connect: { ca: pki.ca.cert, ...(cert ? { cert: cert.cert, key: cert.key } : {}) },
    });
    agents.push(agent);
    return agent;
  };

  const callApi = async (gateway: TlsTestGateway, agent: Agent) =>
    request(`${gateway.url}/dinkes/faskes/v1/rumah-sakit`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${await hub.token()}` },
    });

  const env = (mode: string) => ({
    SPL_TLS_CERT_FILE: pki.server.certFile,
    SPL_TLS_KEY_FILE: pki.server.keyFile,
    SPL_TLS_CA_FILE: pki.ca.certFile,
    SPL_TLS_CLIENT_AUTH: mode,
  });

  describe('SPL_TLS_CLIENT_AUTH=required', () => {
    let gateway: TlsTestGateway;
    /** Why node:tls refused handshakes, as the server sees it. */
    const refusals: string[] = [];
    beforeAll(async () => {
      gateway = await startTlsGateway(registry.url, env('required'));
      gateway.gw.app.server.on('tlsClientError', (err: NodeJS.ErrnoException) =>
        refusals.push(String(err.code)),
      );
    });
    afterAll(async () => {
      await gateway?.close();
    });

    it('refuses a client that presents no certificate, before any HTTP', async () => {
      upstream.seen.length = 0;
      refusals.length = 0;
      // TLS 1.3: the client's handshake ends before the server judges it; the server then closes.
      await expect(callApi(gateway, client())).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
      await expect(request(`${gateway.url}/healthz`, { dispatcher: client() })).rejects.toMatchObject({
        code: 'UND_ERR_SOCKET',
      });
      expect(refusals).toEqual([
        'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
        'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
      ]);
      expect(upstream.seen).toHaveLength(0);
    });

    it('refuses a client whose certificate comes from another CA', async () => {
      upstream.seen.length = 0;
      refusals.length = 0;
      await expect(callApi(gateway, client(strangerCert))).rejects.toThrow(/other side closed|ECONNRESET/);
      // The server's side of it (the code node:tls reports varies with who closes first).
      expect(refusals).toHaveLength(1);
      expect(upstream.seen).toHaveLength(0);
    });

    it('serves a client with a certificate from SPL_TLS_CA_FILE and logs its subject and fingerprint', async () => {
      upstream.seen.length = 0;
      const res = await callApi(gateway, client(portalCert));
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      expect(upstream.seen).toHaveLength(1);
      const line = gateway.accessLog.find((l) => l.url === '/dinkes/faskes/v1/rumah-sakit');
      expect(line).toMatchObject({
        status: 200,
        clientCertSubject: 'O=Disdukcapil, CN=portal.disdukcapil.go.id',
        clientCertFingerprint: new X509Certificate(portalCert.cert).fingerprint256,
      });
      // The log holds the certificate's identity, never its key.
      expect(JSON.stringify(gateway.accessLog)).not.toContain('PRIVATE KEY');
    });

    it('still asks for the bearer token: a certificate is not an application credential', async () => {
      const res = await request(`${gateway.url}/dinkes/faskes/v1/rumah-sakit`, {
        dispatcher: client(portalCert),
      });
      expect(res.statusCode).toBe(401);
      await res.body.dump();
    });
  });

  describe('SPL_TLS_CLIENT_AUTH=optional', () => {
    let gateway: TlsTestGateway;
    beforeAll(async () => {
      gateway = await startTlsGateway(registry.url, env('optional'));
    });
    afterAll(async () => {
      await gateway?.close();
    });

    it('serves a client without a certificate, and logs no certificate for it', async () => {
      gateway.accessLog.length = 0;
      const res = await callApi(gateway, client());
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      expect(gateway.accessLog[0]).toMatchObject({ status: 200 });
      expect(gateway.accessLog[0]).not.toHaveProperty('clientCertSubject');
      expect(gateway.accessLog[0]).not.toHaveProperty('clientCertFingerprint');
    });

    it('answers 403 problem+json to a certificate from another CA, before the token is looked at', async () => {
      upstream.seen.length = 0;
      const res = await request(`${gateway.url}/dinkes/faskes/v1/rumah-sakit`, {
        dispatcher: client(strangerCert),
      });
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      const body = (await res.body.json()) as { code: string; detail: string };
      expect(body.code).toBe('SPL_CLIENT_CERT_REFUSED');
      expect(body.detail).toMatch(/does not verify/);
      expect(upstream.seen).toHaveLength(0);
    });

    it('serves a client with a certificate from the CA and logs who it is', async () => {
      gateway.accessLog.length = 0;
      const agent = client(portalCert);
      for (let i = 0; i < 2; i++) {
        const res = await callApi(gateway, agent);
        expect(res.statusCode).toBe(200);
        await res.body.dump();
      }
      // Both requests on one kept-alive connection carry the identity.
      expect(gateway.accessLog).toHaveLength(2);
      for (const line of gateway.accessLog)
        expect(line).toMatchObject({
          clientCertSubject: 'O=Disdukcapil, CN=portal.disdukcapil.go.id',
          clientCertFingerprint: new X509Certificate(portalCert.cert).fingerprint256,
        });
    });
  });
});
