import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFederatedVerifier } from '@spl/token';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { Receiver } from '../helpers/receiver.js';
import { buildTestBroker, type TestBroker } from '../helpers/test-broker.js';

const NATIONAL = 'https://splp.test';

/**
 * A publisher known by a trusted issuer's token (the national SPLP), not the hub's:
 *
 *   splp (JWKS on a local server) ── token client_id=national-client ──► app-national (disdukcapil)
 *                                                                        └─ publisher of disdukcapil/kelahiran
 */
describe('a publisher with a trusted issuer token', () => {
  let broker: TestBroker;
  let receiver: Receiver;
  let jwks: Server;
  afterAll(async () => {
    await broker?.close();
    await receiver?.stop();
    await new Promise((ok) => jwks?.close(ok));
  });

  it('is accepted as the application the snapshot binds it to; a token from an untrusted key is 401', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'n1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((ok) => jwks.listen(0, '127.0.0.1', ok));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;

    const hub = await HubFixture.create();
    hub.applications.push({
      id: 'app-national',
      org: 'disdukcapil',
      slug: 'national',
      clientIds: [],
      federated: { issuer: 'splp', clientClaimValue: 'national-client' },
    });
    receiver = await new Receiver().start();
    hub.push(hub.topic({ publisherApplicationIds: ['app-national'] }), receiver.url);
    const snapshot = hub.snapshot();
    snapshot.trustedIssuers.push({
      slug: 'splp',
      issuer: NATIONAL,
      jwksUrl,
      audience: 'spl-regional',
      algorithms: ['ES256'],
      clientClaim: 'client_id',
    });
    const trusted = snapshot.trustedIssuers;
    const original = hub.snapshot.bind(hub);
    hub.snapshot = () => ({ ...original(), trustedIssuers: trusted });
    broker = await buildTestBroker(hub, {
      federated: createFederatedVerifier({ isEgressAllowed: () => true }),
    });

    const sign = (key: Parameters<SignJWT['sign']>[0]) =>
      new SignJWT({ client_id: 'national-client' })
        .setProtectedHeader({ alg: 'ES256', kid: 'n1' })
        .setIssuer(NATIONAL)
        .setAudience('spl-regional')
        .setSubject('national-client')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(key);
    const publish = (token: string) =>
      fetch(`${broker.url}/v1/topics/disdukcapil/kelahiran/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          specversion: '1.0',
          id: 'n-1',
          source: '/splp',
          type: 't',
          data: { nik: '3171000000000001', name: 'x' },
        }),
      });
    const res = await publish(await sign(privateKey));
    expect(res.status).toBe(202);
    await receiver.waitFor(1);

    const stranger = await generateKeyPair('ES256');
    const refused = await publish(await sign(stranger.privateKey));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('Bearer');
  });
});
