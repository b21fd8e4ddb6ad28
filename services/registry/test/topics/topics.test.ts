import specs from '@asyncapi/specs';
import { checkSnapshot, webhookSecretContext } from '@spl/snapshot';
import { Ajv } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

type Person = { token: string; userId: string };

/** The official AsyncAPI 3.0.0 JSON Schema (@asyncapi/specs), compiled once. */
function asyncApiValidator() {
  // The spec schema embeds the draft-07 meta-schema itself; ajv's own copy would clash with it.
  const ajv = new Ajv({ strict: false, allErrors: true, meta: false, validateSchema: false });
  (addFormatsModule as unknown as FormatsPlugin)(ajv);
  return ajv.compile(specs.schemas['3.0.0'] as object);
}
const isAsyncApi3 = asyncApiValidator();

/** The event data of `disdukcapil/kelahiran`: a birth registered. */
export const BIRTH_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['nomorAkta', 'tanggalLahir'],
  properties: {
    nomorAkta: { type: 'string', minLength: 1 },
    tanggalLahir: { type: 'string', format: 'date' },
    kelurahan: { type: 'string' },
    saudara: { type: 'array', prefixItems: [{ type: 'string' }] },
  },
  additionalProperties: false,
};

/**
 *   disdukcapil (owner)                 dinkes (consumer)
 *     topic kelahiran ──publish grant──►  —
 *        ▲ push subscription ◄────────── dinkes/rujukan (https webhook)
 *        ▲ pull subscription ◄────────── dinkes/arsip
 */
describe.each(['postgres', 'pglite'] as const)('event topics (%s)', (store) => {
  let r: TestRegistry;
  // Real time (tokens are checked against it), whole seconds; the rotation test moves it on.
  const start = new Date(Math.floor(Date.now() / 1000) * 1000);
  let now = start;
  const after = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
  let publisher: Person;
  let operator: Person;
  let reviewer: Person;
  let consumer: Person;
  let otherPublisher: Person;
  let dataplaneToken: string;

  beforeAll(async () => {
    r = await buildTestRegistry({ store, clock: () => now });
    await r.organisation('disdukcapil');
    await r.organisation('dinkes');
    publisher = await r.person({ org: 'disdukcapil', roles: ['publisher'] });
    operator = await r.person({ org: 'diskominfo', roles: ['operator'] });
    reviewer = await r.person({ org: 'diskominfo', roles: ['reviewer'] });
    consumer = await r.person({ org: 'dinkes', roles: ['consumer'] });
    otherPublisher = await r.person({ org: 'dinkes', roles: ['publisher'] });
    for (const slug of ['rujukan', 'arsip', 'pelapor'])
      expect(
        (
          await r.app.inject({
            method: 'POST',
            url: '/v1/organisations/dinkes/applications',
            headers: bearer(consumer.token),
            payload: { slug, name: `Aplikasi ${slug}`, credentials: {} },
          })
        ).statusCode,
      ).toBe(201);
    await r.app.inject({
      method: 'POST',
      url: '/v1/organisations/disdukcapil/applications',
      headers: bearer(await r.operatorToken()),
      payload: { slug: 'siak', name: 'SIAK', credentials: {} },
    });
    const dp = await r.app.inject({
      method: 'POST',
      url: '/v1/dataplane-clients',
      headers: bearer(await r.operatorToken()),
      payload: { name: 'broker-1' },
    });
    dataplaneToken = await r.token(dp.json().clientId, dp.json().clientSecret);
  });
  afterAll(async () => r?.close());

  const inject = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    token: string,
    payload?: object,
  ) => r.app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });
  // Each transition a second later, so the history has an order of its own.
  const tick = () => {
    now = new Date(now.getTime() + 1000);
  };
  const transition = (token: string, action: string, extra: object = {}) => {
    tick();
    return inject('POST', '/v1/topics/disdukcapil/kelahiran/transitions', token, { action, ...extra });
  };
  const snapshot = async () => {
    const res = await inject('GET', '/v1/snapshot', await r.operatorToken());
    expect(res.statusCode, res.body).toBe(200);
    return { etag: res.headers.etag as string, body: checkSnapshot(res.json()) };
  };
  const count = async (table: string) =>
    Number((await r.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n);

  it('refuses a schema that is not JSON Schema 2020-12, with a pointer, and stores nothing', async () => {
    const before = {
      topics: await count('topics'),
      schemas: await count('event_schemas'),
      audit: await count('audit_log'),
    };
    const res = await inject('POST', '/v1/organisations/disdukcapil/topics', publisher.token, {
      slug: 'rusak',
      classification: 'publik',
      schema: { type: 'object', properties: { nik: { type: 'strin' }, umur: { minimum: 'nol' } } },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.json();
    expect(problem.code).toBe('SPL_INVALID_EVENT_SCHEMA');
    const pointers = problem.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toContain('body:/schema/properties/nik/type');
    expect(pointers).toContain('body:/schema/properties/umur/minimum');

    const external = await inject('POST', '/v1/organisations/disdukcapil/topics', publisher.token, {
      slug: 'rusak',
      classification: 'publik',
      schema: { $ref: 'https://example.com/schema.json' },
    });
    expect(external.statusCode).toBe(400);
    expect(external.json().errors[0].pointer).toBe('body:/schema/$ref');

    const draft7 = await inject('POST', '/v1/organisations/disdukcapil/topics', publisher.token, {
      slug: 'rusak',
      classification: 'publik',
      schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' },
    });
    expect(draft7.statusCode).toBe(400);
    expect(draft7.json().errors[0].pointer).toBe('body:/schema/$schema');

    expect({
      topics: await count('topics'),
      schemas: await count('event_schemas'),
      audit: await count('audit_log'),
    }).toEqual(before);
  });

  it('registers a topic with default limits; only its organisation may', async () => {
    const other = await inject('POST', '/v1/organisations/disdukcapil/topics', otherPublisher.token, {
      slug: 'kelahiran',
      classification: 'terbatas',
      schema: BIRTH_SCHEMA,
    });
    expect(other.statusCode).toBe(403);
    const res = await inject('POST', '/v1/organisations/disdukcapil/topics', publisher.token, {
      slug: 'kelahiran',
      description: 'Kelahiran yang tercatat di SIAK',
      classification: 'terbatas',
      schema: BIRTH_SCHEMA,
      limits: { maxEventBytes: 32_768 },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      org: 'disdukcapil',
      slug: 'kelahiran',
      state: 'draft',
      limits: {
        maxEventBytes: 32_768,
        publishPerMinute: 600,
        duplicateWindowSeconds: 86_400,
        retentionHours: 168,
      },
      publishGrants: [],
    });
    expect(res.json().schemaHash).toMatch(/^[0-9a-f]{64}$/);
    // A draft is its owner's: another organisation does not see it.
    expect((await inject('GET', '/v1/topics/disdukcapil/kelahiran', consumer.token)).statusCode).toBe(404);
  });

  it('goes through the same kelaikan gates as an API version, by the same people, then appears in the snapshot', async () => {
    const { etag: before, body: empty } = await snapshot();
    expect(empty.topics).toEqual([]);
    expect((await transition(publisher.token, 'approve')).statusCode).toBe(409);
    expect((await transition(publisher.token, 'submit')).json().state).toBe('submitted');
    expect((await transition(reviewer.token, 'approve')).statusCode).toBe(403);
    expect((await transition(operator.token, 'approve')).json().state).toBe('kelaikan_operasi');
    const noReason = await transition(reviewer.token, 'reject');
    expect(noReason.statusCode).toBe(400);
    // Sent back with a reason, the publisher reads it in its inbox, and submits again.
    expect((await transition(reviewer.token, 'reject', { reason: 'Skema tanpa NIK ibu' })).json().state).toBe(
      'draft',
    );
    expect((await inject('GET', '/v1/inbox', publisher.token)).json().items).toContainEqual(
      expect.objectContaining({
        kind: 'topic-returned',
        summary: expect.stringContaining('Skema tanpa NIK ibu'),
      }),
    );
    expect((await transition(publisher.token, 'submit')).json().state).toBe('submitted');
    expect((await transition(operator.token, 'approve')).json().state).toBe('kelaikan_operasi');
    expect((await transition(reviewer.token, 'approve')).json().state).toBe('kelaikan_keamanan');
    // Past draft the schema is fixed; the limits are operational and still change.
    const schemaChange = await inject('PATCH', '/v1/topics/disdukcapil/kelahiran', publisher.token, {
      schema: { type: 'object' },
    });
    expect(schemaChange.statusCode).toBe(409);
    expect(schemaChange.json().code).toBe('SPL_IMMUTABLE');
    const limits = await inject('PATCH', '/v1/topics/disdukcapil/kelahiran', publisher.token, {
      limits: { publishPerMinute: 1200 },
    });
    expect(limits.statusCode, limits.body).toBe(200);
    expect(limits.json().limits).toMatchObject({ maxEventBytes: 32_768, publishPerMinute: 1200 });
    const published = await transition(publisher.token, 'publish');
    expect(published.statusCode, published.body).toBe(200);
    expect(published.json().state).toBe('published');

    const history = await inject('GET', '/v1/topics/disdukcapil/kelahiran/transitions', publisher.token);
    expect(history.json().map((t: { action: string; to: string }) => `${t.action}:${t.to}`)).toEqual([
      'submit:submitted',
      'approve:kelaikan_operasi',
      'reject:draft',
      'submit:submitted',
      'approve:kelaikan_operasi',
      'approve:kelaikan_keamanan',
      'publish:published',
    ]);

    const { etag, body } = await snapshot();
    expect(etag).not.toBe(before);
    const [topic] = body.topics!;
    const siak = await r.db.query<{ id: string }>(`SELECT id FROM applications WHERE slug = 'siak'`);
    expect(topic).toMatchObject({
      org: 'disdukcapil',
      topic: 'kelahiran',
      state: 'published',
      classification: 'terbatas',
      publisherApplicationIds: [siak[0]!.id],
      limits: {
        maxEventBytes: 32_768,
        publishPerMinute: 1200,
        duplicateWindowSeconds: 86_400,
        retentionHours: 168,
      },
    });
    expect(body.eventSchemas![topic!.schemaHash]).toEqual(BIRTH_SCHEMA);

    const actions = await r.db.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE entity_type = 'topic' ORDER BY seq`,
    );
    expect(actions.map((a) => a.action)).toEqual([
      'topic.create',
      'topic.submit',
      'topic.approve',
      'topic.reject',
      'topic.submit',
      'topic.approve',
      'topic.approve',
      'topic.update',
      'topic.publish',
    ]);
  });

  it('lets the owner grant another application publish rights, which the snapshot lists', async () => {
    const { etag: before } = await snapshot();
    const res = await inject('POST', '/v1/topics/disdukcapil/kelahiran/publish-grants', publisher.token, {
      application: 'dinkes/pelapor',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().publishGrants).toEqual(['dinkes/pelapor']);
    const [pelapor] = await r.db.query<{ id: string }>(`SELECT id FROM applications WHERE slug = 'pelapor'`);
    const { etag, body } = await snapshot();
    expect(etag).not.toBe(before);
    expect(body.topics![0]!.publisherApplicationIds).toContain(pelapor!.id);
    const denied = await inject(
      'DELETE',
      '/v1/topics/disdukcapil/kelahiran/publish-grants/dinkes/pelapor',
      consumer.token,
    );
    expect(denied.statusCode).toBe(403);
    const revoked = await inject(
      'DELETE',
      '/v1/topics/disdukcapil/kelahiran/publish-grants/dinkes/pelapor',
      publisher.token,
    );
    expect(revoked.json().publishGrants).toEqual([]);
  });

  it('changes the snapshot ETag when a published topic’s limits change or its owner gains an application', async () => {
    const { etag: before } = await snapshot();
    const patched = await inject('PATCH', '/v1/topics/disdukcapil/kelahiran', publisher.token, {
      limits: { retentionHours: 72 },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const { etag: afterLimits, body } = await snapshot();
    expect(afterLimits).not.toBe(before);
    expect(body.topics![0]!.limits.retentionHours).toBe(72);
    // The same PATCH again changes nothing, so the content and its ETag stay.
    await inject('PATCH', '/v1/topics/disdukcapil/kelahiran', publisher.token, {
      limits: { retentionHours: 72 },
    });
    expect((await snapshot()).etag).toBe(afterLimits);

    const created = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations/disdukcapil/applications',
      headers: bearer(await r.operatorToken()),
      payload: { slug: 'sipenduduk', name: 'Si Penduduk', credentials: {} },
    });
    expect(created.statusCode).toBe(201);
    const { etag: afterApp, body: withApp } = await snapshot();
    expect(afterApp).not.toBe(afterLimits);
    expect(withApp.topics![0]!.publisherApplicationIds).toHaveLength(2);
  });

  let pushId: string;
  let firstSecret: string;

  it('refuses a push URL that is not https (http only to loopback in development)', async () => {
    for (const pushUrl of [
      'http://rujukan.dinkes.example.go.id/hook',
      'https://user:pw@dinkes.example.go.id/hook',
      'not a url',
    ]) {
      const res = await inject('POST', '/v1/topic-subscriptions', consumer.token, {
        application: 'dinkes/rujukan',
        topic: 'disdukcapil/kelahiran',
        purpose: 'Menyiapkan layanan imunisasi bayi baru lahir',
        mode: 'push',
        pushUrl,
      });
      expect(res.statusCode, pushUrl).toBe(400);
      expect(res.json().code).toBe('SPL_WEBHOOK_URL_REFUSED');
      expect(res.json().errors[0].pointer).toBe('body:/pushUrl');
    }
  });

  it('answers a push subscription’s signing secret once and stores it sealed, never in plaintext', async () => {
    const res = await inject('POST', '/v1/topic-subscriptions', consumer.token, {
      application: 'dinkes/rujukan',
      topic: 'disdukcapil/kelahiran',
      purpose: 'Menyiapkan layanan imunisasi bayi baru lahir',
      mode: 'push',
      pushUrl: 'https://rujukan.dinkes.example.go.id/events',
      types: ['id.go.kota.disdukcapil.kelahiran.v1'],
      subjectPrefixes: ['kelurahan/'],
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const created = res.json();
    expect(created).toMatchObject({ state: 'pending', mode: 'push', activeSecrets: 1 });
    firstSecret = created.webhookSecret.secret;
    expect(firstSecret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(firstSecret.slice(6), 'base64')).toHaveLength(32);
    pushId = created.id;

    const shown = await inject('GET', `/v1/topic-subscriptions/${pushId}`, consumer.token);
    expect(shown.body).not.toContain(firstSecret.slice(6));
    expect(shown.json().webhookSecret).toBeUndefined();

    const rows = await r.db.query<Record<string, unknown>>(
      'SELECT * FROM webhook_secrets WHERE subscription_id = $1',
      [pushId],
    );
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(firstSecret.slice(6));
    const sealed = rows[0]!.sealed_secret as string;
    expect(sealed).toMatch(/^v1\./);
    expect(r.ctx.secretBox.open(sealed, webhookSecretContext(pushId))).toBe(firstSecret);
    const audit = await r.db.query<{ after: unknown }>(`SELECT after FROM audit_log WHERE entity_id = $1`, [
      pushId,
    ]);
    expect(JSON.stringify(audit)).not.toContain(firstSecret.slice(6));
  });

  it('needs the topic owner’s consent: pending subscriptions are not in the snapshot, and the owner’s inbox asks', async () => {
    expect((await snapshot()).body.topicSubscriptions).toEqual([]);
    const inbox = await inject('GET', '/v1/inbox', publisher.token);
    expect(inbox.json().items).toContainEqual(
      expect.objectContaining({
        kind: 'consent-topic-subscription',
        path: `/v1/topic-subscriptions/${pushId}`,
      }),
    );
    // The applicant cannot consent to its own request; a client without a person cannot either.
    const self = await inject('POST', `/v1/topic-subscriptions/${pushId}/decision`, consumer.token, {
      decision: 'approve',
    });
    expect(self.statusCode).toBe(403);
    const bootstrap = await inject(
      'POST',
      `/v1/topic-subscriptions/${pushId}/decision`,
      await r.operatorToken(),
      {
        decision: 'approve',
      },
    );
    expect(bootstrap.json().code).toBe('SPL_PERSON_REQUIRED');
    const approved = await inject('POST', `/v1/topic-subscriptions/${pushId}/decision`, publisher.token, {
      decision: 'approve',
      reason: 'Sesuai tujuan',
    });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().state).toBe('approved');

    const { body } = await snapshot();
    const [app] = await r.db.query<{ id: string }>(`SELECT id FROM applications WHERE slug = 'rujukan'`);
    expect(body.topicSubscriptions).toEqual([
      {
        id: pushId,
        applicationId: app!.id,
        org: 'disdukcapil',
        topic: 'kelahiran',
        state: 'approved',
        mode: 'push',
        push: {
          url: 'https://rujukan.dinkes.example.go.id/events',
          secrets: [{ sealedSecret: expect.stringMatching(/^v1\./) }],
        },
        types: ['id.go.kota.disdukcapil.kelahiran.v1'],
        subjectPrefixes: ['kelurahan/'],
      },
    ]);
    expect(
      r.ctx.secretBox.open(
        body.topicSubscriptions![0]!.push!.secrets[0]!.sealedSecret,
        webhookSecretContext(pushId),
      ),
    ).toBe(firstSecret);
  });

  it('rotates the secret with an overlap: both are in the snapshot until the old one’s notAfter', async () => {
    const { etag: before } = await snapshot();
    const denied = await inject('POST', `/v1/topic-subscriptions/${pushId}/secrets`, publisher.token, {});
    expect(denied.statusCode).toBe(403);
    tick();
    const overlapEnds = after(60);
    const res = await inject('POST', `/v1/topic-subscriptions/${pushId}/secrets`, consumer.token, {
      overlapSeconds: 60,
    });
    expect(res.statusCode, res.body).toBe(200);
    const rotated = res.json();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(firstSecret);
    expect(rotated.previousNotAfter).toBe(overlapEnds);

    const { etag, body } = await snapshot();
    expect(etag).not.toBe(before);
    const secrets = body.topicSubscriptions![0]!.push!.secrets;
    expect(secrets).toHaveLength(2);
    expect(secrets.map((s) => r.ctx.secretBox.open(s.sealedSecret, webhookSecretContext(pushId)))).toEqual([
      rotated.secret,
      firstSecret,
    ]);
    expect(secrets[0]!.notAfter).toBeUndefined();
    expect(secrets[1]!.notAfter).toBe(overlapEnds);

    // After the overlap the old secret drops out without any other change.
    now = new Date(Date.parse(overlapEnds) + 1000);
    const later = await snapshot();
    expect(later.etag).not.toBe(etag);
    expect(later.body.topicSubscriptions![0]!.push!.secrets).toHaveLength(1);
  });

  it('lets a data plane suspend a failing push subscription; the subscriber sees why in its inbox and the audit trail', async () => {
    const denied = await inject('POST', `/v1/topic-subscriptions/${pushId}/suspension`, publisher.token, {
      reason: 'x',
    });
    expect(denied.statusCode).toBe(403);
    const res = await inject('POST', `/v1/topic-subscriptions/${pushId}/suspension`, dataplaneToken, {
      reason: 'endpoint failed for 30 minutes (last: 503)',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      state: 'suspended',
      reason: 'endpoint failed for 30 minutes (last: 503)',
    });
    expect(res.json().decidedByClient).toMatch(/^dataplane-broker-1/);
    // Said twice, it changes nothing.
    const auditCount = await count('audit_log');
    expect(
      (
        await inject('POST', `/v1/topic-subscriptions/${pushId}/suspension`, dataplaneToken, {
          reason: 'again',
        })
      ).statusCode,
    ).toBe(200);
    expect(await count('audit_log')).toBe(auditCount);

    const inbox = await inject('GET', '/v1/inbox', consumer.token);
    expect(inbox.json().items).toContainEqual(
      expect.objectContaining({
        kind: 'topic-subscription-suspended',
        path: `/v1/topic-subscriptions/${pushId}`,
        summary: expect.stringContaining('endpoint failed for 30 minutes'),
      }),
    );
    const [record] = await r.db.query<{
      action: string;
      actor: { roles: string[] };
      after: { reason: string };
    }>(`SELECT action, actor, after FROM audit_log WHERE entity_id = $1 ORDER BY seq DESC LIMIT 1`, [pushId]);
    expect(record).toMatchObject({
      action: 'topic_subscription.suspend-failing',
      actor: { roles: ['dataplane'] },
      after: { reason: 'endpoint failed for 30 minutes (last: 503)' },
    });
    expect((await snapshot()).body.topicSubscriptions![0]!.state).toBe('suspended');
    // The owner resumes it (a person's consent), as for API subscriptions.
    const resumed = await inject('POST', `/v1/topic-subscriptions/${pushId}/decision`, publisher.token, {
      decision: 'resume',
    });
    expect(resumed.json().state).toBe('approved');
  });

  it('takes pull subscriptions, which have no secret', async () => {
    const res = await inject('POST', '/v1/topic-subscriptions', consumer.token, {
      application: 'dinkes/arsip',
      topic: 'disdukcapil/kelahiran',
      purpose: 'Arsip statistik kelahiran per kelurahan',
      mode: 'pull',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().webhookSecret).toBeUndefined();
    await inject('POST', `/v1/topic-subscriptions/${res.json().id}/decision`, operator.token, {
      decision: 'approve',
    });
    const { body } = await snapshot();
    expect(body.topicSubscriptions!.find((s) => s.id === res.json().id)).toMatchObject({
      mode: 'pull',
      state: 'approved',
    });
    expect(body.topicSubscriptions!.find((s) => s.id === res.json().id)!.push).toBeUndefined();
  });

  it('describes visible topics as an AsyncAPI 3.0 document, valid against the official schema, with the event schema as payload and CloudEvents headers', async () => {
    const res = await inject('GET', '/v1/catalog/topics/disdukcapil/kelahiran/asyncapi', consumer.token);
    expect(res.statusCode, res.body).toBe(200);
    const doc = res.json();
    expect(isAsyncApi3(doc), JSON.stringify(isAsyncApi3.errors, null, 1)).toBe(true);
    // …and the validator does refuse what is not (a channel address must be a string or null).
    expect(isAsyncApi3({ ...doc, channels: { x: { address: 5 } } })).toBe(false);
    expect(isAsyncApi3({ ...doc, operations: { x: { action: 'publish', channel: doc.channels } } })).toBe(
      false,
    );
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.servers.broker).toMatchObject({ protocol: 'http', host: '127.0.0.1:8082' });
    const channel = doc.channels['disdukcapil.kelahiran'];
    expect(channel.address).toBe('/v1/topics/disdukcapil/kelahiran/events');
    expect(channel.messages.event.$ref).toBe('#/components/messages/disdukcapil.kelahiran');
    const message = doc.components.messages['disdukcapil.kelahiran'];
    expect(message.payload).toEqual({
      schemaFormat: 'application/schema+json;version=2020-12',
      schema: BIRTH_SCHEMA,
    });
    expect(message.headers.required).toEqual(['ce-specversion', 'ce-id', 'ce-source', 'ce-type']);
    expect(doc.operations['disdukcapil.kelahiran.publish']).toMatchObject({
      action: 'send',
      channel: { $ref: '#/channels/disdukcapil.kelahiran' },
    });
    expect(doc.operations['disdukcapil.kelahiran.receive'].action).toBe('receive');
    // Every local $ref resolves.
    const resolve = (ref: string) =>
      ref
        .slice(2)
        .split('/')
        .reduce<unknown>(
          (node, key) => (node as Record<string, unknown>)?.[key.replaceAll('~1', '/').replaceAll('~0', '~')],
          doc,
        );
    const refs = JSON.stringify(doc)
      .match(/"\$ref":"(#[^"]*)"/g)!
      .map((m) => m.slice(8, -1));
    for (const ref of refs) expect(resolve(ref), ref).toBeDefined();

    const all = await inject('GET', '/v1/catalog/topics/asyncapi', consumer.token);
    expect(isAsyncApi3(all.json()), JSON.stringify(isAsyncApi3.errors, null, 1)).toBe(true);
    expect(Object.keys(all.json().channels)).toEqual(['disdukcapil.kelahiran']);
  });

  it('hides a dikecualikan topic from those without an approved subscription, in the list and the catalog', async () => {
    await inject('POST', '/v1/organisations/disdukcapil/topics', publisher.token, {
      slug: 'kematian',
      classification: 'dikecualikan',
      schema: { type: 'object' },
    });
    for (const action of ['submit'])
      await inject('POST', '/v1/topics/disdukcapil/kematian/transitions', publisher.token, { action });
    await inject('POST', '/v1/topics/disdukcapil/kematian/transitions', operator.token, {
      action: 'approve',
    });
    await inject('POST', '/v1/topics/disdukcapil/kematian/transitions', reviewer.token, {
      action: 'approve',
    });
    expect(
      (
        await inject('POST', '/v1/topics/disdukcapil/kematian/transitions', publisher.token, {
          action: 'publish',
        })
      ).json().state,
    ).toBe('published');
    expect((await inject('GET', '/v1/topics/disdukcapil/kematian', consumer.token)).statusCode).toBe(404);
    expect(
      (await inject('GET', '/v1/catalog/topics/disdukcapil/kematian/asyncapi', consumer.token)).statusCode,
    ).toBe(404);
    const all = await inject('GET', '/v1/catalog/topics/asyncapi', consumer.token);
    expect(Object.keys(all.json().channels)).not.toContain('disdukcapil.kematian');
    const list = await inject('GET', '/v1/topics', consumer.token);
    expect(list.json().map((t: { slug: string }) => t.slug)).toEqual(['kelahiran']);
    const owner = await inject('GET', '/v1/catalog/topics/asyncapi', publisher.token);
    expect(Object.keys(owner.json().channels)).toContain('disdukcapil.kematian');
  });

  it('keeps the audit chain whole through all of it', async () => {
    const res = await inject('GET', '/v1/audit/verify', await r.operatorToken());
    expect(res.json()).toMatchObject({ ok: true });
  });
});
