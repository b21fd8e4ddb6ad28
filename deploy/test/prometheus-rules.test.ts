import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEPLOY, ROOT, requireTool, run } from './helpers/tools.js';

const prometheusDir = join(DEPLOY, 'prometheus');
const testFiles = readdirSync(join(prometheusDir, 'tests'))
  .filter((f) => f.endsWith('.test.yml'))
  .map((f) => join(prometheusDir, 'tests', f));

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}
interface RuleTestFile {
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

function alertNames(): string[] {
  const rules = parse(readFileSync(join(prometheusDir, 'rules', 'spl-alerts.yml'), 'utf8')) as RuleFile;
  return rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
}

describe('the Prometheus configuration in deploy/prometheus', () => {
  it('is a valid configuration whose rule files promtool accepts', () => {
    const promtool = requireTool('promtool', 'prometheus');
    const config = run(promtool, ['check', 'config', join(prometheusDir, 'prometheus.yml')]);
    expect(config.output).toContain('SUCCESS: 1 rule files found');
    expect(config.status, config.output).toBe(0);
  });

  it('scrapes the registry, the gateway, the broker and the Redis and PostgreSQL exporters', () => {
    const config = parse(readFileSync(join(prometheusDir, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = Object.fromEntries(
      config.scrape_configs.map((c) => [c.job_name, c.static_configs.flatMap((s) => s.targets)]),
    );
    expect(targets).toEqual({
      'spl-registry': ['registry:8081'],
      'spl-gateway': ['gateway:8080'],
      'spl-broker': ['broker:8082', 'broker-worker:8083'],
      redis: ['redis-exporter:9121'],
      postgresql: ['postgres-exporter:9187'],
    });
  });

  it('passes every promtool rule test', () => {
    const promtool = requireTool('promtool', 'prometheus');
    expect(testFiles.length).toBeGreaterThan(0);
    const result = run(promtool, ['test', 'rules', ...testFiles]);
    expect(result.status, result.output).toBe(0);
  });

  it('tests every alert both firing and staying quiet', () => {
    const cases = testFiles.flatMap((file) =>
      (parse(readFileSync(file, 'utf8')) as RuleTestFile).tests.flatMap((t) => t.alert_rule_test ?? []),
    );
    const untested = alertNames().flatMap((alert) => {
      const mine = cases.filter((c) => c.alertname === alert);
      const missing = [];
      if (!mine.some((c) => c.exp_alerts.length > 0)) missing.push(`${alert}: no case where it fires`);
      if (!mine.some((c) => c.exp_alerts.length === 0))
        missing.push(`${alert}: no case where it stays quiet`);
      return missing;
    });
    expect(untested).toEqual([]);
  });

  it('has a runbook entry in docs/operations.md for every alert', () => {
    const operations = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
    const headings = new Set([...operations.matchAll(/^#{2,4} (\w+)\s*$/gm)].map((m) => m[1]!.toLowerCase()));
    const rules = readFileSync(join(prometheusDir, 'rules', 'spl-alerts.yml'), 'utf8');
    const withoutRunbook = alertNames().filter(
      (alert) =>
        !headings.has(alert.toLowerCase()) ||
        !rules.includes(`runbook: docs/operations.md#${alert.toLowerCase()}`),
    );
    expect(withoutRunbook).toEqual([]);
  });
});
