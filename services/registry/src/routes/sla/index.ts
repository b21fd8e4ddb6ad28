import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { canSeeVersionState, getVisibleApiRow } from '../../apis/api-store.js';
import { assertActsForOrg } from '../../auth/policy.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { errors } from '../../errors.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { type Granularity, periodsBetween } from '../../sla/availability.js';
import { buildAvailabilityReport, type SlaApi } from '../../sla/availability-report.js';
import {
  createMaintenanceWindow,
  deleteMaintenanceWindow,
  listMaintenanceWindows,
  windowOfRow,
} from '../../sla/maintenance-windows.js';
import type { Sql } from '../../store/database.js';
import { problemResponses } from '../common-schemas.js';
import {
  ApiParams,
  AvailabilityQuery,
  AvailabilityReport,
  MaintenanceWindow,
  MaintenanceWindowInput,
  MaintenanceWindowQuery,
  WindowParams,
} from './schemas.js';

/** How far back `from` defaults, and how many periods one request may ask for. */
const DEFAULT_PERIODS: Record<Granularity, number> = { day: 30, month: 12, year: 5 };
const MAX_PERIODS: Record<Granularity, number> = { day: 400, month: 120, year: 50 };

/** The API as the caller may see it, with the versions the caller may see. */
export async function loadSlaApi(db: Sql, principal: Principal, org: string, api: string): Promise<SlaApi> {
  const row = await getVisibleApiRow(db, principal, org, api);
  const versions = await db.query<{ id: string; version: string; state: string }>(
    'SELECT id, version, state FROM api_versions WHERE api_id = $1 ORDER BY created_at, version',
    [row.id],
  );
  return {
    id: row.id,
    org: row.org_slug,
    slug: row.slug,
    slaTarget: Number(row.sla_target),
    versions: versions.filter((v) => canSeeVersionState(principal, row.org_slug, v.state as never)),
  };
}

function defaultFrom(to: Date, granularity: Granularity): Date {
  const n = DEFAULT_PERIODS[granularity];
  if (granularity === 'day')
    return new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() - n + 1));
  if (granularity === 'month') return new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() - n + 1, 1));
  return new Date(Date.UTC(to.getUTCFullYear() - n + 1, 0, 1));
}

/**
 * The measured SLA of an API (issue 5 §1; BKS 60(3)(m)): availability per version per day,
 * month or year against the API's target, and the maintenance windows its owner declares.
 */
export async function slaRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['sla'];
  const owners = { roles: ['operator', 'publisher'] } as const;

  app.get(
    '/v1/apis/:org/:api/availability',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary:
          'Availability of each version per day, month or year over [from, to), against the SLA target',
        description:
          'Probes inside maintenance windows are left out (`excluded`). Defaults: granularity day; to now; from 30 days, 12 months or 5 years back.',
        params: ApiParams,
        querystring: AvailabilityQuery,
        response: { 200: AvailabilityReport, ...problemResponses },
      },
    },
    async (request) => {
      const granularity = request.query.granularity ?? 'day';
      const to = request.query.to ? new Date(request.query.to) : ctx.clock();
      const from = request.query.from ? new Date(request.query.from) : defaultFrom(to, granularity);
      if (!(from < to)) throw errors.SPL_VALIDATION('from must be before to');
      if (periodsBetween(from, to, granularity).length > MAX_PERIODS[granularity])
        throw errors.SPL_VALIDATION(
          `at most ${MAX_PERIODS[granularity]} periods of a ${granularity} per request`,
        );
      const api = await loadSlaApi(ctx.db, principalOf(request), request.params.org, request.params.api);
      return buildAvailabilityReport(ctx.db, { api, from, to, granularity });
    },
  );

  app.get(
    '/v1/apis/:org/:api/maintenance-windows',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Maintenance windows of an API (overlapping [from, to) when given)',
        params: ApiParams,
        querystring: MaintenanceWindowQuery,
        response: { 200: Type.Array(MaintenanceWindow), ...problemResponses },
      },
    },
    async (request) => {
      const api = await getVisibleApiRow(
        ctx.db,
        principalOf(request),
        request.params.org,
        request.params.api,
      );
      const rows = await listMaintenanceWindows(ctx.db, {
        apiIds: [api.id],
        ...(request.query.from ? { from: new Date(request.query.from) } : {}),
        ...(request.query.to ? { to: new Date(request.query.to) } : {}),
      });
      return rows.map((w) => windowOfRow(w, api.org_slug, api.slug));
    },
  );

  app.post(
    '/v1/apis/:org/:api/maintenance-windows',
    {
      config: { access: owners },
      schema: {
        tags,
        summary:
          'Declare a maintenance window: its probes do not count for the SLA (its publishers, or operators)',
        params: ApiParams,
        body: MaintenanceWindowInput,
        response: { 201: MaintenanceWindow, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { org, api } = request.params;
      assertActsForOrg(principal, org, ['publisher']);
      const row = await getVisibleApiRow(ctx.db, principal, org, api);
      const created = await ctx.mutate(actorOf(principal), (tx, audit) =>
        createMaintenanceWindow(
          tx,
          audit,
          { id: row.id, org: row.org_slug, slug: row.slug },
          request.body,
          ctx.clock(),
        ),
      );
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/v1/apis/:org/:api/maintenance-windows/:id',
    {
      config: { access: owners },
      schema: {
        tags,
        summary: 'Remove a maintenance window (its publishers, or operators)',
        params: WindowParams,
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { org, api, id } = request.params;
      assertActsForOrg(principal, org, ['publisher']);
      const row = await getVisibleApiRow(ctx.db, principal, org, api);
      await ctx.mutate(actorOf(principal), (tx, audit) =>
        deleteMaintenanceWindow(tx, audit, { id: row.id, org: row.org_slug, slug: row.slug }, id),
      );
      return reply.code(204).send(null);
    },
  );
}
