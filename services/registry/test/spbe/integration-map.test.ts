import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpbeReport } from '../../src/routes/spbe/schemas.js';
import { loadDemoHub } from '../helpers/demo-hub.js';
import { buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import {
  applicationId,
  applyThroughGates,
  type Gatekeepers,
  gatekeepers,
  nodeBoxes,
  overlappingBoxes,
  publishedApi,
  recordCalls,
  send,
  svgTexts,
  TEST_OUTPUT,
  TINY_OPENAPI,
  YEAR,
} from './spbe-fixtures.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function checkMap(r: TestRegistry, token: string, name: string) {
  const report = (
    await send(r, token, { method: 'GET', url: `/v1/spbe/report?period=${YEAR}` })
  ).json() as SpbeReport;
  const svgRes = await send(r, token, { method: 'GET', url: `/v1/spbe/map?period=${YEAR}` });
  expect(svgRes.headers['content-type']).toMatch(/^image\/svg\+xml/);
  const svg = svgRes.body;
  const texts = svgTexts(svg);
  const orgs = report.coverage.items;
  for (const o of orgs) expect(texts, `${o.name} is written on the map`).toContain(o.name);
  const boxes = nodeBoxes(svg);
  expect(boxes).toHaveLength(report.map.nodes.length);
  expect(overlappingBoxes(boxes)).toEqual([]);

  const pngRes = await send(r, token, { method: 'GET', url: `/v1/spbe/map?period=${YEAR}&format=png` });
  expect(pngRes.headers['content-type']).toBe('image/png');
  expect(pngRes.rawPayload.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  mkdirSync(TEST_OUTPUT, { recursive: true });
  writeFileSync(join(TEST_OUTPUT, `${name}.svg`), svg);
  writeFileSync(join(TEST_OUTPUT, `${name}.png`), pngRes.rawPayload);
  return { report, svg, boxes };
}

describe('the integration map of the demo hub', () => {
  let r: TestRegistry;
  let people: Gatekeepers;
  beforeAll(async () => {
    r = await buildTestRegistry();
    people = await gatekeepers(r);
    const demo = loadDemoHub();
    // The demo's people are not needed: the fixture's own gatekeepers pass every gate.
    const { users: _users, apiVersion: _v, ...content } = demo;
    await applyThroughGates(r, people, content);
    const app = await applicationId(r, 'dinkes', 'sistem-rujukan');
    await recordCalls(r, [
      { org: 'disdukcapil', api: 'kependudukan', applicationId: app, count: 42 },
      // The broker's records of the demo topic: 7 events delivered to Dinkes's application.
      { org: 'disdukcapil', api: 'kelahiran-tercatat', version: 'events', applicationId: app, count: 7 },
    ]);
  });
  afterAll(() => r?.close());

  it('names every organisation, draws the demo API from its owner to its consumer, and no boxes overlap', async () => {
    const { report, svg } = await checkMap(r, people.operator, 'demo-map');
    expect(report.map.edges).toEqual([
      { from: 'disdukcapil', to: 'dinkes', kind: 'api', apis: ['kependudukan'], calls: 42 },
      { from: 'disdukcapil', to: 'dinkes', kind: 'topic', apis: ['kelahiran-tercatat'], calls: 7 },
    ]);
    expect(svgTexts(svg)).toContain('42 calls');
    expect(svgTexts(svg)).toContain('7 calls');
    expect(report.coverage.items.find((c) => c.org === 'disdukcapil')).toMatchObject({
      publishedApis: 1,
      publishedTopics: 1,
    });
    expect(report.coverage.items.find((c) => c.org === 'dinkes')).toMatchObject({ consumedSubscriptions: 2 });
    expect(report.apis.map((a) => [a.kind, a.org, a.api, a.consumers, a.calls])).toEqual([
      ['api', 'disdukcapil', 'kependudukan', ['dinkes'], 42],
      ['topic', 'disdukcapil', 'kelahiran-tercatat', ['dinkes'], 0],
    ]);
    for (const slug of ['diskominfo', 'disdukcapil', 'dinkes', 'bpjs-kesehatan'])
      expect(svg).toContain(`<title>${slug.replace(/-/g, '&#45;')}</title>`);
  });
});

/**
 * A generated hub of 30 organisations (25 PDs on the roster, 3 Instansi Pusat, 2 other
 * Pemda) and 200 APIs, each consumed by one to three other organisations, with traffic.
 * Built through the REST API and apply, as an operator would (federation edges are covered
 * by maturity-levels.test.ts).
 */
describe('the integration map of a generated hub (30 organisations, 200 APIs)', () => {
  let r: TestRegistry;
  let people: Gatekeepers;
  beforeAll(async () => {
    r = await buildTestRegistry();
    people = await gatekeepers(r);
    const orgs = Array.from({ length: 29 }, (_, i) => {
      const n = String(i + 1).padStart(2, '0');
      if (i < 25) return { slug: `pd-${n}`, name: `Perangkat Daerah ${n}`, kind: 'perangkat-daerah' };
      if (i < 27) return { slug: `pusat-${n}`, name: `Instansi Pusat ${n}`, kind: 'instansi-pusat' };
      return { slug: `pemda-${n}`, name: `Pemda Tetangga ${n}`, kind: 'pemda-lain' };
    });
    const owners = orgs.slice(0, 25);
    const apis = Array.from({ length: 200 }, (_, i) =>
      publishedApi(owners[i % 25]!.slug, `api-${i + 1}`, `Layanan ${i + 1}`, TINY_OPENAPI),
    );
    const applications = orgs.map((o) => ({
      org: o.slug,
      slug: 'aplikasi',
      name: `Aplikasi ${o.slug}`,
      client: {},
    }));
    const subscriptions = apis.flatMap((a, i) =>
      [1, 7, 13].slice(0, 1 + (i % 3)).map((k) => ({
        application: `${orgs[(i + k) % orgs.length]!.slug}/aplikasi`,
        api: `${a.org}/${a.slug}`,
        version: 'v1',
        purpose: 'Pertukaran data layanan',
        state: 'approved',
      })),
    );
    await applyThroughGates(r, people, { organisations: orgs, apis });
    await applyThroughGates(r, people, { applications, subscriptions });
    await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/roster',
      payload: { organisations: owners.map((o) => o.slug) },
    });
    const ids = new Map<string, string>();
    for (const o of orgs) ids.set(o.slug, await applicationId(r, o.slug, 'aplikasi'));
    await recordCalls(
      r,
      subscriptions.map((s, i) => ({
        org: s.api.split('/')[0]!,
        api: s.api.split('/')[1]!,
        applicationId: ids.get(s.application.split('/')[0]!)!,
        count: 1 + ((i * 37) % 500),
      })),
    );
  }, 240_000);
  afterAll(() => r?.close());

  it('names all 30 organisations with no two node boxes overlapping, and writes the PNG', async () => {
    const { report, boxes } = await checkMap(r, people.operator, 'generated-hub-map');
    expect(report.coverage.items).toHaveLength(30);
    expect(report.apis).toHaveLength(200);
    expect(boxes).toHaveLength(30);
    expect(report.coverage).toMatchObject({ rosterSize: 25, neither: 0 });
  }, 120_000);
});
