import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { hasRole } from '../../auth/principal.js';
import { errors } from '../../errors.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { USAGE_LATENCY_BUCKETS_MS } from '../../usage/usage-record.js';
import { problemResponses, Slug, Timestamp } from '../common-schemas.js';

const GRANULARITIES = ['minute', 'hour'] as const;
/** Longest range one request may span, per granularity (bounds the rows summed and returned). */
const MAX_RANGE_MS = { minute: 24 * 3_600_000, hour: 93 * 24 * 3_600_000 } as const;
const BUCKETS = USAGE_LATENCY_BUCKETS_MS.length + 1;

const UsageQuery = Type.Object(
  {
    org: Slug,
    api: Type.Optional(Slug),
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    from: Timestamp,
    to: Timestamp,
    granularity: Type.Optional(
      Type.Union(
        GRANULARITIES.map((g) => Type.Literal(g)),
        { default: 'hour' },
      ),
    ),
  },
  { additionalProperties: false },
);

const UsageRow = Type.Object({
  at: Timestamp,
  api: Type.String(),
  version: Type.String(),
  applicationId: Type.String({ description: "'' when the caller named no registered application" }),
  issuer: Type.String({ description: "the token's iss; '' when there was no verified caller" }),
  statusClass: Type.String(),
  count: Type.Integer(),
  bytesIn: Type.Integer(),
  bytesOut: Type.Integer(),
  latency: Type.Array(Type.Integer(), {
    description: 'requests per latency bucket; bounds in latencyBucketsMs, the last bucket is +Inf',
  }),
});

const UsageReport = Type.Object({
  org: Type.String(),
  from: Timestamp,
  to: Timestamp,
  granularity: Type.String(),
  latencyBucketsMs: Type.Array(Type.Integer()),
  items: Type.Array(UsageRow),
});

interface DbUsageSumRow {
  at: Date | string;
  api: string;
  version: string;
  application_id: string;
  issuer: string;
  status_class: string;
  count: number;
  bytes_in: number;
  bytes_out: number;
  [latency: `l${number}`]: number;
}

// Element-wise sums of the histogram, one column each (summed bigints read as numbers).
const LATENCY_SUMS = Array.from({ length: BUCKETS }, (_, i) => `sum(latency[${i + 1}]) AS l${i}`).join(', ');

/**
 * Usage of an organisation's APIs as the gateways recorded it (issue 3, point 11): per
 * minute or hour, API version, application, issuer and status class. Operators and
 * auditors read every organisation; a publisher reads its own.
 */
export async function usageRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/v1/usage',
    {
      config: { access: { roles: ['operator', 'auditor', 'publisher'] } },
      schema: {
        tags: ['usage'],
        summary: 'Usage records summed per minute or hour over [from, to)',
        querystring: UsageQuery,
        response: { 200: UsageReport, ...problemResponses },
      },
    },
    async (request) => {
      const q = request.query as Static<typeof UsageQuery>;
      const principal = principalOf(request);
      if (!hasRole(principal, 'operator', 'auditor') && principal.org !== q.org)
        throw errors.SPL_FORBIDDEN(`a publisher reads the usage of its own organisation only, not ${q.org}`);
      const granularity = q.granularity ?? 'hour';
      const from = new Date(q.from);
      const to = new Date(q.to);
      if (!(from < to)) throw errors.SPL_VALIDATION('from must be before to');
      if (to.getTime() - from.getTime() > MAX_RANGE_MS[granularity])
        throw errors.SPL_VALIDATION(
          `a ${granularity} report spans at most ${MAX_RANGE_MS[granularity] / 3_600_000} hours`,
        );

      const params: unknown[] = [q.org, from.toISOString(), to.toISOString()];
      const where = ['org = $1', 'minute >= $2', 'minute < $3'];
      if (q.api !== undefined) {
        params.push(q.api);
        where.push(`api = $${params.length}`);
      }
      if (q.version !== undefined) {
        params.push(q.version);
        where.push(`version = $${params.length}`);
      }
      const rows = await ctx.db.query<DbUsageSumRow>(
        `SELECT date_trunc('${granularity}', minute, 'UTC') AS at, api, version, application_id, issuer,
           status_class, sum(count) AS count, sum(bytes_in) AS bytes_in, sum(bytes_out) AS bytes_out,
           ${LATENCY_SUMS}
         FROM usage_minutes WHERE ${where.join(' AND ')}
         GROUP BY 1, api, version, application_id, issuer, status_class
         ORDER BY 1, api, version, application_id, issuer, status_class`,
        params,
      );
      return {
        org: q.org,
        from: from.toISOString(),
        to: to.toISOString(),
        granularity,
        latencyBucketsMs: [...USAGE_LATENCY_BUCKETS_MS],
        items: rows.map((r) => ({
          at: new Date(r.at).toISOString(),
          api: r.api,
          version: r.version,
          applicationId: r.application_id,
          issuer: r.issuer,
          statusClass: r.status_class,
          count: Number(r.count),
          bytesIn: Number(r.bytes_in),
          bytesOut: Number(r.bytes_out),
          latency: Array.from({ length: BUCKETS }, (_, i) => Number(r[`l${i}`])),
        })),
      };
    },
  );
}
