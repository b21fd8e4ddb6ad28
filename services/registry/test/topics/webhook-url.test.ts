import { isSplError } from '@spl/problem';
import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, isEgressListed } from '../../src/topics/webhook-url.js';

const refusal = (url: string, config: Parameters<typeof checkWebhookUrl>[1]) => {
  try {
    checkWebhookUrl(url, config);
    return null;
  } catch (err) {
    if (!isSplError(err)) throw err;
    return err.code;
  }
};

describe('webhook URLs of push subscriptions', () => {
  const development = { SPL_MODE: 'development' as const };
  const production = { SPL_MODE: 'production' as const };

  it('takes https, and plain http only to a loopback host in development', () => {
    expect(refusal('https://rujukan.dinkes.example.go.id/events', production)).toBeNull();
    expect(refusal('http://127.0.0.1:9000/events', development)).toBeNull();
    expect(refusal('http://localhost:9000/events', development)).toBeNull();
    expect(refusal('http://127.0.0.1:9000/events', production)).toBe('SPL_WEBHOOK_URL_REFUSED');
    expect(refusal('http://rujukan.dinkes.example.go.id/events', development)).toBe(
      'SPL_WEBHOOK_URL_REFUSED',
    );
    expect(refusal('https://user:pw@rujukan.example.go.id/', production)).toBe('SPL_WEBHOOK_URL_REFUSED');
    expect(refusal('ftp://rujukan.example.go.id/', production)).toBe('SPL_WEBHOOK_URL_REFUSED');
  });

  it('checks the host against SPL_EGRESS_ALLOW as the gateway reads it, when the registry is given it', () => {
    const config = {
      SPL_MODE: 'production' as const,
      SPL_EGRESS_ALLOW: '*.dinkes.example.go.id, 10.1.0.0/16',
    };
    expect(refusal('https://rujukan.dinkes.example.go.id/events', config)).toBeNull();
    expect(refusal('https://evil.example.com/events', config)).toBe('SPL_WEBHOOK_URL_REFUSED');
    expect(refusal('https://10.1.2.3/events', config)).toBeNull();
  });

  it('refuses loopback and private addresses unless they are listed, even under *', () => {
    expect(isEgressListed('*', 'webhook.example.go.id')).toBe(true);
    expect(isEgressListed('*', '203.0.113.7')).toBe(true);
    expect(isEgressListed('*', '192.168.1.10')).toBe(false);
    expect(isEgressListed('*', 'localhost')).toBe(false);
    expect(isEgressListed('*, 127.0.0.1', 'localhost')).toBe(true);
    expect(isEgressListed('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(isEgressListed('::1', '[::1]')).toBe(true);
  });
});

describe('webhook URLs when the registry is not given SPL_EGRESS_ALLOW', () => {
  it('still refuses special addresses written as the host, as `*` would (OWASP API7:2023)', () => {
    const production = { SPL_MODE: 'production' as const };
    for (const url of [
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.5/events',
      'https://192.168.1.10/events',
      'https://[::1]/events',
      'https://127.0.0.1/events',
    ])
      expect(refusal(url, production), url).toBe('SPL_WEBHOOK_URL_REFUSED');
    expect(refusal('https://203.0.113.7/events', production)).toBeNull();
    expect(refusal('http://127.0.0.1:9000/events', { SPL_MODE: 'development' })).toBeNull();
  });
});
