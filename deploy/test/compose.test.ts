import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEPLOY, findTool, run } from './helpers/tools.js';

const composeFile = join(DEPLOY, 'compose.yaml');
const dockerCompose = findTool('docker-compose');
const env = { POSTGRES_PASSWORD: 'test-only', GRAFANA_ADMIN_PASSWORD: 'test-only' };

interface ComposeService {
  image?: string;
  command?: string[] | string;
  ports?: (string | { host_ip?: string; published?: number | string })[];
  volumes?: (string | { type: string; source: string; target: string })[];
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** `docker-compose config` with the given environment (and nothing else of ours). */
function composeConfig(extraEnv: Record<string, string>) {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(POSTGRES_PASSWORD|GRAFANA_ADMIN_PASSWORD)$/.test(k)),
  );
  return run(
    'env',
    [
      '-i',
      ...Object.entries({ ...base, ...extraEnv }).map(([k, v]) => `${k}=${v}`),
      dockerCompose!,
      '-f',
      composeFile,
      'config',
    ],
    {
      cwd: DEPLOY,
    },
  );
}

describe('deploy/compose.yaml', () => {
  const file = parse(readFileSync(composeFile, 'utf8')) as ComposeFile;

  it('runs Redis with AOF and without eviction', () => {
    const command = [file.services.redis!.command].flat().join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
  });

  it('runs PostgreSQL, the three services, Prometheus, Grafana and the exporters the alerts read', () => {
    expect(Object.keys(file.services)).toEqual(
      expect.arrayContaining([
        'redis',
        'postgres',
        'registry',
        'gateway',
        'broker',
        'broker-worker',
        'prometheus',
        'grafana',
        'redis-exporter',
        'postgres-exporter',
      ]),
    );
  });

  it.skipIf(dockerCompose === undefined)(
    'is accepted by docker-compose 1.29 (skipped when not installed: sudo sh scripts/install-ops-tools.sh)',
    () => {
      const result = composeConfig(env);
      expect(result.status, result.output).toBe(0);
      const config = parse(result.output) as ComposeFile;
      // Every published port is on loopback only.
      const published = Object.entries(config.services).flatMap(([name, s]) =>
        (s.ports ?? []).map((p) => [name, typeof p === 'string' ? p : (p.host_ip ?? '0.0.0.0')] as const),
      );
      expect(published.length).toBeGreaterThan(0);
      expect(published.filter(([, p]) => !String(p).startsWith('127.0.0.1'))).toEqual([]);
      // Prometheus gets the rules and Grafana the dashboards and their provisioning, from folders that exist.
      // 1.29 writes `source:target:mode`; newer Compose writes objects.
      const mounts = (service: string) =>
        (config.services[service]!.volumes ?? []).flatMap((v) => {
          const [source, target] = typeof v === 'string' ? v.split(':') : [v.source, v.target];
          return source?.startsWith('/') ? [[source, target] as const] : [];
        });
      expect(mounts('prometheus')).toContainEqual([join(DEPLOY, 'prometheus'), '/etc/prometheus']);
      expect(mounts('grafana')).toEqual(
        expect.arrayContaining([
          [join(DEPLOY, 'grafana', 'provisioning'), '/etc/grafana/provisioning'],
          [join(DEPLOY, 'grafana', 'dashboards'), '/var/lib/grafana/dashboards/spl'],
        ]),
      );
      for (const [source] of [...mounts('prometheus'), ...mounts('grafana')])
        expect(existsSync(source)).toBe(true);
    },
  );

  it.skipIf(dockerCompose === undefined)(
    'refuses to start without the PostgreSQL and Grafana passwords',
    () => {
      const result = composeConfig({});
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/POSTGRES_PASSWORD|GRAFANA_ADMIN_PASSWORD/);
    },
  );
});

describe('deploy/grafana provisioning', () => {
  it('loads the dashboards from where compose mounts them, from the Prometheus compose runs', () => {
    const provider = parse(readFileSync(join(DEPLOY, 'grafana/provisioning/dashboards/spl.yml'), 'utf8'));
    expect(provider.providers[0].options.path).toBe('/var/lib/grafana/dashboards/spl');
    const datasource = parse(
      readFileSync(join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
    );
    // Grafana expands ${SPL_PROMETHEUS_URL} from its environment, which compose sets.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana provisioning syntax
    expect(datasource.datasources[0]).toMatchObject({ type: 'prometheus', url: '${SPL_PROMETHEUS_URL}' });
  });
});
