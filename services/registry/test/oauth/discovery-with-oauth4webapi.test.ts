import { createServer } from 'node:net';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// An OAuth2 client library nobody here wrote (oauth4webapi, by the author of jose) must be
// able to discover the hub from its issuer (RFC 8414 §3), get a token with client
// credentials, and validate it as an RFC 9068 JWT access token against jwks_uri.
describe('a third-party OAuth2 client against a listening registry', () => {
  let r: TestRegistry;
  let issuerUrl: string;
  const insecure = { [oauth.allowInsecureRequests]: true };

  beforeAll(async () => {
    const port = await freePort();
    issuerUrl = `http://127.0.0.1:${port}`;
    r = await buildTestRegistry({ env: { SPL_PUBLIC_URL: issuerUrl } });
    await r.app.listen({ host: '127.0.0.1', port });
  });
  afterAll(async () => r?.close());

  it('discovers the token endpoint, gets a token and validates it against the JWKS', async () => {
    const issuer = new URL(issuerUrl);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    expect(as.token_endpoint).toBe(`${issuerUrl}/oauth2/token`);

    const client: oauth.Client = { client_id: r.bootstrap.clientId };
    for (const auth of [
      oauth.ClientSecretBasic(r.bootstrap.clientSecret),
      oauth.ClientSecretPost(r.bootstrap.clientSecret),
    ]) {
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        client,
        auth,
        new URLSearchParams(),
        insecure,
      );
      const result = await oauth.processClientCredentialsResponse(as, client, response);
      expect(result.token_type).toBe('bearer');

      const request = new Request(`${issuerUrl}/v1/me`, {
        headers: { authorization: `Bearer ${result.access_token}` },
      });
      const claims = await oauth.validateJwtAccessToken(as, request, 'spl', insecure);
      expect(claims).toMatchObject({
        iss: issuerUrl,
        client_id: r.bootstrap.clientId,
        spl_org: 'diskominfo',
      });

      const me = await fetch(request);
      expect(me.status).toBe(200);
    }
  });

  it('reports a wrong secret as invalid_client through the library', async () => {
    const issuer = new URL(issuerUrl);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    const client: oauth.Client = { client_id: 'nobody-registered' };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic('nope'),
      new URLSearchParams(),
      insecure,
    );
    const error = await oauth.processClientCredentialsResponse(as, client, response).catch((e) => e);
    // The library surfaces the `WWW-Authenticate: Basic` challenge; the body is RFC 6749 §5.2.
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect(error.status).toBe(401);
    expect(await error.response.json()).toMatchObject({ error: 'invalid_client' });
  });
});
