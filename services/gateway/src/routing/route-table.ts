import type { SecretBox } from '@spl/secret-box';
import type { Snapshot, SnapshotPlan, SnapshotRoute } from '@spl/snapshot';
import { type Authenticator, createAuthenticator } from '../auth/authenticator.js';
import type { Caller } from '../auth/caller.js';
import { createHubTokenVerifier } from '../auth/hub-token-verifier.js';
import { createTokenCache, type TokenCache } from '../auth/token-cache.js';
import type { FederatedVerifierFactory, RequestValidator } from '../pipeline.js';
import { prepareUpstreamAuth, type UpstreamAuthorizer } from '../upstream/upstream-auth.js';
import { poolKey, type Upstream, type UpstreamPools } from '../upstream/upstream-pools.js';

/** One upstream URL of a route: its pool (and circuit), the base path and the Host to send. */
export interface UpstreamTarget {
  readonly upstream: Upstream;
  readonly poolKey: string;
  /** The URL's path without a trailing slash (`''` for the root); the request's rest is appended. */
  readonly basePath: string;
  readonly host: string;
}

/** What the request path needs of one API version, compiled once per snapshot. */
export interface CompiledRoute {
  readonly id: string;
  /** `org/api/version`. */
  readonly key: string;
  readonly org: string;
  readonly api: string;
  readonly version: string;
  readonly state: SnapshotRoute['state'];
  readonly classification: SnapshotRoute['classification'];
  readonly plan: SnapshotPlan;
  readonly timeoutMs: number;
  /** Declared methods; HEAD is allowed wherever GET is. */
  readonly methods: ReadonlySet<string>;
  /** Fields marked `dikecualikan`: never logged. */
  readonly restrictedFields: ReadonlySet<string>;
  /** Applications with an approved subscription (a suspended one is not subscribed). */
  readonly subscribers: ReadonlySet<string>;
  /** Applications whose subscription is suspended (so the 403 can say so). */
  readonly suspended: ReadonlySet<string>;
  readonly targets: readonly UpstreamTarget[];
  readonly auth: UpstreamAuthorizer;
  /** Headers every answer of this route carries (`Deprecation`, `Sunset`), or null. */
  readonly answerHeaders: Readonly<Record<string, string>> | null;
  readonly openapiHash: string;
  /** The request validator's compiled document, or undefined without a validator. */
  readonly validation: unknown;
  /** Set when the route cannot be served (bad upstream URL); answered 502. */
  readonly brokenReason: string | null;
  /** The wire form it was compiled from. */
  readonly source: SnapshotRoute;
  /** Round-robin position over `targets` (the one mutable member). */
  readonly cursor: { next: number };
}

export interface RouteTable {
  readonly version: number;
  readonly etag: string;
  readonly loadedAt: string;
  readonly routes: ReadonlyMap<string, CompiledRoute>;
  readonly authenticator: Authenticator;
  readonly stats: { routes: number; reusedRoutes: number; compileMs: number };
  /** Parts reused by the next compile. */
  readonly reuse: {
    /** JSON of the route's wire form → the parts compiled from it. */
    parts: ReadonlyMap<string, RouteParts>;
    /** openapiHash → the validator's compiled document. */
    validations: ReadonlyMap<string, unknown>;
    identityKey: string;
    tokenCache: TokenCache<Caller>;
    poolKeys: ReadonlySet<string>;
  };
}

/** What is expensive in a route and depends only on its wire form. */
interface RouteParts {
  targets: UpstreamTarget[];
  auth: UpstreamAuthorizer;
  answerHeaders: Record<string, string> | null;
  methods: Set<string>;
  restrictedFields: Set<string>;
  brokenReason: string | null;
}

export interface RouteTableDeps {
  issuer: string;
  audience: string;
  pools: UpstreamPools;
  secretBox: SecretBox | null;
  tokenCacheSize: number;
  requestValidator?: RequestValidator | undefined;
  createFederatedVerifier?: FederatedVerifierFactory | undefined;
  /** A route whose credentials could not be prepared; it is served as 502. */
  onRouteProblem?: (route: SnapshotRoute, detail: string) => void;
  /** A hub token with an unknown `kid` (see createHubTokenVerifier). */
  onUnknownHubKey?: ((token: string) => Promise<Caller> | null) | undefined;
}

export function routeKey(org: string, api: string, version: string): string {
  return `${org}/${api}/${version}`;
}

function compileParts(route: SnapshotRoute, deps: RouteTableDeps): RouteParts {
  const auth = prepareUpstreamAuth(route.id, route.upstreamAuth, {
    secretBox: deps.secretBox,
    agent: deps.pools.agent,
  });
  if (auth.kind === 'broken') deps.onRouteProblem?.(route, auth.detail);
  const tls = auth.kind === 'mtls' ? { identity: auth.identity, tls: auth.tls } : undefined;
  const targets: UpstreamTarget[] = [];
  let brokenReason: string | null = null;
  for (const raw of route.upstream.urls) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      brokenReason = `upstream URL ${JSON.stringify(raw)} is not a URL`;
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      brokenReason = `upstream URL ${JSON.stringify(raw)} is not http(s)`;
      continue;
    }
    targets.push({
      upstream: deps.pools.get(url.origin, tls),
      poolKey: poolKey(url.origin, tls?.identity),
      basePath: url.pathname.replace(/\/+$/, ''),
      host: url.host,
    });
  }
  if (targets.length) brokenReason = null;
  if (brokenReason) deps.onRouteProblem?.(route, brokenReason);
  const methods = new Set(route.methods.map((m) => m.toUpperCase()));
  if (methods.has('GET')) methods.add('HEAD');
  let answerHeaders: Record<string, string> | null = null;
  if (route.state === 'deprecated') {
    // RFC 9745 wants the deprecation date, which the snapshot does not carry yet: `true`
    // (the form of the drafts, still what most clients look for) says "deprecated now".
    answerHeaders = { deprecation: 'true' };
    if (route.sunsetAt) answerHeaders.sunset = new Date(route.sunsetAt).toUTCString(); // RFC 8594
  }
  return {
    targets,
    auth,
    answerHeaders,
    methods,
    restrictedFields: new Set(route.restrictedFields),
    brokenReason,
  };
}

/**
 * Compiles a snapshot into an immutable route table, aside from the one in use; the caller
 * swaps it in with one assignment, so a request holds the table it started with. Parts of
 * a route whose wire form is unchanged (upstream pools, opened secrets, headers) and
 * validators of an unchanged document are taken from `previous`, not rebuilt, so changing
 * one version of thousands costs little (issue 3 §2).
 */
export function compileRouteTable(
  snapshot: Snapshot,
  previous: RouteTable | null,
  deps: RouteTableDeps,
): RouteTable {
  const started = performance.now();
  const subscribers = new Map<string, Set<string>>();
  const suspended = new Map<string, Set<string>>();
  for (const s of snapshot.subscriptions) {
    const byKey = s.state === 'approved' ? subscribers : suspended;
    const key = routeKey(s.org, s.api, s.version);
    let set = byKey.get(key);
    if (!set) {
      set = new Set();
      byKey.set(key, set);
    }
    set.add(s.applicationId);
  }

  const parts = new Map<string, RouteParts>();
  const validations = new Map<string, unknown>();
  const routes = new Map<string, CompiledRoute>();
  const poolKeys = new Set<string>();
  const empty: ReadonlySet<string> = new Set();
  let reusedRoutes = 0;
  for (const route of snapshot.routes) {
    const wire = JSON.stringify(route);
    let p = parts.get(wire) ?? previous?.reuse.parts.get(wire);
    if (p) reusedRoutes++;
    else p = compileParts(route, deps);
    parts.set(wire, p);
    for (const t of p.targets) poolKeys.add(t.poolKey);

    let validation: unknown;
    if (deps.requestValidator) {
      if (validations.has(route.openapiHash)) validation = validations.get(route.openapiHash);
      else if (previous?.reuse.validations.has(route.openapiHash))
        validation = previous.reuse.validations.get(route.openapiHash);
      else {
        const document = snapshot.openapi[route.openapiHash];
        validation = document ? deps.requestValidator.compileDocument(document, route) : undefined;
      }
      validations.set(route.openapiHash, validation);
    }

    const key = routeKey(route.org, route.api, route.version);
    routes.set(key, {
      id: route.id,
      key,
      org: route.org,
      api: route.api,
      version: route.version,
      state: route.state,
      classification: route.classification,
      plan: route.plan,
      timeoutMs: route.upstream.timeoutMs,
      methods: p.methods,
      restrictedFields: p.restrictedFields,
      subscribers: subscribers.get(key) ?? empty,
      suspended: suspended.get(key) ?? empty,
      targets: p.targets,
      auth: p.auth,
      answerHeaders: p.answerHeaders,
      openapiHash: route.openapiHash,
      validation,
      brokenReason: p.brokenReason,
      source: route,
      cursor: previous?.routes.get(key)?.cursor ?? { next: 0 },
    });
  }

  // Verified tokens stay valid across snapshots that change none of what they were checked against.
  const identityKey = JSON.stringify([
    snapshot.hubKeys,
    snapshot.applications,
    snapshot.trustedIssuers,
    deps.issuer,
    deps.audience,
  ]);
  const tokenCache =
    previous && previous.reuse.identityKey === identityKey
      ? previous.reuse.tokenCache
      : createTokenCache<Caller>(deps.tokenCacheSize);
  const authenticator = createAuthenticator({
    hubIssuer: deps.issuer,
    hub: createHubTokenVerifier({
      snapshot,
      issuer: deps.issuer,
      audience: deps.audience,
      onUnknownKey: deps.onUnknownHubKey,
    }),
    federated: deps.createFederatedVerifier?.(snapshot) ?? null,
    cache: tokenCache,
  });

  return Object.freeze({
    version: snapshot.version,
    etag: snapshot.etag,
    loadedAt: new Date().toISOString(),
    routes,
    authenticator,
    stats: { routes: routes.size, reusedRoutes, compileMs: performance.now() - started },
    reuse: { parts, validations, identityKey, tokenCache, poolKeys },
  });
}
