import { createServer } from 'node:http';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, ServerTimeoutSettings, serverTimeouts } from '../src/index.js';

const Schema = Type.Object({ ...ServerTimeoutSettings });

describe('the request time limits every listening service shares', () => {
  it("defaults to Node's own: 60 s for the head, 300 s for the whole request", () => {
    expect(serverTimeouts(loadConfig(Schema, {}))).toEqual({
      headersTimeout: 60_000,
      requestTimeout: 300_000,
      connectionsCheckingInterval: 15_000,
    });
  });

  it('caps the head limit at the request limit, which Node would otherwise refuse at start-up', () => {
    const options = serverTimeouts(
      loadConfig(Schema, { SPL_HEADERS_TIMEOUT_MS: '60000', SPL_REQUEST_TIMEOUT_MS: '1000' }),
    );
    expect(options).toMatchObject({ headersTimeout: 1000, requestTimeout: 1000 });
    expect(() => createServer(options).close()).not.toThrow();
    expect(() => createServer({ ...options, headersTimeout: 60_000 })).toThrow(/headersTimeout/);
  });

  it('refuses a limit under 100 ms or not a number, naming the variable', () => {
    expect(() => loadConfig(Schema, { SPL_REQUEST_TIMEOUT_MS: '50' })).toThrow(ConfigError);
    expect(() => loadConfig(Schema, { SPL_HEADERS_TIMEOUT_MS: 'soon' })).toThrow(/SPL_HEADERS_TIMEOUT_MS/);
  });
});
