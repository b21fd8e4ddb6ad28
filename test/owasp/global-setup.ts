import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createPostgresDatabase } from '../../services/registry/src/store/database.js';
import {
  deleteRedisPrefix,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from '../../services/registry/test/helpers/test-registry.js';

/**
 * The OWASP project's ledger of shared hubs (hub.ts `buildOwaspHub`): each test worker
 * builds one and writes its PostgreSQL schema and Redis prefix here; when the run ends they
 * are dropped, so the suite leaves nothing behind although workers never close their hub.
 */
export default function setup(): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spl-owasp-'));
  const ledger = join(dir, 'hubs.jsonl');
  process.env.SPL_OWASP_LEDGER = ledger;
  return async () => {
    let lines: string[] = [];
    try {
      lines = readFileSync(ledger, 'utf8').split('\n').filter(Boolean);
    } catch {
      // no hub was built
    }
    if (lines.length) {
      const db = createPostgresDatabase({ url: TEST_DATABASE_URL, schema: 'public', max: 1 });
      const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
      try {
        for (const line of lines) {
          const { schema, prefix } = JSON.parse(line) as { schema: string; prefix: string };
          if (!/^t_[0-9a-f]+$/.test(schema)) continue;
          await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await deleteRedisPrefix(redis, prefix);
        }
      } finally {
        await db.close();
        redis.disconnect();
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
