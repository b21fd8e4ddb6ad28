import { appendFileSync } from 'node:fs';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import {
  type AccessFixture,
  buildAccessFixture,
  type Persona,
} from '../../services/registry/test/access/fixtures.js';

/**
 * The OWASP suite's registry: the access matrix's fixture (services/registry/test/access/
 * fixtures.ts) — the demo hub applied through every gate on a fresh PostgreSQL schema and
 * Redis prefix, the demo API made `dikecualikan`, one token per persona. Reused rather than
 * rebuilt, so the attacks below meet the same hub the matrix checks.
 */
export {
  type AccessFixture,
  DEMO_API,
  DEMO_APP,
  DEMO_APP_CLIENT,
  DEMO_SECRETS,
  DEMO_TOPIC,
  type Persona,
} from '../../services/registry/test/access/fixtures.js';
export { bearer } from '../../services/registry/test/helpers/test-registry.js';

let shared: Promise<AccessFixture> | undefined;

/**
 * The hub, built once per test worker and shared by the files that worker runs (the
 * project runs with `isolate: false`): building it applies the demo hub six times and
 * hashes a dozen secrets, which on a loaded 2-core machine costs more than all the attacks
 * together. Files act on throwaway objects with names of their own, so they do not meet.
 * Its schema and Redis prefix are written to the ledger that global-setup.ts drops at the
 * end of the run; `close()` of the shared hub is therefore a no-op.
 */
export function buildOwaspHub(): Promise<AccessFixture> {
  shared ??= buildAccessFixture().then((fx) => {
    const ledger = process.env.SPL_OWASP_LEDGER;
    if (ledger) appendFileSync(ledger, `${JSON.stringify({ schema: fx.r.schema, prefix: fx.r.prefix })}\n`);
    return { ...fx, close: async () => {} };
  });
  return shared;
}

/** Sends `options` as `persona` (no Authorization header for `anonymous`). */
export function as(
  fx: AccessFixture,
  persona: Persona,
  options: InjectOptions,
): Promise<LightMyRequestResponse> {
  const token = fx.tokens[persona];
  return fx.r.app.inject({
    ...options,
    headers: { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  }) as Promise<LightMyRequestResponse>;
}

/** The answer is an RFC 9457 problem with this status (and code, when given). */
export function problemOf(res: LightMyRequestResponse): { status: number; code?: string; detail?: string } {
  if (!String(res.headers['content-type']).startsWith('application/problem+json'))
    throw new Error(`expected problem+json, got ${res.headers['content-type']}: ${res.body}`);
  return res.json();
}
