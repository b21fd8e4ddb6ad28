/**
 * The wire shape of one usage record on the Redis stream (issue 3, point 11): one gateway
 * process's aggregate of one minute for one (API version, application, issuer, status
 * class). The registry keeps its own copy of this shape in
 * services/registry/src/usage/usage-record.ts; change both together and bump `v`.
 */
export interface UsageRecordJson {
  v: 1;
  /** sha256(instanceId, minute, key), hex: the same aggregate always has the same id. */
  recordId: string;
  instanceId: string;
  /** Start of the minute, ISO 8601 UTC. */
  minute: string;
  routeId: string;
  org: string;
  api: string;
  version: string;
  /** '' when the caller named no registered application (or had no valid token). */
  applicationId: string;
  /** The token's `iss`; '' when there was no verified caller. */
  issuer: string;
  statusClass: StatusClass;
  count: number;
  bytesIn: number;
  bytesOut: number;
  /** Counts per bucket of USAGE_LATENCY_BUCKETS_MS, plus a last bucket for +Inf. */
  latency: number[];
  /**
   * Absent (or `call`) for the gateway's API calls; the broker writes `event` records of the
   * same shape (services/broker/src/usage/event-usage.ts), with an `outcome`.
   */
  kind?: 'call' | 'event';
}

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** Upper bounds (inclusive, milliseconds) of the latency histogram; a final bucket takes the rest. */
export const USAGE_LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

/** The stream entry's single field; its value is the JSON of a UsageRecordJson. */
export const USAGE_STREAM_FIELD = 'record';
