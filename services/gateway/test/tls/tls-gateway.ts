import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createMetricsRegistry } from '@spl/metrics';
import { Redis } from 'ioredis';
import { createAccessLog } from '../../src/observability/access-log.js';
import { createStandardPolicies, type StandardPolicies } from '../../src/standard-policies.js';
import { buildTestGateway, TEST_REDIS_URL, type TestGateway } from '../helpers/test-gateway.js';

export interface TlsTestGateway {
  gw: TestGateway;
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** The access log's lines, parsed. */
  accessLog: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * A listening gateway with `env` (the SPL_TLS_* variables) and the standard policies, its
 * access log captured (the flood guard, metrics and access log hooks; no rate-limit step).
 */
export async function startTlsGateway(
  registryUrl: string,
  env: Record<string, string>,
): Promise<TlsTestGateway> {
  const accessLog: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) accessLog.push(JSON.parse(line));
      done();
    },
  });
  const limiterRedis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const metrics = createMetricsRegistry('gateway');
  let policies: StandardPolicies | undefined;
  let gw: TestGateway | undefined;
  const close = async () => {
    policies?.close();
    await gw?.close();
    limiterRedis.disconnect();
  };
  try {
    gw = await buildTestGateway({
      registryUrl,
      env,
      deps: {
        metrics,
        extend: (app) => {
          policies = createStandardPolicies({
            redis: limiterRedis,
            // The rate-limit step is not installed (no `rateLimiter` dep): nothing is written here.
            redisPrefix: `test-tls-${randomBytes(5).toString('hex')}`,
            failMode: 'open',
            registry: metrics,
            isEgressAllowed: () => true,
            floodPerSecond: 10_000,
            floodBurst: 10_000,
            accessLog: createAccessLog({ destination: sink }),
          });
          policies.install(app);
        },
      },
    });
    const url = await gw.listen();
    return { gw, url, accessLog, close };
  } catch (err) {
    await close();
    throw err;
  }
}
