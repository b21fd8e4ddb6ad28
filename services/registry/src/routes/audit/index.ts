import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type DbAuditRow, recordOfRow, verifyAuditTrail } from '../../audit/audit-trail.js';
import type { RegistryContext } from '../../registry-context.js';
import { AuditRecord, problemResponses } from '../common-schemas.js';

const AuditQuery = Type.Object(
  {
    entityType: Type.Optional(Type.String({ maxLength: 64 })),
    entityId: Type.Optional(Type.String({ maxLength: 200 })),
    action: Type.Optional(Type.String({ maxLength: 64 })),
    afterSeq: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

const Verdict = Type.Object({
  ok: Type.Boolean(),
  records: Type.Integer({ description: 'records that verified before the first broken one' }),
  head: Type.Optional(
    Type.String({ description: 'hash of the last record; keep it to detect truncation later' }),
  ),
  firstBrokenSeq: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
});

/**
 * The audit trail: every mutation, append-only and hash-chained (BKS 30(5)(f), 59(9)(d);
 * MUE 26(2)(b)). Read-only, for operators and auditors.
 */
export async function auditRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['audit'];

  app.get(
    '/v1/audit',
    {
      config: { access: { roles: ['operator', 'auditor'] } },
      schema: {
        tags,
        summary: 'Audit records in order, filtered; page with afterSeq',
        querystring: AuditQuery,
        response: {
          200: Type.Object({ records: Type.Array(AuditRecord), nextAfterSeq: Type.Optional(Type.Integer()) }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const where = ['seq > $1'];
      const params: unknown[] = [q.afterSeq ?? 0];
      for (const [column, value] of [
        ['entity_type', q.entityType],
        ['entity_id', q.entityId],
        ['action', q.action],
      ] as const) {
        if (value === undefined) continue;
        params.push(value);
        where.push(`${column} = $${params.length}`);
      }
      const limit = q.limit ?? 100;
      params.push(limit);
      const rows = await ctx.db.query<DbAuditRow>(
        `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
        params,
      );
      const records = rows.map((row) => ({ ...recordOfRow(row), prevHash: row.prev_hash, hash: row.hash }));
      const last = records.at(-1);
      return { records, ...(records.length === limit && last ? { nextAfterSeq: last.seq } : {}) };
    },
  );

  app.get(
    '/v1/audit/verify',
    {
      config: { access: { roles: ['operator', 'auditor'] } },
      schema: {
        tags,
        summary: 'Recompute the hash chain and name the first record that does not hold',
        response: { 200: Verdict, ...problemResponses },
      },
    },
    async () => {
      const verdict = await verifyAuditTrail(ctx.db);
      return verdict.ok
        ? { ok: true, records: verdict.records, head: verdict.head }
        : {
            ok: false,
            records: verdict.records,
            firstBrokenSeq: verdict.firstBrokenSeq,
            reason: verdict.reason,
          };
    },
  );
}
