import { createHash, randomUUID } from 'node:crypto';
import { createSecretBox, type SecretBox } from '@spl/secret-box';
import type { Snapshot, SnapshotRoute, SnapshotSubscription } from '@spl/snapshot';
import { upstreamSecretContext } from '@spl/snapshot';
import { type GeneratedKey, generateSigningKey, importSigningKey, signAccessToken } from '@spl/token';

export const TEST_ISSUER = 'http://gateway.test';
export const TEST_AUDIENCE = 'spl';
export const MASTER_KEY = Buffer.alloc(32, 7);

/**
 * A hub in miniature, built straight as a snapshot (no registry database):
 *
 *   dinkes ─ faskes ─┬─ v1 published   → upstream A (header auth when asked)
 *                    └─ v2 deprecated  → upstream A, Sunset set
 *   disdukcapil ─ portal (client portal-client) ─┬─ faskes v1 approved
 *                                                └─ faskes v2 approved
 *   bappeda ─ dashboard (client dashboard-client) ── faskes v1 suspended
 */
export class HubFixture {
  key!: GeneratedKey;
  signing!: Awaited<ReturnType<typeof importSigningKey>>;
  secretBox: SecretBox = createSecretBox(MASTER_KEY);
  version = 1;
  routes: SnapshotRoute[] = [];
  subscriptions: SnapshotSubscription[] = [];
  applications: Snapshot['applications'] = [
    { id: 'app-portal', org: 'disdukcapil', slug: 'portal', clientIds: ['portal-client'] },
    { id: 'app-dashboard', org: 'bappeda', slug: 'dashboard', clientIds: ['dashboard-client'] },
  ];
  openapi: Snapshot['openapi'] = { h1: { openapi: '3.1.0', info: { title: 't', version: '1' }, paths: {} } };

  static async create(): Promise<HubFixture> {
    const hub = new HubFixture();
    hub.key = await generateSigningKey();
    hub.signing = await importSigningKey(hub.key.privateJwkJson);
    return hub;
  }

  route(input: Partial<SnapshotRoute> & { api: string; version: string; urls: string[] }): SnapshotRoute {
    const { urls, ...rest } = input;
    const route: SnapshotRoute = {
      id: randomUUID(),
      org: 'dinkes',
      state: 'published',
      classification: 'terbatas',
      upstream: { urls, timeoutMs: 2000 },
      upstreamAuth: { kind: 'none' },
      plan: { requestsPerMinute: 600, bodyLimitBytes: 1024 },
      methods: ['GET', 'POST'],
      openapiHash: 'h1',
      restrictedFields: [],
      ...rest,
    };
    this.routes = this.routes.filter(
      (r) => !(r.org === route.org && r.api === route.api && r.version === route.version),
    );
    this.routes.push(route);
    return route;
  }

  /** Seals `value` for a header-auth route as the registry does. */
  headerAuth(routeId: string, name: string, value: string): SnapshotRoute['upstreamAuth'] {
    return {
      kind: 'header',
      name,
      sealedSecret: this.secretBox.seal(JSON.stringify({ value }), upstreamSecretContext(routeId)),
    };
  }

  subscribe(
    applicationId: string,
    api: string,
    version: string,
    state: 'approved' | 'suspended' = 'approved',
  ) {
    this.subscriptions.push({ applicationId, org: 'dinkes', api, version, state });
  }

  snapshot(): Snapshot {
    const content = {
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      hubKeys: { keys: [this.key.publicJwk] },
      trustedIssuers: [],
      organisations: [
        { slug: 'dinkes', kind: 'perangkat-daerah' },
        { slug: 'disdukcapil', kind: 'perangkat-daerah' },
        { slug: 'bappeda', kind: 'perangkat-daerah' },
      ],
      applications: this.applications,
      routes: this.routes,
      openapi: this.openapi,
      subscriptions: this.subscriptions,
    };
    return {
      format: 1,
      version: this.version,
      etag: createHash('sha256').update(JSON.stringify(content)).digest('hex'),
      generatedAt: new Date().toISOString(),
      ...content,
    } as Snapshot;
  }

  async token(
    clientId = 'portal-client',
    options: { issuer?: string; audience?: string; lifetimeSeconds?: number; now?: number } = {},
  ): Promise<string> {
    const { token } = await signAccessToken(this.signing, {
      issuer: options.issuer ?? TEST_ISSUER,
      audience: options.audience ?? TEST_AUDIENCE,
      clientId,
      org: 'disdukcapil',
      roles: ['consumer'],
      lifetimeSeconds: options.lifetimeSeconds ?? 300,
      ...(options.now !== undefined ? { now: options.now } : {}),
    });
    return token;
  }
}
