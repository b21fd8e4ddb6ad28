import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SnapshotApplication, SnapshotTrustedIssuer } from '@spl/snapshot';
import { createFederatedVerifier, type FederatedVerifierOptions, FederationError } from '@spl/token';
import {
  base64url,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/**
 * A second issuer (the national SPLP) served by a real JWKS server on port 0:
 *
 *   SPLP (https://splp.example.go.id) ──JWKS── http://127.0.0.1:<port>/jwks   (rsa-1, ec-1; ec-2 after rotation)
 *      └─ azp "splp-bansos" ──bound to── application app-bansos (org dinsos)
 *      └─ azp "splp-lain"   ──bound to── nothing
 */

const ISSUER = 'https://splp.example.go.id';
const AUDIENCE = 'spl-kota-contoh';
const NOW_S = Math.floor(Date.now() / 1000);

type Key = { privateKey: CryptoKey; publicJwk: JWK };
let rsa1: Key;
let ec1: Key;
let ec2: Key;
let rsaPublicPem: string;

let server: Server;
let baseUrl: string;
let servedKeys: JWK[];
let jwksHits: number;

async function newKey(alg: 'RS256' | 'ES256', kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

beforeAll(async () => {
  rsa1 = await newKey('RS256', 'rsa-1');
  ec1 = await newKey('ES256', 'ec-1');
  ec2 = await newKey('ES256', 'ec-2');
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  rsaPublicPem = await exportSPKI(publicKey);
  server = createServer((req, res) => {
    if (req.url === '/jwks') {
      jwksHits++;
      res.setHeader('content-type', 'application/jwk-set+json');
      res.end(JSON.stringify({ keys: servedKeys }));
    } else if (req.url === '/big') {
      jwksHits++;
      // Chunked, no content-length: the limit must hold while streaming.
      res.write(`{"keys":[],"pad":"`);
      res.write('x'.repeat(70_000));
      res.end('"}');
    } else if (req.url === '/redirect') {
      jwksHits++;
      res.statusCode = 302;
      res.setHeader('location', '/jwks');
      res.end();
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  servedKeys = [rsa1.publicJwk, ec1.publicJwk];
  jwksHits = 0;
});

function trustedIssuer(overrides: Partial<SnapshotTrustedIssuer> = {}): SnapshotTrustedIssuer {
  return {
    slug: 'splp',
    issuer: ISSUER,
    jwksUrl: `${baseUrl}/jwks`,
    audience: AUDIENCE,
    algorithms: ['RS256', 'ES256'],
    clientClaim: 'azp',
    ...overrides,
  };
}

const applications: SnapshotApplication[] = [
  { id: 'app-local', org: 'diskominfo', slug: 'portal', clientIds: ['c-1'] },
  {
    id: 'app-bansos',
    org: 'dinsos',
    slug: 'bansos',
    clientIds: [],
    federated: { issuer: 'splp', clientClaimValue: 'splp-bansos' },
  },
];

function setUp(options: Partial<FederatedVerifierOptions> = {}, issuer = trustedIssuer()) {
  const clock = { now: NOW_S * 1000 };
  const verifier = createFederatedVerifier({
    isEgressAllowed: () => true,
    clock: () => clock.now,
    ...options,
  });
  verifier.update([issuer], applications);
  return { verifier, clock };
}

async function sign(
  key: Key,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({
    iss: ISSUER,
    aud: AUDIENCE,
    azp: 'splp-bansos',
    iat: NOW_S,
    exp: NOW_S + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: key.publicJwk.alg!, kid: key.publicJwk.kid!, ...header })
    .sign(key.privateKey);
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(FederationError);
    return (err as FederationError).reason;
  }
  throw new Error('expected the token to be refused');
}

describe('a federated token', () => {
  it('signed RS256 by the trusted issuer maps to the application bound to its client claim', async () => {
    const { verifier } = setUp();
    await expect(verifier.verify(await sign(rsa1), ISSUER)).resolves.toEqual({
      applicationId: 'app-bansos',
      org: 'dinsos',
      clientId: 'splp-bansos',
      issuer: 'splp',
      exp: NOW_S + 300,
    });
    expect(jwksHits).toBe(1);
  });

  it('signed ES256 is accepted too, from the key set already held', async () => {
    const { verifier } = setUp();
    await verifier.verify(await sign(rsa1), ISSUER);
    await expect(verifier.verify(await sign(ec1), ISSUER)).resolves.toMatchObject({
      applicationId: 'app-bansos',
    });
    expect(jwksHits).toBe(1);
  });

  it('for another audience is refused', async () => {
    const { verifier } = setUp();
    expect(await reasonOf(verifier.verify(await sign(ec1, { aud: 'spl-provinsi-lain' }), ISSUER))).toBe(
      'audience',
    );
  });

  it('that has expired is refused', async () => {
    const { verifier } = setUp();
    const token = await sign(ec1, { iat: NOW_S - 600, exp: NOW_S - 60 });
    expect(await reasonOf(verifier.verify(token, ISSUER))).toBe('expired');
  });

  it('that is not yet valid is refused', async () => {
    const { verifier } = setUp();
    expect(await reasonOf(verifier.verify(await sign(ec1, { nbf: NOW_S + 120 }), ISSUER))).toBe(
      'not-yet-valid',
    );
  });

  it('without exp is refused, as it could never leave the verified-token cache', async () => {
    const { verifier } = setUp();
    const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, azp: 'splp-bansos' })
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-1' })
      .sign(ec1.privateKey);
    expect(await reasonOf(verifier.verify(token, ISSUER))).toBe('claims');
  });

  it('with alg none is refused before any JWKS fetch', async () => {
    const { verifier } = setUp();
    const header = base64url.encode(JSON.stringify({ alg: 'none', kid: 'ec-1' }));
    const payload = base64url.encode(
      JSON.stringify({ iss: ISSUER, aud: AUDIENCE, azp: 'splp-bansos', exp: NOW_S + 300 }),
    );
    expect(await reasonOf(verifier.verify(`${header}.${payload}.`, ISSUER))).toBe('algorithm');
    expect(jwksHits).toBe(0);
  });

  it('signed HS256 with the public key as the secret is refused, even when the issuer lists HS256', async () => {
    const { verifier } = setUp({}, trustedIssuer({ algorithms: ['RS256', 'HS256', 'none'] }));
    await verifier.verify(await sign(rsa1), ISSUER);
    for (const secret of [rsaPublicPem, JSON.stringify(rsa1.publicJwk), rsa1.publicJwk.n!]) {
      const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, azp: 'splp-bansos', exp: NOW_S + 300 })
        .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
        .sign(new TextEncoder().encode(secret));
      expect(await reasonOf(verifier.verify(token, ISSUER))).toBe('algorithm');
    }
  });

  it('signed with an algorithm the issuer does not list is refused', async () => {
    const { verifier } = setUp({}, trustedIssuer({ algorithms: ['RS256'] }));
    expect(await reasonOf(verifier.verify(await sign(ec1), ISSUER))).toBe('algorithm');
  });

  it('with a tampered payload fails its signature', async () => {
    const { verifier } = setUp();
    const [h, , s] = (await sign(ec1)).split('.');
    const forged = base64url.encode(
      JSON.stringify({ iss: ISSUER, aud: AUDIENCE, azp: 'splp-bansos', iat: NOW_S, exp: NOW_S + 86_400 }),
    );
    expect(await reasonOf(verifier.verify(`${h}.${forged}.${s}`, ISSUER))).toBe('signature');
  });

  it('from an issuer the snapshot does not trust is refused without a fetch', async () => {
    const { verifier } = setUp();
    const token = await sign(ec1, { iss: 'https://evil.example' });
    expect(await reasonOf(verifier.verify(token, 'https://evil.example'))).toBe('unknown-issuer');
    expect(jwksHits).toBe(0);
  });

  it('routed by one iss but signed with another is refused', async () => {
    const { verifier } = setUp();
    const token = await sign(ec1, { iss: 'https://other.example' });
    expect(await reasonOf(verifier.verify(token, ISSUER))).toBe('issuer');
  });

  it('whose client claim no application is bound to is refused as unknown-client', async () => {
    const { verifier } = setUp();
    expect(await reasonOf(verifier.verify(await sign(ec1, { azp: 'splp-lain' }), ISSUER))).toBe(
      'unknown-client',
    );
    expect(await reasonOf(verifier.verify(await sign(ec1, { azp: undefined }), ISSUER))).toBe('claims');
  });

  it('that is not a JWT at all is refused as malformed', async () => {
    const { verifier } = setUp();
    expect(await reasonOf(verifier.verify('not.a.jwt', ISSUER))).toBe('malformed');
    expect(await reasonOf(verifier.verify('', ISSUER))).toBe('malformed');
  });
});

describe('the issuer key set', () => {
  it('is refetched once for an unknown kid, which succeeds after the issuer rotated its keys', async () => {
    const { verifier, clock } = setUp();
    await verifier.verify(await sign(ec1), ISSUER);
    clock.now += 31_000;
    servedKeys = [ec1.publicJwk, ec2.publicJwk];
    await expect(verifier.verify(await sign(ec2), ISSUER)).resolves.toMatchObject({
      applicationId: 'app-bansos',
    });
    expect(jwksHits).toBe(2);
  });

  it('is not refetched again within the cool-down, and is once the cool-down has passed', async () => {
    const { verifier, clock } = setUp({ refetchCooldownMs: 30_000 });
    await verifier.verify(await sign(ec1), ISSUER);
    clock.now += 31_000;
    const unknown = await sign(ec1, {}, { kid: 'made-up-1' });
    expect(await reasonOf(verifier.verify(unknown, ISSUER))).toBe('unknown-key');
    expect(jwksHits).toBe(2);
    clock.now += 10_000;
    servedKeys = [ec1.publicJwk, ec2.publicJwk];
    expect(await reasonOf(verifier.verify(await sign(ec2), ISSUER))).toBe('unknown-key');
    expect(await reasonOf(verifier.verify(await sign(ec1, {}, { kid: 'made-up-2' }), ISSUER))).toBe(
      'unknown-key',
    );
    expect(jwksHits).toBe(2);
    clock.now += 21_000;
    await expect(verifier.verify(await sign(ec2), ISSUER)).resolves.toMatchObject({
      clientId: 'splp-bansos',
    });
    expect(jwksHits).toBe(3);
  });

  it('is refetched once for many concurrent tokens with unknown kids', async () => {
    const { verifier, clock } = setUp();
    await verifier.verify(await sign(ec1), ISSUER);
    clock.now += 31_000;
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sign(ec1, {}, { kid: `made-up-${i}` })),
    );
    const reasons = await Promise.all(tokens.map((t) => reasonOf(verifier.verify(t, ISSUER))));
    expect(new Set(reasons)).toEqual(new Set(['unknown-key']));
    expect(jwksHits).toBe(2);
  });

  it('is kept across snapshot updates while the JWKS URL stays the same', async () => {
    const { verifier } = setUp();
    await verifier.verify(await sign(ec1), ISSUER);
    verifier.update([trustedIssuer({ audience: AUDIENCE })], applications);
    await verifier.verify(await sign(ec1), ISSUER);
    expect(jwksHits).toBe(1);
  });

  it('is refetched before use once older than its maximum age', async () => {
    const { verifier, clock } = setUp({ jwksMaxAgeMs: 60_000 });
    await verifier.verify(await sign(ec1), ISSUER);
    clock.now += 61_000;
    servedKeys = [ec2.publicJwk];
    expect(await reasonOf(verifier.verify(await sign(ec1), ISSUER))).toBe('unknown-key');
    expect(jwksHits).toBe(2);
  });

  it('is not fetched when egress to its host is refused', async () => {
    let asked: URL | undefined;
    const { verifier } = setUp({
      isEgressAllowed: (url) => {
        asked = url;
        return false;
      },
    });
    expect(await reasonOf(verifier.verify(await sign(ec1), ISSUER))).toBe('egress-refused');
    expect(asked?.href).toBe(`${baseUrl}/jwks`);
    expect(jwksHits).toBe(0);
  });

  it('is fetched over https only, unless the host is loopback', async () => {
    const fetched: string[] = [];
    const { verifier } = setUp(
      {
        fetchJwks: async (url) => {
          fetched.push(url);
          return { keys: [ec1.publicJwk] } as JSONWebKeySet;
        },
      },
      trustedIssuer({ jwksUrl: 'http://splp.example.go.id/jwks' }),
    );
    expect(await reasonOf(verifier.verify(await sign(ec1), ISSUER))).toBe('egress-refused');
    expect(fetched).toEqual([]);
    verifier.update([trustedIssuer({ jwksUrl: 'https://splp.example.go.id/jwks' })], applications);
    await expect(verifier.verify(await sign(ec1), ISSUER)).resolves.toMatchObject({
      applicationId: 'app-bansos',
    });
    expect(fetched).toEqual(['https://splp.example.go.id/jwks']);
  });

  it('over 64 KiB is refused, and a failed fetch is not retried within the cool-down', async () => {
    const { verifier } = setUp({}, trustedIssuer({ jwksUrl: `${baseUrl}/big` }));
    expect(await reasonOf(verifier.verify(await sign(ec1), ISSUER))).toBe('jwks-unavailable');
    expect(await reasonOf(verifier.verify(await sign(ec1), ISSUER))).toBe('jwks-unavailable');
    expect(jwksHits).toBe(1);
  });

  it('behind a redirect is not followed', async () => {
    const { verifier } = setUp({}, trustedIssuer({ jwksUrl: `${baseUrl}/redirect` }));
    expect(await reasonOf(verifier.verify(await sign(ec1), ISSUER))).toBe('jwks-unavailable');
    expect(jwksHits).toBe(1);
  });

  it('never lends a symmetric or private key to verification', async () => {
    const secret = new TextEncoder().encode('a-shared-secret-of-thirty-two-bytes!');
    const { verifier } = setUp(
      {
        fetchJwks: async () =>
          ({
            keys: [{ kty: 'oct', kid: 'hmac', k: base64url.encode(secret) }, ec1.publicJwk],
          }) as JSONWebKeySet,
      },
      trustedIssuer({ jwksUrl: 'https://splp.example.go.id/jwks', algorithms: ['ES256', 'HS256'] }),
    );
    const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, azp: 'splp-bansos', exp: NOW_S + 300 })
      .setProtectedHeader({ alg: 'HS256', kid: 'hmac' })
      .sign(secret);
    expect(await reasonOf(verifier.verify(token, ISSUER))).toBe('algorithm');
    await expect(verifier.verify(await sign(ec1), ISSUER)).resolves.toMatchObject({
      applicationId: 'app-bansos',
    });
  });
});
