import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createSecretBox, type SecretBox } from '@spl/secret-box';
import type { Snapshot, SnapshotTopic, SnapshotTopicSubscription } from '@spl/snapshot';
import { webhookSecretContext } from '@spl/snapshot';
import { type GeneratedKey, generateSigningKey, importSigningKey, signAccessToken } from '@spl/token';

export const TEST_ISSUER = 'http://gateway.test';
export const TEST_AUDIENCE = 'spl';
export const MASTER_KEY = Buffer.alloc(32, 9);

export const BIRTH_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['nik', 'name'],
  properties: { nik: { type: 'string', pattern: '^[0-9]{16}$' }, name: { type: 'string' } },
};

/**
 * A hub with event topics, built straight as a snapshot (no registry database):
 *
 *   disdukcapil ─ sipduk (client sipduk-client) ── publishes ──► disdukcapil/kelahiran
 *   dinkes ─ faskes (client faskes-client) ─┐
 *   bappeda ─ dashboard (client dashboard-client) ─┴─ subscribe (push or pull, per test)
 */
export class HubFixture {
  key!: GeneratedKey;
  signing!: Awaited<ReturnType<typeof importSigningKey>>;
  secretBox: SecretBox = createSecretBox(MASTER_KEY);
  version = 1;
  applications: Snapshot['applications'] = [
    { id: 'app-sipduk', org: 'disdukcapil', slug: 'sipduk', clientIds: ['sipduk-client'] },
    { id: 'app-faskes', org: 'dinkes', slug: 'faskes', clientIds: ['faskes-client'] },
    { id: 'app-dashboard', org: 'bappeda', slug: 'dashboard', clientIds: ['dashboard-client'] },
  ];
  topics: SnapshotTopic[] = [];
  subscriptions: SnapshotTopicSubscription[] = [];
  eventSchemas: Record<string, Record<string, unknown>> = {};

  static async create(): Promise<HubFixture> {
    const hub = new HubFixture();
    hub.key = await generateSigningKey();
    hub.signing = await importSigningKey(hub.key.privateJwkJson);
    return hub;
  }

  topic(
    input: Omit<Partial<SnapshotTopic>, 'limits'> & { limits?: Partial<SnapshotTopic['limits']> } = {},
  ): SnapshotTopic {
    const schemaHash = createHash('sha256').update(JSON.stringify(BIRTH_SCHEMA)).digest('hex');
    this.eventSchemas[schemaHash] = BIRTH_SCHEMA;
    const { limits, ...rest } = input;
    const topic: SnapshotTopic = {
      id: `topic-${randomBytes(4).toString('hex')}`,
      org: 'disdukcapil',
      topic: 'kelahiran',
      state: 'published',
      classification: 'terbatas',
      schemaHash,
      publisherApplicationIds: ['app-sipduk'],
      limits: {
        maxEventBytes: 4096,
        publishPerMinute: 100_000,
        duplicateWindowSeconds: 600,
        retentionHours: 24,
        ...limits,
      },
      ...rest,
    };
    this.topics.push(topic);
    return topic;
  }

  /** A push subscription; returns it with its plaintext `whsec_` secrets for verification. */
  push(
    topic: SnapshotTopic,
    url: string,
    input: Partial<SnapshotTopicSubscription> & { secretCount?: number } = {},
  ): { sub: SnapshotTopicSubscription; secrets: string[] } {
    const id = input.id ?? randomUUID();
    const secrets = Array.from(
      { length: input.secretCount ?? 1 },
      () => `whsec_${randomBytes(24).toString('base64')}`,
    );
    const { secretCount: _, ...rest } = input;
    const sub: SnapshotTopicSubscription = {
      id,
      applicationId: 'app-faskes',
      org: topic.org,
      topic: topic.topic,
      state: 'approved',
      mode: 'push',
      push: {
        url,
        secrets: secrets.map((s) => ({ sealedSecret: this.secretBox.seal(s, webhookSecretContext(id)) })),
      },
      ...rest,
    };
    this.subscriptions.push(sub);
    return { sub, secrets };
  }

  pull(topic: SnapshotTopic, input: Partial<SnapshotTopicSubscription> = {}): SnapshotTopicSubscription {
    const sub: SnapshotTopicSubscription = {
      id: randomUUID(),
      applicationId: 'app-dashboard',
      org: topic.org,
      topic: topic.topic,
      state: 'approved',
      mode: 'pull',
      ...input,
    };
    this.subscriptions.push(sub);
    return sub;
  }

  snapshot(): Snapshot {
    const content = {
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      hubKeys: { keys: [this.key.publicJwk] },
      trustedIssuers: [],
      organisations: [
        { slug: 'disdukcapil', kind: 'perangkat-daerah' },
        { slug: 'dinkes', kind: 'perangkat-daerah' },
        { slug: 'bappeda', kind: 'perangkat-daerah' },
      ],
      applications: this.applications,
      routes: [],
      openapi: {},
      subscriptions: [],
      topics: this.topics,
      eventSchemas: this.eventSchemas,
      topicSubscriptions: this.subscriptions,
    };
    return {
      format: 1,
      version: this.version,
      etag: createHash('sha256').update(JSON.stringify(content)).digest('hex'),
      generatedAt: new Date().toISOString(),
      ...content,
    } as Snapshot;
  }

  async token(clientId = 'sipduk-client', org = 'disdukcapil'): Promise<string> {
    const { token } = await signAccessToken(this.signing, {
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      clientId,
      org,
      roles: ['consumer'],
      lifetimeSeconds: 600,
    });
    return token;
  }
}
