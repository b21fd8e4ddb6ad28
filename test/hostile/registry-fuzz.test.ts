import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestRegistry, type TestRegistry } from '../../services/registry/test/helpers/test-registry.js';
import { LogCapture } from './helpers/log-capture.js';
import { fuzzOperations, listOperations, printReport } from './helpers/openapi-fuzz.js';

/**
 * Every operation of the registry's /docs/json, fuzzed with hostile requests, with the
 * bootstrap operator's token among the credentials tried so validation (not only auth) is
 * reached. Oracle: never 5xx, every 4xx problem+json (RFC 6749 JSON at the token endpoint),
 * the audit log unchanged by a refused request, /healthz still 200.
 */
describe('the registry under hostile input', () => {
  let registry: TestRegistry;
  const logs = new LogCapture();
  const secrets: string[] = [];

  beforeAll(async () => {
    registry = await buildTestRegistry({ logger: logs.logger });
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('answers every operation with a 4xx problem+json or a success, never 5xx, and stores nothing it refused', async () => {
    const doc = (await registry.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const operations = listOperations(doc);
    expect(operations.length).toBeGreaterThan(20);
    const token = await registry.operatorToken();
    secrets.push(token, registry.bootstrap.clientSecret);
    const auditRows = async () =>
      Number((await registry.db.query<{ n: number }>('SELECT count(*) AS n FROM audit_log'))[0]!.n);
    let before = await auditRows();
    const report = await fuzzOperations({
      service: 'registry',
      operations,
      tokens: [token],
      numRuns: Number(process.env.SPL_FUZZ_RUNS ?? 20),
      inject: (req) => registry.app.inject(req),
      afterCase: async (_c, res) => {
        const after = await auditRows();
        const stored = after - before;
        before = after;
        if (res.statusCode >= 400 && stored !== 0)
          return `refused with ${res.statusCode} but wrote ${stored} audit rows`;
        return null;
      },
    });
    printReport(report);
    expect((await registry.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(report.failures).toEqual([]);
  });

  it('wrote no secret or token it was given to its log', () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.leaks(secrets)).toEqual([]);
  });
});
