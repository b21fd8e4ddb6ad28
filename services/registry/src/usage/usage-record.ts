import { type Static, Type } from 'typebox';
import { Compile } from 'typebox/compile';

/** Upper bounds (inclusive, milliseconds) of the latency histogram; a final bucket takes the rest. */
export const USAGE_LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;
const BUCKETS = USAGE_LATENCY_BUCKETS_MS.length + 1;

/** The stream entry's single field; its value is the JSON of a UsageRecordJson. */
export const USAGE_STREAM_FIELD = 'record';

const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/**
 * The wire shape of one usage record on the Redis stream, as the gateway writes it. The
 * gateway's copy is services/gateway/src/usage/usage-record.ts (a service never imports
 * another); change both together and bump `v`.
 */
export const UsageRecordJson = Type.Object({
  v: Type.Literal(1),
  recordId: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  instanceId: Type.String({ minLength: 1, maxLength: 300 }),
  minute: Type.String({ minLength: 20, maxLength: 40 }),
  routeId: Type.String({ minLength: 1, maxLength: 200 }),
  org: Type.String({ minLength: 1, maxLength: 200 }),
  api: Type.String({ minLength: 1, maxLength: 200 }),
  version: Type.String({ minLength: 1, maxLength: 200 }),
  applicationId: Type.String({ maxLength: 200 }),
  issuer: Type.String({ maxLength: 2000 }),
  statusClass: Type.Union([
    Type.Literal('1xx'),
    Type.Literal('2xx'),
    Type.Literal('3xx'),
    Type.Literal('4xx'),
    Type.Literal('5xx'),
  ]),
  count: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  bytesIn: Count,
  bytesOut: Count,
  latency: Type.Array(Count, { minItems: BUCKETS, maxItems: BUCKETS }),
  /**
   * What was counted: API calls through the gateway (absent or `call`), or events through the
   * broker (`event`: `routeId` is the topic id, `api` the topic slug, `version` is `events`,
   * and `outcome` says accepted, duplicate, refused, unavailable, delivered, failed or
   * dead-lettered). Optional, so records written before it existed still parse.
   */
  kind: Type.Optional(Type.Union([Type.Literal('call'), Type.Literal('event')])),
  outcome: Type.Optional(Type.String({ maxLength: 40 })),
});
export type UsageRecordJson = Static<typeof UsageRecordJson>;

const check = Compile(UsageRecordJson);

/** The record in a stream entry's fields, or null when the entry is not a valid record. */
export function parseUsageEntry(fields: string[]): UsageRecordJson | null {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== USAGE_STREAM_FIELD) continue;
    let value: unknown;
    try {
      value = JSON.parse(fields[i + 1]!);
    } catch {
      return null;
    }
    if (!check.Check(value)) return null;
    const record = value as UsageRecordJson;
    if (Number.isNaN(Date.parse(record.minute))) return null;
    return record;
  }
  return null;
}
