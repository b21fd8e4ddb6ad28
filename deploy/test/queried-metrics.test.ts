import { describe, expect, it } from 'vitest';
import { labelMatchersOf, metricNamesOf, queriedMetrics } from './helpers/queried-metrics.js';

describe('finding the metrics a query reads', () => {
  it('keeps metric names and drops functions, labels, ranges, keywords and Grafana variables', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.99, sum by (le) (rate(spl_gateway_request_duration_seconds_bucket{org="$org", status=~"5.."}[$__rate_interval])))',
      ),
    ).toEqual(['spl_gateway_request_duration_seconds_bucket']);
    expect(
      metricNamesOf(
        'min without (instance, pod) (spl_registry_api_availability_ratio) < on (org, api, version) group_left () max by (org, api, version) (spl_registry_api_sla_target_ratio)',
      ),
    ).toEqual(['spl_registry_api_availability_ratio', 'spl_registry_api_sla_target_ratio']);
    expect(metricNamesOf('redis_up == 0 or up{job="redis"} == 0')).toEqual(['redis_up', 'up']);
    expect(metricNamesOf('count(x_total > 1) or vector(0)')).toEqual(['x_total']);
    expect(metricNamesOf('label_values(spl_gateway_requests_total{org="$org"}, api)')).toEqual([
      'spl_gateway_requests_total',
    ]);
  });

  it('finds queries in every dashboard and in the alert rules', () => {
    const where = new Set(queriedMetrics().map((q) => q.where.split(':')[0]));
    expect([...where].sort()).toEqual(
      expect.arrayContaining([
        'dashboard spl-api.json',
        'dashboard spl-broker.json',
        'dashboard spl-consumer.json',
        'dashboard spl-overview.json',
      ]),
    );
    expect(queriedMetrics().some((q) => q.where === 'alert SplGatewayCircuitOpen')).toBe(true);
  });
});

describe('finding the label matchers a query writes', () => {
  it('reads each matcher with its metric, operator and value', () => {
    expect(
      labelMatchersOf(
        'max by (upstream) (spl_gateway_upstream_circuit_state{state="open"}) + x{org="$org", status=~"5..", app!~"a|b"}',
      ),
    ).toEqual([
      { metric: 'spl_gateway_upstream_circuit_state', label: 'state', op: '=', value: 'open' },
      { metric: 'x', label: 'org', op: '=', value: '$org' },
      { metric: 'x', label: 'status', op: '=~', value: '5..' },
      { metric: 'x', label: 'app', op: '!~', value: 'a|b' },
    ]);
  });
});
