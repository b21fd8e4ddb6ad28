import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { bearer, type TestRegistry, tokenRequest } from '../helpers/test-registry.js';

/**
 * API versions written straight into the store: the API and lifecycle routes belong to
 * another part of the registry, and these tests only need a version in a given state.
 */
export async function insertApiVersion(
  r: TestRegistry,
  input: { org: string; api: string; version?: string; state?: string; reviewNote?: string },
): Promise<{ apiId: string; versionId: string }> {
  const hash = 'sha256-fixture';
  await r.db.query(
    `INSERT INTO openapi_documents (hash, document, source) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING`,
    [hash, JSON.stringify({ openapi: '3.1.0', info: { title: 'fixture', version: '1' }, paths: {} }), '{}'],
  );
  let [api] = await r.db.query<{ id: string }>(
    'SELECT p.id FROM apis p JOIN organisations o ON o.id = p.org_id WHERE o.slug = $1 AND p.slug = $2',
    [input.org, input.api],
  );
  if (!api) {
    api = { id: randomUUID() };
    await r.db.query(
      `INSERT INTO apis (id, org_id, slug, name, classification)
       SELECT $1, id, $3, $4, 'terbatas' FROM organisations WHERE slug = $2`,
      [api.id, input.org, input.api, `API ${input.api}`],
    );
  }
  const versionId = randomUUID();
  await r.db.query(
    `INSERT INTO api_versions (id, api_id, version, state, openapi_hash, upstream, upstream_auth, plan, review_note)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      versionId,
      api.id,
      input.version ?? 'v1',
      input.state ?? 'published',
      hash,
      JSON.stringify({ urls: ['http://127.0.0.1:8090'] }),
      JSON.stringify({ kind: 'none' }),
      JSON.stringify({}),
      input.reviewNote ?? null,
    ],
  );
  return { apiId: api.id, versionId };
}

export async function countRows(r: TestRegistry, table: string): Promise<number> {
  const [row] = await r.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return row!.n;
}

/** Sends a request as `token`; JSON bodies by default. */
export function call(
  r: TestRegistry,
  token: string,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
): Promise<LightMyRequestResponse> {
  return r.app.inject({
    method,
    url,
    headers: bearer(token),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

export function expectProblem(res: LightMyRequestResponse, status: number, code?: string): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  if (code) expect(res.json().code).toBe(code);
}

/** POSTs form credentials to the token endpoint (uncached, unlike `r.token`). */
export function requestToken(r: TestRegistry, clientId: string, clientSecret: string) {
  return tokenRequest(r.app, clientId, clientSecret);
}
