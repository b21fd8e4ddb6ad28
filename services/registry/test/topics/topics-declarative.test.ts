import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

type Item = { kind: string; id: string; result: string; detail?: string };
type Report = {
  items: Item[];
  issuedCredentials: Array<{ kind: string; id: string; clientId: string; clientSecret: string }>;
};

const SCHEMA = {
  type: 'object',
  required: ['nomorIzin'],
  properties: { nomorIzin: { type: 'string' }, jenis: { enum: ['siup', 'pbg'] } },
};

/** A hub file with a topic, a publish grant and a push subscription to it. */
const HUB = {
  apiVersion: 'spl/v1',
  applications: [
    { org: 'dpmptsp', slug: 'sicantik', name: 'SiCantik' },
    { org: 'dinkes', slug: 'pemantau', name: 'Pemantau izin' },
  ],
  topics: [
    {
      org: 'dpmptsp',
      slug: 'izin-terbit',
      description: 'Izin yang diterbitkan',
      classification: 'terbatas',
      schema: SCHEMA,
      limits: { retentionHours: 72 },
      publishGrants: ['dinkes/pemantau'],
      state: 'published',
    },
  ],
  topicSubscriptions: [
    {
      application: 'dinkes/pemantau',
      topic: 'dpmptsp/izin-terbit',
      purpose: 'Memantau izin usaha sarana kesehatan',
      mode: 'push',
      pushUrl: 'https://pemantau.dinkes.example.go.id/events',
      types: ['id.go.kota.dpmptsp.izin-terbit.v1'],
      state: 'approved',
    },
  ],
};

describe('event topics in spl apply and spl export', () => {
  let r: TestRegistry;
  const people: Record<string, string> = {};

  beforeAll(async () => {
    r = await buildTestRegistry();
    await r.organisation('dpmptsp');
    await r.organisation('dinkes');
    people.publisher = (await r.person({ org: 'dpmptsp', roles: ['publisher'] })).token;
    people.operator = (await r.person({ org: 'diskominfo', roles: ['operator'] })).token;
    people.reviewer = (await r.person({ org: 'diskominfo', roles: ['reviewer'] })).token;
    people.consumer = (await r.person({ org: 'dinkes', roles: ['consumer'] })).token;
  });
  afterAll(async () => r?.close());

  const apply = async (who: string, doc: object = HUB): Promise<Report> => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/apply',
      headers: bearer(people[who]!),
      payload: doc,
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  /** The last line about a kind (a topic has one for its definition, one for its lifecycle). */
  const item = (report: Report, kind: string) => report.items.filter((i) => i.kind === kind).at(-1)!;
  const results = (report: Report) =>
    report.items.filter((i) => i.kind.startsWith('topic')).map((i) => `${i.kind}:${i.result}`);

  it('moves a topic through the gates only as far as each applier may, and asks for consent', async () => {
    const first = await apply('operator');
    expect(results(first)).toEqual(['topic:created', 'topic:transitioned', 'topic_subscription:pending']);
    expect(item(first, 'topic').detail).toContain('waiting to approve');
    expect(item(first, 'topic_subscription').result).toBe('pending');

    await apply('reviewer');
    const publisher = await apply('publisher');
    expect(publisher.items.filter((i) => i.kind === 'topic').map((i) => i.result)).toContain('transitioned');
    const topic = await r.app.inject({
      url: '/v1/topics/dpmptsp/izin-terbit',
      headers: bearer(people.publisher!),
    });
    expect(topic.json()).toMatchObject({
      state: 'published',
      publishGrants: ['dinkes/pemantau'],
      limits: { retentionHours: 72, maxEventBytes: 65_536 },
    });

    // The consumer asks; the push secret comes back once, as an issued credential.
    const consumer = await apply('consumer');
    expect(item(consumer, 'topic_subscription')).toMatchObject({ result: 'created' });
    expect(item(consumer, 'topic_subscription').detail).toContain('waiting to approve');
    expect(consumer.issuedCredentials).toEqual([
      {
        kind: 'topic_subscription',
        id: 'dinkes/pemantau → dpmptsp/izin-terbit',
        clientId: expect.any(String),
        clientSecret: expect.stringMatching(/^whsec_/),
      },
    ]);
    // The owner's apply gives the consent.
    const owner = await apply('publisher');
    expect(item(owner, 'topic_subscription')).toMatchObject({
      result: 'transitioned',
      detail: 'did approve',
    });
  });

  it('changes nothing on a second apply', async () => {
    const owner = await apply('publisher');
    expect(results(owner)).toEqual(['topic:unchanged', 'topic_subscription:unchanged']);
    // The topic's definition is its owner's: another organisation's apply does not check it.
    const consumer = await apply('consumer');
    expect(results(consumer)).toEqual(['topic:refused', 'topic_subscription:unchanged']);
    expect([...owner.issuedCredentials, ...consumer.issuedCredentials]).toEqual([]);
  });

  it('exports topics and live subscriptions without a secret, and the export applies back unchanged', async () => {
    const res = await r.app.inject({ url: '/v1/export', headers: bearer(await r.operatorToken()) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).not.toMatch(/whsec_|sealed|v1\.[A-Za-z0-9_-]{8}\./);
    const doc = res.json();
    expect(doc.topics).toEqual([
      {
        org: 'dpmptsp',
        slug: 'izin-terbit',
        description: 'Izin yang diterbitkan',
        classification: 'terbatas',
        schema: SCHEMA,
        limits: {
          maxEventBytes: 65_536,
          publishPerMinute: 600,
          duplicateWindowSeconds: 86_400,
          retentionHours: 72,
        },
        publishGrants: ['dinkes/pemantau'],
        state: 'published',
      },
    ]);
    expect(doc.topicSubscriptions).toEqual([{ ...HUB.topicSubscriptions[0], state: 'approved' }]);
    const back = await r.app.inject({
      method: 'POST',
      url: '/v1/apply',
      headers: bearer(people.operator!),
      payload: { apiVersion: 'spl/v1', topics: doc.topics, topicSubscriptions: doc.topicSubscriptions },
    });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json().items.map((i: Item) => i.result)).toEqual(['unchanged', 'unchanged']);
  });
});
