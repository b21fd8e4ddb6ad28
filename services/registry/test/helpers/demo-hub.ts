import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The values the demo's `secretRef: env:…` names stand for in tests. */
export const DEMO_SECRETS: Record<string, string> = {
  SPL_DEMO_OPERATOR_SECRET: 'operator-secret-0123456789abcdef',
  SPL_DEMO_REVIEWER_SECRET: 'reviewer-secret-0123456789abcdef',
  SPL_DEMO_PUBLISHER_SECRET: 'publisher-secret-0123456789abcdef',
  SPL_DEMO_CONSUMER_OWNER_SECRET: 'consumer-owner-secret-0123456789',
  SPL_DEMO_CONSUMER_SECRET: 'consumer-app-secret-0123456789abc',
  SPL_DEMO_PUBLISHER_APP_SECRET: 'siak-app-secret-0123456789abcdef',
};

const demoDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../demo');

/** demo/hub.yaml as the CLI sends it: openapiFile → openapi, secretRef → secret. */
export function loadDemoHub(): Record<string, unknown> {
  const doc = parse(readFileSync(join(demoDir, 'hub.yaml'), 'utf8'));
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'openapiFile') out.openapi = readFileSync(join(demoDir, String(v)), 'utf8');
      else if (k === 'secretRef') out.secret = DEMO_SECRETS[String(v).replace(/^env:/, '')];
      else out[k] = walk(v);
    }
    return out;
  };
  return walk(doc) as Record<string, unknown>;
}
