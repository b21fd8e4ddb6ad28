import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import type { SecretBox } from '@spl/secret-box';
import { type SnapshotUpstreamAuth, upstreamSecretContext } from '@spl/snapshot';
import type { Agent } from 'undici';
import type { ClientTls } from './upstream-pools.js';

/**
 * How the gateway authenticates itself to one route's upstream, prepared once per snapshot
 * (the sealed secret opened then, never per request). The sealed part is JSON, as the
 * registry splits it: `{value}` (header), `{clientSecret}` (oauth2), `{privateKeyPem}` (mtls).
 */
export type UpstreamAuthorizer =
  | { kind: 'none' }
  | { kind: 'header'; name: string; value: string }
  | { kind: 'oauth2'; tokens: ClientCredentialsTokens }
  | { kind: 'mtls'; identity: string; tls: ClientTls }
  /** The credentials could not be prepared (no master key, a secret sealed for another key…). */
  | { kind: 'broken'; detail: string };

export interface ClientCredentialsTokens {
  /** A cached token when one is fresh, else null: the hot path stays synchronous. */
  cached(now: number): string | null;
  /** Fetches a token (single-flight) and caches it until shortly before it expires. */
  fetch(): Promise<string>;
  /**
   * Drops the cached token after the upstream answered 401 to `refused` — only if it is still
   * the cached one, so concurrent 401s do not throw away a token fetched meanwhile.
   */
  invalidate(refused?: string): void;
}

export class UpstreamAuthError extends Error {
  override name = 'UpstreamAuthError';
}

function openSecret(
  auth: { sealedSecret?: string },
  routeId: string,
  secretBox: SecretBox | null,
): Record<string, unknown> | string {
  if (!auth.sealedSecret) return 'the route has no stored upstream secret';
  if (!secretBox) return 'no master key (SPL_MASTER_KEY) to open the upstream secret';
  try {
    return JSON.parse(secretBox.open(auth.sealedSecret, upstreamSecretContext(routeId))) as Record<
      string,
      unknown
    >;
  } catch (err) {
    return `the upstream secret did not open: ${(err as Error).message}`;
  }
}

/** OAuth2 client credentials (RFC 6749 §4.4) against the upstream's token endpoint, token cached. */
export function createClientCredentialsTokens(input: {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  agent: Agent;
  /** Seconds before `expires_in` runs out that a token is renewed; default 30. */
  marginSeconds?: number;
}): ClientCredentialsTokens {
  let token: string | null = null;
  let renewAt = 0;
  let inflight: Promise<string> | null = null;
  const margin = (input.marginSeconds ?? 30) * 1000;
  const basic = Buffer.from(
    `${encodeURIComponent(input.clientId)}:${encodeURIComponent(input.clientSecret)}`,
  ).toString('base64');

  async function fetchToken(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (input.scope) form.set('scope', input.scope);
    const res = await input.agent.request({
      origin: new URL(input.tokenUrl).origin,
      path: new URL(input.tokenUrl).pathname + new URL(input.tokenUrl).search,
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200)
      throw new UpstreamAuthError(`the upstream token endpoint answered ${res.statusCode}`);
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      throw new UpstreamAuthError('the upstream token endpoint did not answer JSON');
    }
    if (typeof body.access_token !== 'string' || !body.access_token)
      throw new UpstreamAuthError('the upstream token endpoint answered no access_token');
    // RFC 6749 §5.1 makes it a number, but some servers send "3600"; absent, 300 s is assumed.
    const expiresIn = Number(body.expires_in ?? Number.NaN);
    const lifetimeMs = (Number.isFinite(expiresIn) ? expiresIn : 300) * 1000;
    token = body.access_token;
    renewAt = Date.now() + Math.max(lifetimeMs - margin, lifetimeMs / 2);
    return token;
  }

  return {
    cached: (now) => (token !== null && now < renewAt ? token : null),
    fetch() {
      inflight ??= fetchToken().finally(() => {
        inflight = null;
      });
      return inflight;
    },
    invalidate(refused) {
      if (refused === undefined || token === refused) token = null;
    },
  };
}

export function prepareUpstreamAuth(
  routeId: string,
  auth: SnapshotUpstreamAuth,
  deps: { secretBox: SecretBox | null; agent: Agent },
): UpstreamAuthorizer {
  if (auth.kind === 'none') return { kind: 'none' };
  const secret = openSecret(auth, routeId, deps.secretBox);
  if (typeof secret === 'string') return { kind: 'broken', detail: secret };
  switch (auth.kind) {
    case 'header':
      if (typeof secret.value !== 'string')
        return { kind: 'broken', detail: 'the header secret has no value' };
      return { kind: 'header', name: auth.name.toLowerCase(), value: secret.value };
    case 'oauth2':
      if (typeof secret.clientSecret !== 'string')
        return { kind: 'broken', detail: 'the oauth2 secret has no clientSecret' };
      return {
        kind: 'oauth2',
        tokens: createClientCredentialsTokens({
          tokenUrl: auth.tokenUrl,
          clientId: auth.clientId,
          clientSecret: secret.clientSecret,
          ...(auth.scope ? { scope: auth.scope } : {}),
          agent: deps.agent,
        }),
      };
    case 'mtls': {
      if (typeof secret.privateKeyPem !== 'string')
        return { kind: 'broken', detail: 'the mtls secret has no privateKeyPem' };
      const problem = checkClientCertificate(auth.certificatePem, secret.privateKeyPem, auth.caPem);
      if (problem) return { kind: 'broken', detail: problem };
      return {
        kind: 'mtls',
        // A changed certificate or CA gets a new pool: connections dialled with the old ones are not reused.
        identity: `mtls:${routeId}:${createHash('sha256')
          .update(auth.certificatePem)
          .update('\0')
          .update(auth.caPem ?? '')
          .digest('hex')
          .slice(0, 16)}`,
        tls: {
          cert: auth.certificatePem,
          key: secret.privateKeyPem,
          ...(auth.caPem ? { ca: auth.caPem } : {}),
        },
      };
    }
  }
}

/**
 * What a TLS handshake would otherwise reveal only as an opaque connect error: a certificate
 * or key that does not parse, a key that does not belong to the certificate, a certificate
 * outside its validity. null when the pair is usable. Checked once per snapshot.
 */
function checkClientCertificate(
  certificatePem: string,
  privateKeyPem: string,
  caPem?: string,
): string | null {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    return 'the mtls certificate is not a PEM certificate';
  }
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(privateKeyPem)))
      return 'the mtls private key does not belong to the certificate';
  } catch {
    return 'the mtls private key is not a readable PEM private key';
  }
  const now = Date.now();
  if (Date.parse(certificate.validTo) <= now) return `the mtls certificate expired on ${certificate.validTo}`;
  if (Date.parse(certificate.validFrom) > now)
    return `the mtls certificate is not valid before ${certificate.validFrom}`;
  if (caPem !== undefined) {
    try {
      new X509Certificate(caPem);
    } catch {
      return 'the mtls caPem is not a PEM certificate';
    }
  }
  return null;
}
