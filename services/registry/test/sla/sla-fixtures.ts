import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestRegistry } from '../helpers/test-registry.js';

/**
 * API versions written straight into the store, in the state the SLA needs (the API and
 * lifecycle routes have tests of their own), with the upstream given.
 */
export async function insertSlaVersion(
  r: Pick<TestRegistry, 'db'>,
  input: {
    org: string;
    api: string;
    version?: string;
    state?: string;
    classification?: string;
    slaTarget?: number;
    upstream?: { urls: string[]; healthPath?: string; timeoutMs?: number };
  },
): Promise<{ apiId: string; versionId: string }> {
  const hash = 'sha256-sla-fixture';
  await r.db.query(
    `INSERT INTO openapi_documents (hash, document, source) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING`,
    [hash, JSON.stringify({ openapi: '3.1.0', info: { title: 'fixture', version: '1' }, paths: {} }), '{}'],
  );
  await r.db.query(
    `INSERT INTO organisations (id, slug, name, kind) VALUES ($1, $2, $3, 'perangkat-daerah') ON CONFLICT (slug) DO NOTHING`,
    [randomUUID(), input.org, `Organisation ${input.org}`],
  );
  let [api] = await r.db.query<{ id: string }>(
    'SELECT p.id FROM apis p JOIN organisations o ON o.id = p.org_id WHERE o.slug = $1 AND p.slug = $2',
    [input.org, input.api],
  );
  if (!api) {
    api = { id: randomUUID() };
    await r.db.query(
      `INSERT INTO apis (id, org_id, slug, name, classification, sla_target)
       SELECT $1, id, $3, $4, $5, $6 FROM organisations WHERE slug = $2`,
      [
        api.id,
        input.org,
        input.api,
        `API ${input.api}`,
        input.classification ?? 'publik',
        input.slaTarget ?? 95,
      ],
    );
  }
  const versionId = randomUUID();
  await r.db.query(
    `INSERT INTO api_versions (id, api_id, version, state, openapi_hash, upstream, upstream_auth, plan)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      versionId,
      api.id,
      input.version ?? 'v1',
      input.state ?? 'published',
      hash,
      JSON.stringify(input.upstream ?? { urls: ['http://127.0.0.1:9'] }),
      JSON.stringify({ kind: 'none' }),
      JSON.stringify({ requestsPerMinute: 60, bodyLimitBytes: 65536 }),
    ],
  );
  return { apiId: api.id, versionId };
}

/** Probe results written straight into the store: `ok` per minute from `start`. */
export async function insertProbes(
  r: Pick<TestRegistry, 'db'>,
  versionId: string,
  start: Date,
  oks: readonly boolean[],
  stepMs = 60_000,
): Promise<void> {
  for (let i = 0; i < oks.length; i += 500) {
    const params: unknown[] = [];
    const rows = oks.slice(i, i + 500).map((ok, j) => {
      params.push(versionId, new Date(start.getTime() + (i + j) * stepMs).toISOString(), ok, ok ? 200 : 503);
      const n = params.length;
      return `($${n - 3}, $${n - 2}, $${n - 1}, $${n}, 1.5, ${ok ? 'NULL' : "'answered 503'"})`;
    });
    await r.db.query(
      `INSERT INTO probe_results (version_id, at, ok, status, latency_ms, error) VALUES ${rows.join(', ')}`,
      params,
    );
  }
}

/** An upstream on port 0 answering `status()` to every request; counts what it saw. */
export async function startUpstream(status: () => number = () => 200): Promise<{
  url: string;
  port: number;
  seen: Array<{ method: string; url: string; at: number }>;
  close(): Promise<void>;
}> {
  const seen: Array<{ method: string; url: string; at: number }> = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', at: Date.now() });
    res.statusCode = status();
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
