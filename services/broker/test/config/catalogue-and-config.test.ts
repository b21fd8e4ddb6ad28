import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BrokerConfigError,
  BrokerConfigSchema,
  loadBrokerConfig,
  productionProblems,
} from '../../src/config.js';
import { createRetrySchedule, parseRetryAfter } from '../../src/delivery/retry-schedule.js';
import { errors } from '../../src/errors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const errorDocs = readFileSync(resolve(root, 'docs/errors.md'), 'utf8');
const brokerErrors = errorDocs.slice(errorDocs.indexOf('## Broker'));
const brokerDocs = readFileSync(resolve(root, 'docs/broker.md'), 'utf8');

describe('the broker error catalogue and configuration', () => {
  it.each(Object.values(errors).map((f) => [f.spec.code, f.spec.status] as const))(
    '%s is documented in the broker section of docs/errors.md with status %i',
    (code, status) => {
      const cells = brokerErrors
        .split('\n')
        .map((line) => line.split('|').map((cell) => cell.trim()))
        .find((c) => c[1] === `\`${code}\``);
      expect(cells, `${code} is missing from the Broker section of docs/errors.md`).toBeDefined();
      expect(cells![2]).toBe(String(status));
    },
  );

  it.each(Object.keys(BrokerConfigSchema.properties))('%s is documented in docs/broker.md', (variable) => {
    expect(brokerDocs).toContain(`\`${variable}\``);
  });

  it('names the variable of a bad value, and needs registry credentials unless offline', () => {
    expect(() => loadBrokerConfig({ SPL_SNAPSHOT_FILE: 'x', SPL_BROKER_MAX_BACKLOG: 'many' })).toThrow(
      /SPL_BROKER_MAX_BACKLOG/,
    );
    expect(() => loadBrokerConfig({})).toThrow(BrokerConfigError);
    const config = loadBrokerConfig({ SPL_SNAPSHOT_FILE: 'x' });
    expect(config.SPL_BROKER_PORT).toBe(8082);
    expect(config.publicUrl).toBe('http://127.0.0.1:8080');
    expect(
      productionProblems(loadBrokerConfig({ SPL_SNAPSHOT_FILE: 'x', SPL_MODE: 'production' })),
    ).toHaveLength(3);
  });

  it('follows the documented retry schedule: ×4 per retry, equal jitter, capped, Retry-After wins', () => {
    const low = createRetrySchedule({ attempts: 8, baseMs: 10_000, maxMs: 3_600_000, random: () => 0 });
    const high = createRetrySchedule({ attempts: 8, baseMs: 10_000, maxMs: 3_600_000, random: () => 1 });
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => high.delayMs(n))).toEqual([
      10_000, 40_000, 160_000, 640_000, 2_560_000, 3_600_000, 3_600_000, 3_600_000,
    ]);
    expect(low.delayMs(1)).toBe(5_000);
    expect(high.delayMs(2, 7_000)).toBe(7_000);
    expect(high.delayMs(2, 9_000_000)).toBe(3_600_000);
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(55_000);
    expect(parseRetryAfter('soon')).toBeNull();
  });
});
