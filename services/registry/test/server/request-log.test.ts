import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

// Regression (found by test/hostile/log-scan.test.ts): Fastify's request line carried the raw
// URL, so a token or NIK a client put in the query string reached the log.
describe('the request log line', () => {
  let registry: TestRegistry;
  const lines: string[] = [];
  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    registry = await buildTestRegistry({ logger: { stream, level: 'info' } });
  });
  afterAll(async () => registry?.close());

  it('keeps the names of query parameters and drops their values', async () => {
    await registry.app.inject({
      method: 'GET',
      url: '/v1/organisations?access_token=eyJhbGciOiJFUzI1NiJ9.secret-part&nik=3171000000000001',
    });
    const line = lines.find((l) => l.includes('/v1/organisations?'));
    expect(line).toContain('/v1/organisations?access_token=…&nik=…');
    expect(lines.join('\n')).not.toContain('secret-part');
    expect(lines.join('\n')).not.toContain('3171000000000001');
  });
});
