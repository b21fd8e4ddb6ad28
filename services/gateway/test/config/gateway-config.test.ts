import { createEgressPolicy, EgressConfigError } from '@spl/egress';
import { ConfigError } from '@spl/env-config';
import { describe, expect, it } from 'vitest';
import { GatewayConfigError, loadGatewayConfig, productionProblems } from '../../src/config.js';

const credentials = { SPL_GATEWAY_CLIENT_ID: 'gw', SPL_GATEWAY_CLIENT_SECRET: 'secret' };

describe('gateway configuration', () => {
  it('applies the documented defaults', () => {
    const config = loadGatewayConfig(credentials);
    expect(config).toMatchObject({
      SPL_GATEWAY_PORT: 8080,
      registryUrl: 'http://127.0.0.1:8081',
      publicUrl: 'http://127.0.0.1:8080',
      SPL_TOKEN_AUDIENCE: 'spl',
      SPL_REDIS_PREFIX: 'spl',
      SPL_DATA_DIR: '.spl/data',
      SPL_SNAPSHOT_POLL_SECONDS: 30,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('requires registry credentials unless started from a snapshot file', () => {
    expect(() => loadGatewayConfig({})).toThrow(GatewayConfigError);
    expect(() => loadGatewayConfig({})).toThrow(/SPL_GATEWAY_CLIENT_ID/);
    expect(loadGatewayConfig({ SPL_SNAPSHOT_FILE: '/tmp/s.json' }).SPL_SNAPSHOT_FILE).toBe('/tmp/s.json');
  });

  it('names the variable of a bad value', () => {
    expect(() => loadGatewayConfig({ ...credentials, SPL_GATEWAY_PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ ...credentials, SPL_GATEWAY_PORT: 'eighty' })).toThrow(
      /SPL_GATEWAY_PORT/,
    );
  });

  it('refuses insecure defaults in production', () => {
    const problems = productionProblems(loadGatewayConfig({ ...credentials, SPL_MODE: 'production' }));
    expect(problems.join('\n')).toMatch(/SPL_MASTER_KEY/);
    expect(problems.join('\n')).toMatch(/SPL_PUBLIC_URL/);
    expect(problems.join('\n')).toMatch(/SPL_BEHIND_TLS_PROXY/);
  });
});

describe('the egress policy', () => {
  it('refuses loopback, private and link-local addresses unless listed', () => {
    const policy = createEgressPolicy('*');
    expect(policy.check('a', '127.0.0.1')).toMatch(/loopback/);
    expect(policy.check('a', '10.1.2.3')).not.toBeNull();
    expect(policy.check('a', '192.168.1.1')).not.toBeNull();
    expect(policy.check('a', '169.254.169.254')).not.toBeNull();
    expect(policy.check('a', '::1')).not.toBeNull();
    expect(policy.check('a', 'fe80::1')).not.toBeNull();
    expect(policy.check('a', '::ffff:127.0.0.1')).not.toBeNull();
    expect(policy.check('a', '203.0.113.10')).toBeNull();
  });

  it('allows listed addresses and ranges, and only listed names when * is absent', () => {
    const policy = createEgressPolicy('127.0.0.1, 10.20.0.0/16, api.example.go.id, *.pemda.go.id');
    expect(policy.check('x', '127.0.0.1')).toBeNull();
    expect(policy.check('x', '10.20.5.5')).toBeNull();
    expect(policy.check('x', '10.21.5.5')).not.toBeNull();
    expect(policy.check('api.example.go.id', '203.0.113.10')).toBeNull();
    expect(policy.check('dinkes.pemda.go.id', '203.0.113.10')).toBeNull();
    expect(policy.check('other.example.com', '203.0.113.10')).toMatch(/not listed/);
    // A listed name resolving to a private address is still refused (DNS rebinding).
    expect(policy.check('api.example.go.id', '192.168.0.1')).not.toBeNull();
  });

  it('refuses an entry it cannot read', () => {
    expect(() => createEgressPolicy('10.0.0.0/99')).toThrow(EgressConfigError);
    expect(() => createEgressPolicy('http://x')).toThrow(EgressConfigError);
  });
});
