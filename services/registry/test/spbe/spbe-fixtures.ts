import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { insertUsageRecords } from '../../src/usage/insert-usage-records.js';
import type { UsageRecordJson } from '../../src/usage/usage-record.js';
import { bearer, type TestRegistry } from '../helpers/test-registry.js';

/** The demo's OpenAPI document, reused for every API a fixture publishes. */
export const OPENAPI = readFileSync(
  resolve(dirname(fileURLToPath(import.meta.url)), '../../../../demo/openapi/kependudukan-v1.yaml'),
  'utf8',
);

/** Test output (git-ignored): the maps and the PDF the tests render, kept for a look. */
export const TEST_OUTPUT = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-output/spbe');

/** The current year, so that "now" (a version's publication, a review today) lies inside it. */
export const YEAR = String(new Date().getUTCFullYear());
export const TODAY = new Date().toISOString().slice(0, 10);
/** A minute inside the period, before now. */
export const IN_PERIOD = `${YEAR}-01-01T00:01:00.000Z`;

/** A hub's people who pass every gate: an operator (kelaikan operasi) and a reviewer (kelaikan keamanan). */
export interface Gatekeepers {
  operator: string;
  reviewer: string;
}

export async function gatekeepers(r: TestRegistry): Promise<Gatekeepers> {
  const orgs = (
    await send(r, await r.operatorToken(), { method: 'GET', url: '/v1/organisations' })
  ).json() as Array<{
    slug: string;
  }>;
  if (!orgs.some((o) => o.slug === 'diskominfo')) await r.organisation('diskominfo', 'dinas-kominfo');
  return {
    operator: (await r.person({ org: 'diskominfo', roles: ['operator'] })).token,
    reviewer: (await r.person({ org: 'diskominfo', roles: ['reviewer'] })).token,
  };
}

export async function send(
  r: TestRegistry,
  token: string,
  options: InjectOptions,
): Promise<LightMyRequestResponse> {
  const res = await r.app.inject({ ...options, headers: { ...options.headers, ...bearer(token) } });
  if (res.statusCode < 200 || res.statusCode > 299)
    throw new Error(`${options.method} ${options.url}: ${res.statusCode} ${res.body}`);
  return res;
}

/**
 * Applies a hub document through every gate: the operator creates, submits and grants
 * kelaikan operasi, the reviewer kelaikan keamanan, the operator publishes and consents.
 * (The reviewer only passes over APIs: an apply by a reviewer stumbles on a subscription
 * it did not request.)
 */
export async function applyThroughGates(r: TestRegistry, people: Gatekeepers, doc: Record<string, unknown>) {
  const passes = doc.apis
    ? [people.operator, people.reviewer, people.operator]
    : [people.operator, people.operator];
  for (const token of passes)
    await send(r, token, { method: 'POST', url: '/v1/apply', payload: { apiVersion: 'spl/v1', ...doc } });
}

/** The smallest OpenAPI document the registry takes, for hubs of many APIs. */
export const TINY_OPENAPI = JSON.stringify({
  openapi: '3.1.0',
  info: { title: 'Layanan', version: '1' },
  paths: { '/ping': { get: { responses: { '200': { description: 'ok' } } } } },
});

/** A published API of `org`, version v1. */
export function publishedApi(org: string, slug: string, name = `Layanan ${slug}`, openapi = OPENAPI) {
  return {
    org,
    slug,
    name,
    classification: 'publik',
    versions: [
      {
        version: 'v1',
        openapi,
        upstream: { urls: ['http://127.0.0.1:8090'], timeoutMs: 5000 },
        upstreamAuth: { kind: 'none' },
        plan: { requestsPerMinute: 600 },
        state: 'published',
      },
    ],
  };
}

export async function applicationId(r: TestRegistry, org: string, app: string): Promise<string> {
  const [row] = await r.db.query<{ id: string }>(
    'SELECT a.id FROM applications a JOIN organisations o ON o.id = a.org_id WHERE o.slug = $1 AND a.slug = $2',
    [org, app],
  );
  if (!row) throw new Error(`no application ${org}/${app}`);
  return row.id;
}

let records = 0;
/** Stores usage records as the ingester would (the gateway's stream is tested elsewhere). */
export async function recordCalls(
  r: TestRegistry,
  calls: Array<{
    org: string;
    api: string;
    applicationId?: string;
    issuer?: string;
    statusClass?: UsageRecordJson['statusClass'];
    /** `events` for the broker's records of a topic (`api` is then the topic slug). */
    version?: string;
    count: number;
    minute?: string;
  }>,
): Promise<void> {
  await r.db.transaction((tx) =>
    insertUsageRecords(
      tx,
      calls.map((c) => ({
        v: 1,
        recordId: createHash('sha256')
          .update(`${r.schema} ${++records} ${JSON.stringify(c)}`)
          .digest('hex'),
        instanceId: 'gw-test',
        minute: c.minute ?? IN_PERIOD,
        routeId: `${c.org}/${c.api}/v1`,
        org: c.org,
        api: c.api,
        version: c.version ?? 'v1',
        applicationId: c.applicationId ?? '',
        issuer: c.issuer ?? 'http://registry.test',
        statusClass: c.statusClass ?? '2xx',
        count: c.count,
        bytesIn: 0,
        bytesOut: 0,
        latency: [c.count, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      })),
    ),
  );
}

/** Pairs of boxes (x, y, width, height) that intersect, by index. */
export function overlappingBoxes(boxes: Array<{ id: string; x: number; y: number; w: number; h: number }>) {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i]!;
      const b = boxes[j]!;
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) out.push([a.id, b.id]);
    }
  return out;
}

/**
 * The bounding box of every node Graphviz drew (`<g class="node">`): its polygon's points or
 * its ellipse. A `component` shape draws extra small polygons; the box covers them all.
 */
export function nodeBoxes(svg: string): Array<{ id: string; x: number; y: number; w: number; h: number }> {
  const boxes = [];
  for (const m of svg.matchAll(/<g id="[^"]*" class="node">\s*<title>([^<]*)<\/title>([\s\S]*?)<\/g>/g)) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const p of m[2]!.matchAll(/<polygon[^>]*points="([^"]+)"/g))
      for (const pair of p[1]!.trim().split(/\s+/)) {
        const [x, y] = pair.split(',').map(Number);
        xs.push(x!);
        ys.push(y!);
      }
    for (const el of m[2]!.matchAll(/<ellipse[^>]*cx="([^"]+)" cy="([^"]+)" rx="([^"]+)" ry="([^"]+)"/g)) {
      const [cx, cy, rx, ry] = el.slice(1).map(Number) as [number, number, number, number];
      xs.push(cx - rx, cx + rx);
      ys.push(cy - ry, cy + ry);
    }
    // Rounded boxes are drawn as a path.
    for (const path of m[2]!.matchAll(/<path[^>]*d="([^"]+)"/g))
      for (const pt of path[1]!.matchAll(/(-?[\d.]+),(-?[\d.]+)/g)) {
        xs.push(Number(pt[1]));
        ys.push(Number(pt[2]));
      }
    const x = Math.min(...xs);
    const y = Math.min(...ys);
    boxes.push({ id: m[1]!, x, y, w: Math.max(...xs) - x, h: Math.max(...ys) - y });
  }
  return boxes;
}

/** The text of every `<text>` element, entities decoded. */
export function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!
      .replace(/&#45;/g, '-')
      .replace(/&#(\d+);/g, (_, d) => String.fromCharCode(Number(d)))
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&'),
  );
}
