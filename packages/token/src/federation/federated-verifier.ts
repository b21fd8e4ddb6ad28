import { isIP } from 'node:net';
import type { SnapshotApplication, SnapshotTrustedIssuer } from '@spl/snapshot';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { FederationError } from './federation-error.js';
import { createJwksFetcher } from './jwks-fetcher.js';

/**
 * Verifies bearer JWTs issued by the trusted issuers of the snapshot — the national SPLP,
 * another region's hub — and maps them to the application registered for them (issue 3,
 * point 3: "JWT interoperability"). The hub's own tokens are not this module's: they are
 * verified against `snapshot.hubKeys` without any fetch.
 *
 * Per issuer: its JWKS (fetched on first use, kept across snapshots while the URL is the same),
 * its audience, and its algorithm allow-list, from which `none` and every HS* are dropped
 * whatever the snapshot says, so a public key can never serve as an HMAC secret.
 *
 * An unknown `kid` refetches the JWKS once, then fails; no second fetch for the same key set
 * within `refetchCooldownMs`, so a stream of tokens with made-up `kid`s costs the issuer one
 * request per cool-down, not one per token. Concurrent refetches share one request. A key set
 * older than `jwksMaxAgeMs` is refetched before use (a key the issuer withdrew stops working);
 * if that fails, the held keys go on serving.
 *
 * The caller caches verified results by token until `exp` (docs/notes: a jose ES256 verify is
 * ≈ 200 µs); this module does no caching of tokens.
 */

export interface FederatedIdentity {
  applicationId: string;
  /** Slug of the application's organisation. */
  org: string;
  /** The value of the issuer's client claim (the client as that issuer names it). */
  clientId: string;
  /** The trusted issuer's slug (not its URL): bounded, and what usage records group by. */
  issuer: string;
  /** The token's `exp`, seconds since the epoch: how long the caller may cache this result. */
  exp: number;
}

export interface FederatedVerifier {
  /** Takes a new snapshot's issuers and applications; held key sets of unchanged JWKS URLs are kept. */
  update(
    trustedIssuers: readonly SnapshotTrustedIssuer[],
    applications: readonly SnapshotApplication[],
  ): void;
  /**
   * Verifies `token`. `issClaim` is the `iss` the caller read from the unverified payload to
   * route the token; it is checked again here against the signed payload. Rejects with
   * `FederationError`.
   */
  verify(token: string, issClaim: string): Promise<FederatedIdentity>;
}

export interface FederatedVerifierOptions {
  /** Fetches a JWKS. Default: `createJwksFetcher()` (undici, 3 s, 64 KiB, no redirects). */
  fetchJwks?: (url: string) => Promise<JSONWebKeySet>;
  /** SPL_EGRESS_ALLOW, asked before every fetch; a refusal fails without a request. */
  isEgressAllowed: (url: URL) => boolean | Promise<boolean>;
  /** Least time between two fetches of one key set, milliseconds. Default 30,000. */
  refetchCooldownMs?: number;
  /** Age after which a key set is refetched before use, milliseconds. Default 600,000. */
  jwksMaxAgeMs?: number;
  /** Allowed clock skew for `exp`, `nbf` and `iat`, seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** Asymmetric JWS algorithms (RFC 7518 §3, RFC 8037): the only ones a federated issuer may use. */
const ASYMMETRIC_ALGORITHMS = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);
/** JWK members of private and symmetric keys (RFC 7518 §6): a key set must not carry them. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

type KeySet = ReturnType<typeof createLocalJWKSet>;

/** One JWKS URL's keys, shared by the issuers that use it and kept across snapshots. */
interface KeyState {
  url: string;
  keySet: KeySet | undefined;
  /** When the last fetch started (successful or not), ms; -Infinity before the first. */
  attemptedAt: number;
  /** When the held key set was fetched, ms. */
  loadedAt: number;
  inflight: Promise<void> | undefined;
}

interface IssuerState {
  config: SnapshotTrustedIssuer;
  algorithms: string[];
  keys: KeyState;
  /** Applications by client claim value. */
  bindings: Map<string, SnapshotApplication>;
}

function fail(reason: FederationError['reason'], message: string, cause?: unknown): never {
  throw new FederationError(reason, message, cause === undefined ? undefined : { cause });
}

function isLoopback(hostname: string): boolean {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (host === 'localhost') return true;
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) return host === '::1';
  return false;
}

/** Public keys only: private members dropped, symmetric (`oct`) keys left out. */
function publicKeysOf(jwks: JSONWebKeySet): JSONWebKeySet {
  if (!Array.isArray(jwks?.keys)) throw new TypeError('not a JWKS: no "keys" array');
  const keys: JWK[] = [];
  for (const key of jwks.keys) {
    if (typeof key !== 'object' || key === null || key.kty === 'oct') continue;
    const copy: JWK = { ...key };
    for (const member of PRIVATE_MEMBERS) delete copy[member];
    keys.push(copy);
  }
  return { keys };
}

export function createFederatedVerifier(options: FederatedVerifierOptions): FederatedVerifier {
  const fetchJwks = options.fetchJwks ?? createJwksFetcher();
  const cooldownMs = options.refetchCooldownMs ?? 30_000;
  const maxAgeMs = options.jwksMaxAgeMs ?? 600_000;
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  const clock = options.clock ?? Date.now;
  if (typeof options.isEgressAllowed !== 'function')
    throw new TypeError('createFederatedVerifier: isEgressAllowed is required');
  if (!(cooldownMs >= 0)) throw new RangeError(`refetchCooldownMs must be ≥ 0, got ${cooldownMs}`);
  if (!(maxAgeMs > 0)) throw new RangeError(`jwksMaxAgeMs must be positive, got ${maxAgeMs}`);

  let byIssuer = new Map<string, IssuerState>();
  let keyStates = new Map<string, KeyState>();

  async function fetchKeys(state: KeyState): Promise<void> {
    let url: URL;
    try {
      url = new URL(state.url);
    } catch (err) {
      fail('egress-refused', 'the JWKS URL is not a URL', err);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname)))
      fail('egress-refused', 'a JWKS is fetched over https only');
    if (!(await options.isEgressAllowed(url)))
      fail('egress-refused', 'egress to the JWKS host is not allowed');
    let keySet: KeySet;
    try {
      keySet = createLocalJWKSet(publicKeysOf(await fetchJwks(url.href)));
    } catch (err) {
      fail('jwks-unavailable', 'the JWKS could not be fetched', err);
    }
    state.keySet = keySet;
    state.loadedAt = clock();
  }

  /** Starts (or joins) a fetch unless one started within the cool-down; false when refused by it. */
  function refresh(state: KeyState): Promise<void> | undefined {
    if (state.inflight) return state.inflight;
    const now = clock();
    if (now - state.attemptedAt < cooldownMs) return undefined;
    state.attemptedAt = now;
    const inflight = fetchKeys(state).finally(() => {
      state.inflight = undefined;
    });
    state.inflight = inflight;
    return inflight;
  }

  async function verifyWith(issuer: IssuerState, keySet: KeySet, token: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, keySet, {
      issuer: issuer.config.issuer,
      audience: issuer.config.audience,
      algorithms: issuer.algorithms,
      clockTolerance,
      currentDate: new Date(clock()),
      requiredClaims: ['exp'],
    });
    return payload;
  }

  function translate(err: unknown): never {
    if (err instanceof FederationError) throw err;
    if (err instanceof errors.JWTExpired) fail('expired', 'token expired', err);
    if (err instanceof errors.JWTClaimValidationFailed) {
      if (err.claim === 'aud') fail('audience', 'token audience is not this hub', err);
      if (err.claim === 'iss') fail('issuer', 'token issuer does not match', err);
      if (err.claim === 'nbf' || err.claim === 'iat') fail('not-yet-valid', 'token is not yet valid', err);
      fail('claims', `claim ${err.claim} is invalid`, err);
    }
    if (err instanceof errors.JWKSNoMatchingKey) fail('unknown-key', 'token signed by an unknown key', err);
    if (err instanceof errors.JOSEAlgNotAllowed) fail('algorithm', 'token algorithm not allowed', err);
    if (err instanceof errors.JWSSignatureVerificationFailed) fail('signature', 'bad signature', err);
    fail('malformed', 'token is malformed', err);
  }

  return {
    update(trustedIssuers, applications) {
      const nextKeys = new Map<string, KeyState>();
      const nextIssuers = new Map<string, IssuerState>();
      const bySlug = new Map<string, IssuerState>();
      for (const config of trustedIssuers) {
        // Two entries for one `iss` would make routing ambiguous: the first listed wins.
        if (nextIssuers.has(config.issuer) || bySlug.has(config.slug)) continue;
        let keys = nextKeys.get(config.jwksUrl) ?? keyStates.get(config.jwksUrl);
        if (!keys)
          keys = {
            url: config.jwksUrl,
            keySet: undefined,
            attemptedAt: -Infinity,
            loadedAt: 0,
            inflight: undefined,
          };
        nextKeys.set(config.jwksUrl, keys);
        const state: IssuerState = {
          config,
          algorithms: config.algorithms.filter((a) => ASYMMETRIC_ALGORITHMS.has(a)),
          keys,
          bindings: new Map(),
        };
        nextIssuers.set(config.issuer, state);
        bySlug.set(config.slug, state);
      }
      for (const app of applications) {
        if (!app.federated) continue;
        bySlug.get(app.federated.issuer)?.bindings.set(app.federated.clientClaimValue, app);
      }
      byIssuer = nextIssuers;
      keyStates = nextKeys;
    },

    async verify(token, issClaim) {
      const issuer = byIssuer.get(issClaim);
      if (!issuer) fail('unknown-issuer', 'token issuer is not trusted');
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch (err) {
        fail('malformed', 'token is malformed', err);
      }
      // Before any fetch: a token with a refused algorithm must not make us call the issuer.
      if (typeof alg !== 'string' || !issuer.algorithms.includes(alg))
        fail('algorithm', 'token algorithm not allowed');

      const keys = issuer.keys;
      if (!keys.keySet || clock() - keys.loadedAt >= maxAgeMs) {
        const pending = refresh(keys);
        try {
          await pending;
        } catch (err) {
          if (!keys.keySet) throw err;
        }
        if (!keys.keySet) fail('jwks-unavailable', 'the JWKS could not be fetched recently');
      }

      let payload: JWTPayload;
      try {
        payload = await verifyWith(issuer, keys.keySet, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey)) translate(err);
        // Unknown kid: the issuer may have rotated. Refetch once (cool-down permitting), retry once.
        const pending = refresh(keys);
        if (!pending) fail('unknown-key', 'token signed by an unknown key (JWKS refetched recently)', err);
        await pending;
        try {
          payload = await verifyWith(issuer, keys.keySet!, token);
        } catch (again) {
          translate(again);
        }
      }

      const clientId = payload[issuer.config.clientClaim];
      if (typeof clientId !== 'string' || clientId === '')
        fail('claims', `claim ${issuer.config.clientClaim} is missing`);
      const app = issuer.bindings.get(clientId);
      if (!app) fail('unknown-client', 'no application is registered for this client of the issuer');
      return {
        applicationId: app.id,
        org: app.org,
        clientId,
        issuer: issuer.config.slug,
        exp: payload.exp!,
      };
    },
  };
}
