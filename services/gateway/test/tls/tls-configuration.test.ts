import { ConfigError } from '@spl/env-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig, productionProblems } from '../../src/config.js';
import { loadServerTls } from '../../src/tls/server-tls.js';
import { TestPki } from '../helpers/test-pki.js';

const base = { SPL_GATEWAY_CLIENT_ID: 'gw', SPL_GATEWAY_CLIENT_SECRET: 'secret' };

/** The ConfigError `fn` throws: start-up prints its message and stops. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, got none');
}

describe('TLS configuration that cannot work stops start-up, naming the variable', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await TestPki.create();
  });
  afterAll(async () => {
    await pki?.remove();
  });

  const tlsEnv = (overrides: Record<string, string> = {}) => ({
    ...base,
    SPL_TLS_CERT_FILE: pki.server.certFile,
    SPL_TLS_KEY_FILE: pki.server.keyFile,
    ...overrides,
  });
  const load = (env: Record<string, string>, now?: Date) =>
    loadServerTls(loadGatewayConfig(env), now ? { now } : {});

  it.each([
    [{ SPL_TLS_CERT_FILE: '/x.crt' }, 'SPL_TLS_KEY_FILE', /required when SPL_TLS_CERT_FILE is set/],
    [{ SPL_TLS_KEY_FILE: '/x.key' }, 'SPL_TLS_CERT_FILE', /required when SPL_TLS_KEY_FILE is set/],
    [{ SPL_TLS_CLIENT_AUTH: 'required' }, 'SPL_TLS_CERT_FILE', /client certificates need TLS/],
    [
      { SPL_TLS_CERT_FILE: '/x.crt', SPL_TLS_KEY_FILE: '/x.key', SPL_TLS_CLIENT_AUTH: 'optional' },
      'SPL_TLS_CA_FILE',
      /required when SPL_TLS_CLIENT_AUTH is optional/,
    ],
    [
      { SPL_TLS_CERT_FILE: '/x.crt', SPL_TLS_KEY_FILE: '/x.key', SPL_TLS_CA_FILE: '/ca.crt' },
      'SPL_TLS_CA_FILE',
      /SPL_TLS_CLIENT_AUTH is none/,
    ],
    [{ SPL_TLS_CLIENT_AUTH: 'sometimes' }, 'SPL_TLS_CLIENT_AUTH', /./],
  ])('refuses the combination %o (names %s)', (env, variable, message) => {
    const err = configError(() => loadGatewayConfig({ ...base, ...env }));
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).toMatch(message);
  });

  it('refuses a certificate file that does not exist', () => {
    const err = configError(() => load(tlsEnv({ SPL_TLS_CERT_FILE: `${pki.dir}/missing.crt` })));
    expect(err.variable).toBe('SPL_TLS_CERT_FILE');
    expect(err.message).toMatch(/cannot be read .*missing\.crt: ENOENT/);
  });

  it('refuses a key file that does not exist', () => {
    const err = configError(() => load(tlsEnv({ SPL_TLS_KEY_FILE: `${pki.dir}/missing.key` })));
    expect(err.variable).toBe('SPL_TLS_KEY_FILE');
    expect(err.message).toMatch(/ENOENT/);
  });

  it('refuses a certificate file without a PEM certificate', async () => {
    const notPem = await pki.file('not-a-cert.crt', 'hello\n');
    const err = configError(() => load(tlsEnv({ SPL_TLS_CERT_FILE: notPem })));
    expect(err.variable).toBe('SPL_TLS_CERT_FILE');
    expect(err.message).toMatch(/holds no PEM certificate/);
  });

  it('refuses a key that is not a private key', () => {
    const err = configError(() => load(tlsEnv({ SPL_TLS_KEY_FILE: pki.server.certFile })));
    expect(err.variable).toBe('SPL_TLS_KEY_FILE');
    expect(err.message).toMatch(/no readable PEM private key/);
  });

  it('refuses a key that does not belong to the certificate', () => {
    const err = configError(() => load(tlsEnv({ SPL_TLS_KEY_FILE: pki.ca.keyFile })));
    expect(err.variable).toBe('SPL_TLS_KEY_FILE');
    expect(err.message).toMatch(/does not belong to the certificate in SPL_TLS_CERT_FILE/);
  });

  it('refuses an expired certificate', () => {
    const inTwoDays = new Date(Date.now() + 2 * 86_400_000);
    const err = configError(() => load(tlsEnv(), inTwoDays));
    expect(err.variable).toBe('SPL_TLS_CERT_FILE');
    expect(err.message).toMatch(/expired on/);
  });

  it('refuses a CA file without a certificate', async () => {
    const notPem = await pki.file('not-a-ca.crt', pki.server.key);
    const err = configError(() => load(tlsEnv({ SPL_TLS_CA_FILE: notPem, SPL_TLS_CLIENT_AUTH: 'required' })));
    expect(err.variable).toBe('SPL_TLS_CA_FILE');
    expect(err.message).toMatch(/holds no PEM certificate/);
  });

  it('accepts a good certificate and key, and makes https the default public URL', () => {
    const config = loadGatewayConfig(tlsEnv());
    expect(config.publicUrl).toBe('https://127.0.0.1:8080');
    const tls = loadServerTls(config)!;
    expect(tls.clientAuth).toBe('none');
    expect(tls.certificate.subject).toBe('CN=localhost');
    expect(tls.options).not.toHaveProperty('requestCert');
  });

  it('asks clients for a certificate with client auth optional, and insists with required', () => {
    const optional = load(tlsEnv({ SPL_TLS_CA_FILE: pki.ca.certFile, SPL_TLS_CLIENT_AUTH: 'optional' }))!;
    expect(optional.options).toMatchObject({ requestCert: true, rejectUnauthorized: false });
    const required = load(tlsEnv({ SPL_TLS_CA_FILE: pki.ca.certFile, SPL_TLS_CLIENT_AUTH: 'required' }))!;
    expect(required.options).toMatchObject({ requestCert: true, rejectUnauthorized: true });
  });

  it('lets production terminate TLS itself instead of declaring a proxy in front', () => {
    const production = {
      SPL_MODE: 'production',
      SPL_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      SPL_PUBLIC_URL: 'https://hub.example.go.id',
    };
    expect(productionProblems(loadGatewayConfig({ ...base, ...production })).join('\n')).toMatch(
      /plain HTTP: set SPL_TLS_CERT_FILE and SPL_TLS_KEY_FILE .* or SPL_BEHIND_TLS_PROXY=true/,
    );
    expect(productionProblems(loadGatewayConfig({ ...tlsEnv(), ...production }))).toEqual([]);
    expect(
      productionProblems(loadGatewayConfig({ ...base, ...production, SPL_BEHIND_TLS_PROXY: 'true' })),
    ).toEqual([]);
  });
});
