import { ConfigError } from '@spl/env-config';
import { describe, expect, it } from 'vitest';
import { loadRegistryConfig, productionProblems } from '../../src/config.js';

describe('registry configuration', () => {
  it('applies defaults, and the public URL defaults to the registry’s own address', () => {
    const config = loadRegistryConfig({});
    expect(config.SPL_REGISTRY_PORT).toBe(8081);
    expect(config.SPL_TOKEN_LIFETIME_SECONDS).toBe(300);
    expect(config.publicUrl).toBe('http://127.0.0.1:8081');
    expect(config.SPL_SECRET_MAX_AGE_DAYS).toBe(90);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['SPL_REGISTRY_PORT', 'eighty'],
    ['SPL_TOKEN_LIFETIME_SECONDS', '5'],
    ['REDIS_URL', 'localhost:6379'],
    ['SPL_APPROVER_KELAIKAN_KEAMANAN', 'bssn'],
    ['SPL_MODE', 'prod'],
    ['SPL_SECRET_MAX_AGE_DAYS', '-1'],
    ['SPL_SECRET_MAX_AGE_DAYS', 'ninety'],
  ])('stops on a bad %s and names it', (variable, value) => {
    expect(() => loadRegistryConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadRegistryConfig({ [variable]: value })).toThrow(variable);
  });

  it('refuses insecure defaults in production', () => {
    const problems = productionProblems(loadRegistryConfig({ SPL_MODE: 'production' }));
    expect(problems.join('\n')).toMatch(/SPL_MASTER_KEY/);
    expect(problems.join('\n')).toMatch(/SPL_PUBLIC_URL/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
    const fine = loadRegistryConfig({
      SPL_MODE: 'production',
      SPL_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      SPL_PUBLIC_URL: 'https://spl.example.go.id',
      DATABASE_URL: 'postgres://spl@db/spl',
    });
    expect(productionProblems(fine)).toEqual([]);
  });
});
