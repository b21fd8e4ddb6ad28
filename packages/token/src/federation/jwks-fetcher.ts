import type { JSONWebKeySet } from 'jose';
import { type Dispatcher, request } from 'undici';

export interface JwksFetcherOptions {
  /** Whole request (connect, headers and body), milliseconds. Default 3,000. */
  timeoutMs?: number;
  /** Largest accepted body, bytes. Default 65,536: a key set of a few dozen RSA keys. */
  maxBytes?: number;
  /**
   * The undici dispatcher to go through, e.g. one whose `connect` checks the resolved address
   * against SPL_EGRESS_ALLOW (ARCHITECTURE "Outbound calls": checked when connecting).
   * Default: undici's global dispatcher.
   */
  dispatcher?: Dispatcher;
}

/**
 * Fetches a JWKS document over undici: GET, no redirects followed (a redirect could lead past
 * the egress check), status 200 only, the body capped while it streams in.
 */
export function createJwksFetcher(options: JwksFetcherOptions = {}): (url: string) => Promise<JSONWebKeySet> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const maxBytes = options.maxBytes ?? 65_536;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
  return async (url) => {
    const signal = AbortSignal.timeout(timeoutMs);
    const response = await request(url, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new Error(`JWKS answered ${response.statusCode}`);
    }
    const declared = Number(response.headers['content-length']);
    if (declared > maxBytes) {
      response.body.destroy();
      throw new Error(`JWKS is ${declared} bytes; the limit is ${maxBytes}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        response.body.destroy();
        throw new Error(`JWKS is over the limit of ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as JSONWebKeySet).keys))
      throw new Error('JWKS has no "keys" array');
    return parsed as JSONWebKeySet;
  };
}
