import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGatewayMetrics, UNMATCHED_LABEL } from '../../src/observability/gateway-metrics.js';

const routes = [
  {
    id: 'v-1',
    org: 'dinkes',
    api: 'faskes',
    version: 'v1',
    upstream: { urls: ['http://127.0.0.1:9001/base'] },
  },
  {
    id: 'v-2',
    org: 'disdukcapil',
    api: 'penduduk',
    version: 'v2',
    upstream: { urls: ['http://10.0.0.5:8080'] },
  },
];

function setUp(now = () => 1_000_000) {
  const registry = new Registry();
  const metrics = createGatewayMetrics({ registry, clock: now });
  metrics.prepare(routes, ['sim-rs', 'portal-warga']);
  return { registry, metrics };
}

function promtoolPath(): string | undefined {
  for (const path of ['/usr/bin/promtool', '/usr/local/bin/promtool']) if (existsSync(path)) return path;
  return undefined;
}

describe('the gateway metrics', () => {
  it('counts requests by route template, application, method and status', async () => {
    const { registry, metrics } = setUp();
    const faskes = metrics.route('v-1');
    faskes.observeRequest('sim-rs', 'GET', 200, 0.012, 0.009);
    faskes.observeRequest('sim-rs', 'GET', 200, 0.003, 0.002);
    faskes.observeRequest('portal-warga', 'POST', 429, 0.0004);
    metrics.route('v-2').observeRequest(undefined, 'GET', 401, 0.0002);

    const text = await registry.metrics();
    expect(text).toContain(
      'spl_gateway_requests_total{org="dinkes",api="faskes",version="v1",application="sim-rs",method="GET",status="200"} 2',
    );
    expect(text).toContain(
      'spl_gateway_requests_total{org="dinkes",api="faskes",version="v1",application="portal-warga",method="POST",status="429"} 1',
    );
    expect(text).toContain(
      'spl_gateway_requests_total{org="disdukcapil",api="penduduk",version="v2",application="anonymous",method="GET",status="401"} 1',
    );
    expect(text).toContain(
      'spl_gateway_request_duration_seconds_bucket{org="dinkes",api="faskes",version="v1",le="0.005"} 2',
    );
    expect(text).toContain(
      'spl_gateway_request_duration_seconds_bucket{org="dinkes",api="faskes",version="v1",le="+Inf"} 3',
    );
    expect(text).toContain(
      'spl_gateway_request_duration_seconds_count{org="dinkes",api="faskes",version="v1"} 3',
    );
    expect(text).toContain(
      'spl_gateway_upstream_duration_seconds_count{org="dinkes",api="faskes",version="v1"} 2',
    );
    expect(text).toMatch(
      /spl_gateway_upstream_duration_seconds_sum\{org="dinkes",api="faskes",version="v1"\} 0\.011/,
    );

    // Counts keep adding up across scrapes.
    faskes.observeRequest('sim-rs', 'GET', 200, 0.01, 0.01);
    expect(await registry.metrics()).toContain(
      'spl_gateway_requests_total{org="dinkes",api="faskes",version="v1",application="sim-rs",method="GET",status="200"} 3',
    );
  });

  it('keeps cardinality bounded: unknown applications, odd methods and unmatched routes share series', async () => {
    const { registry, metrics } = setUp();
    metrics.route('v-1').observeRequest('not-in-the-snapshot', 'PROPFIND', 200, 0.01);
    metrics.route('no-such-route').observeRequest('sim-rs', 'GET', 404, 0.001);
    metrics.unmatched.observeRequest(undefined, 'GET', 404, 0.001);

    const text = await registry.metrics();
    expect(text).toContain('application="unknown",method="OTHER",status="200"} 1');
    expect(text).toContain(
      `spl_gateway_requests_total{org="${UNMATCHED_LABEL}",api="${UNMATCHED_LABEL}",version="${UNMATCHED_LABEL}",application="sim-rs",method="GET",status="404"} 1`,
    );
    expect(text).not.toContain('not-in-the-snapshot');
    expect(text).not.toContain('PROPFIND');
  });

  it('counts rate limiting, auth rejections, in-flight requests, upstream health and the snapshot', async () => {
    let now = 1_000_000;
    const { registry, metrics } = setUp(() => now);
    metrics.route('v-2').rateLimited('portal-warga');
    metrics.route('v-2').rateLimited('portal-warga');
    metrics.authRejected('expired');
    metrics.requestStarted();
    metrics.requestStarted();
    metrics.requestFinished();
    metrics.setUpstreamUp('http://10.0.0.5:8080', false);
    metrics.recordSnapshot(42, now - 5000);
    now += 10_000;

    const text = await registry.metrics();
    expect(text).toContain(
      'spl_gateway_rate_limited_total{org="disdukcapil",api="penduduk",version="v2",application="portal-warga"} 2',
    );
    expect(text).toContain('spl_gateway_auth_rejections_total{reason="expired"} 1');
    expect(text).toContain('spl_gateway_auth_rejections_total{reason="missing_token"} 0');
    expect(text).toContain('spl_gateway_requests_in_flight 1');
    expect(text).toContain('spl_gateway_upstream_up{upstream="http://10.0.0.5:8080"} 0');
    expect(text).toContain('spl_gateway_snapshot_version 42');
    expect(text).toContain('spl_gateway_snapshot_age_seconds 15');
  });

  it('shows each upstream of the snapshot as up with a closed circuit until told otherwise', async () => {
    const { registry, metrics } = setUp();
    const upstream = 'http://10.0.0.5:8080';
    let text = await registry.metrics();
    expect(text).toContain(`spl_gateway_upstream_up{upstream="${upstream}"} 1`);
    expect(text).toContain(`spl_gateway_upstream_circuit_state{upstream="${upstream}",state="closed"} 1`);
    expect(text).toContain(`spl_gateway_upstream_retries_total{upstream="${upstream}",outcome="success"} 0`);
    expect(text).toContain(`spl_gateway_upstream_retry_budget_exhausted_total{upstream="${upstream}"} 0`);

    metrics.setCircuitState(upstream, 'open');
    text = await registry.metrics();
    expect(text).toContain(`spl_gateway_upstream_up{upstream="${upstream}"} 0`);
    expect(text).toContain(`spl_gateway_upstream_circuit_state{upstream="${upstream}",state="open"} 1`);
    expect(text).toContain(`spl_gateway_upstream_circuit_state{upstream="${upstream}",state="closed"} 0`);
    // Circuit closed again but the active check still fails: still down.
    metrics.setUpstreamUp(upstream, false);
    metrics.setCircuitState(upstream, 'closed');
    expect(await registry.metrics()).toContain(`spl_gateway_upstream_up{upstream="${upstream}"} 0`);
    metrics.setUpstreamUp(upstream, true);
    expect(await registry.metrics()).toContain(`spl_gateway_upstream_up{upstream="${upstream}"} 1`);
  });

  it('drops the series of routes and upstreams that left the snapshot', async () => {
    const { registry, metrics } = setUp();
    metrics.route('v-2').observeRequest('sim-rs', 'GET', 200, 0.01);
    metrics.setUpstreamUp('http://10.0.0.5:8080', true);
    expect(await registry.metrics()).toContain('api="penduduk"');

    metrics.prepare([routes[0]!], ['sim-rs']);
    const text = await registry.metrics();
    expect(text).not.toContain('api="penduduk"');
    expect(text).not.toContain('10.0.0.5');
    expect(metrics.route('v-2')).toBe(metrics.unmatched);
  });

  it('keeps a route’s series across a snapshot that did not change it', async () => {
    const { registry, metrics } = setUp();
    const before = metrics.route('v-1');
    before.observeRequest('sim-rs', 'GET', 200, 0.01);
    metrics.prepare(routes, ['sim-rs']);
    expect(metrics.route('v-1')).toBe(before);
    before.observeRequest('sim-rs', 'GET', 200, 0.01);
    expect(await registry.metrics()).toContain('application="sim-rs",method="GET",status="200"} 2');
  });

  it.runIf(promtoolPath() !== undefined)(
    'passes promtool check metrics, default process metrics alongside',
    async () => {
      const { registry, metrics } = setUp();
      collectDefaultMetrics({ register: registry, prefix: 'spl_gateway_' });
      metrics.route('v-1').observeRequest('sim-rs', 'GET', 200, 0.012, 0.009);
      metrics.route('v-1').rateLimited('sim-rs');
      metrics.authRejected('bad_signature');
      metrics.setUpstreamUp('http://127.0.0.1:9001', true);
      metrics.setCircuitState('http://127.0.0.1:9001', 'half-open');
      metrics.upstreamRetried('http://127.0.0.1:9001', 'success');
      metrics.retryBudgetExhausted('http://127.0.0.1:9001');
      metrics.recordSnapshot(7, Date.now());

      let output = '';
      try {
        execFileSync(promtoolPath()!, ['check', 'metrics'], {
          input: await registry.metrics(),
          encoding: 'utf8',
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      } catch (error) {
        const failed = error as { stdout?: string; stderr?: string };
        output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
      }
      // prom-client's own `nodejs_active_*_total` gauges trip the counter-suffix lint; nothing of ours may.
      const problems = output
        .split('\n')
        .filter((line) => line.trim() !== '')
        .filter((line) => !/active_(handles|requests|resources)_total/.test(line));
      expect(problems).toEqual([]);
    },
  );
});
