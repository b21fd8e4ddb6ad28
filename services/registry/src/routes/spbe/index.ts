import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { actorOf } from '../../auth/principal.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { buildSpbeReport } from '../../spbe/build-spbe-report.js';
import { parsePeriod } from '../../spbe/period.js';
import { renderIntegrationMap } from '../../spbe/render-integration-map.js';
import { renderReportHtml } from '../../spbe/render-report-html.js';
import { getReview, listReviews, putReview } from '../../spbe/review-store.js';
import { listRoster, setRoster } from '../../spbe/roster-store.js';
import { problemResponses } from '../common-schemas.js';
import {
  MapQuery,
  PeriodQuery,
  Review,
  ReviewInput,
  ReviewParams,
  Roster,
  RosterInput,
  SpbeReport,
} from './schemas.js';

/** Who reads the SPBE evidence: the hub's operators, reviewers and auditors (the Inspektorat). */
const READERS = ['operator', 'reviewer', 'auditor'] as const;

const text = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: Type.String() } },
});

/**
 * Evidence for the SPBE evaluation, Indikator 18 of Permen PANRB 59/2020 (issue 7;
 * docs/spbe.md): the roster of Perangkat Daerah, the reviews of the hub and their follow-up,
 * and the report of a period as JSON, printable HTML and an integration map.
 */
export async function spbeRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['spbe'];

  app.get(
    '/v1/spbe/roster',
    {
      config: { access: { roles: READERS } },
      schema: {
        tags,
        summary: 'The Perangkat Daerah the region declares (level 3 is measured against them)',
        response: { 200: Roster, ...problemResponses },
      },
    },
    async () => listRoster(ctx.db),
  );

  app.put(
    '/v1/spbe/roster',
    {
      config: { access: { roles: ['operator'] } },
      schema: {
        tags,
        summary: 'Declare the roster of Perangkat Daerah (replaces it)',
        body: RosterInput,
        response: { 200: Roster, ...problemResponses },
      },
    },
    async (request) =>
      (
        await ctx.mutate(actorOf(principalOf(request)), (tx, audit) =>
          setRoster(tx, audit, request.body.organisations, ctx.clock()),
        )
      ).roster,
  );

  app.get(
    '/v1/spbe/reviews',
    {
      config: { access: { roles: READERS } },
      schema: {
        tags,
        summary: 'Reviews of the hub with their findings and improvement actions, latest first',
        response: { 200: Type.Array(Review), ...problemResponses },
      },
    },
    async () => listReviews(ctx.db),
  );

  app.get(
    '/v1/spbe/reviews/:review',
    {
      config: { access: { roles: READERS } },
      schema: {
        tags,
        summary: 'One review',
        params: ReviewParams,
        response: { 200: Review, ...problemResponses },
      },
    },
    async (request) => getReview(ctx.db, request.params.review),
  );

  app.put(
    '/v1/spbe/reviews/:review',
    {
      config: { access: { roles: ['operator'] } },
      schema: {
        tags,
        summary: 'Record a review, or replace it (findings and improvement actions with their status)',
        params: ReviewParams,
        body: ReviewInput,
        response: { 200: Review, 201: Review, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { review, result } = await ctx.mutate(actorOf(principalOf(request)), (tx, audit) =>
        putReview(tx, audit, request.params.review, request.body, ctx.clock()),
      );
      return reply.code(result === 'created' ? 201 : 200).send(review);
    },
  );

  app.get(
    '/v1/spbe/report',
    {
      config: { access: { roles: READERS } },
      schema: {
        tags,
        summary:
          'The Indikator 18 report of a period: level with reasons, coverage, APIs, federation, reviews',
        querystring: PeriodQuery,
        response: { 200: SpbeReport, ...problemResponses },
      },
    },
    async (request) => buildSpbeReport(ctx.db, parsePeriod(request.query.period), ctx.clock()),
  );

  app.get(
    '/v1/spbe/report.html',
    {
      config: { access: { roles: READERS } },
      schema: {
        tags,
        summary: 'The same report as a printable HTML page with the integration map',
        querystring: PeriodQuery,
        response: { 200: text('text/html', 'a self-contained HTML page'), ...problemResponses },
      },
    },
    async (request, reply) => {
      const report = await buildSpbeReport(ctx.db, parsePeriod(request.query.period), ctx.clock());
      const map = await renderIntegrationMap(report.map, 'svg');
      return reply.type('text/html; charset=utf-8').send(renderReportHtml(report, map.toString('utf8')));
    },
  );

  app.get(
    '/v1/spbe/map',
    {
      config: { access: { roles: READERS } },
      schema: {
        tags,
        summary: 'The integration map of a period as SVG, PNG or Graphviz DOT',
        querystring: MapQuery,
        response: {
          200: {
            description: 'the map',
            content: {
              'image/svg+xml': { schema: Type.String() },
              'image/png': { schema: Type.String({ format: 'binary' }) },
              'text/vnd.graphviz': { schema: Type.String() },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? 'svg';
      const report = await buildSpbeReport(ctx.db, parsePeriod(request.query.period), ctx.clock());
      const body = await renderIntegrationMap(report.map, format);
      const type = { svg: 'image/svg+xml', png: 'image/png', dot: 'text/vnd.graphviz; charset=utf-8' }[
        format
      ];
      // PNG is bytes; the schema says string because OpenAPI has no other type for a binary body.
      return reply.type(type).send(body as unknown as string);
    },
  );
}
