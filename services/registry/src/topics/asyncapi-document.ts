import type { Topic } from '../routes/topics/schemas.js';

/**
 * The catalog of event topics as an AsyncAPI 3.0 document (issue 4 §1), beside the OpenAPI
 * documents of the APIs. One channel per topic at the broker's publish path
 * (`/v1/topics/{org}/{topic}/events`, public contract), a `send` operation for publishers
 * and a `receive` operation for subscribers, and one message per topic whose payload is the
 * topic's event data schema, kept in its own dialect (a Multi Format Schema Object with
 * `application/schema+json;version=2020-12`, so `prefixItems`, `$defs`… are not misread
 * as AsyncAPI's draft-07 flavour), and whose headers are the CloudEvents 1.0 binary-mode
 * attributes. `x-spl-*` extensions carry what the hub adds: classification, state, limits.
 *
 * Channel, operation and message ids are `{org}.{topic}`: slugs hold no `.`, so they never
 * collide, and they are valid component keys (`^[a-zA-Z0-9.\-_]+$`).
 */

export interface AsyncApiOptions {
  /** The hub's public base URL (SPL_PUBLIC_URL): where tokens come from. */
  publicUrl: string;
  /** The broker's base URL; default the public URL's host with port 8082 (development). */
  brokerUrl?: string;
}

export const EVENT_SCHEMA_FORMAT = 'application/schema+json;version=2020-12';

/** CloudEvents 1.0 HTTP binary mode: the context attributes as `ce-` headers (RFC: cloudevents/http-protocol-binding). */
const CLOUDEVENTS_HEADERS = {
  type: 'object',
  required: ['ce-specversion', 'ce-id', 'ce-source', 'ce-type'],
  properties: {
    'ce-specversion': { type: 'string', const: '1.0', description: 'CloudEvents version' },
    'ce-id': {
      type: 'string',
      minLength: 1,
      description: 'unique per source; with ce-source, the duplicate key',
    },
    'ce-source': {
      type: 'string',
      minLength: 1,
      format: 'uri-reference',
      description: 'the publishing system',
    },
    'ce-type': {
      type: 'string',
      minLength: 1,
      description: 'what happened, e.g. id.go.kota.disdukcapil.kelahiran.v1',
    },
    'ce-subject': { type: 'string', description: 'what it happened to; subscriptions filter on its prefix' },
    'ce-time': { type: 'string', format: 'date-time' },
    'ce-dataschema': { type: 'string', format: 'uri' },
    'content-type': { type: 'string', const: 'application/json' },
  },
};

function brokerServer(options: AsyncApiOptions) {
  const base = new URL(options.brokerUrl ?? options.publicUrl);
  if (!options.brokerUrl) base.port = '8082';
  return {
    host: base.host,
    protocol: base.protocol === 'https:' ? 'https' : 'http',
    ...(base.pathname !== '/' ? { pathname: base.pathname.replace(/\/$/, '') } : {}),
    title: 'SPL broker',
    description:
      'Publish: POST a CloudEvent (binary or structured mode) with a hub bearer token. Receive: a push subscription gets signed Standard Webhooks POSTs; a pull subscription fetches with a lease.',
    security: [{ $ref: '#/components/securitySchemes/hubToken' }],
  };
}

export type AsyncApiDocument = { asyncapi: '3.0.0' } & Record<string, unknown>;

export function asyncApiOfTopics(topics: readonly Topic[], options: AsyncApiOptions): AsyncApiDocument {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const t of topics) {
    const id = `${t.org}.${t.slug}`;
    channels[id] = {
      address: `/v1/topics/${t.org}/${t.slug}/events`,
      title: `${t.org}/${t.slug}`,
      ...(t.description ? { description: t.description } : {}),
      messages: { event: { $ref: `#/components/messages/${id}` } },
      'x-spl-classification': t.classification,
      'x-spl-state': t.state,
      'x-spl-limits': t.limits,
    };
    operations[`${id}.publish`] = {
      action: 'send',
      channel: { $ref: `#/channels/${id}` },
      summary: `Publish an event to ${t.org}/${t.slug} (applications of ${t.org} and holders of a publish grant)`,
      messages: [{ $ref: `#/channels/${id}/messages/event` }],
    };
    operations[`${id}.receive`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${id}` },
      summary: `Receive the events of ${t.org}/${t.slug} (an approved subscription, with the owner's consent)`,
      messages: [{ $ref: `#/channels/${id}/messages/event` }],
    };
    messages[id] = {
      name: id,
      title: `Event of ${t.org}/${t.slug}`,
      contentType: 'application/json',
      headers: CLOUDEVENTS_HEADERS,
      payload: { schemaFormat: EVENT_SCHEMA_FORMAT, schema: t.schema },
      'x-spl-schema-hash': t.schemaHash,
    };
  }
  return {
    asyncapi: '3.0.0' as const,
    info: {
      title: 'SPL event topics',
      version: '1.0.0',
      description:
        'The event topics of the regional Sistem Penghubung Layanan (the "bus accessible from many points", BBU Lampiran II.G). CloudEvents 1.0 over HTTP; data described per topic.',
    },
    defaultContentType: 'application/json',
    servers: { broker: brokerServer(options) },
    channels,
    operations,
    components: {
      messages,
      securitySchemes: {
        hubToken: {
          type: 'oauth2',
          description: 'A hub access token (client credentials grant) in `Authorization: Bearer`.',
          flows: {
            clientCredentials: { tokenUrl: `${options.publicUrl}/oauth2/token`, availableScopes: {} },
          },
        },
      },
    },
  };
}
